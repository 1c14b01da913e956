"""The app (app.py) end to end: the real server on localhost, driven through gradio_client.

The app runs as configured for tests (untrained VGG16 at 32 pixels, see the `facerec_app`
fixture); labels are colour patches that any network tells apart, in "Whole images" mode.
"""

from __future__ import annotations

import concurrent.futures
import io
import json
import logging
import time
import zipfile
from pathlib import Path

import httpx
import pytest
from conftest import COLOURS, colour_image
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError, ValidationError
from PIL import Image

FAST_TRAINING = dict(data_summary="", mode="images", backbone="vgg16", epochs=15, batch_size=16, learning_rate=0.01,
                     optimizer="adam", augment=0, trainable_layers=0, validation_split=0.2)
ENDPOINTS = {"/session", "/describe_backbone", "/show_label", "/pick_label", "/pick_photo", "/webcam_frame", "/recording",
             "/capture", "/add_photos", "/import_zip", "/load_example_dataset", "/delete_photo", "/rename_label",
             "/delete_label", "/export_dataset", "/train", "/stop_training", "/training_outcome", "/reset_settings",
             "/predict", "/predict_stream", "/push_to_hub", "/load_from_hub", "/export_model"}


@pytest.fixture
def client(facerec_app, tmp_path):
    """A new visitor: its own session, hence its own workspace."""
    visitor = Client(facerec_app.url, verbose=False, download_files=str(tmp_path / "downloads"))
    yield visitor
    visitor.close()


@pytest.fixture
def photos(tmp_path):
    """``photos(colour, count)``: paths of noisy colour patches, different for every call."""
    made = {"count": 0}

    def make(colour: str, count: int = 6, size: int = 40) -> list[str]:
        paths = []
        for _ in range(count):
            made["count"] += 1
            path = tmp_path / f"{colour}-{made['count']}.png"
            Image.fromarray(colour_image(COLOURS[colour], seed=made["count"], size=size)).save(path)
            paths.append(str(path))
        return paths

    return make


def add(client: Client, label: str, paths: list[str]) -> tuple:
    return client.predict([handle_file(path) for path in paths], label, api_name="/add_photos")


def value(output):
    """A component's value, whether it came back as a plain value or as an update."""
    return output["value"] if isinstance(output, dict) and output.get("__type__") == "update" else output


def counts(table: dict) -> dict[str, int]:
    return {row[0]: row[1] for row in value(table)["data"]}


def train(client: Client, **overrides) -> tuple:
    return client.predict(*{**FAST_TRAINING, **overrides}.values(), api_name="/train")


def trained_client(client: Client, photos) -> Client:
    add(client, "red", photos("red"))
    add(client, "blue", photos("blue"))
    train(client)
    return client


def wait_for_first_epoch(job) -> None:
    while not job.done() and not any("data" in output[1] for output in job.outputs()):
        time.sleep(0.05)


def shown_path(gallery, index: int) -> str:
    """The server path of a gallery image as the client received it."""
    image = value(gallery)[index]["image"]
    return image["path"] if isinstance(image, dict) else image


def probabilities(label_output: dict) -> dict[str, float]:
    return {item["label"]: item["confidence"] for item in label_output["confidences"]}


# API surface ------------------------------------------------------------------------------------


def test_every_event_has_its_own_explicit_api_name(facerec_app, client):
    named = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert ENDPOINTS <= named
    api_names = [fn.api_name for fn in facerec_app.demo.fns.values() if fn.api_visibility != "private"]
    assert len(api_names) == len(set(api_names)) and all(api_names)


def test_privacy_settings_in_the_page_config(facerec_app):
    config = httpx.get(f"{facerec_app.url}config").json()
    assert config["run_history"] is False
    assert config["analytics_enabled"] is False


# Collect, train, predict ------------------------------------------------------------------------


def test_collect_train_predict(client, photos, tmp_path):
    note, table, label, summary, gallery, cleared = add(client, "red", photos("red"))
    assert "Added 6 images" in note and counts(table) == {"red": 6} and value(label) == "red" and cleared is None
    assert len(value(gallery)) == 6
    _, table, *_ = add(client, "blue", photos("blue"))
    assert counts(table) == {"blue": 6, "red": 6}

    status, loss, accuracy, results, per_class, confusion, model_info, share_info, threshold = train(client)
    assert "Trained in" in status and "Validation accuracy: 100%" in results
    assert {row[2] for row in loss["data"]} == {"training", "validation"}
    assert max(row[0] for row in accuracy["data"]) == len(loss["data"]) // 2
    assert [row[0] for row in per_class["data"]] == ["blue", "red"]
    assert "2 labels (blue, red)" in model_info and share_info == model_info and threshold == 0.5

    annotated, label_output, note = client.predict(handle_file(photos("red", 1)[0]), 0.5, api_name="/predict")
    assert label_output["label"] == "red"
    assert sum(probabilities(label_output).values()) == pytest.approx(1.0, abs=1e-4)
    assert "**red**" in note

    dataset_zip = value(client.predict(api_name="/export_dataset"))
    with zipfile.ZipFile(dataset_zip["value"] if isinstance(dataset_zip, dict) else dataset_zip) as archive:
        names = archive.namelist()
    assert len(names) == 12 and {name.split("/")[0] for name in names} == {"red", "blue"}

    model_zip = value(client.predict(api_name="/export_model"))
    with zipfile.ZipFile(model_zip["value"] if isinstance(model_zip, dict) else model_zip) as archive:
        assert {"config.json", "model.weights.h5"} <= set(archive.namelist())
        assert json.loads(archive.read("config.json"))["labels"] == ["blue", "red"]


def test_live_curves_arrive_while_training(client, photos):
    add(client, "red", photos("red"))
    add(client, "blue", photos("blue"))
    job = client.submit(*{**FAST_TRAINING, "epochs": 6}.values(), api_name="/train")
    outputs = list(job)
    epochs_seen = [len({row[0] for row in output[1]["data"]}) for output in outputs if "data" in output[1]]
    assert epochs_seen[:3] == [1, 2, 3]
    assert "Trained in" in outputs[-1][0]


def test_edit_the_dataset(client, photos):
    add(client, "red", photos("red", 3))
    _, _, _, _, gallery, _ = add(client, "blue", photos("blue", 3))
    photo_name = Path(shown_path(gallery, 0)).name

    note, table, *_ = client.predict("blue", photo_name, api_name="/delete_photo")
    assert "Deleted a photo" in note and counts(table) == {"blue": 2, "red": 3}
    with pytest.raises(AppError, match="Click a photo in the gallery first"):
        client.predict("blue", "../red/whatever.jpg", api_name="/delete_photo")

    note, table, label, *_ = client.predict("blue", "navy", api_name="/rename_label")
    assert counts(table) == {"navy": 2, "red": 3} and value(label) == "navy"
    with pytest.raises(AppError, match="already exists"):
        client.predict("navy", "red", api_name="/rename_label")
    with pytest.raises(AppError, match="cannot contain"):
        client.predict("navy", "../escape", api_name="/rename_label")

    note, table, *_ = client.predict("red", api_name="/delete_label")
    assert counts(table) == {"navy": 2}


def test_zip_import_and_the_bundled_example(client, tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for label in ("red", "green"):
            for index in range(3):
                image = io.BytesIO()
                Image.fromarray(colour_image(COLOURS[label], seed=100 + index)).save(image, format="PNG")
                archive.writestr(f"dataset/{label}/{index}.png", image.getvalue())
        archive.writestr("../evil/0.png", b"not even an image")
    (tmp_path / "data.zip").write_bytes(buffer.getvalue())
    note, table, *_ = client.predict(handle_file(str(tmp_path / "data.zip")), None, api_name="/import_zip")
    assert counts(table) == {"green": 3, "red": 3} and "refused 1" in note

    note, table, *_ = client.predict(api_name="/load_example_dataset")
    assert "ORL" in note
    assert {"Subject 5", "Subject 8", "Subject 11", "Subject 13"} <= set(counts(table))


# Bad states -------------------------------------------------------------------------------------


def test_training_refuses_unusable_data_with_the_reason(client, photos):
    with pytest.raises(ValidationError, match="at least 2 labels; this dataset has none"):
        train(client)
    add(client, "red", photos("red", 3))
    with pytest.raises(ValidationError, match="at least 2 labels; this dataset has only 'red'"):
        train(client)
    add(client, "blue", photos("blue", 1))
    with pytest.raises(ValidationError, match="'blue' has 1; each label needs at least 2"):
        train(client)


def test_predict_push_and_export_need_a_model(client, photos):
    with pytest.raises(AppError, match="No model yet"):
        client.predict(handle_file(photos("red", 1)[0]), 0.5, api_name="/predict")
    with pytest.raises(AppError, match="No model to push"):
        client.predict("alice/nothing", True, "hf_alice", api_name="/push_to_hub")
    with pytest.raises(AppError, match="no model yet"):
        client.predict(api_name="/export_model")
    assert "No training is running" in client.predict(api_name="/stop_training")


def test_stop_keeps_the_best_epoch_so_far(client, photos):
    add(client, "red", photos("red", 12))
    add(client, "blue", photos("blue", 12))
    job = client.submit(*{**FAST_TRAINING, "epochs": 200, "learning_rate": 0.0001}.values(), api_name="/train")
    wait_for_first_epoch(job)
    assert "Stopping" in client.predict(api_name="/stop_training")
    final = job.result()
    assert "stopped early: best epoch kept" in final[0]
    assert len({row[0] for row in final[1]["data"]}) < 200
    _, label_output, _ = client.predict(handle_file(photos("red", 1)[0]), 0.5, api_name="/predict")
    assert set(probabilities(label_output)) == {"red", "blue"}


def test_one_training_at_a_time_per_session(client, photos):
    add(client, "red", photos("red"))
    add(client, "blue", photos("blue"))
    first = client.submit(*{**FAST_TRAINING, "epochs": 60, "learning_rate": 0.0001}.values(), api_name="/train")
    wait_for_first_epoch(first)
    with pytest.raises(ValidationError, match="already running or waiting in this session"):
        train(client)
    assert "Trained in" in first.result()[0]
    assert "Trained in" in train(client)[0]  # Once it has ended, training again is fine.


# Sessions and privacy ---------------------------------------------------------------------------


def test_parallel_visitors_keep_their_datasets_apart(facerec_app, photos, tmp_path):
    visitors = [Client(facerec_app.url, verbose=False, download_files=str(tmp_path / f"v{index}")) for index in range(2)]
    try:
        jobs = [(visitors[0], "red"), (visitors[1], "green"), (visitors[0], "blue"), (visitors[1], "blue")]
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda job: add(job[0], job[1], photos(job[1], 4)), jobs))
        seen = [counts(visitor.predict(api_name="/session")[0]) for visitor in visitors]
        assert seen == [{"blue": 4, "red": 4}, {"blue": 4, "green": 4}]

        train(visitors[0])
        with pytest.raises(AppError, match="No model yet"):
            visitors[1].predict(handle_file(photos("red", 1)[0]), 0.5, api_name="/predict")
    finally:
        for visitor in visitors:
            visitor.close()


def test_workspace_files_are_not_served_and_cannot_be_fed_back(facerec_app, client, photos):
    add(client, "red", photos("red", 2))
    [folder] = [folder for folder in facerec_app.workspace_folders() if (folder / "dataset" / "red").is_dir()][:1]
    stored = next((folder / "dataset" / "red").iterdir())
    assert oct(folder.stat().st_mode & 0o777) == "0o700"

    for guess in (str(stored), str(folder), f"{folder}/../{folder.name}/dataset/red/{stored.name}"):
        response = httpx.get(f"{facerec_app.url}gradio_api/file={guess}")
        assert response.status_code == 403, guess

    # Another visitor names the stored file as its "uploaded" photo: Gradio refuses the path.
    response = httpx.post(f"{facerec_app.url}gradio_api/call/predict", json={
        "data": [{"path": str(stored), "meta": {"_type": "gradio.FileData"}}, 0.5]})
    event_id = response.json()["event_id"]
    answer = httpx.get(f"{facerec_app.url}gradio_api/call/predict/{event_id}", timeout=30).text
    assert "event: error" in answer


def test_what_a_session_was_shown_is_served_at_unguessable_addresses(facerec_app, photos):
    visitor = Client(facerec_app.url, verbose=False, download_files=False)
    try:
        _, _, _, _, gallery, _ = add(visitor, "red", photos("red", 1))
    finally:
        visitor.close()
    image = value(gallery)[0]["image"]
    shown = Path(image["path"])
    assert shown.is_relative_to(facerec_app.gradio_temp)  # Gradio's copy, not the workspace's file.
    assert len(shown.parent.name) == 64  # A SHA-256 salted with Gradio's secret seed.
    assert httpx.get(image["url"]).status_code == 200


def test_closing_the_session_deletes_its_workspace(facerec_app, photos, tmp_path):
    visitor = Client(facerec_app.url, verbose=False, download_files=str(tmp_path / "v"))
    before = set(facerec_app.workspace_folders())
    add(visitor, "red", photos("red", 2))
    [folder] = set(facerec_app.workspace_folders()) - before
    visitor.close()
    deadline = time.monotonic() + 20
    while folder.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not folder.exists()


# Hub ----------------------------------------------------------------------------------------------


def test_push_then_load_in_another_session(facerec_app, client, photos, hub, tmp_path):
    trained_client(client, photos)
    note = client.predict("alice/app-faces", False, "hf_alice", api_name="/push_to_hub")
    assert "Pushed to [alice/app-faces]" in note and "hf_alice" not in note

    other = Client(facerec_app.url, verbose=False, download_files=str(tmp_path / "other"))
    try:
        note, model_info, _, threshold = other.predict("alice/app-faces", "", "", api_name="/load_from_hub")
        assert "Loaded **alice/app-faces**" in note and "2 labels (blue, red)" in model_info
        # Downloaded into the visitor's own workspace, not a cache shared with other visitors.
        assert any((folder / "hub").is_dir() for folder in facerec_app.workspace_folders())
        _, label_output, _ = other.predict(handle_file(photos("blue", 1)[0]), 0.5, api_name="/predict")
        assert label_output["label"] == "blue"
        assert sum(probabilities(label_output).values()) == pytest.approx(1.0, abs=1e-4)
    finally:
        other.close()


def test_private_push_with_the_login_token_and_refused_loads(facerec_app, photos, hub, tmp_path):
    alice = Client(facerec_app.url, verbose=False, oauth_token="hf_alice", download_files=str(tmp_path / "a"))
    bob = Client(facerec_app.url, verbose=False, download_files=str(tmp_path / "b"))
    try:
        trained_client(alice, photos)
        assert "(private)" in alice.predict("alice/secret-faces", True, "", api_name="/push_to_hub")
        with pytest.raises(AppError, match="no such model repo on the Hub, or it is private"):
            bob.predict("alice/secret-faces", "", "hf_bob", api_name="/load_from_hub")
        with pytest.raises(AppError, match="may not push to"):
            bob_trained = trained_client(bob, photos)
            bob_trained.predict("alice/secret-faces", True, "hf_bob", api_name="/push_to_hub")
        with pytest.raises(AppError, match="needs a Hugging Face token with write access: paste one"):
            bob.predict("bob/faces", True, "", api_name="/push_to_hub")
        with pytest.raises(AppError, match="Enter a Hub repo id"):
            bob.predict(str(facerec_app.workspaces_root), "", "", api_name="/load_from_hub")
    finally:
        alice.close()
        bob.close()


def test_tokens_reach_no_file_and_no_log(facerec_app, client, photos, hub, capfd, caplog):
    trained_client(client, photos)
    caplog.set_level(logging.DEBUG)
    client.predict("alice/token-check", True, "hf_alice", api_name="/push_to_hub")
    with pytest.raises(AppError) as refused:
        client.predict("bob/not-yours", True, "hf_wrong_secret", api_name="/push_to_hub")
    assert "hf_wrong_secret" not in str(refused.value)
    captured = capfd.readouterr()
    for text in (captured.out, captured.err, caplog.text):
        assert "hf_alice" not in text and "hf_wrong_secret" not in text
    for root in (facerec_app.workspaces_root, facerec_app.gradio_temp):
        for path in Path(root).rglob("*"):
            if path.is_file():
                assert b"hf_alice" not in path.read_bytes() and b"hf_wrong_secret" not in path.read_bytes(), path
