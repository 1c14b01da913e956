"""Push a trained model to the Hub with its card and metrics, and pull it back anywhere.

The real huggingface_hub client talks real HTTP to the `hub` fixture (tests/hub_server.py); no
mocks. A pushed model is about 59 MB (VGG16's weights, whatever the input size), so the module
trains once and pushes two repos once: a public one (from the saved folder) and a private one
(from the Classifier). Tests that change a repo use a repo of their own.
"""

import hashlib
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import COLOURS, FAST, colour_image
from huggingface_hub import HfApi, ModelCard, hf_hub_download
from PIL import Image

import facerec
from facerec.cli import main
from facerec.hub import CardKeptWarning, HubError
from facerec.model_card import is_generated_card

ROOT = Path(__file__).resolve().parents[1]
ALICE, BOB = "hf_alice", "hf_bob"
PUBLIC, PRIVATE = "alice/colours", "alice/colours-private"


def _write_images(folder: Path, labels: tuple[str, ...]) -> Path:
    for label in labels:
        (folder / label).mkdir(parents=True, exist_ok=True)
        for index in range(5):
            seed = index + 100 * list(COLOURS).index(label)
            Image.fromarray(colour_image(COLOURS[label], seed=seed)).save(folder / label / f"{index}.png")
    return folder


@pytest.fixture(scope="module")
def model(hub, tmp_path_factory):
    """A trained classifier, its saved folder, and the two repos it was pushed to."""
    root = tmp_path_factory.mktemp("hub-model")
    data = _write_images(root / "data", ("red", "blue"))
    classifier = facerec.train(data, cache_dir=root / "cache", **FAST)
    folder = classifier.save(root / "saved")
    probe = root / "probe.png"
    Image.fromarray(colour_image(COLOURS["red"], seed=4321)).save(probe)
    environment = dict(os.environ)
    public_commit = facerec.push_to_hub(folder, PUBLIC, token=ALICE)
    private_commit = classifier.push_to_hub(PRIVATE, token=ALICE, private=True)
    assert dict(os.environ) == environment, "pushing must not change the environment"
    return SimpleNamespace(classifier=classifier, folder=folder, root=root, data=data, probe=probe,
                           public_commit=public_commit, private_commit=private_commit)


def _run(arguments: list[str], *, cwd: Path, with_facerec: bool, environment: dict | None = None) -> subprocess.CompletedProcess:
    """Run Python in a fresh process that inherits HF_ENDPOINT and HF_HOME (and no token)."""
    inherited = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "HF_TOKEN")}
    if with_facerec:
        inherited["PYTHONPATH"] = str(ROOT)
    inherited.update({"TF_CPP_MIN_LOG_LEVEL": "3", **(environment or {})})
    return subprocess.run([sys.executable, *arguments], cwd=cwd, env=inherited, capture_output=True, text=True, timeout=300)


def _last_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip().splitlines()[-1]


def _fingerprint(folder: Path) -> dict[str, tuple[str, int]]:
    return {str(path.relative_to(folder)): (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns)
            for path in sorted(folder.rglob("*")) if path.is_file()}


def _repo_text(repo_id: str, filename: str, *, revision: str | None = None) -> str:
    return Path(hf_hub_download(repo_id, filename, revision=revision, token=ALICE)).read_text(encoding="utf-8")


def _commit_id(commit_url: str) -> str:
    return commit_url.rstrip("/").rsplit("/", 1)[-1]


# Pushing -------------------------------------------------------------------------------------


def test_push_makes_one_commit_with_the_model_its_card_and_metrics(model):
    api = HfApi(token=ALICE)
    assert set(api.list_repo_files(PUBLIC)) == {".gitattributes", "README.md", "metrics.json",
                                                "config.json", "metadata.json", "model.weights.h5"}
    commits = api.list_repo_commits(PUBLIC)
    assert len(commits) == 2  # the Hub's initial commit, then ours
    assert commits[0].commit_id == _commit_id(model.public_commit)
    assert _repo_text(PUBLIC, "config.json") == (model.folder / "config.json").read_text(encoding="utf-8")
    metrics = json.loads(_repo_text(PUBLIC, "metrics.json"))
    assert metrics["labels"] == ["blue", "red"]
    assert metrics["validation"] == model.classifier.metrics
    assert metrics["accuracy"] == model.classifier.metrics["accuracy"]
    assert metrics["training"]["epochs"] == FAST["epochs"] and metrics["dataset"]["red"]["train"] == 4
    assert "history" not in metrics  # a saved folder does not keep it
    private_metrics = json.loads(_repo_text(PRIVATE, "metrics.json"))
    assert len(private_metrics["history"]) == model.classifier.config.training["epochs_run"]


def test_model_card_has_the_hub_metadata_and_what_a_reader_needs(model):
    card = ModelCard.load(PUBLIC)  # public: no token needed
    assert card.data.library_name == "keras"
    assert card.data.pipeline_tag == "image-classification"
    assert {"facerec", "keras", "vgg16"} <= set(card.data.tags) and "face-recognition" not in card.data.tags
    (result,) = card.data.eval_results
    assert result.metric_type == "accuracy" and result.metric_value == round(model.classifier.metrics["accuracy"], 4)
    text = card.text
    for needed in ("`blue`", "`red`", model.classifier.config.backbone_weights["description"], "32x32",
                   "| red | 4 | 1 |", f"| learning_rate | {model.classifier.config.training['learning_rate']} |", f'Classifier.from_pretrained("{PUBLIC}")',
                   f'keras.saving.load_model("hf://{PUBLIC}")', f'snapshot_download("{PUBLIC}")',
                   "Closed set", "unknown", "Consent", "surveillance", "Bias"):
        assert needed in text, needed
    assert is_generated_card(str(card))
    assert "This repo is private" in ModelCard.load(PRIVATE, token=ALICE).text


def test_the_card_marker_tells_generated_cards_from_edited_ones(model):
    generated = _repo_text(PUBLIC, "README.md")
    assert is_generated_card(generated)
    assert is_generated_card(generated.replace("\n", "\r\n").rstrip() + "\n\n")  # line endings are not edits
    assert not is_generated_card(generated.replace("Closed set", "Closed-set"))
    assert not is_generated_card("---\nlibrary_name: keras\n---\n# A card someone wrote\n")


def test_pushing_again_adds_a_commit_and_revision_pulls_the_older_one(model, tmp_path):
    repo_id = "alice/colours-history"
    first = _commit_id(facerec.push_to_hub(model.folder, repo_id, token=ALICE))
    data = _write_images(tmp_path / "data", ("red", "blue", "green"))
    three_labels = facerec.train(data, cache_dir=model.root / "cache", **FAST)
    second = _commit_id(facerec.push_to_hub(three_labels, repo_id, token=ALICE, commit_message="Add green"))
    assert second != first
    commits = HfApi(token=ALICE).list_repo_commits(repo_id)
    assert [commit.commit_id for commit in commits[:2]] == [second, first] and commits[0].title == "Add green"
    assert json.loads(_repo_text(repo_id, "metrics.json"))["labels"] == ["blue", "green", "red"]
    assert json.loads(_repo_text(repo_id, "metrics.json", revision=first))["labels"] == ["blue", "red"]
    assert "`green`" in ModelCard.load(repo_id, token=ALICE).text  # the unedited card is regenerated
    assert facerec.Classifier.from_pretrained(repo_id, token=ALICE).labels == ["blue", "green", "red"]
    older = facerec.Classifier.from_pretrained(repo_id, revision=first, token=ALICE)
    assert older.labels == ["blue", "red"]
    assert older.predict(model.probe) == pytest.approx(model.classifier.predict(model.probe), abs=1e-5)


def test_a_card_edited_on_the_hub_is_kept_until_overwrite_is_asked(model):
    repo_id = "alice/colours-card"
    facerec.push_to_hub(model.folder, repo_id, token=ALICE)
    edited = _repo_text(repo_id, "README.md").replace("## Results", "## Results\n\nAlice's own notes.")
    HfApi(token=ALICE).upload_file(path_or_fileobj=edited.encode("utf-8"), path_in_repo="README.md",
                                   repo_id=repo_id, commit_message="Edit the card")
    before = HfApi(token=ALICE).model_info(repo_id).sha
    stricter = facerec.Classifier.load(model.folder)
    stricter.threshold = 0.75
    with pytest.warns(CardKeptWarning, match="kept its model card"):
        commit = stricter.push_to_hub(repo_id, token=ALICE)
    assert _commit_id(commit) != before  # the model itself was still pushed
    assert commit.card_kept
    assert json.loads(_repo_text(repo_id, "config.json"))["threshold"] == 0.75
    assert _repo_text(repo_id, "README.md") == edited
    with warnings.catch_warnings():
        warnings.simplefilter("error", CardKeptWarning)
        assert not facerec.push_to_hub(model.folder, repo_id, token=ALICE, overwrite_card=True).card_kept
    regenerated = _repo_text(repo_id, "README.md")
    assert is_generated_card(regenerated) and "Alice's own notes" not in regenerated


# Pulling -------------------------------------------------------------------------------------


def test_pull_in_a_fresh_process_predicts_the_same(model, tmp_path):
    code = ("import json, os, facerec\n"
            "assert 'HF_TOKEN' not in os.environ\n"
            f"classifier = facerec.Classifier.from_pretrained({PUBLIC!r})\n"
            f"print(json.dumps(classifier.predict({str(model.probe)!r})))")
    pulled = json.loads(_last_line(_run(["-c", code], cwd=tmp_path, with_facerec=True)))
    assert pulled == pytest.approx(model.classifier.predict(model.probe), abs=1e-5)


def test_plain_keras_loads_the_private_repo_without_facerec(model, tmp_path):
    code = ("import importlib.util, json, keras, numpy as np\n"
            "from huggingface_hub import hf_hub_download\n"
            "from PIL import Image\n"
            "assert importlib.util.find_spec('facerec') is None\n"
            f"model = keras.saving.load_model('hf://{PRIVATE}')\n"
            f"config = json.load(open(hf_hub_download({PRIVATE!r}, 'config.json')))\n"
            f"image = Image.open({str(model.probe)!r}).convert('RGB').resize((config['image_size'],) * 2, Image.BILINEAR)\n"
            "probabilities = model.predict(np.asarray(image, 'float32')[None], verbose=0)[0]\n"
            "print(json.dumps(dict(zip(config['labels'], probabilities.tolist()))))")
    plain = json.loads(_last_line(_run(["-c", code], cwd=tmp_path, with_facerec=False, environment={"HF_TOKEN": ALICE})))
    expected = model.classifier.predict(model.probe)
    assert max(plain, key=plain.get) == max(expected, key=expected.get)
    assert sum(plain.values()) == pytest.approx(1.0, abs=1e-5)
    assert "HF_TOKEN" not in os.environ


def test_pull_offline_from_the_cache_with_the_server_stopped(model, hub, tmp_path):
    facerec.Classifier.from_pretrained(PUBLIC)  # now in the cache
    code = ("import json, sys\n"
            "from facerec.cli import main\n"
            f"codes = [main(['predict', {PUBLIC!r}, {str(model.probe)!r}, '--json']),\n"
            f"         main(['predict', 'alice/never-pulled', {str(model.probe)!r}])]\n"
            "print(json.dumps(codes))")
    with hub.stopped():
        result = _run(["-c", code], cwd=tmp_path, with_facerec=True, environment={"HF_HUB_OFFLINE": "1"})
    assert json.loads(_last_line(result)) == [0, 1]
    (face,) = json.loads(result.stdout.strip().splitlines()[-2])["faces"]
    assert face["probabilities"] == pytest.approx(model.classifier.predict(model.probe), abs=1e-5)
    assert ("facerec: error: alice/never-pulled is not in the local Hugging Face cache and HF_HUB_OFFLINE is set"
            in result.stderr)


def test_cli_evaluate_accepts_a_repo_id(model, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("FACEREC_CACHE", str(tmp_path / "cache"))
    assert main(["evaluate", PUBLIC, str(model.data), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["labels"] == ["blue", "red"] and report["count"] == 10


# Errors --------------------------------------------------------------------------------------


def _assert_clear(error: HubError, match: str) -> None:
    message = str(error)
    assert match in message and "\n" not in message
    assert "hf_" not in message and "hf_" not in repr(error)
    assert error.__cause__ is None and error.__context__ is None  # nothing holding the request's headers


def test_refused_or_missing_tokens_give_a_clear_error_and_leave_the_folder_intact(model, capsys, caplog):
    caplog.set_level("DEBUG")
    before = _fingerprint(model.folder)
    commits = len(HfApi(token=ALICE).list_repo_commits(PUBLIC))
    for token, match in (("hf_wrong", "the Hub refused the token given (invalid or expired)"),
                         (None, "the Hub needs a token to push to alice/colours: pass token=, set HF_TOKEN"),
                         (BOB, "the token given may not push to alice/colours")):
        with pytest.raises(HubError) as caught:
            facerec.push_to_hub(model.folder, PUBLIC, token=token)
        _assert_clear(caught.value, match)
    with pytest.raises(HubError) as caught:
        facerec.Classifier.from_pretrained("alice/never-pulled", token="hf_wrong")
    _assert_clear(caught.value, "the Hub refused the token given")
    assert main(["push", str(model.folder), PUBLIC, "--token", "hf_wrong"]) == 1
    assert capsys.readouterr().err.startswith("facerec: error: the Hub refused the token given")
    assert "hf_wrong" not in caplog.text and ALICE not in caplog.text
    assert len(HfApi(token=ALICE).list_repo_commits(PUBLIC)) == commits
    assert _fingerprint(model.folder) == before


def test_missing_repo_or_revision_gives_a_clear_error(model, tmp_path):
    with pytest.raises(HubError) as caught:
        facerec.Classifier.from_pretrained("alice/no-such-model")
    _assert_clear(caught.value, "alice/no-such-model: no such model repo on the Hub, or it is private")
    with pytest.raises(HubError) as caught:
        facerec.Classifier.from_pretrained(PUBLIC, revision="no-such-branch")
    _assert_clear(caught.value, "alice/colours has no revision 'no-such-branch'")
    with pytest.raises(ValueError, match="no such model folder, and not a Hub repo id"):
        facerec.Classifier.from_pretrained(tmp_path / "missing" / "deeper" / "folder")
    with pytest.raises(HubError, match="not a valid Hub repo id"):
        facerec.push_to_hub(model.folder, "alice/bad--name", token=ALICE)


def test_a_private_repo_is_unreadable_by_others_even_from_a_shared_cache(model):
    facerec.Classifier.from_pretrained(PRIVATE, token=ALICE)  # Alice's pull puts it in the shared cache
    for token in (BOB, None):
        with pytest.raises(HubError) as caught:
            facerec.Classifier.from_pretrained(PRIVATE, token=token)
        _assert_clear(caught.value, "alice/colours-private: no such model repo on the Hub, or it is private")
    with pytest.raises(HubError, match="may not push to"):
        facerec.push_to_hub(model.folder, PRIVATE, token=BOB)


def test_no_network_gives_a_clear_error_and_the_cache_still_serves(model, hub):
    before = _fingerprint(model.folder)
    facerec.Classifier.from_pretrained(PUBLIC)
    with hub.stopped():
        with pytest.raises(HubError) as caught:
            facerec.push_to_hub(model.folder, PUBLIC, token=ALICE)
        _assert_clear(caught.value, "cannot reach the Hub at")
        with pytest.raises(HubError) as caught:
            facerec.Classifier.from_pretrained("alice/never-pulled")
        _assert_clear(caught.value, "and alice/never-pulled is not in the local cache")
        cached = facerec.Classifier.from_pretrained(PUBLIC)
    assert cached.predict(model.probe) == pytest.approx(model.classifier.predict(model.probe), abs=1e-5)
    assert _fingerprint(model.folder) == before


def test_the_token_is_written_nowhere(model):
    hf_home = Path(os.environ["HF_HOME"])
    for folder in (hf_home, model.root):
        for path in folder.rglob("*"):
            if path.is_file() and not path.is_symlink():
                assert ALICE.encode() not in path.read_bytes(), path
    assert "HF_TOKEN" not in os.environ
