"""The LiteRT fast path of the frozen forward pass: converted once per machine and kept, the Keras
path's outputs, and Keras whenever it is off, fails or was never asked for."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from facerec.backbones import applications, fast_inference
from facerec.backbones.keras import BATCH_SIZE, KerasPipeline
from facerec.detection import FaceSettings

ROOT = Path(__file__).resolve().parents[1]
litert = pytest.importorskip("ai_edge_litert.interpreter", reason="ai-edge-litert is not installed (the fast path is optional)")


def _images(count: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0, 255, (count, 32, 32, 3)).astype(np.float32)


def _keras(pipeline: KerasPipeline, images: np.ndarray) -> list[np.ndarray]:
    outputs = pipeline.frozen.predict_on_batch(images)
    return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]


def _private_pipeline() -> KerasPipeline:
    return KerasPipeline(backbone="vgg16", weights=applications.resolve_weights("vgg16", None),
                         image_size=32, faces=FaceSettings(enabled=False))


@pytest.fixture
def machine_cache(tmp_path, monkeypatch):
    """facerec's machine-wide cache in a folder of this test's own, the fast path switched on."""
    monkeypatch.setenv("FACEREC_CACHE", str(tmp_path / "machine-cache"))
    monkeypatch.setenv(fast_inference.ENVIRONMENT_SWITCH, "1")
    if not fast_inference.available():
        pytest.skip("the fast path is for CPU-only machines (a GPU is present)")
    return tmp_path / "machine-cache" / fast_inference.CACHE_FOLDER


def counting_exports(monkeypatch) -> list[int]:
    """Spy on conversions: one entry per export of a Keras model to LiteRT."""
    exports, export = [], fast_inference.export
    monkeypatch.setattr(fast_inference, "export", lambda model: exports.append(1) or export(model))
    return exports


def test_converted_once_per_machine_kept_for_later_trainings_pipelines_and_processes(
        machine_cache, monkeypatch, make_dataset, tmp_path):
    """One conversion (tens of seconds) for the whole module: every later use loads it."""
    from conftest import FAST

    import facerec
    from facerec import training
    from facerec.backbones import keras as keras_pipeline

    monkeypatch.setattr(keras_pipeline, "_shared_pipelines", {})  # this test's machine cache, not an earlier one's
    monkeypatch.setattr(training, "FAST_PATH_MIN_PASSES", 0)  # these tiny jobs count as large ones
    exports, stages = counting_exports(monkeypatch), []
    for run in range(2):
        facerec.train(make_dataset(per_label=4, folder=f"data{run}", seed=run), cache_dir=tmp_path / f"cache{run}",
                      on_update=lambda update: stages.append(update.message), **{**FAST, "epochs": 2})
    assert exports == [1]
    assert sum(message.startswith("converting the backbone") for message in stages) == 1
    assert [path.suffix for path in machine_cache.iterdir()] == [".tflite"]  # forced on: no race, no verdict

    later = _private_pipeline()  # a new pipeline: loads the conversion, same features as Keras at any batch size
    assert later.fast_path_converted
    for count in (BATCH_SIZE + 3, 1, 5, 1, 8):
        images = _images(count, seed=count)
        outputs = later.frozen_outputs(images)
        assert [array.shape for array in outputs] == [array.shape for array in _keras(later, images)]
        for fast_array, reference_array in zip(outputs, _keras(later, images)):
            np.testing.assert_allclose(fast_array, reference_array, rtol=1e-4, atol=1e-5)
    assert later.forward.backend == "litert" and exports == [1]

    restarted = subprocess.run([sys.executable, "-c", (
        "import numpy as np\n"
        "from facerec.backbones import applications, fast_inference\n"
        "from facerec.backbones.keras import KerasPipeline\n"
        "from facerec.detection import FaceSettings\n"
        "fast_inference.export = None  # a conversion here would fail loudly\n"
        "pipeline = KerasPipeline(backbone='vgg16', weights=applications.resolve_weights('vgg16', None), image_size=32,\n"
        "                         faces=FaceSettings(enabled=False))\n"
        "pipeline.frozen_outputs(np.zeros((2, 32, 32, 3), np.float32))\n"
        "print(pipeline.forward.backend)\n")],
        env={**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}, capture_output=True, text=True, timeout=300)
    assert restarted.returncode == 0, restarted.stderr[-2000:]
    assert restarted.stdout.split()[-1] == "litert"


def test_by_default_the_faster_backend_on_this_cpu_runs_and_the_race_is_run_once_per_cpu(machine_cache, monkeypatch):
    """Which of LiteRT and Keras is faster depends on the CPU (1.55x either way on the two
    measured): by default they race once, right after the conversion, and the winner runs; a
    later pipeline trusts the kept verdict; a verdict from another CPU is measured again."""
    from facerec.devices import cpu_signature

    monkeypatch.setenv(fast_inference.ENVIRONMENT_SWITCH, "auto")
    races, race = [], fast_inference.FrozenForward._race
    monkeypatch.setattr(fast_inference.FrozenForward, "_race", lambda self, runner: races.append(1) or race(self, runner))
    first = _private_pipeline()
    on = first.prepare_fast_path()
    verdict = first.forward.race()
    assert races == [1] and verdict["cpu"] == cpu_signature() and verdict["batch"] == fast_inference.RACE_BATCH
    faster = verdict["keras_seconds_per_image"] > fast_inference.LITERT_MARGIN * verdict["litert_seconds_per_image"]
    assert verdict["backend"] == ("litert" if faster else "keras") == first.forward.backend and on == faster
    images = _images(5)
    for fast_array, reference_array in zip(first.frozen_outputs(images), _keras(first, images)):
        np.testing.assert_allclose(fast_array, reference_array, rtol=1e-4, atol=1e-5)

    def pipeline_after(kept: dict) -> KerasPipeline:
        first.forward.race_path.write_text(json.dumps(kept))
        pipeline = _private_pipeline()
        pipeline.frozen_outputs(_images(1))
        return pipeline

    loads, load = [], fast_inference.FrozenForward._load
    monkeypatch.setattr(fast_inference.FrozenForward, "_load", lambda self: loads.append(1) or load(self))
    for backend in ("keras", "litert"):  # this CPU's kept verdict decides, without racing again
        assert pipeline_after({**verdict, "backend": backend}).forward.backend == backend
    assert races == [1] and loads == [1]  # Keras's verdict: LiteRT's copy was not even loaded
    elsewhere = pipeline_after({**verdict, "cpu": "another CPU", "backend": "litert" if not faster else "keras"})
    assert races == [1, 1] and elsewhere.forward.race()["cpu"] == cpu_signature()
    monkeypatch.setenv(fast_inference.ENVIRONMENT_SWITCH, "1")  # forced: LiteRT whatever the verdict
    assert pipeline_after({**verdict, "backend": "keras"}).forward.backend == "litert" and races == [1, 1]


def test_without_asking_a_pipeline_stays_with_keras(machine_cache):
    pipeline = _private_pipeline()
    pipeline.frozen_outputs(_images(2))
    pipeline.frozen_outputs(_images(1))
    assert pipeline.forward.backend == "keras" and not machine_cache.exists()


def test_switched_off_by_the_environment(machine_cache, monkeypatch):
    monkeypatch.setenv(fast_inference.ENVIRONMENT_SWITCH, "0")
    assert not fast_inference.available()
    pipeline = _private_pipeline()
    assert not pipeline.prepare_fast_path()
    pipeline.frozen_outputs(_images(1))
    assert pipeline.forward.backend == "keras"


def test_a_failed_export_stays_with_keras(machine_cache, monkeypatch, caplog):
    def broken(model):
        raise RuntimeError("converter exploded")

    monkeypatch.setattr(fast_inference, "export", broken)
    pipeline = _private_pipeline()
    assert not pipeline.prepare_fast_path()
    images = _images(2)
    for fast_array, reference_array in zip(pipeline.frozen_outputs(images), _keras(pipeline, images)):
        np.testing.assert_allclose(fast_array, reference_array)
    assert pipeline.forward.backend == "keras" and "converter exploded" in caplog.text
    assert not machine_cache.exists()


def test_a_damaged_conversion_is_dropped_and_keras_answers(machine_cache, caplog):
    pipeline = _private_pipeline()
    machine_cache.mkdir(parents=True)
    pipeline.forward.path.write_bytes(b"not a tflite model")
    images = _images(2)
    for fast_array, reference_array in zip(pipeline.frozen_outputs(images), _keras(pipeline, images)):
        np.testing.assert_allclose(fast_array, reference_array)
    assert pipeline.forward.backend == "keras" and not pipeline.forward.path.exists()
    assert "cannot be loaded" in caplog.text
