"""dlib and its pretrained face models, imported only when a dlib backbone or detector is used.

The networks come from two packages: ``dlib`` (the library; ``dlib-bin`` on PyPI is a prebuilt
wheel of it) and ``face_recognition_models`` (the model files). Their files are located without
importing ``face_recognition_models``, whose ``__init__`` needs ``pkg_resources``, which newer
setuptools no longer ship.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import importlib.metadata
import importlib.util
import threading
from pathlib import Path

from facerec.dependencies import MissingDependencyError

INSTALL_COMMAND = "pip install dlib-bin face_recognition_models"
MODELS_PACKAGE = "face_recognition_models"
SHAPE_PREDICTOR_FILE = "shape_predictor_5_face_landmarks.dat"
RECOGNIZER_FILE = "dlib_face_recognition_resnet_model_v1.dat"


@dataclasses.dataclass(frozen=True)
class DlibModels:
    """dlib's 5-point shape predictor and face-recognition ResNet, loaded, with their files' identity.

    ``files`` maps each role (``shape_predictor``, ``recognizer``) to ``{"file", "sha256"}``;
    ``fingerprint`` identifies the pair (a different file means a different embedding space).
    """

    dlib: object
    shape_predictor: object
    recognizer: object
    files: dict[str, dict[str, str]]
    package: str

    @property
    def fingerprint(self) -> str:
        digests = "".join(self.files[role]["sha256"] for role in sorted(self.files))
        return hashlib.sha256(digests.encode()).hexdigest()[:16]


_models: DlibModels | None = None
_models_lock = threading.Lock()


def import_dlib():
    """The ``dlib`` module.

    Raises:
        MissingDependencyError: dlib is not installed (the message names the packages to install).
    """
    try:
        import dlib
    except ImportError as error:
        raise MissingDependencyError(
            f"the dlib face backbone needs the packages dlib and {MODELS_PACKAGE}, which are not installed: "
            f"{INSTALL_COMMAND}", name="dlib") from error
    return dlib


def load_models() -> DlibModels:
    """Load the shape predictor and the recognition network once per process (about a second).

    Raises:
        MissingDependencyError: dlib or ``face_recognition_models`` is not installed.
    """
    global _models
    with _models_lock:
        if _models is None:
            dlib = import_dlib()
            folder = _models_folder()
            paths = {"shape_predictor": folder / SHAPE_PREDICTOR_FILE, "recognizer": folder / RECOGNIZER_FILE}
            missing = [path.name for path in paths.values() if not path.is_file()]
            if missing:
                raise MissingDependencyError(f"{MODELS_PACKAGE} at {folder} lacks {missing}; reinstall it: "
                                             f"pip install --force-reinstall {MODELS_PACKAGE}", name=MODELS_PACKAGE)
            _models = DlibModels(
                dlib=dlib,
                shape_predictor=dlib.shape_predictor(str(paths["shape_predictor"])),
                recognizer=dlib.face_recognition_model_v1(str(paths["recognizer"])),
                files={role: {"file": path.name, "sha256": _file_digest(path)} for role, path in paths.items()},
                package=f"{MODELS_PACKAGE} {importlib.metadata.version(MODELS_PACKAGE)}, dlib {dlib.__version__}",
            )
        return _models


def _models_folder() -> Path:
    try:
        spec = importlib.util.find_spec(MODELS_PACKAGE)
    except ImportError:  # an import hook that refuses the package
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependencyError(
            f"the dlib face backbone needs dlib's model files from the package {MODELS_PACKAGE}, which is not "
            f"installed: {INSTALL_COMMAND}", name=MODELS_PACKAGE)
    return Path(next(iter(spec.submodule_search_locations))) / "models"


@functools.cache
def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
