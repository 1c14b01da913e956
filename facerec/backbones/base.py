"""The pipeline protocol: what every backbone implements, from an image to the head's inputs.

A pipeline bundles the steps that do not learn. Training (:mod:`facerec.training`), scoring
(:mod:`facerec.classifier`) and the feature cache (:mod:`facerec.features`) use a backbone only
through this protocol, so adding a backbone means one module that implements it and one entry in
the registry (:mod:`facerec.backbones`).

A face's way through a pipeline::

    faces = pipeline.locate(image)                            # largest first; [None] = whole image
    crops = np.stack([pipeline.prepare(image, face) for face in faces])
    outputs = pipeline.frozen_outputs(crops)                  # cached per image and view
    probabilities = head(pipeline.features(outputs))          # the trained part
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:  # typing only: keras is heavy to import
    import keras

    from facerec.backbones.applications import BackboneWeights
    from facerec.detection import Face, FaceSettings


class Pipeline(Protocol):
    """A frozen backbone with its face handling.

    Attributes:
        backbone: the registry name (``"vgg16"``, ``"dlib"``, ...).
        weights: which pretrained weights, in words and as a fingerprint for caches.
        image_size: side of the square crops :meth:`prepare` makes.
        faces: the face-mode settings in use.
        trainable_layers: backbone layers fine-tuned with the head (0: frozen).
        features: a Keras model from the cached frozen outputs to the feature vector.
        feature_size: length of that vector.
        output_count: how many arrays :meth:`frozen_outputs` returns per crop.
        distance_threshold: for a metric embedding (same person, small distance), the default
            distance beyond which a face is unknown; None for other backbones.
        fast_path_converted: a faster runtime's copy of the frozen network is on this machine.
    """

    backbone: str
    weights: BackboneWeights
    image_size: int
    faces: FaceSettings
    trainable_layers: int
    features: keras.Model
    feature_size: int
    output_count: int
    distance_threshold: float | None

    @classmethod
    def build(cls, *, backbone: str, weights, image_size: int, faces: FaceSettings,
              trainable_layers: int = 0) -> Pipeline:
        """The pipeline for training (shared where nothing in it trains)."""

    @classmethod
    def from_saved(cls, model: keras.Model, config: dict) -> Pipeline:
        """The pipeline of a loaded model, from its Keras model and ``config.json``."""

    @classmethod
    def describe_weights(cls, backbone: str, weights, image_size: int) -> str:
        """In words, the weights :meth:`build` would start from."""

    def signature(self) -> str:
        """Identifies everything that determines the cached outputs; part of every cache key."""

    fast_path_converted: bool

    def prepare_fast_path(self) -> bool:
        """Switch the frozen pass to a faster runtime now, converting once per machine if needed
        (slow: call it where that is shown, see :mod:`facerec.backbones.fast_inference`); False
        where there is none or it is not the faster here."""

    def detector_signature(self) -> str:
        """Identifies what finds the faces; part of the cache key of detected boxes."""

    def locate(self, image: np.ndarray) -> list[Face | None]:
        """The faces to classify, largest first, or ``[None]`` for the whole image."""

    def prepare(self, image: np.ndarray, face: Face | None) -> np.ndarray:
        """The backbone's square RGB ``uint8`` input for one face (or the whole image)."""

    def frozen_outputs(self, crops: np.ndarray) -> list[np.ndarray]:
        """Run crops ``(n, size, size, 3)`` through the frozen part: ``output_count`` arrays of n rows."""

    def end_to_end_model(self, head: keras.Model) -> keras.Model:
        """The Keras model that is saved and shared, ending in ``head``."""

    def config(self) -> dict:
        """What :meth:`from_saved` needs, for the model's ``config.json``."""
