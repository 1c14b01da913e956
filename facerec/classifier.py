"""A trained recognizer: predict, recognize every face, evaluate, save and load.

    clf = facerec.Classifier.load("my-model/")
    clf.predict("photo.jpg")      # {"alice": 0.93, "bob": 0.07}
    clf.recognize("group.jpg")    # [{"box": (x, y, w, h), "label": "alice", "probability": 0.93, ...}, ...]
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from pathlib import Path

import keras
import numpy as np

from facerec import atomic, hub
from facerec._version import __version__
from facerec.augment import ORIGINAL, scoring_views
from facerec.backbones import get_backbone, networks
from facerec.cache import Cache
from facerec.config import UNKNOWN, ModelConfig
from facerec.dataset import Dataset, Sample
from facerec.detection import Face
from facerec.evaluation import classification_report
from facerec.features import FeatureTable, compute_features
from facerec.images import ImageSource, load_image
from facerec.prototypes import Prototypes


class NoFaceError(ValueError):
    """Face mode found no face in the image."""


class Classifier:
    """A backbone pipeline, a trained head and the labels, as :func:`facerec.train` returns it.

    Attributes:
        config: the :class:`~facerec.config.ModelConfig` saved as ``config.json``.
        prototypes: each label's mean embedding (see :mod:`facerec.prototypes`), for backbones
            with a metric embedding; None otherwise.
        report: what training did (device, seconds, forward passes, images without faces);
            empty for a loaded model.
    """

    def __init__(self, *, pipeline, head: keras.Model, config: ModelConfig, prototypes: Prototypes | None = None):
        if int(head.output.shape[-1]) != len(config.labels):
            raise ValueError(f"the model has {head.output.shape[-1]} outputs but {len(config.labels)} labels")
        if prototypes is not None and prototypes.labels != list(config.labels):
            raise ValueError(f"the prototypes are of labels {prototypes.labels}, the model's are {config.labels}")
        self.pipeline = pipeline
        self.head = head
        self.config = config
        self.prototypes = prototypes
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

    @property
    def distance_threshold(self) -> float | None:
        """Farther than this from the named person's prototype, :meth:`recognize` says ``"unknown"``
        (None: no distance rule; only models with prototypes have one)."""
        return self.config.distance_threshold if self.prototypes is not None else None

    @distance_threshold.setter
    def distance_threshold(self, value: float | None) -> None:
        if value is not None and (self.prototypes is None or not value > 0):
            raise ValueError(f"distance_threshold must be positive, and needs a model with prototypes "
                             f"(a metric backbone such as dlib); got {value!r} for a {self.config.backbone} model")
        self.config.distance_threshold = None if value is None else float(value)

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
        probabilities, _ = self.score_crops(np.stack([self.pipeline.prepare(picture, faces[0])]))
        return self._as_dict(probabilities[0])

    def recognize(self, image: ImageSource, *, threshold: float | None = None,
                  distance_threshold: float | None = None) -> list[dict]:
        """Every face in the image with its most likely label.

        Args:
            threshold: below this top probability, ``"unknown"`` (default: the model's).
            distance_threshold: farther than this from the named person's prototype, ``"unknown"``
                (default: the model's; only for models with prototypes, see :mod:`facerec.prototypes`).

        Returns:
            One dict per face, largest face first: ``box`` ``(x, y, width, height)``, ``label``
            (``"unknown"`` when the top probability is below ``threshold`` or the face is too far
            from that label's prototype), ``probability`` (of the top label), ``probabilities``
            (every label), ``distance`` (to the top label's prototype, ``None`` without prototypes)
            ``face_confidence`` (the detector's, ``None`` outside face mode, where the one box is
            the whole image) and ``detector`` (the name of the detector that found the face).
        """
        picture = load_image(image)
        faces = self.pipeline.locate(picture)
        if not faces:
            return []
        probabilities, distances = self.score_crops(np.stack([self.pipeline.prepare(picture, face) for face in faces]))
        return self.name_faces(faces, probabilities, distances, picture.shape[:2], threshold=threshold,
                               distance_threshold=distance_threshold)

    def name_faces(self, faces: list[Face | None], probabilities: np.ndarray, distances: np.ndarray | None,
                   image_size: tuple[int, int], *, threshold: float | None = None,
                   distance_threshold: float | None = None) -> list[dict]:
        """:meth:`recognize`'s answer for faces already scored by :meth:`score_crops` (rows in the same
        order); ``image_size`` is ``(height, width)``, for the box of a whole image (``None`` face)."""
        threshold = self.threshold if threshold is None else threshold
        distance_threshold = self.distance_threshold if distance_threshold is None else distance_threshold
        height, width = image_size
        results = []
        decisions = top_labels(probabilities, distances, threshold, distance_threshold)
        for face, row, (best, distance, named) in zip(faces, probabilities, decisions):
            results.append({
                "box": face.box if face is not None else (0, 0, width, height),
                "label": self.labels[best] if named else UNKNOWN,
                "probability": float(row[best]),
                "probabilities": self._as_dict(row),
                "distance": distance,
                "face_confidence": face.confidence if face is not None else None,
                "detector": face.detector if face is not None else None,
            })
        return results

    def score_crops(self, crops: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Probabilities ``(crops, labels)`` of crops made by ``pipeline.prepare``, and their distances
        to the prototypes (None without), each averaged over the scored views (see ``test_time_flip``)."""
        views = scoring_views(self.config.test_time_flip)
        batch = np.concatenate([crops if view == ORIGINAL else crops[:, :, ::-1] for view in views])
        outputs = self.pipeline.frozen_outputs(batch)
        probabilities = self._probabilities(outputs).reshape(len(views), len(crops), -1).mean(axis=0)
        return probabilities, self._distances(outputs, len(views))

    def _distances(self, frozen_outputs: list[np.ndarray], views: int) -> np.ndarray | None:
        """Distance of each face (the mean embedding of its ``views`` consecutive blocks of rows) to each prototype."""
        if self.prototypes is None:
            return None
        embeddings = self.pipeline.embeddings(frozen_outputs)
        return self.prototypes.distances(embeddings.reshape(views, len(embeddings) // views, -1).mean(axis=0))

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
        views = scoring_views(self.config.test_time_flip)
        table = compute_features(self.pipeline, samples, label_index, cache=Cache(cache_dir), views=views)
        return self.score_features(table, samples)

    def score_features(self, table: FeatureTable, samples: list[Sample]) -> dict:
        """The :meth:`evaluate` report from precomputed features of ``samples``: each sample's
        probabilities are the mean over its views."""
        label_index = {label: index for index, label in enumerate(self.labels)}
        predicted: dict[int, int] = {}
        if len(table):
            sample_rows, probabilities, _ = self.sample_scores(table)
            predicted = {int(row): int(np.argmax(values)) for row, values in zip(sample_rows, probabilities)}
        truth = [label_index[sample.label] for sample in samples]
        return classification_report(truth, [predicted.get(index) for index in range(len(samples))], self.labels)

    def sample_scores(self, table: FeatureTable) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Per sample with rows in ``table``: its index, its probabilities and its distances to the
        prototypes (None without), each the mean over the sample's views as in :meth:`recognize`."""
        sample_rows = np.unique(table.sample_rows)
        probabilities = self._probabilities(table.inputs)
        mean_probabilities = np.stack([probabilities[table.sample_rows == row].mean(axis=0) for row in sample_rows])
        if self.prototypes is None:
            return sample_rows, mean_probabilities, None
        embeddings = self.pipeline.embeddings(table.inputs)
        mean_embeddings = np.stack([embeddings[table.sample_rows == row].mean(axis=0) for row in sample_rows])
        return sample_rows, mean_probabilities, self.prototypes.distances(mean_embeddings)

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
            if self.prototypes is not None:
                self.prototypes.save(staging)
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
        pipeline = get_backbone(config.backbone).pipeline_class().from_saved(model, config.to_dict())
        return cls(pipeline=pipeline, head=model.get_layer(networks.HEAD_NAME), config=config,
                   prototypes=Prototypes.load(directory))

    # Sharing -------------------------------------------------------------------------------

    @classmethod
    def from_pretrained(cls, repo_id_or_dir: str | os.PathLike, *, revision: str | None = None,
                        token: str | None = None, cache_dir: str | os.PathLike | None = None) -> Classifier:
        """Load from a local folder, or from a Hub repo id (``"alice/my-faces"``, downloaded once and cached).

        Args:
            revision: a branch or commit id of the repo (default: its main branch).
            token: for private repos; default: ``HF_TOKEN`` or the stored ``hf auth login``.
            cache_dir: where to download to (see :func:`facerec.hub.download_folder`).

        Raises:
            facerec.hub.HubError: no such repo or revision, no access, or no network and not cached.
            ValueError: neither an existing folder nor a repo id, or not a saved facerec model.
        """
        if Path(repo_id_or_dir).is_dir():
            if revision is not None:
                raise ValueError(f"{repo_id_or_dir} is a local folder; revision= applies only to Hub repos")
            return cls.load(repo_id_or_dir)
        return cls.load(hub.download_folder(str(repo_id_or_dir), revision=revision, token=token, cache_dir=cache_dir))

    def push_to_hub(self, repo_id: str, *, token: str | None = None, private: bool = False,
                    commit_message: str | None = None, overwrite_card: bool = False) -> hub.PushedCommit:
        """Push this model with its card and metrics to a Hub repo, in one commit; returns the commit URL.

        See :func:`facerec.hub.push_folder`; the training history (loss and accuracy per epoch)
        goes into ``metrics.json`` too.
        """
        with tempfile.TemporaryDirectory(prefix="facerec-push-") as staging:
            folder = self.save(Path(staging) / "model")
            return hub.push_folder(folder, repo_id, token=token, private=private, commit_message=commit_message,
                                   overwrite_card=overwrite_card, history=self.report.get("history"))


def top_labels(probabilities: np.ndarray, distances: np.ndarray | None, threshold: float,
               distance_threshold: float | None) -> list[tuple[int, float | None, bool]]:
    """Per face (rows of ``probabilities`` and ``distances``): the head's top label index, the
    distance to that label's prototype (None without prototypes), and whether the face is named
    with it (:func:`is_known`) rather than ``"unknown"``."""
    decisions = []
    for index, row in enumerate(probabilities):
        best = int(np.argmax(row))
        distance = None if distances is None else float(distances[index, best])
        decisions.append((best, distance, is_known(float(row[best]), distance, threshold, distance_threshold)))
    return decisions


def is_known(probability: float, distance: float | None, threshold: float, distance_threshold: float | None) -> bool:
    """The unknown decision: a face gets the head's top label when that label's probability is at
    least ``threshold`` and, if there is a distance to its prototype and a ``distance_threshold``,
    the face is no farther than that from the prototype."""
    near = distance is None or distance_threshold is None or distance <= distance_threshold
    return bool(probability >= threshold and near)


def _existing_dataset(folder: str | os.PathLike) -> Dataset:
    if not Path(folder).is_dir():
        raise ValueError(f"{folder}: no such folder")
    return Dataset(folder)


def _name(image: ImageSource) -> str:
    return str(image) if isinstance(image, (str, os.PathLike)) else "the image"
