"""``config.json``: everything needed to use a trained model, besides its weights.

The saved folder is in Keras 3's directory format (``config.json``, ``metadata.json``,
``model.weights.h5``), so ``keras.saving.load_model(folder)`` and
``keras.saving.load_model("hf://user/repo")`` work without facerec. Keras reads only its own
keys of ``config.json`` (``class_name``, ``config``, ``module``, ...); facerec's fields sit
beside them, first, and are read back by :meth:`ModelConfig.from_dict`, which ignores the rest.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

FORMAT = "facerec-model"
FORMAT_VERSION = 1
UNKNOWN = "unknown"
DEFAULT_THRESHOLD = 0.5


@dataclasses.dataclass
class ModelConfig:
    """The facerec part of a saved model's ``config.json``.

    Attributes:
        labels: class names, in the order of the model's outputs.
        backbone: ``"vgg16"``, ``"mobilenet"``, or another registered backbone.
        backbone_weights: ``{"kind", "description", "fingerprint"}``: which pretrained weights the
            backbone started from (``imagenet``, ``hed-bsds500``, ``file`` or ``random``).
        image_size: side of the square input, in pixels.
        preprocessing: what the model does to its input (built into the model; feed RGB 0-255),
            or ``"dlib-face-embedding"``: its input is dlib's 128-d embedding of a face, not an image.
        faces: face mode settings (``enabled``, ``margin``, ``align``, ``min_confidence``, ``detector``).
        threshold: below this probability, :meth:`Classifier.recognize` answers ``"unknown"``.
        distance_threshold: farther than this from the named person's prototype (mean training
            embedding, in ``prototypes.json``), :meth:`Classifier.recognize` answers ``"unknown"``;
            None for backbones whose features are not a metric embedding (see :mod:`facerec.prototypes`).
        test_time_flip: average each prediction with that of the mirrored face.
        head: the classifier head's form.
        training: the settings it was trained with, and where and how long; with ``refit`` true,
            the head was trained again on every photo (``refit_images``) for ``epochs_refit``
            epochs after the validation split chose that many.
        metrics: validation report (see :func:`facerec.evaluation.classification_report`); with
            a refit, measured before it, on photos the final head then learned from.
        dataset: images per label, for training and validation.
    """

    labels: list[str]
    backbone: str
    backbone_weights: dict
    image_size: int
    preprocessing: str
    faces: dict
    threshold: float = DEFAULT_THRESHOLD
    distance_threshold: float | None = None
    test_time_flip: bool = True
    feature_layers: list[str] = dataclasses.field(default_factory=list)
    pooling: list[str] = dataclasses.field(default_factory=list)
    trainable_layers: int = 0
    head: dict = dataclasses.field(default_factory=dict)
    training: dict = dataclasses.field(default_factory=dict)
    metrics: dict = dataclasses.field(default_factory=dict)
    dataset: dict = dataclasses.field(default_factory=dict)
    extra: dict = dataclasses.field(default_factory=dict)
    format: str = FORMAT
    format_version: int = FORMAT_VERSION
    facerec_version: str = ""
    keras_version: str = ""

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def refit_note(self) -> str:
        """In words, that the validation report predates the final refit on every photo ("" without one)."""
        if not self.training.get("refit"):
            return ""
        return (f"Measured before the final refit: after validation chose {self.training.get('epochs_refit')} epochs, the "
                f"saved model was trained again on all {self.training.get('images_trained_on')} photos, the validation ones "
                "included, so those photos are no longer unseen by it.")

    @classmethod
    def from_dict(cls, values: dict) -> ModelConfig:
        """Read facerec's fields, ignoring any other key (Keras's, or a newer version's)."""
        if values.get("format") != FORMAT:
            raise ValueError("not a facerec model: its config.json has no 'format': 'facerec-model'")
        if values.get("format_version", 0) > FORMAT_VERSION:
            raise ValueError(f"this model was saved by a newer facerec (format {values['format_version']}); upgrade facerec to load it")
        known = {field.name for field in dataclasses.fields(cls)}
        missing = {field.name for field in dataclasses.fields(cls) if field.default is dataclasses.MISSING
                   and field.default_factory is dataclasses.MISSING} - set(values)
        if missing:
            raise ValueError(f"config.json lacks {sorted(missing)}")
        return cls(**{key: value for key, value in values.items() if key in known})

    @classmethod
    def read(cls, folder: str | os.PathLike) -> ModelConfig:
        path = Path(folder) / "config.json"
        try:
            return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            raise ValueError(f"{folder}: no config.json; not a saved facerec model") from None
        except json.JSONDecodeError as error:
            raise ValueError(f"{path}: damaged config.json ({error})") from None

    def merged_with_keras(self, keras_config: dict) -> dict:
        """facerec's fields first (what a person reads), then the Keras model's own keys."""
        ours = self.to_dict()
        clashing = set(ours) & set(keras_config)
        if clashing:
            raise ValueError(f"Keras model config uses facerec's keys {sorted(clashing)}")
        return {**ours, **keras_config}
