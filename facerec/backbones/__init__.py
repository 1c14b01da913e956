"""The backbones facerec can train on, by name: one registry of what each is, is for and takes.

    backbone = get_backbone("dlib")
    backbone.title, backbone.purpose         # words for people
    pipeline = backbone.pipeline_class().build(backbone="dlib", weights="auto", image_size=150, faces=FaceSettings())

Each backbone is one module implementing :class:`facerec.backbones.base.Pipeline` (``keras``:
VGG16 and MobileNet from ``keras.applications``; ``dlib``: dlib's face-recognition network). The
registry names them lazily, so importing it costs nothing (no TensorFlow, no dlib).
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util

AUTO = "auto"  # training setting: the recommended backbone for the mode (see default_backbone)
VGG16, MOBILENET, DLIB = "vgg16", "mobilenet", "dlib"
DEFAULT_IMAGE_SIZE = 224  # keras.applications' input side, which their ImageNet weights were trained at


@dataclasses.dataclass(frozen=True)
class Backbone:
    """One registered backbone.

    Attributes:
        name: what settings and saved models call it.
        title: its name for people.
        purpose: what it is for, in one line (shown beside the choice in the app).
        pipeline: ``"module:Class"`` of its :class:`~facerec.backbones.base.Pipeline`.
        faces_only: it recognises faces only (needs face mode).
        takes_images: the saved Keras model's input is an image (else an embedding made outside Keras).
        keras_weights: its weights are chosen like keras.applications' (ImageNet, a file, ...).
        test_time_flip: the default of averaging each prediction with the mirrored face's (it
            doubles the backbone's work per face).
        face_image_size: the default input side in face mode (whole images: ``DEFAULT_IMAGE_SIZE``).
    """

    name: str
    title: str
    purpose: str
    pipeline: str
    faces_only: bool = False
    takes_images: bool = True
    keras_weights: bool = True
    test_time_flip: bool = True
    face_image_size: int = DEFAULT_IMAGE_SIZE

    def default_image_size(self, faces: bool) -> int:
        """The input side a training uses when its settings leave ``image_size`` unset."""
        return self.face_image_size if faces else DEFAULT_IMAGE_SIZE

    def pipeline_class(self):
        """The pipeline class (imports the backbone's module, and so TensorFlow)."""
        module, name = self.pipeline.split(":")
        return getattr(importlib.import_module(module), name)


BACKBONES: dict[str, Backbone] = {
    DLIB: Backbone(
        DLIB, "dlib face-recognition ResNet",
        "Recommended for people: a network trained on 3 million faces, and it answers “unknown” for strangers.",
        # No mirror view by default: dlib's network was trained for one view per face; the mirror
        # doubled its cost and changed no answer (bench/results/latency.md: 1.00 test accuracy
        # either way), and face_recognition, the baseline it is held to, uses one.
        "facerec.backbones.dlib:DlibPipeline", faces_only=True, takes_images=False, keras_weights=False,
        test_time_flip=False),
    VGG16: Backbone(
        VGG16, "VGG16",
        "The classic transfer-learning network: for objects, pets and scenes (ImageNet weights where they download).",
        # Faces at 160 px: half the frozen pass's work (every photo, every live face) for a
        # validation accuracy within the seeds' spread of 224's (-2.2 and -1.0 points on
        # five_celebrity_faces and ORL); whole images keep 224, which lost 2.5 points at 160
        # (bench/results/accuracy_variants.md, issue 11).
        "facerec.backbones.keras:KerasPipeline", face_image_size=160),
    MOBILENET: Backbone(
        MOBILENET, "MobileNet",
        "A small, fast network for objects and scenes; needs ImageNet weights (a network connection once).",
        "facerec.backbones.keras:KerasPipeline"),
}


def get_backbone(name: str) -> Backbone:
    """The registered backbone of that name.

    Raises:
        ValueError: no backbone has that name.
    """
    try:
        return BACKBONES[name]
    except KeyError:
        raise ValueError(f"unknown backbone {name!r}; choose one of {sorted(BACKBONES)}") from None


def default_backbone(faces: bool) -> str:
    """The recommended backbone: dlib's face network in face mode, VGG16 for whole images.

    Face mode falls back to VGG16 where dlib is not installed (``pip install facerec[dlib]``).
    """
    if faces and _installed("dlib"):
        return DLIB
    return VGG16


def _installed(package: str) -> bool:
    try:
        return importlib.util.find_spec(package) is not None
    except (ImportError, ValueError):  # an import hook that refuses the package, or a broken install
        return False


def backbone_title(name: str) -> str:
    """A backbone's name for people (the name itself for one this facerec does not know)."""
    return BACKBONES[name].title if name in BACKBONES else name
