"""Saved models: load anywhere (a fresh process, plain Keras), and survive a crash mid-save."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import COLOURS, FAST, colour_image
from PIL import Image

import facerec

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A small trained classifier, saved, plus an image to predict."""
    folder = tmp_path_factory.mktemp("model")
    data = folder / "data"
    for label in ("red", "blue"):
        (data / label).mkdir(parents=True)
        for index in range(5):
            Image.fromarray(colour_image(COLOURS[label], seed=index + (50 if label == "red" else 0))).save(data / label / f"{index}.png")
    classifier = facerec.train(data, cache_dir=folder / "cache", **FAST)
    classifier.save(folder / "saved")
    image_path = folder / "probe.png"
    Image.fromarray(colour_image(COLOURS["red"], seed=4321)).save(image_path)
    return classifier, folder / "saved", image_path


def _run(code: str, *, cwd: Path, with_facerec: bool) -> str:
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    if with_facerec:
        environment["PYTHONPATH"] = str(ROOT)
    environment["TF_CPP_MIN_LOG_LEVEL"] = "3"
    result = subprocess.run([sys.executable, "-c", code], cwd=cwd, env=environment, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip().splitlines()[-1]


def test_saved_folder_holds_keras_files_and_a_readable_config(trained):
    classifier, saved, _ = trained
    assert {"config.json", "metadata.json", "model.weights.h5"} <= {path.name for path in saved.iterdir()}
    config = json.loads((saved / "config.json").read_text())
    assert list(config)[:2] == ["labels", "backbone"]
    assert config["labels"] == ["blue", "red"]
    assert config["backbone_weights"]["kind"] == "random"
    assert config["faces"]["enabled"] is False and config["image_size"] == 32
    assert config["metrics"]["accuracy"] == classifier.metrics["accuracy"]
    assert config["class_name"] == "Functional"  # Keras's own keys sit beside facerec's.


def test_loads_in_a_fresh_process_with_the_same_predictions(trained, tmp_path):
    classifier, saved, image_path = trained
    code = (
        "import json, facerec\n"
        f"clf = facerec.Classifier.load({str(saved)!r})\n"
        f"print(json.dumps(clf.predict({str(image_path)!r})))"
    )
    fresh = json.loads(_run(code, cwd=tmp_path, with_facerec=True))
    expected = classifier.predict(image_path)
    assert fresh.keys() == expected.keys()
    assert all(abs(fresh[label] - expected[label]) < 1e-5 for label in expected)


def test_loads_with_plain_keras_and_no_facerec(trained, tmp_path):
    classifier, saved, image_path = trained
    code = (
        "import importlib.util, json, keras, numpy as np\n"
        "from PIL import Image\n"
        "assert importlib.util.find_spec('facerec') is None\n"
        f"model = keras.saving.load_model({str(saved)!r})\n"
        f"config = json.load(open({str(saved / 'config.json')!r}))\n"
        f"image = np.asarray(Image.open({str(image_path)!r}).convert('RGB').resize((config['image_size'],) * 2, Image.BILINEAR), 'float32')\n"
        "print(json.dumps(dict(zip(config['labels'], model.predict(image[None], verbose=0)[0].tolist()))))"
    )
    plain = json.loads(_run(code, cwd=tmp_path, with_facerec=False))
    expected = classifier.predict(image_path)
    assert max(plain, key=plain.get) == max(expected, key=expected.get)
    assert sum(plain.values()) == pytest.approx(1.0, abs=1e-5)


def test_damaged_folders_are_refused_by_name(trained, tmp_path):
    _, saved, _ = trained
    with pytest.raises(ValueError, match="no such model folder"):
        facerec.Classifier.load(tmp_path / "nothing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no config.json"):
        facerec.Classifier.load(tmp_path / "empty")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text("{not json")
    with pytest.raises(ValueError, match="damaged config.json"):
        facerec.Classifier.load(broken)
    other = tmp_path / "other"
    other.mkdir()
    (other / "config.json").write_text(json.dumps({"class_name": "Functional"}))
    with pytest.raises(ValueError, match="not a facerec model"):
        facerec.Classifier.load(other)
    truncated = tmp_path / "truncated"
    truncated.mkdir()
    for path in saved.iterdir():
        if path.is_file():
            (truncated / path.name).write_bytes(path.read_bytes())
    weights = truncated / "model.weights.h5"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 3])
    with pytest.raises(ValueError, match="weights cannot be loaded"):
        facerec.Classifier.load(truncated)


def test_a_process_killed_while_saving_leaves_a_loadable_model(trained, tmp_path):
    classifier, saved, image_path = trained
    target = tmp_path / "model"
    classifier.save(target)
    expected = classifier.predict(image_path)
    # Another process saves the same model over and over; kill it at several moments.
    code = (
        "import facerec, sys\n"
        f"clf = facerec.Classifier.load({str(saved)!r})\n"
        "print('ready', flush=True)\n"
        f"while True: clf.save({str(target)!r})\n"
    )
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    for delay in (0.05, 0.2, 0.45, 0.8):
        process = subprocess.Popen([sys.executable, "-c", code], env=environment, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert process.stdout.readline().strip() == "ready"
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait()
        loaded = facerec.Classifier.load(target)
        assert loaded.predict(image_path) == pytest.approx(expected, abs=1e-5)
