"""dlib's HOG face detector, and dlib's aligned face chip (the input of its recognition network)."""

from __future__ import annotations

import threading

import cv2
import numpy as np

from facerec.dlib_models import DlibModels, import_dlib
from facerec.faces import DETECTION_MAX_SIDE, Face

# One upsampling finds faces down to about 40 pixels; without it, a fifth of the web photos
# measured lost their face (73 of 92 found, against 87 of 92 with it).
HOG_UPSAMPLING = 1
CHIP_SIZE = 150
# dlib's recognition network was trained on chips with this much context around the landmarks.
CHIP_PADDING = 0.25


class HogFaceDetector:
    """dlib's HOG + linear SVM frontal face detector (no landmarks; its score as the confidence)."""

    name = "dlib-hog"

    def __init__(self):
        self._detector = None
        self._lock = threading.Lock()

    def detect(self, image: np.ndarray) -> list[Face]:
        """All frontal faces in an RGB ``uint8`` image, largest first."""
        scale = min(1.0, DETECTION_MAX_SIDE / max(image.shape[:2]))
        small = image if scale == 1.0 else cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        with self._lock:
            if self._detector is None:
                self._detector = import_dlib().get_frontal_face_detector()
            rectangles, scores, _ = self._detector.run(np.ascontiguousarray(small), HOG_UPSAMPLING, 0.0)
        faces = [_face_from_rectangle(rectangle, score, 1.0 / scale) for rectangle, score in zip(rectangles, scores)]
        return sorted(faces, key=lambda face: face.area, reverse=True)


def face_chip(models: DlibModels, image: np.ndarray, face: Face) -> np.ndarray:
    """The ``CHIP_SIZE`` square RGB crop dlib's recognition network expects: the face's five
    landmarks (found by dlib's shape predictor inside ``face.box``) put in a fixed place."""
    x, y, width, height = face.box
    rectangle = models.dlib.rectangle(int(x), int(y), int(x + width - 1), int(y + height - 1))
    image = np.ascontiguousarray(image)
    shape = models.shape_predictor(image, rectangle)
    return np.asarray(models.dlib.get_face_chip(image, shape, size=CHIP_SIZE, padding=CHIP_PADDING))


def _face_from_rectangle(rectangle, score: float, scale: float) -> Face:
    left, top = rectangle.left() * scale, rectangle.top() * scale
    width, height = rectangle.width() * scale, rectangle.height() * scale
    return Face(box=(round(left), round(top), max(1, round(width)), max(1, round(height))), confidence=float(score))
