"""How a model is trained: every setting of :func:`facerec.train`, with its default, in one object.

The app, the command line and the Python API all build a :class:`TrainingSettings`, and the
command line takes its defaults from it. Importing this module does not import TensorFlow.
"""

from __future__ import annotations

import dataclasses

from facerec import backbones
from facerec.backbones.applications import AUTO
from facerec.dataset import DEFAULT_SEED, DEFAULT_VALIDATION_SPLIT
from facerec.detection import DEFAULT_FACE_MARGIN, FaceSettings

OPTIMIZERS = ("adam", "rmsprop", "sgd")
EARLY_STOPPING_METRICS = ("accuracy", "loss")
HEADS = ("softmax", "dense")


@dataclasses.dataclass(frozen=True)
class TrainingSettings:
    """Every setting of :func:`train`, with its default. See :func:`train` for their meaning."""

    backbone: str = backbones.AUTO
    weights: str | None = AUTO
    image_size: int | None = None  # None: the backbone's default for the mode (Backbone.default_image_size).
    faces: bool = True
    face_margin: float = DEFAULT_FACE_MARGIN
    align_faces: bool = True
    # Colour crops (issue 15, 20 seeds): grayscale ones scored +3.3 points of validation accuracy
    # on five_celebrity_faces (+-2.0; 15 photos better, 6 worse) but 2 of 25 test photos fewer (Elton
    # John's tinted glasses are colour), and the same on ORL's gray photos: no clear win.
    grayscale_faces: bool = False
    trainable_layers: int = 0
    head: str = "softmax"
    dense_units: tuple[int, ...] = (1024, 1024, 512)
    # An L2 penalty on the linear head instead of dropout (issue 15; with early_stopping_metric
    # "accuracy", 5 seeds): +4.4 / +1.0 / -1.0 points of validation accuracy on five_celebrity_faces /
    # ORL / dogs vs cats (bench/results/accuracy_variants.md).
    dropout: float = 0.0
    l2: float = 1e-3
    # Standardised features (issue 15): with average+max pooling, 0.796 validation accuracy on
    # five_celebrity_faces in 20 epochs instead of 49 (bench/results/accuracy_variants.md).
    standardize: bool = True
    epochs: int = 50
    batch_size: int = 32
    learning_rate: float = 1e-3
    optimizer: str = "adam"
    augment: int = 0
    validation_split: float = DEFAULT_VALIDATION_SPLIT
    early_stopping_patience: int = 10
    # The epoch is chosen by validation accuracy, not loss (issue 15): on a few photos per person the
    # validation loss turns within a few epochs while accuracy still rises. With the L2 head, 5 seeds:
    # +4.4 points of validation accuracy on five_celebrity_faces, 0.0 on ORL, +2.0 on dogs vs cats.
    early_stopping_metric: str = "accuracy"
    seed: int = DEFAULT_SEED
    threshold: float | None = None  # None: the backbone's default (see _default_threshold).
    test_time_flip: bool | None = None  # None: the backbone's default (Backbone.test_time_flip).
    refit: bool = True
    # Off (issue 15, 20 seeds): every label weighing the same scored -0.8 points of validation accuracy
    # on five_celebrity_faces, 0.0 on ORL and dogs vs cats (5 seeds).
    balance_classes: bool = False

    def __post_init__(self):
        if self.backbone == backbones.AUTO:
            object.__setattr__(self, "backbone", backbones.default_backbone(self.faces))
        backbone = backbones.get_backbone(self.backbone)  # Raises ValueError for an unknown name.
        if self.test_time_flip is None:
            object.__setattr__(self, "test_time_flip", backbone.test_time_flip)
        if self.image_size is None:
            object.__setattr__(self, "image_size", backbone.default_image_size(self.faces))
        _check(self.faces or not backbone.faces_only,
               f"the {backbone.title} backbone recognises faces only; use face mode (faces=True) or backbone='vgg16'")
        _check(self.epochs >= 1, f"epochs must be at least 1, got {self.epochs}")
        _check(self.batch_size >= 1, f"batch_size must be at least 1, got {self.batch_size}")
        _check(self.learning_rate > 0, f"learning_rate must be positive, got {self.learning_rate}")
        _check(self.optimizer in OPTIMIZERS, f"optimizer must be one of {OPTIMIZERS}, got {self.optimizer!r}")
        _check(self.head in HEADS, f"head must be one of {HEADS}, got {self.head!r}")
        _check(self.augment >= 0, f"augment (extra views per image) must be 0 or more, got {self.augment}")
        _check(self.trainable_layers >= 0, f"trainable_layers must be 0 or more, got {self.trainable_layers}")
        _check(self.early_stopping_patience >= 1, f"early_stopping_patience must be at least 1, got {self.early_stopping_patience}")
        _check(self.early_stopping_metric in EARLY_STOPPING_METRICS,
               f"early_stopping_metric must be one of {EARLY_STOPPING_METRICS}, got {self.early_stopping_metric!r}")
        _check(self.threshold is None or 0.0 <= self.threshold <= 1.0, f"threshold must be between 0 and 1, got {self.threshold}")
        _check(self.l2 >= 0, f"l2 must not be negative, got {self.l2}")
        _check(self.face_margin >= 0, f"face_margin must not be negative, got {self.face_margin}")

    def face_settings(self) -> FaceSettings:
        return FaceSettings(enabled=self.faces, margin=self.face_margin, align=self.align_faces, grayscale=self.grayscale_faces)


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)
