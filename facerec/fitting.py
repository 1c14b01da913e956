"""Fitting a head on cached features: per epoch only the head (and any fine-tuned layers) runs.

:func:`fit_head` trains on the training rows with early stopping on the validation rows and keeps
the best epoch's weights; :func:`refit_head` then trains a fresh head on every row for the epoch
count that validation chose (see :func:`facerec.training.train`).
"""

from __future__ import annotations

import dataclasses
import threading

import keras
import numpy as np
import tensorflow as tf

from facerec import devices, graph_memory
from facerec.backbones import networks
from facerec.features import FeatureTable
from facerec.settings import TrainingSettings

VALIDATION_BATCH_SIZE = 1024


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


def fit_head(pipeline, training: FeatureTable, validation: FeatureTable, num_classes: int, config: TrainingSettings,
             notify, stop) -> tuple[keras.Model, list[dict]]:
    """The head trained on ``training``, early-stopped on ``validation`` (best epoch's weights kept)."""
    head, model, batch_size = _build_fit(pipeline, training, num_classes, config)
    has_validation = len(validation) > 0
    tracker = _BestEpoch(monitored(config.early_stopping_metric, has_validation), config.early_stopping_patience, notify, stop,
                         config.epochs)
    _fit(model, _dataset(training, batch_size, shuffle_seed=config.seed, balance=config.balance_classes),
         validation_data=_dataset(validation, VALIDATION_BATCH_SIZE) if has_validation else None,
         epochs=config.epochs, callbacks=[tracker])
    return head, tracker.history


def refit_head(pipeline, table: FeatureTable, num_classes: int, epochs: int, config: TrainingSettings,
               notify, stop) -> keras.Model:
    """A fresh head (same seed) trained on every row for the ``epochs`` that validation chose.

    Fine-tuned backbone layers (``trainable_layers``) are not reset: they go on from where
    :func:`fit_head` left them.
    """
    head, model, batch_size = _build_fit(pipeline, table, num_classes, config)
    progress = _RefitProgress(epochs, len(np.unique(table.sample_rows)), notify, stop)
    _fit(model, _dataset(table, batch_size, shuffle_seed=config.seed, balance=config.balance_classes), epochs=epochs,
         callbacks=[progress])
    return head


def _fit(model: keras.Model, dataset: tf.data.Dataset, **options) -> None:
    """``model.fit`` (silent, the dataset already shuffled), then let go of what TensorFlow keeps of
    its traced steps (see :mod:`facerec.graph_memory`), however the fit ends."""
    try:
        model.fit(dataset, shuffle=False, verbose=0, **options)
    finally:
        graph_memory.release_all_reduce_gradients()


def _build_fit(pipeline, training: FeatureTable, num_classes: int, config: TrainingSettings):
    """``(head, training model, batch size)``: a new head, standardised on ``training``, compiled."""
    keras.utils.set_random_seed(config.seed)
    strategy = devices.training_strategy()
    with strategy.scope():
        head = networks.build_head(pipeline.feature_size, num_classes, kind=config.head, dense_units=config.dense_units,
                                   dropout=config.dropout, l2=config.l2, standardize=config.standardize)
        networks.adapt_standardization(head, pipeline.features, training.inputs)
        model = networks.build_training_model(pipeline.features, head)
        # One call runs a whole epoch: per-batch Python overhead would otherwise dominate a
        # head this small (measured: 131 ms per epoch of 300 rows without, 86 ms with).
        batch_size = config.batch_size * strategy.num_replicas_in_sync
        steps_per_epoch = max(1, -(-len(training) // batch_size))
        model.compile(optimizer=_optimizer(config), loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                      steps_per_execution=steps_per_epoch)
    return head, model, batch_size


def monitored(metric: str, has_validation: bool = True) -> str:
    """The history key early stopping watches for ``metric`` (``"accuracy"`` or ``"loss"``):
    the validation split's, or the training rows' where there is no validation split."""
    return f"val_{metric}" if has_validation else metric


def is_better(value: float, best: float | None, monitor: str) -> bool:
    """Whether an epoch scoring ``value`` on ``monitor`` replaces the best so far (``best``, None
    before the first epoch). A loss must be lower. An accuracy must be at least as high: a tie
    goes to the later epoch, further trained, since a handful of validation photos ties often
    and accuracy keeps rising after the validation loss has turned (bench/results/accuracy_variants.md)."""
    if best is None:
        return True
    return value >= best if monitor.endswith("accuracy") else value < best


def best_epoch(history: list[dict], metric: str = "accuracy") -> int:
    """The epoch (1-based) early stopping kept: the best on the validation ``metric`` (see :func:`is_better`)."""
    monitor, best, kept = monitored(metric), None, history[0]
    for row in history:
        if is_better(row[monitor], best, monitor):
            best, kept = row[monitor], row
    return int(kept["epoch"])


def _dataset(table: FeatureTable, batch_size: int, *, shuffle_seed: int | None = None, balance: bool = False) -> tf.data.Dataset:
    """The rows as a cached tf.data pipeline (feeding numpy arrays to fit costs 3x more per epoch);
    with ``balance``, each row weighted by :func:`class_balance_weights`."""
    inputs = tuple(table.inputs) if len(table.inputs) > 1 else table.inputs[0]
    columns = (inputs, table.labels, class_balance_weights(table.labels)) if balance else (inputs, table.labels)
    dataset = tf.data.Dataset.from_tensor_slices(columns).cache()
    if shuffle_seed is not None:
        dataset = dataset.shuffle(len(table), seed=shuffle_seed, reshuffle_each_iteration=True)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def class_balance_weights(labels: np.ndarray) -> np.ndarray:
    """Per row, ``rows / (labels × rows of its label)``: every label weighs the same in the loss,
    however many photos it has, and the weights average 1 (so the learning rate means the same)."""
    _, label_of_row, counts = np.unique(np.asarray(labels), return_inverse=True, return_counts=True)
    return (len(label_of_row) / (len(counts) * counts))[label_of_row].astype("float32")


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
        self.best, self.best_weights, self.wait = None, None, 0

    def on_epoch_end(self, epoch, logs=None):
        metrics = {key: float(value) for key, value in (logs or {}).items()}
        self.history.append({"epoch": epoch + 1, **metrics})
        self.notify(TrainingUpdate("training", epoch + 1, self.epochs, _describe_epoch(epoch + 1, self.epochs, metrics), metrics))
        current = metrics.get(self.monitor)
        if current is not None and is_better(current, self.best, self.monitor):
            self.best, self.best_weights, self.wait = current, self.model.get_weights(), 0
        else:
            self.wait += 1
        if self.wait >= self.patience or (self.stop is not None and self.stop.is_set()):
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.best_weights is not None:
            self.model.set_weights(self.best_weights)


class _RefitProgress(keras.callbacks.Callback):
    """Progress of the refit on every photo (no metrics: the live curves stay the validated run's)."""

    def __init__(self, epochs: int, images: int, notify, stop: threading.Event | None):
        super().__init__()
        self.epochs, self.images, self.notify, self.stop = epochs, images, notify, stop

    def on_epoch_end(self, epoch, logs=None):
        self.notify(TrainingUpdate("training", epoch + 1, self.epochs,
                                   f"refitting on all {self.images} photos: epoch {epoch + 1}/{self.epochs}"))
        if self.stop is not None and self.stop.is_set():
            self.model.stop_training = True


def _describe_epoch(epoch: int, epochs: int, metrics: dict) -> str:
    parts = [f"epoch {epoch}/{epochs}"]
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        if key in metrics:
            parts.append(f"{key} {metrics[key]:.3f}")
    return ", ".join(parts)
