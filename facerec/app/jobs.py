"""Work an app does for its visitors in the background: trainings, and the fast path between them."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import queue
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from facerec.classifier import Classifier
from facerec.dataset import Dataset
from facerec.settings import TrainingSettings
from facerec.training import TrainingUpdate, train

# A step of a training that says nothing for this long is announced again, with its duration.
HEARTBEAT_SECONDS = 1.0


class BackgroundTraining:
    """One :func:`facerec.train` run in a thread, observable while it runs and stoppable.

    Attributes:
        stop: set it to stop; training keeps the best epoch so far.
        history: one dict per finished epoch (``epoch``, ``loss``, ``accuracy``, ``val_loss``, ``val_accuracy``).
        classifier: the result once it succeeded; ``error`` the exception once it failed.
    """

    def __init__(self, dataset: Dataset, cache_dir: Path, settings: TrainingSettings, on_finish=None):
        self.settings = settings
        self.stop = threading.Event()
        self.history: list[dict] = []
        self.classifier: Classifier | None = None
        self.error: BaseException | None = None
        self._done = threading.Event()
        self._updates: queue.Queue[TrainingUpdate | None] = queue.Queue()
        self._on_finish = on_finish
        self._thread = threading.Thread(target=self._run, args=(dataset, cache_dir), name="facerec-training", daemon=True)
        self._thread.start()

    @property
    def running(self) -> bool:
        return not self._done.is_set()

    def updates(self, heartbeat_seconds: float = HEARTBEAT_SECONDS) -> Iterator[TrainingUpdate]:
        """Progress as it happens, until training ends (for one consumer). When a step is silent
        for ``heartbeat_seconds`` (loading a network, a conversion), its update comes again with
        the seconds spent on it, so a page never looks frozen."""
        latest, since = None, time.monotonic()
        while True:
            try:
                update = self._updates.get(timeout=heartbeat_seconds)
            except queue.Empty:
                if latest is not None:
                    yield dataclasses.replace(latest, message=f"{latest.message} ({time.monotonic() - since:.0f} s)",
                                              metrics=None)
                continue
            if update is None:
                return
            latest, since = update, time.monotonic()
            yield update

    def wait(self, timeout: float | None = None) -> bool:
        """Block until training has ended; False if ``timeout`` passed first."""
        return self._done.wait(timeout)

    def _run(self, dataset: Dataset, cache_dir: Path) -> None:
        try:
            self.classifier = train(dataset, self.settings, cache_dir=cache_dir, on_update=self._notify, stop=self.stop)
        except BaseException as error:  # noqa: BLE001 (handed to whoever reads the result)
            self.error = error
        finally:
            try:
                if self._on_finish is not None:
                    self._on_finish(self)
            finally:
                self._done.set()
                self._updates.put(None)

    def _notify(self, update: TrainingUpdate) -> None:
        if update.stage == "training" and update.metrics:
            self.history.append({"epoch": update.done, **update.metrics})
        self._updates.put(update)


_converting: set[int] = set()
_converting_lock = threading.Lock()


def convert_between_jobs(pipeline) -> None:
    """Convert a pipeline's backbone for the fast CPU path in a low-priority background thread, once
    per machine (see :mod:`facerec.backbones.fast_inference`): the app pays that minute between
    jobs, never inside one, and every later training, photo and live view of it runs faster."""
    if pipeline.fast_path_converted:
        return
    with _converting_lock:
        if id(pipeline) in _converting:
            return
        _converting.add(id(pipeline))

    def convert() -> None:
        try:
            with contextlib.suppress(OSError, AttributeError):  # Linux: a thread has its own priority.
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
            pipeline.prepare_fast_path()
        finally:
            with _converting_lock:
                _converting.discard(id(pipeline))

    threading.Thread(target=convert, name="facerec-fast-path", daemon=True).start()
