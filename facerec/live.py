"""Name every face of a live video at the speed of the face detector, not of the recogniser.

    live = LiveRecognizer(classifier)
    for frame in camera:
        faces = live.process(frame)   # recognize()'s dicts, plus "track"; boxes follow every frame

Recognising a face (its crop through the backbone and the head) costs 20-200 ms; finding it costs
a few. So faces are detected in every frame and followed by :class:`facerec.tracking.FaceTracker`;
each face is recognised when its track starts, then again at most every ``refresh_seconds`` (or
sooner when its box moved a lot), and its name is the average of its last few results, so it
does not flicker. Recognition runs in a background worker, so a frame never waits for it: a new
face is boxed at once and named as soon as its first result is in (one or two frames later).
:meth:`facerec.Classifier.recognize` (a photo) still recognises every face fully.
"""

from __future__ import annotations

import collections
import concurrent.futures
import dataclasses
import functools
import logging
import threading
import time
from collections.abc import Callable

import numpy as np

from facerec.classifier import Classifier
from facerec.detection import Detector, get_live_detector
from facerec.tracking import FaceTracker, Track, iou

logger = logging.getLogger(__name__)

# How often a followed face is recognised again: often enough to correct a first wrong answer
# within a second, rarely enough that recognition costs a small share of each second.
REFRESH_SECONDS = 0.5
# A face is recognised again at once when its box overlaps the one it was recognised in less than this.
REFRESH_IOU = 0.5
# A face's name is the average of this many of its latest results.
HISTORY = 3
WHOLE_IMAGE_TRACK = 0


@functools.cache
def shared_worker() -> concurrent.futures.ThreadPoolExecutor:
    """One recognition worker for the whole process: the CPU is the limit, and one worker shared by
    every video keeps each video's queue at most one job per face."""
    return concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="facerec-live")


@dataclasses.dataclass
class _Recognition:
    """What is known of one track's identity."""

    results: collections.deque  # (probabilities, distances or None), newest last
    at: float = -np.inf
    box: tuple[int, int, int, int] | None = None
    pending: concurrent.futures.Future | None = None


class LiveRecognizer:
    """Follows and names the faces of one video stream (one per stream; thread-safe).

    Args:
        classifier: the trained model.
        detector: finds the faces in each frame; default the fast detector of the model's face
            settings (:func:`facerec.detection.get_live_detector`).
        refresh_seconds: recognise a followed face again after this long.
        history: average the name over this many results.
        executor: where recognition runs; default one worker shared by the process (see
            :meth:`synchronous` for recognition inside :meth:`process`).
        clock: seconds, monotonic.
    """

    def __init__(self, classifier: Classifier, *, detector: Detector | None = None, refresh_seconds: float = REFRESH_SECONDS,
                 history: int = HISTORY, executor: concurrent.futures.Executor | None = None,
                 clock: Callable[[], float] = time.monotonic):
        if history < 1:
            raise ValueError(f"history must be at least 1, got {history!r}")
        self.classifier = classifier
        self.faces_enabled = classifier.pipeline.faces.enabled
        self.detector = detector if detector is not None or not self.faces_enabled else get_live_detector(classifier.pipeline.faces)
        self.tracker = FaceTracker()
        self.refresh_seconds, self.history, self.clock = refresh_seconds, history, clock
        self.executor = executor if executor is not None else shared_worker()
        self._recognitions: dict[int, _Recognition] = {}
        self._lock = threading.Lock()

    @classmethod
    def synchronous(cls, classifier: Classifier, **options) -> LiveRecognizer:
        """A recogniser that recognises inside :meth:`process` (deterministic: for tests and scripts)."""
        return cls(classifier, executor=_InlineExecutor(), **options)

    def process(self, frame: np.ndarray, *, threshold: float | None = None,
                distance_threshold: float | None = None) -> list[dict]:
        """The faces of one RGB ``uint8`` frame, largest first, as :meth:`Classifier.recognize` gives
        them, plus ``track`` (the face's id across frames). A face not yet recognised has ``label``
        None (and no probabilities): draw its box, name it in a moment."""
        with self._lock:
            now = self.clock()
            tracks = self._tracks(frame, now)
            alive = {track.id for track in tracks}
            for track_id in set(self._recognitions) - alive:
                del self._recognitions[track_id]
            due = [track for track in tracks if track.missed == 0 and self._due(track, now)]
            if due:
                self._recognize(frame, due, now)
            return [self._describe(track, frame.shape[:2], threshold, distance_threshold) for track in tracks]

    def idle(self) -> bool:
        """Whether no recognition is under way (every submitted result is in)."""
        with self._lock:
            return all(state.pending is None or state.pending.done() for state in self._recognitions.values())

    # Steps -------------------------------------------------------------------------------------

    def _tracks(self, frame: np.ndarray, now: float) -> list[Track]:
        if not self.faces_enabled:  # Whole images: one "face", the frame.
            whole = self.tracker.tracks[0] if self.tracker.tracks else Track(WHOLE_IMAGE_TRACK, None, now, now)
            whole.last_seen = now
            self.tracker.tracks = [whole]
            return [whole]
        return self.tracker.update(self.detector.detect(frame), now)

    def _due(self, track: Track, now: float) -> bool:
        state = self._recognitions.setdefault(track.id, _Recognition(collections.deque(maxlen=self.history)))
        if state.pending is not None and not state.pending.done():
            return False
        moved = track.face is not None and state.box is not None and iou(track.box, state.box) < REFRESH_IOU
        return now - state.at >= self.refresh_seconds or moved

    def _recognize(self, frame: np.ndarray, tracks: list[Track], now: float) -> None:
        crops = np.stack([self.classifier.pipeline.prepare(frame, track.face) for track in tracks])
        future = self.executor.submit(self.classifier.score_crops, crops)
        for row, track in enumerate(tracks):
            state = self._recognitions[track.id]
            state.at, state.box, state.pending = now, track.face.box if track.face is not None else None, future
            future.add_done_callback(functools.partial(_keep_result, state, row))

    def _describe(self, track: Track, image_size: tuple[int, int], threshold, distance_threshold) -> dict:
        state = self._recognitions.get(track.id)
        results = list(state.results) if state is not None else []
        if not results:
            height, width = image_size
            face = track.face
            return {"box": face.box if face is not None else (0, 0, width, height), "label": None, "probability": None,
                    "probabilities": {}, "distance": None, "face_confidence": face.confidence if face is not None else None,
                    "detector": face.detector if face is not None else None, "track": track.id}
        probabilities = np.mean([result[0] for result in results], axis=0)[None]
        distances = None if results[0][1] is None else np.mean([result[1] for result in results], axis=0)[None]
        [described] = self.classifier.name_faces([track.face], probabilities, distances, image_size, threshold=threshold,
                                                 distance_threshold=distance_threshold)
        return {**described, "track": track.id}


def _keep_result(state: _Recognition, row: int, future: concurrent.futures.Future) -> None:
    if future.cancelled():
        return
    if future.exception() is not None:
        logger.warning("live recognition failed: %s: %s", type(future.exception()).__name__, future.exception())
        return
    probabilities, distances = future.result()
    state.results.append((probabilities[row], None if distances is None else distances[row]))


class _InlineExecutor(concurrent.futures.Executor):
    """Runs each job at once, in the caller's thread."""

    def submit(self, function, /, *args, **kwargs) -> concurrent.futures.Future:
        future: concurrent.futures.Future = concurrent.futures.Future()
        try:
            future.set_result(function(*args, **kwargs))
        except Exception as error:  # noqa: BLE001 (handed to the future, as an executor does)
            future.set_exception(error)
        return future
