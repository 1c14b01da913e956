"""Shared pytest configuration for the facerec test suite.

Sections are delimited below; add new fixtures in their own section at the end.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

# ============================================================================================
# Hugging Face Hub test server (tests/hub_server.py)
#
# huggingface_hub and keras read HF_ENDPOINT, HF_HOME and HF_HUB_OFFLINE when they are
# imported, so the environment is set here, at conftest import time, before any test module
# imports them. The server's ports are reserved now (so HF_ENDPOINT is known) and it starts
# serving when the `hub` fixture is first used.
#
# Fixture `hub` (session scope) yields the `HubServer`:
#   .endpoint / .cdn_endpoint   Hub origin (= HF_ENDPOINT) and storage/CAS origin
#   .tokens                     HUB_TOKENS below: {"hf_alice": "alice", "hf_bob": "bob"}
#   .stop() / .start() / .restart() / .stopped()  (context manager: stopped inside the block)
#   .requests, .hits(method, path_regex, origin), .clear_requests()  recorded traffic
# No HF token is set globally: pass `token=` explicitly, or set HF_TOKEN only in a subprocess.
# ============================================================================================

sys.path.insert(0, str(Path(__file__).resolve().parent))

from hub_server import HubServer  # noqa: E402  (needs the path above)

HUB_TOKENS = {"hf_alice": "alice", "hf_bob": "bob"}

if "huggingface_hub" in sys.modules:
    raise RuntimeError("huggingface_hub was imported before tests/conftest.py could set HF_ENDPOINT")

_HUB_SERVER = HubServer(tokens=HUB_TOKENS)
_HF_HOME = tempfile.mkdtemp(prefix="facerec-hf-home-")
os.environ["HF_ENDPOINT"] = _HUB_SERVER.bind()
os.environ["HF_HOME"] = _HF_HOME
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
for _variable in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
    os.environ.pop(_variable, None)
# facerec's machine-wide cache (converted networks, features when no cache_dir is given): the
# session's own, so that tests neither read nor fill the user's ~/.cache/facerec.
os.environ["FACEREC_CACHE"] = tempfile.mkdtemp(prefix="facerec-cache-")
# No conversion for the fast CPU path behind the tests' backs (the app converts between jobs: a
# minute of CPU each); tests/test_fast_inference.py switches it on where it is the subject.
os.environ["FACEREC_FAST_INFERENCE"] = "0"


@pytest.fixture(scope="session")
def hub() -> Iterator[HubServer]:
    """The session's Hub server, serving at HF_ENDPOINT."""
    _HUB_SERVER.start()
    yield _HUB_SERVER
    _HUB_SERVER.stop()
    shutil.rmtree(_HF_HOME, ignore_errors=True)


# ============================================================================================
# (end of the Hub test server section)
# ============================================================================================


# ============================================================================================
# facerec fixtures: the shared datasets, synthetic images, and fast training settings
# ============================================================================================

# ../shared/datasets beside the checkout (CI has it too); FACEREC_DATASETS overrides.
DATASETS = Path(os.environ.get("FACEREC_DATASETS", Path(__file__).resolve().parents[2] / "shared" / "datasets"))

# Fast training: an untrained VGG16 at 32 pixels, whole images, a few epochs.
FAST = {"backbone": "vgg16", "weights": None, "image_size": 32, "faces": False, "epochs": 15}


@pytest.fixture(scope="session")
def datasets() -> Path:
    """The shared real-image datasets; tests that need them skip, saying why, when absent."""
    if not (DATASETS / "README.md").is_file():
        pytest.skip(f"the shared datasets are not at {DATASETS} (set FACEREC_DATASETS to their folder)")
    return DATASETS


def colour_image(colour: tuple[int, int, int], seed: int, size: int = 40):
    """A noisy patch of one colour: two colours make two labels any network tells apart."""
    import numpy as np

    generator = np.random.default_rng(seed)
    noise = generator.normal(0, 35, (size, size, 3))
    return np.clip(np.asarray(colour) + noise, 0, 255).astype("uint8")


COLOURS = {"red": (200, 40, 40), "blue": (40, 40, 200), "green": (40, 190, 40)}


@pytest.fixture(scope="session")
def celebrity_model(datasets, tmp_path_factory):
    """A dlib-backbone model of the five people of five_celebrity_faces (validation carved from
    train/), trained once per test session and saved: ``.classifier``, ``.folder``, ``.cache``
    (its feature cache, which later trainings on the same photos reuse), ``.root``, ``.probes``
    (one test photo per person, in label order) and ``.photos`` (the dataset's folder)."""
    pytest.importorskip("dlib", reason="the dlib backbone needs dlib: pip install dlib-bin face_recognition_models")
    import facerec

    photos = datasets / "five_celebrity_faces"
    root = tmp_path_factory.mktemp("celebrity-model")
    cache = root / "cache"
    classifier = facerec.train(photos / "train", backbone="dlib", cache_dir=cache)
    folder = classifier.save(root / "saved")
    probes = [sorted((photos / "test" / label).iterdir())[0] for label in classifier.labels]
    return SimpleNamespace(classifier=classifier, folder=folder, cache=cache, root=root, probes=probes, photos=photos)


@pytest.fixture
def make_dataset(tmp_path):
    """Write ``<label>/<n>.png`` colour images; returns the folder."""
    from PIL import Image

    def make(labels=("red", "blue"), per_label: int = 8, folder: str = "data", seed: int = 0) -> Path:
        root = tmp_path / folder
        for label_number, label in enumerate(labels):
            (root / label).mkdir(parents=True, exist_ok=True)
            for index in range(per_label):
                image = colour_image(COLOURS[label], seed * 1000 + label_number * 100 + index)
                Image.fromarray(image).save(root / label / f"{index}.png")
        return root

    return make


# ============================================================================================
# The app (facerec.app), launched once per test session for tests/test_app.py and test_browser.py
#
# Configured as its settings document for tests and offline demos: an untrained VGG16 at 32
# pixels (FACEREC_WEIGHTS=none, FACEREC_IMAGE_SIZE=32), workspaces and Gradio's temporary files
# in folders of their own, so tests can look inside them. Fixture `facerec_app` yields an
# `AppServer`: .url, .module (facerec.app), .demo, .workspaces (the visitors' Workspaces),
# .workspaces_root, .gradio_temp.
# ============================================================================================


class AppServer:
    def __init__(self, module, url: str, workspaces_root: Path, gradio_temp: Path):
        self.module, self.url, self.workspaces_root, self.gradio_temp = module, url, workspaces_root, gradio_temp
        self.demo = module.demo
        self.workspaces = module.app_context().workspaces

    def workspace_folders(self) -> list[Path]:
        return sorted(self.workspaces_root.glob("session-*"))


@pytest.fixture(scope="session")
def facerec_app(tmp_path_factory) -> Iterator[AppServer]:
    """The real app, served on localhost for the whole test session."""
    import importlib

    workspaces_root = tmp_path_factory.mktemp("app-workspaces")
    gradio_temp = tmp_path_factory.mktemp("gradio-temp")
    settings = {"FACEREC_WEIGHTS": "none", "FACEREC_IMAGE_SIZE": "32", "FACEREC_APP_DATA": str(workspaces_root),
                "FACEREC_SESSION_GRACE": "1",  # a closed session's data goes a second after (120 s in the app)
                "GRADIO_TEMP_DIR": str(gradio_temp), "GRADIO_ANALYTICS_ENABLED": "False"}
    previous = {name: os.environ.get(name) for name in settings}
    os.environ.update(settings)
    app = importlib.import_module("facerec.app")
    _, url, _ = app.launch(prevent_thread_lock=True, quiet=True, server_name="127.0.0.1")
    server = AppServer(app, url, workspaces_root, gradio_temp)
    try:
        yield server
    finally:
        server.demo.close()
        server.workspaces.close()
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


# ============================================================================================
# (end of the app section)
# ============================================================================================
