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

import keras
import numpy as np
import tensorflow as tf

from facerec import backbones, devices
from facerec.augment import MIRROR, ORIGINAL, scoring_views
from facerec.backbones import networks
from facerec.cache import Cache
from facerec.classifier import Classifier
from facerec.config import DEFAULT_THRESHOLD, ModelConfig
from facerec.dataset import Dataset, Sample, check_trainable, split_samples
from facerec.features import FeatureTable, compute_features
from facerec.labels import natural_key
from facerec.prototypes import Prototypes
from facerec.settings import TrainingSettings

logger = logging.getLogger(__name__)

VALIDATION_BATCH_SIZE = 1024
# Backbone passes (images times views) from which converting for the fast path pays back (see _prepare_fast_path).
FAST_PATH_MIN_PASSES = 1500


@dataclasses.dataclass(frozen=True)
class TrainingUpdate:
    """Progress of a training run, for progress bars and live curves.

    ``stage`` is ``"preparing"`` (loading the backbone, converting it for the fast path: no
    count), ``"features"`` (``done`` of ``total`` images), ``"training"`` (``done`` of
    ``total`` epochs, with that epoch's ``metrics``: ``loss``, ``accuracy``, ``val_loss``,
    ``val_accuracy``) or ``"evaluating"``. ``message`` says it in words.
    """

    stage: str
    done: int
    total: int
    message: str
    metrics: dict | None = None


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
        image_size: input side in pixels (default 224).
        faces: face mode: find, align and crop faces (default True); False for general images.
        face_margin, align_faces: how faces are cropped.
        trainable_layers: fine-tune this many top layers of the backbone (default 0).
        head: ``"softmax"`` (one layer, default) or ``"dense"`` (hidden ``dense_units``).
        dense_units, dropout: the head's hidden layers and dropout rate.
        epochs, batch_size, learning_rate: as in Keras (defaults 50, 32, 0.001).
        optimizer: ``"adam"`` (default), ``"rmsprop"`` or ``"sgd"`` (with momentum 0.9).
        augment: extra augmented views per training image (flip, rotation, zoom, brightness),
            each computed once and cached (default 0).
        validation_split: share of each label held out (default 0.2) when there is no ``test/``.
        early_stopping_patience: epochs without a better validation loss before stopping; the
            best epoch's weights are kept.
        seed: for the split and the head's initialisation.
        threshold: below this probability :meth:`Classifier.recognize` says ``"unknown"`` (default
            0.5; 0 for backbones with a distance rule, such as dlib, where distance decides).
        test_time_flip: average each prediction with the mirrored face's.

    Returns:
        A :class:`~facerec.classifier.Classifier`; ``classifier.metrics`` holds the validation
        report and ``classifier.report`` what happened (device, time, images without faces).

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
    head, history = _fit_head(pipeline, training_table, validation_table, len(labels), config, notify, stop)

    threshold = _default_threshold(pipeline) if config.threshold is None else config.threshold
    classifier = Classifier(pipeline=pipeline, head=head, prototypes=_prototypes(pipeline, training_table, labels), config=ModelConfig(
        labels=labels, threshold=threshold, distance_threshold=pipeline.distance_threshold,
        test_time_flip=config.test_time_flip, **pipeline.config(),
        head={"kind": config.head, "dense_units": list(config.dense_units) if config.head == "dense" else [], "dropout": config.dropout},
        training=_training_record(config, history, device, time.monotonic() - started),
        dataset={label: {"train": sum(s.label == label for s in training_samples), "validation": sum(s.label == label for s in validation_samples)} for label in labels},
    ))
    notify(TrainingUpdate("evaluating", 0, 1, "scoring the validation images"))
    if len(validation_table) or validation_table.no_face:
        classifier.config.metrics = classifier.score_features(validation_table, validation_samples)
    classifier.report = {
        "device": device,
        "weights": pipeline.weights.description,
        "seconds": round(time.monotonic() - started, 2),
        "forward_passes": training_table.computed + validation_table.computed,
        "images": len(everything),
        "no_face": [str(sample.path) for sample in training_table.no_face + validation_table.no_face],
        "unreadable": [(str(sample.path), reason) for sample, reason in training_table.unreadable + validation_table.unreadable],
        "history": history,
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
    view: 5.3 against 4.3 per second), and say so; a smaller job runs as it is."""
    if pipeline.fast_path_converted or passes < FAST_PATH_MIN_PASSES:
        return
    notify(TrainingUpdate("preparing", 0, 0, "converting the backbone for the fast CPU path: once per machine, "
                                             "about a minute"))
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


def _fit_head(pipeline, training: FeatureTable, validation: FeatureTable, num_classes: int, config: TrainingSettings,
              notify, stop) -> tuple[keras.Model, list[dict]]:
    keras.utils.set_random_seed(config.seed)
    strategy = devices.training_strategy()
    with strategy.scope():
        head = networks.build_head(pipeline.feature_size, num_classes, kind=config.head,
                                   dense_units=config.dense_units, dropout=config.dropout)
        model = networks.build_training_model(pipeline.features, head)
        # One call runs a whole epoch: per-batch Python overhead would otherwise dominate a
        # head this small (measured: 131 ms per epoch of 300 rows without, 86 ms with).
        steps_per_epoch = max(1, -(-len(training) // (config.batch_size * strategy.num_replicas_in_sync)))
        model.compile(optimizer=_optimizer(config), loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                      steps_per_execution=steps_per_epoch)
    has_validation = len(validation) > 0
    batch_size = config.batch_size * strategy.num_replicas_in_sync
    tracker = _BestEpoch("val_loss" if has_validation else "loss", config.early_stopping_patience, notify, stop, config.epochs)
    model.fit(
        _dataset(training, batch_size, shuffle_seed=config.seed),
        validation_data=_dataset(validation, VALIDATION_BATCH_SIZE) if has_validation else None,
        epochs=config.epochs, shuffle=False, verbose=0, callbacks=[tracker],
    )
    return head, tracker.history


def _dataset(table: FeatureTable, batch_size: int, *, shuffle_seed: int | None = None) -> tf.data.Dataset:
    """The rows as a cached tf.data pipeline (feeding numpy arrays to fit costs 3x more per epoch)."""
    inputs = tuple(table.inputs) if len(table.inputs) > 1 else table.inputs[0]
    dataset = tf.data.Dataset.from_tensor_slices((inputs, table.labels)).cache()
    if shuffle_seed is not None:
        dataset = dataset.shuffle(len(table), seed=shuffle_seed, reshuffle_each_iteration=True)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def _optimizer(config: TrainingSettings) -> keras.optimizers.Optimizer:
    if config.optimizer == "adam":
        return keras.optimizers.Adam(config.learning_rate)
    if config.optimizer == "rmsprop":
        return keras.optimizers.RMSprop(config.learning_rate)
    return keras.optimizers.SGD(config.learning_rate, momentum=0.9)


class _BestEpoch(keras.callbacks.Callback):
    """Early stopping that keeps the best epoch's weights, reports every epoch, and obeys stop.

    Keras' EarlyStopping restores the best weights only when it is the one that stops; this
    restores them however training ends (patience, last epoch, or the user's stop).
    """

    def __init__(self, monitor: str, patience: int, notify, stop: threading.Event | None, epochs: int):
        super().__init__()
        self.monitor, self.patience, self.notify, self.stop, self.epochs = monitor, patience, notify, stop, epochs
        self.history: list[dict] = []
        self.best, self.best_weights, self.wait = np.inf, None, 0

    def on_epoch_end(self, epoch, logs=None):
        metrics = {key: float(value) for key, value in (logs or {}).items()}
        self.history.append({"epoch": epoch + 1, **metrics})
        self.notify(TrainingUpdate("training", epoch + 1, self.epochs, _describe_epoch(epoch + 1, self.epochs, metrics), metrics))
        current = metrics.get(self.monitor, np.inf)
        if current < self.best:
            self.best, self.best_weights, self.wait = current, self.model.get_weights(), 0
        else:
            self.wait += 1
        if self.wait >= self.patience or (self.stop is not None and self.stop.is_set()):
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.best_weights is not None:
            self.model.set_weights(self.best_weights)


def _describe_epoch(epoch: int, epochs: int, metrics: dict) -> str:
    parts = [f"epoch {epoch}/{epochs}"]
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        if key in metrics:
            parts.append(f"{key} {metrics[key]:.3f}")
    return ", ".join(parts)


def _training_record(config: TrainingSettings, history: list[dict], device: str, seconds: float) -> dict:
    settings = dataclasses.asdict(config)
    settings["dense_units"] = list(config.dense_units)
    return {**settings, "epochs_run": len(history), "device": device, "seconds": round(seconds, 2)}
