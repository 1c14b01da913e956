"""The benchmark harness and the classic baseline work (tiny sizes; no timing is asserted)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import classic, harness  # noqa: E402


def _folder(root: Path) -> Path:
    generator = np.random.default_rng(0)
    for label, shade in (("dark", 40), ("light", 210)):
        (root / label).mkdir(parents=True)
        for index in range(5):
            pixels = np.clip(generator.normal(shade, 20, (40, 40, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(root / label / f"{index}.jpg")
    return root


def test_classic_recipe_trains_and_scores_at_tiny_size(tmp_path):
    folder = _folder(tmp_path / "data")
    run = classic.train(folder, epochs=1, weights=None, image_size=32)
    assert run.class_names == ["dark", "light"]
    assert run.training_images + run.validation_images == 10
    assert [layer.name for layer in run.model.layers if layer.name == "augmentation"]
    assert 0.0 <= classic.evaluate(run, folder) <= 1.0


def test_tables_are_written_with_the_machine(tmp_path):
    table = harness.Table("a table", ["name", "value"])
    table.add("pi", 3.14159)
    arguments = argparse.Namespace(quick=True, output_dir=str(tmp_path))
    path = harness.write_report("example", "Example", [table], machine={"cpu": harness.cpu_model()}, arguments=arguments,
                                started=time.perf_counter())
    text = path.read_text()
    assert path.name == "example-quick.md"
    assert "| pi | 3.14 |" in text and "load average at end" in text
