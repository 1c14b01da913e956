"""A trained recognizer: predict, recognize every face, evaluate, save and load.

    clf = facerec.Classifier.load("my-model/")
    clf.predict("photo.jpg")      # {"alice": 0.93, "bob": 0.07}
    clf.recognize("group.jpg")    # [{"box": (x, y, w, h), "label": "alice", "probability": 0.93, ...}, ...]
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import keras
import numpy as np

from facerec import __version__, atomic, networks
from facerec.augment import MIRROR, ORIGINAL
from facerec.cache import Cache
from facerec.config import UNKNOWN, ModelConfig
from facerec.dataset import Dataset, Sample
from facerec.evaluation import classification_report
from facerec.features import FeatureTable, compute_features
from facerec.images import ImageSource, load_image
from facerec.pipeline import pipeline_class


class NoFaceError(ValueError):
    """Face mode found no face in the image."""


class Classifier:
    """A backbone pipeline, a trained head and the labels, as :func:`facerec.train` returns it.

    Attributes:
        config: the :class:`~facerec.config.ModelConfig` saved as ``config.json``.
        report: what training did (device, seconds, forward passes, images without faces);
            empty for a loaded model.
    """

    def __init__(self, *, pipeline, head: keras.Model, config: ModelConfig):
        if int(head.output.shape[-1]) != len(config.labels):
            raise ValueError(f"the model has {head.output.shape[-1]} outputs but {len(config.labels)} labels")
        self.pipeline = pipeline
        self.head = head
        self.config = config
        self.report: dict = {}
        self._scorer = networks.build_training_model(pipeline.features, head)
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<facerec.Classifier {self.config.backbone} labels={self.labels}>"

    @property
    def labels(self) -> list[str]:
        return list(self.config.labels)

    @property
    def metrics(self) -> dict:
        """The validation report from training: accuracy, per-class accuracy, confusion matrix."""
        return self.config.metrics

    @property
    def threshold(self) -> float:
        return self.config.threshold

    @threshold.setter
    def threshold(self, value: float) -> None:
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"threshold must be between 0 and 1, got {value!r}")
        self.config.threshold = float(value)

    # Predicting ----------------------------------------------------------------------------

    def predict(self, image: ImageSource) -> dict[str, float]:
        """The probability of each label for the image (in face mode, for its largest face).

        Raises:
            NoFaceError: face mode found no face.
            facerec.images.ImageError: not a usable image.
        """
        picture = load_image(image)
        faces = self.pipeline.locate(picture)
        if not faces:
            raise NoFaceError(f"no face found in {_name(image)}")
        probabilities = self._crop_probabilities(np.stack([self.pipeline.prepare(picture, faces[0])]))[0]
        return self._as_dict(probabilities)

    def recognize(self, image: ImageSource, *, threshold: float | None = None) -> list[dict]:
        """Every face in the image with its most likely label.

        Returns:
            One dict per face, largest face first: ``box`` ``(x, y, width, height)``, ``label``
            (``"unknown"`` when the top probability is below ``threshold``), ``probability``
            (of the top label), ``probabilities`` (every label) and ``face_confidence`` (the
            detector's, ``None`` outside face mode, where the one box is the whole image).
        """
        threshold = self.threshold if threshold is None else threshold
        picture = load_image(image)
        faces = self.pipeline.locate(picture)
        if not faces:
            return []
        probabilities = self._crop_probabilities(np.stack([self.pipeline.prepare(picture, face) for face in faces]))
        height, width = picture.shape[:2]
        results = []
        for face, row in zip(faces, probabilities):
            best = int(np.argmax(row))
            results.append({
                "box": face.box if face is not None else (0, 0, width, height),
                "label": self.labels[best] if row[best] >= threshold else UNKNOWN,
                "probability": float(row[best]),
                "probabilities": self._as_dict(row),
                "face_confidence": face.confidence if face is not None else None,
            })
        return results

    def _crop_probabilities(self, crops: np.ndarray) -> np.ndarray:
        views = [ORIGINAL, MIRROR] if self.config.test_time_flip else [ORIGINAL]
        batch = np.concatenate([crops if view == ORIGINAL else crops[:, :, ::-1] for view in views])
        return self._probabilities(self.pipeline.frozen_outputs(batch)).reshape(len(views), len(crops), -1).mean(axis=0)

    def _probabilities(self, frozen_outputs: list[np.ndarray]) -> np.ndarray:
        with self._lock:
            return np.asarray(self._scorer.predict_on_batch(list(frozen_outputs)))

    def _as_dict(self, probabilities: np.ndarray) -> dict[str, float]:
        return {label: float(value) for label, value in zip(self.labels, probabilities)}

    # Evaluating ----------------------------------------------------------------------------

    def evaluate(self, data: str | os.PathLike | Dataset, *, cache_dir: str | os.PathLike | None = None) -> dict:
        """Score the classifier on labelled images (``<label>/<image>``, or a Dataset).

        Returns:
            ``{"accuracy", "per_class", "confusion", "labels", "count", "no_prediction"}`` (see
            :func:`facerec.evaluation.classification_report`); images without a face count as errors.
        """
        dataset = data if isinstance(data, Dataset) else _existing_dataset(data)
        samples = dataset.samples()
        unknown = sorted({sample.label for sample in samples} - set(self.labels))
        if unknown:
            raise ValueError(f"labels {unknown} are not among the model's labels {self.labels}")
        if not samples:
            raise ValueError(f"{dataset.root}: no images to evaluate")
        label_index = {label: index for index, label in enumerate(self.labels)}
        views = [ORIGINAL, MIRROR] if self.config.test_time_flip else [ORIGINAL]
        table = compute_features(self.pipeline, samples, label_index, cache=Cache(cache_dir), views=views)
        return self._score_table(table, samples)

    def _score_table(self, table: FeatureTable, samples: list[Sample]) -> dict:
        """Score precomputed features: each sample's probabilities are the mean over its views."""
        label_index = {label: index for index, label in enumerate(self.labels)}
        predicted: dict[int, int] = {}
        if len(table):
            probabilities = self._probabilities(table.inputs)
            for sample_row in np.unique(table.sample_rows):
                predicted[int(sample_row)] = int(np.argmax(probabilities[table.sample_rows == sample_row].mean(axis=0)))
        truth = [label_index[sample.label] for sample in samples]
        return classification_report(truth, [predicted.get(index) for index in range(len(samples))], self.labels)

    # Saving --------------------------------------------------------------------------------

    def save(self, directory: str | os.PathLike) -> Path:
        """Save to a folder, atomically: the end-to-end Keras model and ``config.json``.

        The folder is in Keras 3's directory format: ``keras.saving.load_model(folder)`` returns
        the end-to-end model (RGB image in ``[0, 255]`` in, probabilities out) without facerec.
        """
        directory = Path(directory)
        self.config.facerec_version = __version__
        self.config.keras_version = keras.__version__
        model = self.pipeline.end_to_end_model(self.head)
        with atomic.replace_directory(directory) as staging:
            model.save(staging, zipped=False)
            keras_config = json.loads((staging / "config.json").read_text(encoding="utf-8"))
            merged = self.config.merged_with_keras(keras_config)
            (staging / "config.json").write_text(json.dumps(merged, indent=2, ensure_ascii=False), encoding="utf-8")
        return directory

    @classmethod
    def load(cls, directory: str | os.PathLike) -> Classifier:
        """Load a folder written by :meth:`save` (no training data needed).

        Raises:
            ValueError: not a facerec model folder, or a damaged one (named).
        """
        directory = Path(directory)
        atomic.recover_directory(directory)
        if not directory.is_dir():
            raise ValueError(f"{directory}: no such model folder")
        config = ModelConfig.read(directory)
        try:
            model = keras.saving.load_model(directory, compile=False)
        except Exception as error:  # Keras raises many types for a damaged file.
            raise ValueError(f"{directory}: the model weights cannot be loaded ({type(error).__name__}: {error})") from None
        pipeline = pipeline_class(config.backbone).from_saved(model, config.to_dict())
        return cls(pipeline=pipeline, head=model.get_layer(networks.HEAD_NAME), config=config)

    # Sharing -------------------------------------------------------------------------------

    @classmethod
    def from_pretrained(cls, repo_id_or_dir: str | os.PathLike, *, revision: str | None = None,
                        token: str | None = None) -> Classifier:
        """Load from a local folder, or from a Hub repo id (``"alice/my-faces"``, downloaded once and cached).

        See :func:`facerec.hub.pull_from_hub`.

        Raises:
            facerec.hub.HubError: no such repo or revision, no access, or no network and not cached.
            ValueError: not a saved facerec model.
        """
        from facerec.hub import pull_from_hub

        return pull_from_hub(repo_id_or_dir, revision=revision, token=token)

    def push_to_hub(self, repo_id: str, *, token: str | None = None, private: bool = False,
                    commit_message: str | None = None, overwrite_card: bool = False) -> str:
        """Push this model with its card and metrics to a Hub repo; returns the commit URL.

        See :func:`facerec.hub.push_to_hub`.
        """
        from facerec.hub import push_to_hub

        return push_to_hub(self, repo_id, token=token, private=private, commit_message=commit_message,
                           overwrite_card=overwrite_card)


def _existing_dataset(folder: str | os.PathLike) -> Dataset:
    if not Path(folder).is_dir():
        raise ValueError(f"{folder}: no such folder")
    return Dataset(folder)


def _name(image: ImageSource) -> str:
    return str(image) if isinstance(image, (str, os.PathLike)) else "the image"
