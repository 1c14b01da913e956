"""facerec's public API: plain data in, plain data out."""

from __future__ import annotations

import dataclasses

from facerec.classifier import Classifier, NoFaceError
from facerec.dataset import Dataset
from facerec.hub import push_to_hub
from facerec.pipeline import FaceSettings, get_detector
from facerec.images import ImageError, ImageSource, load_image
from facerec.training import TrainingSettings, TrainingUpdate, train

__all__ = ["Classifier", "Dataset", "ImageError", "NoFaceError", "TrainingSettings", "TrainingUpdate",
           "detect_faces", "load_image", "push_to_hub", "train"]


def detect_faces(image: ImageSource) -> list[dict]:
    """Every face in an image, largest first: ``{"box": (x, y, w, h), "confidence": float,
    "landmarks": {"left_eye": (x, y), ...}}``."""
    return [dataclasses.asdict(face) for face in get_detector(FaceSettings()).detect(load_image(image))]
