"""The command line, run as users run it: ``python -m facerec ...`` in a subprocess."""

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

from conftest import COLOURS, colour_image
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
FAST_FLAGS = ["--weights", "none", "--image-size", "32", "--no-faces", "--epochs", "15"]


def facerec_cli(*arguments, cwd: Path) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3", "FACEREC_CACHE": str(cwd / "cache")}
    return subprocess.run([sys.executable, "-m", "facerec", *map(str, arguments)], cwd=cwd, env=environment,
                          capture_output=True, text=True, timeout=600)


def test_add_import_train_evaluate_predict(tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    for index in range(5):
        Image.fromarray(colour_image(COLOURS["red"], seed=index)).save(photos / f"red{index}.png")
    archive = tmp_path / "blue.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        for index in range(5):
            path = tmp_path / f"blue{index}.png"
            Image.fromarray(colour_image(COLOURS["blue"], seed=100 + index)).save(path)
            handle.write(path, f"blue/{path.name}")

    added = facerec_cli("add", "red", *sorted(photos.iterdir()), "--data", "data", cwd=tmp_path)
    assert added.returncode == 0 and "added 5 images" in added.stdout
    imported = facerec_cli("import", archive, "--data", "data", cwd=tmp_path)
    assert imported.returncode == 0 and "added 5 images" in imported.stdout
    labels = facerec_cli("labels", "--data", "data", cwd=tmp_path)
    assert labels.stdout.split() == ["blue", "5", "red", "5"]

    trained = facerec_cli("train", "data", "--out", "model", *FAST_FLAGS, cwd=tmp_path)
    assert trained.returncode == 0, trained.stderr[-2000:]
    assert "backbone weights: untrained" in trained.stdout and "validation accuracy:" in trained.stdout
    assert "features" in trained.stderr and "training" in trained.stderr  # The progress bars.
    assert (tmp_path / "model" / "config.json").is_file()

    evaluated = facerec_cli("evaluate", "model", "data", "--json", cwd=tmp_path)
    report = json.loads(evaluated.stdout)
    assert report["count"] == 10 and report["labels"] == ["blue", "red"]

    probe = tmp_path / "probe.png"
    Image.fromarray(colour_image(COLOURS["blue"], seed=999)).save(probe)
    predicted = facerec_cli("predict", "model", probe, "--json", cwd=tmp_path)
    [line] = predicted.stdout.strip().splitlines()
    [face] = json.loads(line)["faces"]
    assert face["label"] == "blue" and abs(sum(face["probabilities"].values()) - 1) < 1e-5

    named = facerec_cli("predict", "model", probe, cwd=tmp_path)
    assert named.stdout.startswith(f"{probe}: blue (") and " at (0, 0, 40, 40)" in named.stdout
    # Above every probability (the standardised head can be sure to float32 precision: exactly 1.0).
    doubtful = facerec_cli("predict", "model", probe, "--threshold", "1.000001", cwd=tmp_path)
    assert doubtful.stdout.startswith(f"{probe}: unknown (closest: blue, only ") and "under 100%)" in doubtful.stdout


def test_bad_input_exits_1_with_one_line(tmp_path):
    (tmp_path / "fake.jpg").write_text("not an image")
    cases = [
        ("add", "alice", tmp_path / "fake.jpg", "--data", "data"),
        ("add", "../escape", tmp_path / "fake.jpg", "--data", "data"),
        ("import", tmp_path / "missing.zip", "--data", "data"),
        ("train", tmp_path / "nowhere", "--out", "model", *FAST_FLAGS),
        ("predict", tmp_path / "no-model", tmp_path / "fake.jpg"),
    ]
    for arguments in cases:
        result = facerec_cli(*arguments, cwd=tmp_path)
        assert result.returncode == 1, (arguments, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("facerec: error: "), (arguments, result.stderr)
    assert not (tmp_path / "escape").exists()
