"""What every face detector returns, and the protocol it follows."""

from __future__ import annotations

import dataclasses
from typing import Protocol

import numpy as np


@dataclasses.dataclass(frozen=True)
class Face:
    """One detected face: a box ``(x, y, width, height)`` in pixels, the detector's confidence,
    and landmarks when the detector gives them, as ``(x, y)``: ``left_eye`` and ``right_eye``
    (``left_eye`` is the one on the left of the image), ``nose``, and the mouth as ``mouth_left``
    and ``mouth_right`` (MTCNN) or ``mouth`` (its centre, BlazeFace); and the ``detector`` that
    found it, by name."""

    box: tuple[int, int, int, int]
    confidence: float
    landmarks: dict[str, tuple[float, float]] | None = None
    detector: str = ""

    @property
    def area(self) -> int:
        return self.box[2] * self.box[3]

    @classmethod
    def from_dict(cls, values: dict) -> Face:
        """The face that ``dataclasses.asdict`` turned into plain data (e.g. read back from a cache)."""
        landmarks = {name: tuple(point) for name, point in (values.get("landmarks") or {}).items()}
        return cls(box=tuple(values["box"]), confidence=float(values["confidence"]), landmarks=landmarks or None,
                   detector=str(values.get("detector", "")))


class Detector(Protocol):
    """Finds faces. ``name`` says which detector it is, in every result that it produced."""

    name: str

    def detect(self, image: np.ndarray) -> list[Face]:
        """All faces in an RGB ``uint8`` image, largest first."""


class FallbackDetector:
    """A detector, and a second one for the images where the first finds no face.

    Two detectors miss different faces, so the pair finds more; the second runs only on the
    images the first comes back empty on.
    """

    def __init__(self, first: Detector, second: Detector):
        self.first, self.second = first, second
        self.name = f"{first.name}+{second.name}"

    def detect(self, image: np.ndarray) -> list[Face]:
        """All faces the first detector finds in an RGB ``uint8`` image, else the second's; largest first."""
        return self.first.detect(image) or self.second.detect(image)


class Reboxed:
    """Another detector's faces with their boxes redrawn in a different convention (see
    :data:`facerec.detection.CONVENTIONS`): ``width`` and ``height`` scale the box about its
    centre, which moves down by ``shift`` of the box's height. Landmarks stay as found."""

    def __init__(self, detector: Detector, width: float, height: float, shift: float):
        self.detector, self.width, self.height, self.shift = detector, width, height, shift
        self.name = detector.name

    def detect(self, image: np.ndarray) -> list[Face]:
        """The detector's faces, boxes redrawn, largest first."""
        return largest_first([self._redrawn(face) for face in self.detector.detect(image)])

    def _redrawn(self, face: Face) -> Face:
        x, y, width, height = face.box
        centre_x, centre_y = x + width / 2.0, y + height / 2.0 + self.shift * height
        new_width, new_height = max(1, round(width * self.width)), max(1, round(height * self.height))
        box = (round(centre_x - new_width / 2.0), round(centre_y - new_height / 2.0), new_width, new_height)
        return dataclasses.replace(face, box=box)


def largest_first(faces: list[Face]) -> list[Face]:
    return sorted(faces, key=lambda face: face.area, reverse=True)


def downscaled(image: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    """``image`` shrunk so its longer side is at most ``max_side``, and the factor that maps its
    coordinates back to the original's."""
    import cv2

    scale = min(1.0, max_side / max(image.shape[:2]))
    if scale == 1.0:
        return image, 1.0
    return cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA), 1.0 / scale
