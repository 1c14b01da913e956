"""Find faces in an image and cut each one out, upright, with a margin around it.

Detection uses MTCNN (the ``mtcnn`` package ships its weights, so it works offline). Crops are
aligned by the eyes when landmarks exist: a tilted head becomes level, so the classifier sees
the same geometry in every photo of a person.
"""

from __future__ import annotations

import dataclasses
import math
import threading

import cv2
import numpy as np

# MTCNN's own confidence of 0.9 keeps real faces (web photos score 0.95-1.0) and drops most
# texture that only looks like a face (a cat's face can still score above it).
DEFAULT_MIN_CONFIDENCE = 0.9
# Detection runs on a copy no larger than this; its cost grows with the pixel count, and a
# face too small to find at this size is too small to recognise.
DETECTION_MAX_SIDE = 800


@dataclasses.dataclass(frozen=True)
class Face:
    """One detected face: a box ``(x, y, width, height)`` in pixels, the detector's confidence,
    and landmarks (``left_eye``, ``right_eye``, ``nose``, ``mouth_left``, ``mouth_right`` as
    ``(x, y)``; ``left_eye`` is the one on the left of the image) when the detector gives them."""

    box: tuple[int, int, int, int]
    confidence: float
    landmarks: dict[str, tuple[float, float]] | None = None

    @property
    def area(self) -> int:
        return self.box[2] * self.box[3]


class FaceDetector:
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
        scale = min(1.0, DETECTION_MAX_SIDE / max(image.shape[:2]))
        small = image if scale == 1.0 else cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        try:
            found = self._detector().detect_faces(small)
        except ValueError:
            # MTCNN's image pyramid can shrink a very thin image below its smallest kernel;
            # such an image holds no face it could find anyway.
            found = []
        faces = [_face_from_mtcnn(item, 1.0 / scale) for item in found if item["confidence"] >= self.min_confidence]
        return sorted(faces, key=lambda face: face.area, reverse=True)

    def _detector(self):
        with self._lock:
            if self._mtcnn is None:
                from mtcnn import MTCNN

                from facerec.devices import default_device

                self._mtcnn = MTCNN(device=self.device or default_device())
            return self._mtcnn


class FallbackDetector:
    """A detector, and a second one for the images where the first finds no face.

    Two detectors miss different faces (MTCNN misses some faces that dlib's HOG detector finds),
    so the pair finds more; the second runs only on the few images the first comes back empty on.
    """

    def __init__(self, first, second):
        self.first, self.second = first, second
        self.name = f"{first.name}+{second.name}"

    def detect(self, image: np.ndarray) -> list[Face]:
        """All faces the first detector finds in an RGB ``uint8`` image, else the second's; largest first."""
        return self.first.detect(image) or self.second.detect(image)


def crop_face(image: np.ndarray, face: Face, *, size: int, margin: float = 0.25, align: bool = True) -> np.ndarray:
    """Cut ``face`` out of ``image`` as a ``size`` x ``size`` RGB square.

    Args:
        margin: extra context on each side, as a fraction of the face box's longer side.
        align: rotate so the eyes are level (when the face has landmarks).
    """
    if margin < 0:
        raise ValueError(f"margin must not be negative, got {margin!r}")
    x, y, width, height = face.box
    center_x, center_y = x + width / 2.0, y + height / 2.0
    side = max(width, height) * (1.0 + 2.0 * margin)
    angle = _eye_angle(face) if align else 0.0
    matrix = cv2.getRotationMatrix2D((center_x, center_y), angle, size / side)
    matrix[:, 2] += (size / 2.0 - center_x, size / 2.0 - center_y)
    return cv2.warpAffine(image, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


# A stored sample keeps this much room around the face (a fraction of the box's longer side on
# each side): enough for the detector to find the face again when training, little background.
SAMPLE_MARGIN = 0.35
SAMPLE_MAX_SIDE = 320


def crop_sample(image: np.ndarray, box: tuple[int, int, int, int], *, margin: float = SAMPLE_MARGIN,
                max_side: int = SAMPLE_MAX_SIDE) -> np.ndarray:
    """Cut a detected face out of ``image`` to store it as a training sample (e.g. a webcam frame).

    The crop is square, not rotated, with ``margin`` of room around the box, so that training
    detects and aligns the face again exactly as in a full photo; it is at most ``max_side``
    pixels wide and never enlarged. The rest of the frame (background, other people) is dropped.
    """
    width, height = box[2], box[3]
    size = max(1, min(max_side, round(max(width, height) * (1.0 + 2.0 * margin))))
    return crop_face(image, Face(box=tuple(box), confidence=1.0), size=size, margin=margin, align=False)


def _eye_angle(face: Face) -> float:
    """The angle in degrees that levels the eyes (OpenCV's positive angle turns counter-clockwise)."""
    if not face.landmarks or "left_eye" not in face.landmarks or "right_eye" not in face.landmarks:
        return 0.0
    (left_x, left_y), (right_x, right_y) = face.landmarks["left_eye"], face.landmarks["right_eye"]
    return math.degrees(math.atan2(right_y - left_y, right_x - left_x))


def _face_from_mtcnn(item: dict, scale: float) -> Face:
    x, y, width, height = (float(value) * scale for value in item["box"])
    landmarks = {name: (float(point[0]) * scale, float(point[1]) * scale) for name, point in item.get("keypoints", {}).items()}
    return Face(
        box=(round(x), round(y), max(1, round(width)), max(1, round(height))),
        confidence=float(item["confidence"]),
        landmarks=landmarks or None,
    )
