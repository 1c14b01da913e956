"""A faster frozen forward pass on the CPU: the frozen Keras model exported to LiteRT, run by XNNPACK.

The frozen part of a pipeline never changes, so it can be exported to LiteRT (TFLite) and run by
the XNNPACK CPU kernels, which do the same VGG16 forward pass 15-25% faster than TensorFlow's
oneDNN kernels (5.3 against 4.3 images/s at batch 32 on a quiet 2-core AMD EPYC, 97% of its
measured matmul rate: ``bench/results/throughput.md``). The outputs are the same floats up to
rounding (tested).

Exporting and converting VGG16 takes about 40 s on a quiet 2-core machine (100 s on a busy
one), which a small job would never win back. So it is paid at most once per network on a
machine: the converted model is kept in facerec's cache (``<cache>/litert/``, see
:func:`facerec.cache.default_cache_dir`) and loaded in a second by every later pipeline,
process and restart. A forward pass never converts by itself: :meth:`FrozenForward.prepare`
does, when a caller decides it pays (a large training job, or an app between jobs, in the
background). It is used only where it can help and cannot hurt:

* ``ai-edge-litert`` is installed (``requirements.txt`` has it; without it the Keras path runs);
* there is no GPU (TensorFlow on a GPU is faster);
* ``FACEREC_FAST_INFERENCE`` is not ``0`` (set it to ``0`` to turn the fast path off).

Any failure to export or load falls back to Keras with a warning, never to a wrong answer.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from facerec import atomic
from facerec.cache import default_cache_dir

logger = logging.getLogger(__name__)

ENVIRONMENT_SWITCH = "FACEREC_FAST_INFERENCE"
CACHE_FOLDER = "litert"
# Conversions run one at a time in a process: each takes every core for tens of seconds.
_conversion_lock = threading.Lock()


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

    Not thread-safe: callers serialise calls (:class:`facerec.backbones.keras.KerasPipeline` does).
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
        return cls(export(model), len(model.outputs), threads=threads)

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
    """Runs a frozen Keras model on float32 batches (outputs always as a list): with LiteRT when a
    converted copy of it is in the cache (and :func:`available`), else with Keras.

    Args:
        model: the frozen Keras model (one float32 image input).
        key: identifies the model's architecture and weights; names its converted copy in the cache.
        cache_dir: facerec's cache folder (default :func:`facerec.cache.default_cache_dir`).
    """

    def __init__(self, model, *, key: str, cache_dir: str | os.PathLike | None = None):
        self.model, self.key = model, key
        self.path = Path(cache_dir if cache_dir is not None else default_cache_dir()) / CACHE_FOLDER / f"{key}.tflite"
        self.runner: LiteRTRunner | None = None
        self._looked = False
        self._lock = threading.Lock()

    @property
    def backend(self) -> str:
        """``"litert"`` once switched, else ``"keras"``."""
        return "litert" if self.runner is not None else "keras"

    @property
    def converted(self) -> bool:
        """Whether a converted copy is in the cache (so :meth:`prepare` costs a second, not a conversion)."""
        return self.path.is_file()

    def __call__(self, images: np.ndarray) -> list[np.ndarray]:
        with self._lock:
            if not self._looked:
                self._looked = True
                if available() and self.converted:
                    self.runner = self._load()
            runner = self.runner
        if runner is not None:
            return runner.run(images)
        outputs = self.model.predict_on_batch(images)
        return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]

    def prepare(self) -> bool:
        """Switch to LiteRT now, converting (once per machine) if the cache has no copy yet; returns
        whether the fast path is on. Blocks for the conversion: call it where that is shown or
        where nobody waits."""
        if not available():
            return False
        with _conversion_lock:
            runner = self._load() if self.converted else self._convert()
        with self._lock:
            self._looked = True
            if self.runner is None:
                self.runner = runner
        return self.runner is not None

    def _convert(self) -> LiteRTRunner | None:
        started = time.monotonic()
        try:
            content = export(self.model)
            runner = LiteRTRunner(content, len(self.model.outputs))
        except Exception as error:  # The converter raises many types; the Keras path always works.
            logger.warning("LiteRT export of the frozen model failed (%s: %s); staying with Keras", type(error).__name__, error)
            return None
        atomic.write_bytes(self.path, content)
        logger.info("frozen forward pass: converted for LiteRT with XNNPACK in %.0f s, kept in %s",
                    time.monotonic() - started, self.path.parent)
        return runner

    def _load(self) -> LiteRTRunner | None:
        try:
            runner = LiteRTRunner(self.path.read_bytes(), len(self.model.outputs))
        except Exception as error:  # A damaged or foreign file: convert it again next time.
            logger.warning("the converted model %s cannot be loaded (%s: %s); it will be converted again",
                           self.path, type(error).__name__, error)
            self.path.unlink(missing_ok=True)
            return None
        logger.info("frozen forward pass: LiteRT with XNNPACK (converted model from the cache)")
        return runner


def export(model) -> bytes:
    """``model`` (input ``(None, height, width, 3)``) exported to LiteRT, as the bytes of a ``.tflite`` file."""
    import tensorflow as tf

    signature = [tf.TensorSpec((None, *model.input_shape[1:]), tf.float32)]
    with tempfile.TemporaryDirectory(prefix="facerec-litert-") as folder:
        path = Path(folder) / "frozen.tflite"
        model.export(str(path), format="litert", verbose=False, input_signature=signature)
        return path.read_bytes()


def converter_versions() -> str:
    """The TensorFlow and LiteRT versions, part of every converted model's key."""
    import importlib.metadata

    import tensorflow as tf

    try:
        litert = importlib.metadata.version("ai-edge-litert")
    except importlib.metadata.PackageNotFoundError:
        litert = "none"
    return f"tf{tf.__version__}-litert{litert}"
