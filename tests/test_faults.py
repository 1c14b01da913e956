"""A process killed mid-work leaves the last good model and the dataset readable."""

import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from conftest import COLOURS, FAST, colour_image
from PIL import Image

import facerec
from facerec import Dataset, load_image

ROOT = Path(__file__).resolve().parents[1]


def _start(arguments: list[str], cwd: Path) -> subprocess.Popen:
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3", "FACEREC_CACHE": str(cwd / "cache")}
    return subprocess.Popen([sys.executable, "-m", "facerec", *arguments], cwd=cwd, env=environment,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _kill_when(process: subprocess.Popen, marker: str, timeout: float = 300) -> str:
    """Read the process's output until ``marker`` shows, then kill it; returns what it printed."""
    seen, deadline = "", time.monotonic() + timeout
    while marker not in seen:
        character = process.stdout.read(1)
        if not character or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"{marker!r} never showed; output: {seen[-2000:]}")
        seen += character
    process.send_signal(signal.SIGKILL)
    process.wait()
    return seen


def test_killed_during_training_keeps_the_previous_model(make_dataset, tmp_path):
    data = make_dataset(per_label=6)
    previous = facerec.train(data, cache_dir=tmp_path / "cache", **FAST)
    previous.save(tmp_path / "model")
    probe = colour_image(COLOURS["red"], seed=31)
    expected = previous.predict(probe)

    Dataset(data).add("red", colour_image(COLOURS["red"], seed=32))
    process = _start(["train", str(data), "--out", "model", "--weights", "none", "--image-size", "32", "--no-faces",
                      "--epochs", "500", "--early-stopping-patience", "500"], tmp_path)
    _kill_when(process, "training:")

    assert facerec.Classifier.load(tmp_path / "model").predict(probe) == pytest.approx(expected, abs=1e-6)
    assert Dataset(data).labels() == {"blue": 6, "red": 7}


def test_killed_during_an_import_leaves_only_whole_images(tmp_path):
    archive = tmp_path / "many.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        for index in range(400):
            path = tmp_path / "photo.png"
            Image.fromarray(colour_image(COLOURS["green"], seed=index, size=400)).save(path)
            handle.write(path, f"green/{index}.png")
    process = _start(["import", str(archive), "--data", "data"], tmp_path)
    # Kill it part-way through: as soon as the first image is in (a fixed sleep could outlast
    # the whole import on a quiet machine).
    deadline = time.monotonic() + 120
    while not Dataset(tmp_path / "data").labels().get("green") and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()

    dataset = Dataset(tmp_path / "data")
    count = dataset.labels().get("green", 0)
    assert 0 < count < 400, f"the kill should land mid-import, got {count} images"
    for sample in dataset.samples():
        assert load_image(sample.path).shape == (400, 400, 3)
    report = dataset.import_zip(archive)  # Resuming adds the rest and keeps what was there.
    assert len(report.added) == 400 and dataset.labels() == {"green": 400}
