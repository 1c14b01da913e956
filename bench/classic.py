"""The baseline: the classic Keras transfer-learning recipe of the seed tutorials, written once.

What a user writes without facerec (Keras "Transfer learning & fine-tuning" guide, TensorFlow's
transfer-learning tutorial):

    train, validation = keras.utils.image_dataset_from_directory(folder, validation_split=0.2,
                                                                 subset="both", seed=..., image_size=(224, 224))
    base = keras.applications.VGG16(include_top=False, weights=...); base.trainable = False
    x = augmentation(inputs)                      # RandomFlip, RandomRotation, RandomZoom
    x = keras.applications.vgg16.preprocess_input(x)
    x = base(x, training=False)
    x = layers.GlobalAveragePooling2D()(x)
    outputs = head(x)                             # dropout + softmax layer
    model.fit(train, epochs=10, validation_data=validation)

The whole image goes in (no face cropping), augmentation is redrawn every epoch, so the frozen
backbone runs on every image in every epoch. The backbone is built with the same weights as
facerec's (through :func:`facerec.backbones.applications.resolve_weights`, so ``"auto"`` gives the offline HED
trunk here and ImageNet where it can be downloaded) and the head is facerec's own softmax head,
so that the comparison measures the recipe, not the weights or the head.
"""

from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from facerec.backbones import applications, networks

IMAGE_SIZE = 224
BATCH_SIZE = 32


@dataclasses.dataclass
class ClassicRun:
    """A trained classic model and what its training took."""

    model: keras.Model
    class_names: list[str]
    seconds: float
    epochs: int
    training_images: int
    validation_images: int
    history: dict
    weights: str

    @property
    def validation_accuracy(self) -> float:
        values = self.history.get("val_accuracy") or [float("nan")]
        return float(values[-1])


def augmentation() -> keras.Sequential:
    """The recipe's on-the-fly augmentation, redrawn every epoch."""
    return keras.Sequential([layers.RandomFlip("horizontal"), layers.RandomRotation(0.1), layers.RandomZoom(0.1)],
                            name="augmentation")


def build_model(num_classes: int, *, weights: str | None = applications.AUTO, image_size: int = IMAGE_SIZE,
                learning_rate: float = 1e-3, dropout: float = 0.2) -> tuple[keras.Model, str]:
    """The recipe's model: augmentation, VGG16 preprocessing, frozen VGG16, average pooling, head.

    Returns the compiled model and the description of the backbone weights it got.
    """
    resolved = applications.resolve_weights("vgg16", weights, image_size=image_size)
    base = networks.build_trunk(applications.get_spec("vgg16"), resolved, image_size)  # keras.applications.VGG16(include_top=False)
    base.trainable = False
    inputs = keras.Input(shape=(image_size, image_size, 3))
    hidden = augmentation()(inputs)
    hidden = keras.applications.vgg16.preprocess_input(hidden)
    hidden = base(hidden, training=False)
    hidden = layers.GlobalAveragePooling2D()(hidden)
    head = networks.build_head(int(hidden.shape[-1]), num_classes, kind="softmax", dropout=dropout)
    model = keras.Model(inputs, head(hidden), name="classic")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model, resolved.description


def train(folder: str | os.PathLike, *, epochs: int = 10, validation_split: float = 0.2, seed: int = 1337,
          weights: str | None = applications.AUTO, image_size: int = IMAGE_SIZE, learning_rate: float = 1e-3) -> ClassicRun:
    """Train the recipe on ``<label>/<image>`` images; the time covers loading, building and fitting."""
    started = time.perf_counter()
    keras.utils.set_random_seed(seed)
    common = dict(image_size=(image_size, image_size), batch_size=BATCH_SIZE, seed=seed, label_mode="int", verbose=False)
    if validation_split:
        training, validation = keras.utils.image_dataset_from_directory(folder, validation_split=validation_split, subset="both", **common)
    else:
        training, validation = keras.utils.image_dataset_from_directory(folder, **common), None
    class_names = list(training.class_names)
    training_images = int(sum(int(labels.shape[0]) for _, labels in training))
    validation_images = int(sum(int(labels.shape[0]) for _, labels in validation)) if validation is not None else 0
    model, description = build_model(len(class_names), weights=weights, image_size=image_size, learning_rate=learning_rate)
    history = model.fit(training.prefetch(tf.data.AUTOTUNE),
                        validation_data=validation.prefetch(tf.data.AUTOTUNE) if validation is not None else None,
                        epochs=epochs, verbose=0)
    return ClassicRun(model, class_names, time.perf_counter() - started, epochs, training_images, validation_images,
                      {key: [float(value) for value in values] for key, values in history.history.items()}, description)


def evaluate(run: ClassicRun, folder: str | os.PathLike) -> float:
    """Test accuracy of a classic model on ``<label>/<image>`` images (labels named as in training)."""
    test = keras.utils.image_dataset_from_directory(Path(folder), class_names=run.class_names, shuffle=False, label_mode="int",
                                                    image_size=run.model.input_shape[1:3], batch_size=BATCH_SIZE, verbose=False)
    correct = total = 0
    for images, labels in test:
        predicted = np.argmax(run.model.predict_on_batch(images), axis=-1)
        correct += int(np.sum(predicted == labels.numpy()))
        total += int(labels.shape[0])
    return correct / total
