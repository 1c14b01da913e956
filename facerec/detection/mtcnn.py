"""MTCNN (the ``mtcnn`` package ships its weights, so it works offline): slow, thorough.

It costs 160-200 ms per image here whatever the image's size (one eager Keras call per pyramid
scale), but finds small and turned faces that faster detectors miss, so it backs them up on
photos (``bench/results/detectors.md``).
"""

from __future__ import annotations

import threading

import numpy as np

from facerec.detection.base import Face, downscaled, largest_first

# MTCNN's own confidence of 0.9 keeps real faces (web photos score 0.95-1.0) and drops most
# texture that only looks like a face (a cat's face can still score above it).
DEFAULT_MIN_CONFIDENCE = 0.9
# Detection runs on a copy no larger than this; its cost grows with the pixel count, and a
# face too small to find at this size is too small to recognise.
DETECTION_MAX_SIDE = 800


class MtcnnDetector:
    """MTCNN face detector, created on first use and shared by threads."""

    name = "mtcnn"

    def __init__(self, *, min_confidence: float = DEFAULT_MIN_CONFIDENCE, device: str | None = None):
        if not 0.0 <= min_confidence <= 1.0:
            raise ValueError(f"min_confidence must be between 0 and 1, got {min_confidence!r}")
        self.min_confidence = min_confidence
        self.device = device
        self._mtcnn = None
        self._lock = threading.Lock()

    def detect(self, image: np.ndarray) -> list[Face]:
        """All faces in an RGB ``uint8`` image, largest first."""
        small, scale = downscaled(image, DETECTION_MAX_SIDE)
        try:
            found = self._detector().detect_faces(small)
        except ValueError:
            # MTCNN's image pyramid can shrink a very thin image below its smallest kernel;
            # such an image holds no face it could find anyway.
            found = []
        return largest_first([_face(item, scale) for item in found if item["confidence"] >= self.min_confidence])

    def _detector(self):
        with self._lock:
            if self._mtcnn is None:
                from mtcnn import MTCNN

                from facerec.devices import default_device

                self._mtcnn = MTCNN(device=self.device or default_device())
            return self._mtcnn


def _face(item: dict, scale: float) -> Face:
    x, y, width, height = (float(value) * scale for value in item["box"])
    landmarks = {name: (float(point[0]) * scale, float(point[1]) * scale) for name, point in item.get("keypoints", {}).items()}
    return Face(
        box=(round(x), round(y), max(1, round(width)), max(1, round(height))),
        confidence=float(item["confidence"]),
        landmarks=landmarks or None,
        detector=MtcnnDetector.name,
    )
