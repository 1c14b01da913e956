"""facerec's public API: plain data in, plain data out. Nothing inside the library imports it."""

from __future__ import annotations

import dataclasses
import os

from facerec.classifier import Classifier, NoFaceError
from facerec.dataset import Dataset
from facerec.detection import FaceSettings, get_detector
from facerec.hub import PushedCommit, push_folder
from facerec.images import ImageError, ImageSource, load_image
from facerec.training import TrainingSettings, TrainingUpdate, train

__all__ = ["Classifier", "Dataset", "ImageError", "NoFaceError", "TrainingSettings", "TrainingUpdate",
           "detect_faces", "load_image", "push_to_hub", "train"]


def detect_faces(image: ImageSource) -> list[dict]:
    """Every face in an image, largest first: ``{"box": (x, y, w, h), "confidence": float,
    "landmarks": {"left_eye": (x, y), ...}}``."""
    return [dataclasses.asdict(face) for face in get_detector(FaceSettings()).detect(load_image(image))]


def push_to_hub(model: Classifier | str | os.PathLike, repo_id: str, **options) -> PushedCommit:
    """Push a trained model (a :class:`Classifier`, or a folder it was saved to) to a Hub repo.

    See :meth:`Classifier.push_to_hub` and :func:`facerec.hub.push_folder` for the options
    (``token``, ``private``, ``commit_message``, ``overwrite_card``).
    """
    if isinstance(model, Classifier):
        return model.push_to_hub(repo_id, **options)
    return push_folder(model, repo_id, **options)
