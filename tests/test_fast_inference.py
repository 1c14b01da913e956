"""The LiteRT fast path of the frozen forward pass gives the Keras path's outputs, and falls back."""

from __future__ import annotations

import numpy as np
import pytest

from facerec.backbones import applications, fast_inference
from facerec.backbones.keras import BATCH_SIZE, KerasPipeline
from facerec.detection import FaceSettings

litert = pytest.importorskip("ai_edge_litert.interpreter", reason="ai-edge-litert is not installed (the fast path is optional)")


@pytest.fixture(scope="module")
def pipeline() -> KerasPipeline:
    # A private pipeline (not the shared one): its forward pass is chosen per pipeline.
    return KerasPipeline(backbone="vgg16", weights=applications.resolve_weights("vgg16", None),
                         image_size=32, faces=FaceSettings(enabled=False))


def _images(count: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0, 255, (count, 32, 32, 3)).astype(np.float32)


def _keras(pipeline: KerasPipeline, images: np.ndarray) -> list[np.ndarray]:
    outputs = pipeline.frozen.predict_on_batch(images)
    return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]


def test_litert_runner_matches_keras_at_every_batch_size(pipeline):
    runner = fast_inference.LiteRTRunner.from_keras(pipeline.frozen)
    for count in (1, 5, 1, 8):  # resizing back and forth
        images = _images(count, seed=count)
        fast, reference = runner.run(images), _keras(pipeline, images)
        assert [array.shape for array in fast] == [array.shape for array in reference]
        for fast_array, reference_array in zip(fast, reference):
            np.testing.assert_allclose(fast_array, reference_array, rtol=1e-4, atol=1e-5)


def test_pipeline_switches_to_the_fast_path_after_warm_up_with_the_same_features(pipeline, monkeypatch):
    monkeypatch.setenv(fast_inference.ENVIRONMENT_SWITCH, "1")
    monkeypatch.setattr(fast_inference, "WARM_UP_IMAGES", BATCH_SIZE)
    if not fast_inference.available():
        pytest.skip("the fast path is for CPU-only machines (a GPU is present)")
    pipeline._forward = None
    images = _images(BATCH_SIZE + 3)  # the first batch warms up with Keras, the second runs LiteRT
    outputs = pipeline.frozen_outputs(images)
    assert pipeline._forward.backend == "litert"
    for fast_array, reference_array in zip(outputs, _keras(pipeline, images)):
        np.testing.assert_allclose(fast_array, reference_array, rtol=1e-4, atol=1e-5)


def test_a_few_images_never_pay_for_the_export(pipeline, monkeypatch):
    monkeypatch.setenv(fast_inference.ENVIRONMENT_SWITCH, "1")
    forward = fast_inference.FrozenForward(pipeline.frozen, warm_up_images=4)
    forward(_images(2))
    forward(_images(1))
    assert forward.backend == "keras"


def test_switched_off_by_the_environment(pipeline, monkeypatch):
    monkeypatch.setenv(fast_inference.ENVIRONMENT_SWITCH, "0")
    assert not fast_inference.available()
    forward = fast_inference.FrozenForward(pipeline.frozen, warm_up_images=0)
    forward(_images(1))
    forward(_images(1))
    assert forward.backend == "keras"


def test_a_failed_export_stays_with_keras(pipeline, monkeypatch, caplog):
    monkeypatch.setenv(fast_inference.ENVIRONMENT_SWITCH, "1")

    def broken(*args, **kwargs):
        raise RuntimeError("converter exploded")

    monkeypatch.setattr(fast_inference.LiteRTRunner, "from_keras", classmethod(broken))
    forward = fast_inference.FrozenForward(pipeline.frozen, warm_up_images=0)
    images = _images(2)
    for fast_array, reference_array in zip(forward(images), _keras(pipeline, images)):
        np.testing.assert_allclose(fast_array, reference_array)
    assert forward.backend == "keras"
    assert "converter exploded" in caplog.text
