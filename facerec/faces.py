"""Cut each detected face out of an image, upright, with a margin around it.

Crops are aligned by the eyes when landmarks exist: a tilted head becomes level, so the
classifier sees the same geometry in every photo of a person. They can be made grayscale, so
that a head learning from a few photos cannot learn their white balance or tint (nor, then, a
colour that does tell people apart). Finding the faces is
:mod:`facerec.detection`'s job.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from facerec.detection.base import Face


def crop_face(image: np.ndarray, face: Face, *, size: int, margin: float = 0.25, align: bool = True,
              grayscale: bool = False) -> np.ndarray:
    """Cut ``face`` out of ``image`` as a ``size`` x ``size`` RGB square.

    Args:
        margin: extra context on each side, as a fraction of the face box's longer side.
        align: rotate so the eyes are level (when the face has landmarks).
        grayscale: the crop's luminance (ITU-R BT.601) in all three channels.
    """
    if margin < 0:
        raise ValueError(f"margin must not be negative, got {margin!r}")
    x, y, width, height = face.box
    center_x, center_y = x + width / 2.0, y + height / 2.0
    side = max(width, height) * (1.0 + 2.0 * margin)
    angle = _eye_angle(face) if align else 0.0
    matrix = cv2.getRotationMatrix2D((center_x, center_y), angle, size / side)
    matrix[:, 2] += (size / 2.0 - center_x, size / 2.0 - center_y)
    crop = cv2.warpAffine(image, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return cv2.cvtColor(cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB) if grayscale else crop


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
