"""The Keras backbones' pipeline: faces (or whole images) through the frozen part of VGG16 or MobileNet.

A pipeline bundles the steps that do not learn: find faces (face mode) or take the whole image,
cut each face out as the backbone's input, and run the frozen part of the backbone. Training,
evaluation and prediction all go through the same pipeline, so a model sees at prediction time
exactly the kind of input it was trained on (see :class:`facerec.backbones.base.Pipeline`).
"""

from __future__ import annotations

import hashlib
import json
import threading

import cv2
import keras
import numpy as np

from facerec.backbones import applications, fast_inference, networks
from facerec.detection import Face, FaceSettings, get_detector
from facerec.faces import crop_face

BATCH_SIZE = 32
# Part of the network signature: bump it when the frozen network's outputs change for the same settings.
# 3: the frozen part outputs both the average and the max pooling of each feature layer.
# 4: and the 2x2 grid of regional averages (issue 15).
NETWORK_VERSION = 4

_shared_pipelines: dict[tuple, "KerasPipeline"] = {}
_shared_lock = threading.Lock()


class KerasPipeline:
    """Faces (or whole images) through the frozen part of a Keras backbone.

    Attributes:
        frozen: images in, the outputs cached per image out.
        features: cached outputs in, the feature vector out (holds the fine-tuned layers).
        distance_threshold: for pipelines whose features are a metric embedding (same person,
            small distance), the default distance beyond which a face is unknown; None here.
    """

    distance_threshold: float | None = None

    def __init__(self, *, backbone: str, weights: applications.BackboneWeights, image_size: int, faces: FaceSettings,
                 trainable_layers: int = 0, frozen: keras.Model | None = None, features: keras.Model | None = None):
        self.spec = applications.get_spec(backbone)
        self.backbone = backbone
        self.weights = weights
        self.image_size = image_size
        self.faces = faces
        self.trainable_layers = trainable_layers
        if frozen is None or features is None:
            trunk = networks.build_trunk(self.spec, weights, image_size)
            frozen, features = networks.build_feature_networks(self.spec, trunk, trainable_layers)
        self.frozen = frozen
        self.features = features
        self._lock = threading.Lock()
        self._forward: fast_inference.FrozenForward | None = None  # made on first use

    @classmethod
    def build(cls, *, backbone: str, weights, image_size: int, faces: FaceSettings, trainable_layers: int = 0) -> KerasPipeline:
        """Resolve ``weights`` (see :func:`facerec.applications.resolve_weights`) and build the networks.

        A fully frozen pipeline is shared by every training run in the process that asks for the
        same one: nothing in it ever changes, and building VGG16 takes seconds. One with
        fine-tuned layers is built anew, since training changes those layers.
        """
        resolved = applications.resolve_weights(backbone, weights, image_size=image_size)
        if trainable_layers:
            return cls(backbone=backbone, weights=resolved, image_size=image_size, faces=faces, trainable_layers=trainable_layers)
        key = (backbone, resolved.fingerprint, resolved.path, image_size, faces)
        with _shared_lock:
            if key not in _shared_pipelines:
                _shared_pipelines[key] = cls(backbone=backbone, weights=resolved, image_size=image_size, faces=faces)
            return _shared_pipelines[key]

    @classmethod
    def from_saved(cls, model: keras.Model, config: dict) -> KerasPipeline:
        """The pipeline of a loaded end-to-end model (its weights come from the file, not rebuilt)."""
        weights = config["backbone_weights"]
        return cls(
            backbone=config["backbone"],
            weights=applications.BackboneWeights(weights["kind"], weights["description"], weights["fingerprint"]),
            image_size=config["image_size"],
            faces=FaceSettings.from_dict(config["faces"]),
            trainable_layers=config.get("trainable_layers", 0),
            frozen=model.get_layer(networks.FROZEN_NAME),
            features=model.get_layer(networks.FEATURES_NAME),
        )

    @property
    def feature_size(self) -> int:
        return int(self.features.output.shape[-1])

    @property
    def output_count(self) -> int:
        """How many arrays :meth:`frozen_outputs` returns (and the cache keeps per image)."""
        return len(self.frozen.outputs)

    def signature(self) -> str:
        """Identifies everything that determines the cached outputs; part of every cache key."""
        return _digest({"network": self.network_signature(), "faces": self.faces.to_dict()})

    def network_signature(self) -> str:
        """Identifies the frozen network alone (architecture and weights), whatever feeds it."""
        return _digest({
            "backbone": self.spec.name,  # the network's name: a registered variant pooling otherwise shares its cache
            "weights": self.weights.fingerprint,
            "image_size": self.image_size,
            "trainable_layers": self.trainable_layers,
            "feature_layers": self.spec.feature_layers,
            # What the frozen network outputs, as built: a model saved by an earlier version of
            # facerec (fewer poolings) then keeps its cached outputs and fast-path copy apart.
            "outputs": [list(output.shape[1:]) for output in self.frozen.outputs],
            "version": NETWORK_VERSION,
        })

    @property
    def forward(self) -> fast_inference.FrozenForward:
        """The frozen forward pass: LiteRT once converted where it is the faster (see
        :mod:`facerec.backbones.fast_inference`), else Keras."""
        with self._lock:
            if self._forward is None:
                key = _digest({"network": self.network_signature(), "converter": fast_inference.converter_versions()})
                self._forward = fast_inference.FrozenForward(self.frozen, key=f"{self.backbone}-{self.image_size}-{key}")
            return self._forward

    @classmethod
    def describe_weights(cls, backbone: str, weights, image_size: int) -> str:
        """In words, the weights ``build`` would start from (see :func:`applications.resolve_weights`).

        Raises:
            ValueError: they cannot be had (named, with what to do instead).
        """
        return applications.resolve_weights(backbone, weights, image_size=image_size).description

    @property
    def fast_path_converted(self) -> bool:
        """Whether the fast runtime's copy of the frozen network is on this machine already."""
        return fast_inference.available() and self.forward.converted

    def prepare_fast_path(self) -> bool:
        """Switch the frozen pass to LiteRT now if it is the faster on this CPU, converting the
        network and timing it against Keras once per machine if needed (tens of seconds); False
        where the fast path is off, failed or lost the race."""
        return self.forward.prepare()

    def detector_signature(self) -> str:
        return self.faces.detection_signature()

    def locate(self, image: np.ndarray) -> list[Face | None]:
        """The faces to classify, largest first (face mode), or ``[None]`` for the whole image."""
        if not self.faces.enabled:
            return [None]
        return list(get_detector(self.faces).detect(image))

    def prepare(self, image: np.ndarray, face: Face | None) -> np.ndarray:
        """The backbone's input for one face (or the whole image): a square RGB ``uint8`` crop."""
        if face is None:
            return cv2.resize(image, (self.image_size, self.image_size), interpolation=cv2.INTER_AREA)
        return crop_face(image, face, size=self.image_size, margin=self.faces.margin, align=self.faces.align,
                         grayscale=self.faces.grayscale)

    def frozen_outputs(self, crops: np.ndarray) -> list[np.ndarray]:
        """Run crops ``(n, size, size, 3)`` through the frozen part, in batches.

        Calls are serialised: TensorFlow already spreads one batch over every core, and a shared
        pipeline must not trace its function from two threads at once.
        """
        results = []
        for start in range(0, len(crops), BATCH_SIZE):
            batch = np.asarray(crops[start : start + BATCH_SIZE], dtype="float32")
            forward = self.forward
            with self._lock:
                results.append(forward(batch))
        return [np.concatenate([batch[index] for batch in results]) for index in range(len(results[0]))]

    def end_to_end_model(self, head: keras.Model) -> keras.Model:
        """Image in, probabilities out: the model that is saved and shared."""
        return networks.build_end_to_end_model(self.frozen, self.features, head)

    def config(self) -> dict:
        """What :meth:`from_saved` needs, for the model's ``config.json``."""
        return {
            "backbone": self.backbone,
            "backbone_weights": self.weights.to_dict(),
            "image_size": self.image_size,
            "preprocessing": self.spec.preprocessing,
            "feature_layers": list(self.spec.feature_layers),
            "pooling": list(self.spec.pooling),
            "trainable_layers": self.trainable_layers,
            "faces": self.faces.to_dict(),
        }


def _digest(described: dict) -> str:
    return hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()[:24]
