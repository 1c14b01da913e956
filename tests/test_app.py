"""The app (app.py) end to end: the real server on localhost, driven through gradio_client.

The app runs as configured for tests (untrained VGG16 at 32 pixels, see the `facerec_app`
fixture); labels are colour patches that any network tells apart, in "Whole images" mode.
"""

from __future__ import annotations

import concurrent.futures
import io
import json
import logging
import os
import time
import zipfile
from pathlib import Path

import httpx
import numpy as np
import pytest
from conftest import COLOURS, colour_image
from gradio_client import Client, handle_file
from gradio_client.exceptions import ValidationError
from PIL import Image

FAST_TRAINING = dict(data_summary="", mode="images", backbone="vgg16", epochs=15, batch_size=16, learning_rate=0.01,
                     optimizer="adam", augment=0, trainable_layers=0, validation_split=0.2)
ENDPOINTS = {"/session", "/session_model", "/describe_backbone", "/recommended_backbone", "/add_label", "/add_photos",
             "/capture", "/record", "/import_zip", "/load_example_dataset", "/delete_photo", "/rename_label",
             "/delete_label", "/export_dataset", "/train", "/stop_training", "/training_outcome", "/reset_settings",
             "/predict", "/live_thresholds", "/push_to_hub", "/load_from_hub", "/export_model"}
# /train's outputs as API clients get them, in order (the model's views in every tab come last; the
# live view's box, a layout block, is the page's only).
TRAIN_OUTPUTS = ("status", "loss", "accuracy", "results", "per_class", "confusion", "model_info", "threshold", "distance",
                 "share_info")


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


def add(client: Client, label: str, paths: list[str], mode: str = "images") -> tuple:
    """Upload photos under a label: (note, dataset, summary)."""
    return client.predict([handle_file(path) for path in paths], label, mode, api_name="/add_photos")


def value(output):
    """A component's value, whether it came back as a plain value or as an update."""
    return output["value"] if isinstance(output, dict) and output.get("__type__") == "update" else output


def counts(dataset: dict) -> dict[str, int]:
    """Photos per label, from the dataset the Collect tab shows."""
    return {entry["label"]: entry["count"] for entry in value(dataset)["labels"]}


def train(client: Client, **overrides) -> dict:
    """Train with the fast settings; the outputs by name (TRAIN_OUTPUTS)."""
    return dict(zip(TRAIN_OUTPUTS, client.predict(*{**FAST_TRAINING, **overrides}.values(), api_name="/train")))


def predict(client: Client, path: str, threshold: float = 0.5, distance: float = 0.5) -> tuple:
    """(drawn photo, headline, probabilities, note) for a photo."""
    return client.predict(handle_file(path), threshold, distance, api_name="/predict")


def trained_client(client: Client, photos) -> Client:
    add(client, "red", photos("red"))
    add(client, "blue", photos("blue"))
    train(client)
    return client


def wait_for_first_epoch(job) -> None:
    while not job.done() and not any(isinstance(output[1], dict) and output[1].get("data") for output in job.outputs()):
        time.sleep(0.05)


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
    uploaded = photos("red") + photos("blue")
    note, dataset, summary = add(client, "red", uploaded[:6])
    assert "Added 6 images for **red**" in note and counts(dataset) == {"red": 6} and "1 label, 6 photos" in summary
    assert len(value(dataset)["labels"][0]["newest"]) == 6
    _, dataset, _ = add(client, "blue", uploaded[6:])
    assert counts(dataset) == {"blue": 6, "red": 6}

    trained = train(client)
    assert "Trained in" in trained["status"] and "Validation accuracy: 100%" in trained["results"]
    assert {row[2] for row in trained["loss"]["data"]} == {"training", "validation"}
    assert max(row[0] for row in trained["accuracy"]["data"]) == len(trained["loss"]["data"]) // 2
    assert [row[0] for row in trained["per_class"]["data"]] == ["blue", "red"]
    assert "2 labels (blue, red)" in trained["model_info"] and trained["share_info"] == trained["model_info"]
    assert value(trained["threshold"]) == 0.5 and trained["threshold"]["visible"] is True  # not dlib: the probability rule
    assert trained["distance"]["visible"] is False

    drawn, headline, label_output, note = predict(client, photos("red", 1)[0])
    assert label_output["label"] == "red" and headline.startswith("## red")
    assert sum(probabilities(label_output).values()) == pytest.approx(1.0, abs=1e-4)
    assert "**red**" in note

    dataset_zip = value(client.predict(api_name="/export_dataset")[0])
    with zipfile.ZipFile(dataset_zip["value"] if isinstance(dataset_zip, dict) else dataset_zip) as archive:
        names = archive.namelist()
    assert len(names) == 12 and {name.split("/")[0] for name in names} == {"red", "blue"}
    assert {Path(name).name for name in names} == {f"{Path(path).stem}.jpg" for path in uploaded}  # their own names

    model_zip, _ = client.predict(api_name="/export_model")
    model_zip = value(model_zip)
    with zipfile.ZipFile(model_zip["value"] if isinstance(model_zip, dict) else model_zip) as archive:
        assert {"config.json", "model.weights.h5"} <= set(archive.namelist())
        assert json.loads(archive.read("config.json"))["labels"] == ["blue", "red"]


def test_live_curves_arrive_while_training(client, photos):
    add(client, "red", photos("red"))
    add(client, "blue", photos("blue"))
    job = client.submit(*{**FAST_TRAINING, "epochs": 6}.values(), api_name="/train")
    outputs = [dict(zip(TRAIN_OUTPUTS, output)) for output in job]
    assert outputs[0]["results"] == "" and value(outputs[0]["per_class"])["data"] in ([], [[]])  # the last results go
    epochs_seen = [len({row[0] for row in output["loss"]["data"]}) for output in outputs
                   if isinstance(output["loss"], dict) and output["loss"].get("data")]
    assert epochs_seen[:3] == [1, 2, 3]
    assert "Trained in" in outputs[-1]["status"]


def test_edit_the_dataset(client, photos):
    add(client, "red", photos("red", 3))
    _, dataset, _ = add(client, "blue", photos("blue", 3))
    photo_name = value(dataset)["labels"][0]["newest"][0]  # blue's newest photo

    note, dataset, _ = client.predict("blue", photo_name, api_name="/delete_photo")
    assert "Deleted a photo" in note and counts(dataset) == {"blue": 2, "red": 3}
    note, *_ = client.predict("blue", "../red/whatever.jpg", api_name="/delete_photo")
    assert "Click a photo of the card first" in note

    note, dataset, _ = client.predict("blue", "navy", api_name="/rename_label")
    assert counts(dataset) == {"navy": 2, "red": 3}
    note, dataset, _ = client.predict("navy", "red", api_name="/rename_label")
    assert "already exists" in note and counts(client.predict(api_name="/session")[0]) == {"navy": 2, "red": 3}
    note, *_ = client.predict("navy", "../escape", api_name="/rename_label")
    assert "cannot contain" in note
    note, *_ = client.predict("navy", "CON", api_name="/rename_label")
    assert "Windows keeps for a device" in note

    note, dataset, _ = client.predict("red", api_name="/delete_label")
    assert counts(dataset) == {"navy": 2}
    note, dataset, _, typed = client.predict("Alice", api_name="/add_label")
    assert "Added **Alice**" in note and counts(dataset) == {"Alice": 0, "navy": 2} and typed == ""
    note, *_ = client.predict("alice", api_name="/add_label")
    assert "only by case" in note


def test_face_mode_uploads_refuse_photos_without_a_face_by_their_names(client, datasets, tmp_path):
    face = datasets / "five_celebrity_faces" / "test" / "madonna"
    portrait = tmp_path / "my portrait.jpg"
    portrait.write_bytes(next(iter(sorted(face.iterdir()))).read_bytes())
    blank = tmp_path / "IMG_0042.png"
    Image.new("RGB", (120, 160), (128, 128, 128)).save(blank)
    note, dataset, _ = add(client, "Madonna", [str(portrait), str(blank)], mode="faces")
    assert "Added 1 image" in note and "IMG_0042.png: no face found" in note
    assert counts(dataset) == {"Madonna": 1} and value(dataset)["labels"][0]["newest"][0].startswith("my portrait.")


def test_a_capture_and_a_recording_store_the_camera_frames(client, datasets):
    """What the page's camera sends (JPEG data URLs) is stored, the face only in face mode, every frame of a recording."""
    import base64

    portrait = sorted((datasets / "five_celebrity_faces" / "test" / "madonna").iterdir())[0]
    frame = "data:image/jpeg;base64," + base64.b64encode(portrait.read_bytes()).decode()
    empty = io.BytesIO()
    Image.new("RGB", (160, 120), (90, 90, 90)).save(empty, format="JPEG")
    no_face = "data:image/jpeg;base64," + base64.b64encode(empty.getvalue()).decode()
    client.predict("Madonna", api_name="/add_label")
    note, dataset, _ = client.predict("Madonna", frame, "faces", api_name="/capture")
    assert "Saved a photo of **Madonna**" in note and counts(dataset) == {"Madonna": 1}
    note, *_ = client.predict("Madonna", no_face, "faces", api_name="/capture")
    assert "No face in that frame" in note
    note, *_ = client.predict("Madonna", "error: NotAllowedError: Permission denied", "faces", api_name="/capture")
    assert "The camera is not available (NotAllowedError" in note

    recording = json.dumps({"frames": [frame, no_face, frame]})
    note, dataset, _ = client.predict("Madonna", recording, "faces", api_name="/record")
    assert "Recorded **Madonna**: 0 photos saved, 2 already saved; 1 frame without a face skipped" in note
    note, dataset, _ = client.predict("Colour", json.dumps({"frames": [no_face]}), "images", api_name="/record")
    assert "1 photo saved" in note and counts(dataset) == {"Colour": 1, "Madonna": 1}


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
    note, dataset, _, cleared = client.predict(handle_file(str(tmp_path / "data.zip")), api_name="/import_zip")
    assert counts(dataset) == {"green": 3, "red": 3} and "refused 1" in note and cleared is None

    note, dataset, _ = client.predict(api_name="/load_example_dataset")
    assert "ORL" in note
    assert list(counts(dataset)) == ["green", "red", "Subject 5", "Subject 8", "Subject 11", "Subject 13"]


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


def test_predict_push_and_export_need_a_model_and_say_so_as_notes(client, photos):
    """User-level problems are notes and warnings, not failures of every output (no error badges)."""
    assert "No model yet" in predict(client, photos("red", 1)[0])[3]
    note, token = client.predict("alice/nothing", True, "hf_alice", api_name="/push_to_hub")
    assert "No model to push" in note and token == ""  # the pasted token is cleared, the push having failed
    _, note = client.predict(api_name="/export_model")
    assert "There is no model yet" in note
    assert "No training is running" in client.predict(api_name="/stop_training")


def test_stop_keeps_the_best_epoch_so_far(client, photos):
    add(client, "red", photos("red", 12))
    add(client, "blue", photos("blue", 12))
    job = client.submit(*{**FAST_TRAINING, "epochs": 200, "learning_rate": 0.0001}.values(), api_name="/train")
    wait_for_first_epoch(job)
    assert "Stopping" in client.predict(api_name="/stop_training")
    final = dict(zip(TRAIN_OUTPUTS, job.result()))
    assert "stopped early: best epoch kept" in final["status"]
    assert len({row[0] for row in final["loss"]["data"]}) < 200
    _, _, label_output, _ = predict(client, photos("red", 1)[0])
    assert set(probabilities(label_output)) == {"red", "blue"}


def test_one_training_at_a_time_per_session(client, photos):
    add(client, "red", photos("red"))
    add(client, "blue", photos("blue"))
    first = client.submit(*{**FAST_TRAINING, "epochs": 60, "learning_rate": 0.0001}.values(), api_name="/train")
    wait_for_first_epoch(first)
    with pytest.raises(ValidationError, match="already running or waiting in this session"):
        train(client)
    assert "Trained in" in first.result()[0]
    assert "Trained in" in train(client)["status"]  # Once it has ended, training again is fine.


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
        assert "No model yet" in predict(visitors[1], photos("red", 1)[0])[3]
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
        "data": [{"path": str(stored), "meta": {"_type": "gradio.FileData"}}, 0.5, 0.5]})
    event_id = response.json()["event_id"]
    answer = httpx.get(f"{facerec_app.url}gradio_api/call/predict/{event_id}", timeout=30).text
    assert "event: error" in answer


def test_what_a_session_was_shown_is_served_at_unguessable_addresses(facerec_app, photos):
    visitor = Client(facerec_app.url, verbose=False, download_files=False)
    try:
        add(visitor, "red", photos("red", 1))
        exported = value(visitor.predict(api_name="/export_dataset")[0])
    finally:
        visitor.close()
    shown = Path(exported["path"])
    assert shown.is_relative_to(facerec_app.gradio_temp)  # Gradio's copy, not the workspace's file.
    assert len(shown.parent.name) == 64  # A SHA-256 salted with Gradio's secret seed.
    assert httpx.get(exported["url"]).status_code == 200


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
    note, token = client.predict("alice/app-faces", False, "hf_alice", api_name="/push_to_hub")
    assert "Pushed to [alice/app-faces]" in note and "hf_alice" not in note and token == ""

    other = Client(facerec_app.url, verbose=False, download_files=str(tmp_path / "other"))
    try:
        note, token, model_info, threshold, _, share_info = other.predict("alice/app-faces", "", "", api_name="/load_from_hub")
        assert "Loaded **alice/app-faces**" in note and "2 labels (blue, red)" in model_info and share_info == model_info
        assert value(threshold) == 0.5
        # Downloaded into the visitor's own workspace, not a cache shared with other visitors.
        assert any((folder / "hub").is_dir() for folder in facerec_app.workspace_folders())
        _, _, label_output, _ = predict(other, photos("blue", 1)[0])
        assert label_output["label"] == "blue"
        assert sum(probabilities(label_output).values()) == pytest.approx(1.0, abs=1e-4)
    finally:
        other.close()


def test_private_push_with_the_login_token_and_refused_loads(facerec_app, photos, hub, tmp_path):
    alice = Client(facerec_app.url, verbose=False, oauth_token="hf_alice", download_files=str(tmp_path / "a"))
    bob = Client(facerec_app.url, verbose=False, download_files=str(tmp_path / "b"))
    try:
        trained_client(alice, photos)
        assert "(private)" in alice.predict("alice/secret-faces", True, "", api_name="/push_to_hub")[0]
        note, token, *_ = bob.predict("alice/secret-faces", "", "hf_bob", api_name="/load_from_hub")
        assert "no such model repo on the Hub, or it is private" in note and token == ""
        trained_client(bob, photos)
        note, token = bob.predict("alice/secret-faces", True, "hf_bob", api_name="/push_to_hub")
        assert "may not push to" in note and token == ""
        assert "needs a Hugging Face token with write access: paste one" in bob.predict("bob/faces", True, "",
                                                                                      api_name="/push_to_hub")[0]
        assert "Enter a Hub repo id" in bob.predict(str(facerec_app.workspaces_root), "", "", api_name="/load_from_hub")[0]
    finally:
        alice.close()
        bob.close()


def test_tokens_reach_no_file_and_no_log(facerec_app, client, photos, hub, capfd, caplog):
    trained_client(client, photos)
    caplog.set_level(logging.DEBUG)
    client.predict("alice/token-check", True, "hf_alice", api_name="/push_to_hub")
    refused, token = client.predict("bob/not-yours", True, "hf_wrong_secret", api_name="/push_to_hub")
    assert "refused" in refused and "hf_wrong_secret" not in refused and token == ""
    captured = capfd.readouterr()
    for text in (captured.out, captured.err, caplog.text):
        assert "hf_alice" not in text and "hf_wrong_secret" not in text
    # An earlier test's session ending meanwhile may take its workspace with it, mid-walk: os.walk
    # passes over a folder that vanished (Path.rglob raises), and a vanished file is skipped.
    for root in (facerec_app.workspaces_root, facerec_app.gradio_temp):
        for folder, _, names in os.walk(root):
            for name in names:
                path = Path(folder) / name
                try:
                    content = path.read_bytes()
                except FileNotFoundError:
                    continue
                assert b"hf_alice" not in content and b"hf_wrong_secret" not in content, path


def test_a_closed_session_leaves_no_workspace_model_or_live_view_behind(facerec_app, photos, tmp_path):
    """Over many visitors a server's memory stays flat only if each session's objects go when it ends."""
    import base64
    import gc
    import weakref

    from facerec.app.jobs import BackgroundTraining
    from facerec.app.sessions import Workspace
    from facerec.classifier import Classifier
    from facerec.live import LiveRecognizer

    kinds = (Workspace, Classifier, LiveRecognizer, BackgroundTraining)

    def alive() -> dict[str, int]:
        gc.collect()
        return {kind.__name__: sum(isinstance(item, kind) for item in gc.get_objects()) for kind in kinds}

    # Sessions of earlier tests may still be ending (their grace period) while this one runs, so the
    # counts may only fall; the visitors' own objects are followed by weak reference.
    before, folders_before = alive(), set(facerec_app.workspace_folders())
    visitors = [Client(facerec_app.url, verbose=False, download_files=str(tmp_path / f"v{index}")) for index in range(3)]
    followed = []
    for visitor in visitors:
        trained_client(visitor, photos)
        predict(visitor, photos("red", 1)[0])
        frame = "data:image/png;base64," + base64.b64encode(Path(photos("blue", 1)[0]).read_bytes()).decode()
        visitor.predict("blue", frame, "images", api_name="/capture")
        workspace = facerec_app.workspaces.find(visitor.session_hash)
        followed += [weakref.ref(workspace), weakref.ref(workspace.classifier), weakref.ref(workspace.live_recognizer())]
        if workspace.training is not None:
            followed.append(weakref.ref(workspace.training))
        del workspace
    facerec_app.workspaces.find(visitors[0].session_hash).live_recognizer().process(np.full((120, 160, 3), 128, np.uint8))
    assert all(reference() is not None for reference in followed)
    for visitor in visitors:
        visitor.close()
    deadline = time.monotonic() + 60
    while set(facerec_app.workspace_folders()) - folders_before and time.monotonic() < deadline:
        time.sleep(0.2)  # the sessions end as their connections close
    assert set(facerec_app.workspace_folders()) - folders_before == set()
    # A session's last references go with the work still finishing for it (a recognition of the
    # live view's background worker, the handler that ended it): wait for that, with a ceiling.
    def living() -> list:
        gc.collect()
        return [reference for reference in followed if reference() is not None]

    deadline = time.monotonic() + 60
    while living() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert living() == []
    after = alive()
    assert all(after[name] <= before[name] for name in before), (before, after)
    sessions = {visitor.session_hash for visitor in visitors}  # and Gradio's own state of them is gone too
    deadline = time.monotonic() + 30
    while sessions & set(facerec_app.demo.state_holder.session_data) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert sessions & set(facerec_app.demo.state_holder.session_data) == set()


def test_a_training_outlives_a_dropped_heartbeat_while_its_visitor_reads_its_progress(facerec_app, photos):
    """On a busy server a page's heartbeat can drop while it trains, and Gradio then says the session
    left. The visitor is still there, reading the training's progress: the grace period must not
    end the workspace (and stop the training) under them. A visitor who is really gone reads nothing."""
    from facerec.backbones.keras import KerasPipeline
    from facerec.detection import FaceSettings

    client = Client(facerec_app.url, verbose=False)
    add(client, "red", photos("red"))
    add(client, "blue", photos("blue"))
    backbone = KerasPipeline.build(backbone="vgg16", weights=None, image_size=32, faces=FaceSettings(enabled=False))
    grace = 3.0  # the progress loop touches the workspace at every update, at least once a second
    with backbone._lock:  # the training waits for the frozen pass: its updates are the silent step's repeats
        job = client.submit(*FAST_TRAINING.values(), api_name="/train")
        workspace = None
        while workspace is None or workspace.training is None:
            workspace = facerec_app.workspaces.find(client.session_hash)
            time.sleep(0.05)
        ended = []
        facerec_app.workspaces.leave(client.session_hash, grace=grace, on_ended=ended.append)  # as Gradio's unload does
        past_the_grace = time.monotonic() + grace + 2
        while time.monotonic() < past_the_grace:
            time.sleep(0.1)  # the grace period itself is what is tested: it runs out while the training waits
    final = dict(zip(TRAIN_OUTPUTS, job.result()))
    assert ended == [] and "Trained in" in final["status"] and "stopped early" not in final["status"]
    assert facerec_app.workspaces.find(client.session_hash) is workspace and workspace.classifier is not None
    client.close()
