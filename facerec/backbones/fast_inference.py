"""A faster frozen forward pass on the CPU: the frozen Keras model exported to LiteRT, run by XNNPACK.

The frozen part of a pipeline never changes, so it can be exported to LiteRT (TFLite) and run by
the XNNPACK CPU kernels. Which is faster depends on the CPU: on a quiet 2-core AMD EPYC XNNPACK
ran VGG16 15-25% faster than TensorFlow's oneDNN kernels (5.3 against 4.3 images/s at batch 32),
on a 2-core Intel Xeon with AVX-512 oneDNN was 1.55 times faster (14.0 against 9.0 images/s at
batches of 8 and 32, the same at batch 1: ``bench/results/throughput.md``). So by default the two
race once per machine and network, right after the conversion (a few seconds: a batch of
:data:`RACE_BATCH` images, best of :data:`RACE_ROUNDS` alternating runs each), and LiteRT is used
only if it wins by :data:`LITERT_MARGIN`; the verdict is kept beside the converted model, with the
CPU it was measured on, and measured again on another CPU. The outputs are the same floats up to
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
* ``FACEREC_FAST_INFERENCE`` is not ``0`` (``0`` turns the fast path off, ``1`` uses LiteRT
  whenever it is converted, without the race; unset or ``auto``: the race decides).

Any failure to export or load falls back to Keras with a warning, never to a wrong answer.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from facerec import atomic
from facerec.cache import default_cache_dir

logger = logging.getLogger(__name__)

ENVIRONMENT_SWITCH = "FACEREC_FAST_INFERENCE"
OFF, ON, AUTO = "off", "on", "auto"
CACHE_FOLDER = "litert"
RACE_BATCH = 8  # training and evaluation run batches, and they do most of the frozen work
RACE_ROUNDS = 3
# LiteRT must be this much faster to be used: a tie is not worth a second copy of the weights.
LITERT_MARGIN = 1.05
# Conversions run one at a time in a process: each takes every core for tens of seconds.
_conversion_lock = threading.Lock()


def mode() -> str:
    """``FACEREC_FAST_INFERENCE`` read as :data:`OFF` (``0``), :data:`ON` (``1``: LiteRT whenever
    converted) or :data:`AUTO` (unset or anything else: the faster of the two, by a race)."""
    value = os.environ.get(ENVIRONMENT_SWITCH, AUTO).strip().lower()
    if value in ("0", "false", "no", OFF):
        return OFF
    return ON if value in ("1", "true", "yes", ON, "litert") else AUTO


def available() -> bool:
    """Whether the LiteRT path may be used here (installed, switched on, CPU only)."""
    if mode() == OFF:
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
    converted copy of it is in the cache, :func:`available`, and LiteRT won this machine's race
    (or is forced, :func:`mode`), else with Keras.

    Args:
        model: the frozen Keras model (one float32 image input).
        key: identifies the model's architecture and weights; names its converted copy in the cache.
        cache_dir: facerec's cache folder (default :func:`facerec.cache.default_cache_dir`).
    """

    def __init__(self, model, *, key: str, cache_dir: str | os.PathLike | None = None):
        self.model, self.key = model, key
        self.path = Path(cache_dir if cache_dir is not None else default_cache_dir()) / CACHE_FOLDER / f"{key}.tflite"
        self.race_path = self.path.with_suffix(".race.json")
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
                    self.runner = self._chosen(self._load)
            runner = self.runner
        if runner is not None:
            return runner.run(images)
        outputs = self.model.predict_on_batch(images)
        return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]

    def prepare(self) -> bool:
        """Switch to LiteRT now if it is the faster here, converting (once per machine) if the cache
        has no copy yet; returns whether the fast path is on. Blocks for the conversion and the
        race: call it where that is shown or where nobody waits."""
        if not available():
            return False
        with _conversion_lock:
            runner = self._chosen(self._load if self.converted else self._convert)
        with self._lock:
            self._looked = True
            if self.runner is None:
                self.runner = runner
        return self.runner is not None

    def race(self) -> dict | None:
        """This machine's verdict between Keras and LiteRT (see the module's docstring), or None
        before one: ``{"backend", "cpu", "batch", "keras_seconds_per_image", "litert_seconds_per_image"}``."""
        from facerec.devices import cpu_signature

        try:
            verdict = json.loads(self.race_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return verdict if isinstance(verdict, dict) and verdict.get("cpu") == cpu_signature() else None

    def _chosen(self, make_runner: Callable[[], LiteRTRunner | None]) -> LiteRTRunner | None:
        """A LiteRT runner from ``make_runner`` (load or convert) if LiteRT is to run here (forced,
        or it won this machine's race), else None. Where this CPU's race went to Keras, LiteRT's
        copy is not even loaded."""
        verdict = None if mode() == ON else self.race()
        if verdict is not None and verdict["backend"] == "keras":
            runner = None
        else:
            runner = make_runner()
            if runner is not None and verdict is None and mode() != ON:
                verdict = self._race(runner)
        if verdict is not None:
            logger.info("frozen forward pass: %s (%.0f ms per image with Keras, %.0f with LiteRT at batch %d on %s)",
                        "LiteRT with XNNPACK" if verdict["backend"] == "litert" else "Keras, faster than LiteRT on this CPU",
                        verdict["keras_seconds_per_image"] * 1000, verdict["litert_seconds_per_image"] * 1000,
                        verdict["batch"], verdict["cpu"])
        return runner if verdict is None or verdict["backend"] == "litert" else None

    def _race(self, runner: LiteRTRunner) -> dict:
        """Time both backends on the same batch, alternating, best of :data:`RACE_ROUNDS` each (the
        load of a shared machine falls on both alike), and keep the verdict."""
        from facerec.devices import cpu_signature

        images = np.random.default_rng(0).uniform(0, 255, (RACE_BATCH, *self.model.input_shape[1:])).astype(np.float32)
        backends = {"keras": lambda: self.model.predict_on_batch(images), "litert": lambda: runner.run(images)}
        best = dict.fromkeys(backends, float("inf"))
        for round_number in range(RACE_ROUNDS + 1):
            for name, run in backends.items():
                started = time.perf_counter()
                run()
                if round_number:  # round 0 warms both up (allocations, first-call set-up)
                    best[name] = min(best[name], time.perf_counter() - started)
        verdict = {"backend": "litert" if best["keras"] > LITERT_MARGIN * best["litert"] else "keras", "cpu": cpu_signature(),
                   "batch": RACE_BATCH, "keras_seconds_per_image": best["keras"] / RACE_BATCH,
                   "litert_seconds_per_image": best["litert"] / RACE_BATCH}
        atomic.write_text(self.race_path, json.dumps(verdict, indent=1))
        return verdict

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
            self.race_path.unlink(missing_ok=True)  # a verdict on a copy that is gone
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
