"""A faster frozen forward pass on the CPU: the frozen Keras model exported to LiteRT, run by XNNPACK.

The frozen part of a pipeline never changes, so it can be exported once per process to LiteRT
(TFLite) and run by the XNNPACK CPU kernels, which do the same VGG16 forward pass 15-25% faster
than TensorFlow's oneDNN kernels (5.3 against 4.3 images/s at batch 32 on a quiet 2-core AMD EPYC,
97% of its measured matmul rate: ``bench/results/throughput.md``). The outputs are the same floats
up to rounding (tested). This is used only when it can help and cannot hurt:

* ``ai-edge-litert`` is installed (``requirements.txt`` has it; without it the Keras path runs);
* there is no GPU (TensorFlow on a GPU is faster);
* ``FACEREC_FAST_INFERENCE`` is not ``0`` (set it to ``0`` to turn the fast path off);
* the pipeline has already run :data:`WARM_UP_IMAGES` images with Keras (the export takes a
  few seconds, which a one-off prediction would not win back).

Any failure to export or load falls back to Keras with a warning, never to a wrong answer.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

ENVIRONMENT_SWITCH = "FACEREC_FAST_INFERENCE"
# Images run with Keras before switching to LiteRT: the export (a few seconds) is paid only by
# a pipeline that is used for more than a handful of predictions.
WARM_UP_IMAGES = 64


def available() -> bool:
    """Whether the LiteRT path may be used here (installed, switched on, CPU only)."""
    if os.environ.get(ENVIRONMENT_SWITCH, "1").strip().lower() in ("0", "false", "no", "off"):
        return False
    try:
        import ai_edge_litert.interpreter  # noqa: F401
    except ImportError:
        return False
    from facerec.devices import gpus

    return not gpus()


class LiteRTRunner:
    """A Keras model (one float32 image input, any outputs) exported to LiteRT and run by XNNPACK.

    Not thread-safe: callers serialise calls (:class:`facerec.pipeline.KerasPipeline` does).
    """

    def __init__(self, model_content: bytes, output_count: int, *, threads: int | None = None):
        from ai_edge_litert.interpreter import Interpreter

        self._interpreter = Interpreter(model_content=model_content, num_threads=threads or os.cpu_count() or 1)
        signature = self._interpreter.get_signature_runner()
        self._input_index = next(iter(signature.get_input_details().values()))["index"]
        outputs = signature.get_output_details()
        # Signature outputs are named output_0, output_1, ... in the Keras model's output order.
        self._output_indices = [outputs[f"output_{position}"]["index"] for position in range(output_count)]
        self._batch_size = None

    @classmethod
    def from_keras(cls, model, *, threads: int | None = None) -> LiteRTRunner:
        """Export ``model`` (input ``(None, height, width, 3)``) to LiteRT in memory and load it."""
        import tensorflow as tf

        signature = [tf.TensorSpec((None, *model.input_shape[1:]), tf.float32)]
        with tempfile.TemporaryDirectory(prefix="facerec-litert-") as folder:
            path = Path(folder) / "frozen.tflite"
            model.export(str(path), format="litert", verbose=False, input_signature=signature)
            content = path.read_bytes()
        return cls(content, len(model.outputs), threads=threads)

    def run(self, images: np.ndarray) -> list[np.ndarray]:
        """The model's outputs, in its output order, for a float32 batch."""
        images = np.ascontiguousarray(images, dtype=np.float32)
        if images.shape[0] != self._batch_size:
            self._interpreter.resize_tensor_input(self._input_index, list(images.shape))
            self._interpreter.allocate_tensors()
            self._batch_size = images.shape[0]
        self._interpreter.set_tensor(self._input_index, images)
        self._interpreter.invoke()
        return [self._interpreter.get_tensor(index) for index in self._output_indices]


class FrozenForward:
    """Runs a frozen Keras model on float32 batches (outputs always as a list): with Keras for
    the first ``warm_up_images`` images, then with LiteRT when :func:`available`.

    Exporting costs a few seconds once; it pays back after a few dozen images (15-25% faster
    per 224-pixel VGG16 image, see ``bench/results/throughput.md``), so a one-off
    prediction or a tiny dataset never pays it, and the app, a training run or an evaluation
    switches early.
    """

    def __init__(self, model, *, warm_up_images: int | None = None):
        self.model = model
        self.warm_up_images = WARM_UP_IMAGES if warm_up_images is None else warm_up_images
        self.images = 0
        self.runner: LiteRTRunner | None = None
        self._decided = False

    @property
    def backend(self) -> str:
        """``"litert"`` once switched, else ``"keras"``."""
        return "litert" if self.runner is not None else "keras"

    def __call__(self, images: np.ndarray) -> list[np.ndarray]:
        if not self._decided and self.images >= self.warm_up_images:
            self._decided = True
            self.runner = _export(self.model) if available() else None
        if self.runner is not None:
            return self.runner.run(images)
        self.images += len(images)
        outputs = self.model.predict_on_batch(images)
        return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]


def _export(model) -> LiteRTRunner | None:
    try:
        runner = LiteRTRunner.from_keras(model)
    except Exception as error:  # The converter raises many types; the Keras path always works.
        logger.warning("LiteRT export of the frozen model failed (%s: %s); staying with Keras", type(error).__name__, error)
        return None
    logger.info("frozen forward pass: switched to LiteRT with XNNPACK")
    return runner


def frozen_forward(model) -> FrozenForward:
    """The forward pass of a frozen Keras model that switches to LiteRT when it pays (see :class:`FrozenForward`)."""
    return FrozenForward(model)
