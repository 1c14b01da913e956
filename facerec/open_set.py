"""How well a model says "unknown": strangers rejected against known people wrongly rejected.

    report = unknown_rates(classifier, known="photos/known/", strangers="photos/others/")

``known`` holds new photos of the model's people (``<label>/<image>``), ``strangers`` photos of
people the model was not trained on (any label names but the model's). Each rule is scored at
several thresholds: the probability threshold alone, the distance rule alone (models with
prototypes, see :mod:`facerec.prototypes`), and the model's own settings.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from facerec.augment import scoring_views
from facerec.cache import Cache
from facerec.classifier import Classifier, top_labels
from facerec.dataset import Dataset
from facerec.features import compute_features

DEFAULT_THRESHOLDS = (0.3, 0.5, 0.7, 0.8, 0.9, 0.95)
DEFAULT_DISTANCE_THRESHOLDS = (0.35, 0.4, 0.45, 0.5, 0.55, 0.6)


def unknown_rates(classifier: Classifier, known: str | os.PathLike | Dataset, strangers: str | os.PathLike | Dataset, *,
                  thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
                  distance_thresholds: Sequence[float] = DEFAULT_DISTANCE_THRESHOLDS,
                  cache_dir: str | os.PathLike | None = None) -> dict:
    """Score the unknown decision on photos of known people and of strangers.

    Photos where no face is found are counted apart (``no_face``), not as rejections.

    Returns:
        ``{"known": int, "strangers": int, "no_face": {"known", "strangers"}, "rules": [...]}``, one
        rule entry per setting tried: ``rule`` (``"probability"``, ``"distance"`` or ``"model"``),
        ``threshold``, ``distance_threshold``, ``known_rejected`` (share of known people's photos
        answered ``unknown``), ``known_misnamed`` (named, but wrongly) and ``strangers_rejected``
        (share of strangers' photos answered ``unknown``: higher is better).

    Raises:
        ValueError: ``known`` has labels the model lacks, or ``strangers`` has labels the model knows.
    """
    known_set, stranger_set = _dataset(known), _dataset(strangers)
    known_samples, stranger_samples = known_set.samples(), stranger_set.samples()
    foreign = sorted({sample.label for sample in known_samples} - set(classifier.labels))
    if foreign:
        raise ValueError(f"known photos have labels the model lacks: {foreign}")
    familiar = sorted({sample.label for sample in stranger_samples} & set(classifier.labels))
    if familiar:
        raise ValueError(f"stranger photos have labels the model knows: {familiar}")
    known_scores = _scores(classifier, known_samples, cache_dir)
    stranger_scores = _scores(classifier, stranger_samples, cache_dir)
    label_index = {label: index for index, label in enumerate(classifier.labels)}
    truth = np.asarray([label_index[known_samples[row].label] for row in known_scores[0]], dtype=int)

    settings = [("probability", threshold, None) for threshold in thresholds]
    if classifier.prototypes is not None:
        settings += [("distance", 0.0, distance) for distance in distance_thresholds]
    settings.append(("model", classifier.threshold, classifier.distance_threshold))
    return {
        "known": len(known_scores[0]),
        "strangers": len(stranger_scores[0]),
        "no_face": {"known": len(known_samples) - len(known_scores[0]), "strangers": len(stranger_samples) - len(stranger_scores[0])},
        "rules": [_rates(rule, threshold, distance, known_scores, stranger_scores, truth) for rule, threshold, distance in settings],
    }


def _dataset(data: str | os.PathLike | Dataset) -> Dataset:
    return data if isinstance(data, Dataset) else Dataset(data)


def _scores(classifier: Classifier, samples, cache_dir) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Sample indices with a face, their probabilities and distances (as the classifier scores them)."""
    label_index = {label: index for index, label in enumerate(sorted({sample.label for sample in samples}))}
    views = scoring_views(classifier.config.test_time_flip)
    table = compute_features(classifier.pipeline, samples, label_index, cache=Cache(cache_dir), views=views)
    if not len(table):
        return np.zeros((0,), int), np.zeros((0, len(classifier.labels))), None
    return classifier.sample_scores(table)


def _rates(rule: str, threshold: float, distance_threshold: float | None, known_scores, stranger_scores, truth) -> dict:
    known_named = _named(known_scores, threshold, distance_threshold)
    stranger_named = _named(stranger_scores, threshold, distance_threshold)
    best = known_scores[1].argmax(axis=1) if len(truth) else np.zeros((0,), int)
    return {
        "rule": rule,
        "threshold": threshold,
        "distance_threshold": distance_threshold,
        "known_rejected": _share(~known_named),
        "known_misnamed": _share(known_named & (best != truth)),
        "strangers_rejected": _share(~stranger_named),
    }


def _named(scores, threshold: float, distance_threshold: float | None) -> np.ndarray:
    """Whether each face gets a name (is not "unknown") under these thresholds."""
    _, probabilities, distances = scores
    return np.asarray([named for _, _, named in top_labels(probabilities, distances, threshold, distance_threshold)], dtype=bool)


def _share(flags: np.ndarray) -> float | None:
    return round(float(np.mean(flags)), 4) if len(flags) else None
