"""Augmented views of a training image: flips, small rotations, zoom and brightness.

The views are fixed, not redrawn each epoch: view ``k`` of an image is always the same picture
(the random draw is seeded by the image's content hash and ``k``), so its features are computed
once and cached like the original's. View 0 is the image itself and view -1 its mirror image
(used for test-time flipping as well as training).
"""

from __future__ import annotations

import cv2
import numpy as np

ORIGINAL, MIRROR = 0, -1
MAX_ROTATION_DEGREES = 10.0
ZOOM_RANGE = (0.9, 1.1)
BRIGHTNESS_RANGE = (0.8, 1.2)


def scoring_views(test_time_flip: bool) -> list[int]:
    """The views a face is scored on: the image, and its mirror with test-time flipping."""
    return [ORIGINAL, MIRROR] if test_time_flip else [ORIGINAL]


def augmented_view(image: np.ndarray, image_hash: str, view: int) -> np.ndarray:
    """View ``view`` of a square RGB crop: 0 is the crop, -1 its mirror, 1 and up random views."""
    if view == ORIGINAL:
        return image
    if view == MIRROR:
        return np.ascontiguousarray(image[:, ::-1])
    generator = np.random.default_rng([int(image_hash[:16], 16), view])
    size = image.shape[0]
    angle = generator.uniform(-MAX_ROTATION_DEGREES, MAX_ROTATION_DEGREES)
    zoom = generator.uniform(*ZOOM_RANGE)
    matrix = cv2.getRotationMatrix2D((size / 2.0, size / 2.0), angle, zoom)
    view_image = cv2.warpAffine(image, matrix, (image.shape[1], size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    if generator.random() < 0.5:
        view_image = view_image[:, ::-1]
    brightness = generator.uniform(*BRIGHTNESS_RANGE)
    return np.clip(view_image.astype(np.float32) * brightness, 0, 255).astype(np.uint8)
