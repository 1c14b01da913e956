"""Private, temporary workspaces: one per visitor of a shared app (a Space), deleted when done.

    workspaces = Workspaces()                    # under a private temporary folder
    workspace = workspaces.get(session_id)       # created on first use
    workspace.dataset.add("alice", photo)
    run = workspace.start_training(TrainingSettings(epochs=30))   # trains in a background thread
    for update in run.updates(): ...             # TrainingUpdate objects, until it ends
    workspaces.end(session_id)                   # deletes the folder (once training has stopped)

A workspace holds a visitor's dataset, feature cache, trained model and exports, in a folder with a
random name that nothing derives from the session id, readable only by this process's user. It is
deleted when its session ends, when it has been idle longer than ``idle_timeout``, and (for a
temporary root) when the process exits.
"""

from __future__ import annotations

import atexit
import io
import logging
import os
import secrets
import shutil
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from facerec import atomic
from facerec.classifier import Classifier
from facerec.dataset import AddReport, Dataset
from facerec.detection import Face, FaceSettings, get_detector
from facerec.faces import crop_sample
from facerec.images import ImageError, load_image
from facerec.live import LiveRecognizer
from facerec.app.jobs import BackgroundTraining, convert_between_jobs
from facerec.settings import TrainingSettings

logger = logging.getLogger(__name__)

FOLDER_PREFIX = "session-"
DEFAULT_IDLE_TIMEOUT = 3 * 3600.0
DEFAULT_MAX_IMAGES = 2000
SWEEP_INTERVAL = 60.0

# What storing one camera frame did.
ADDED, DUPLICATE, NO_FACE = "added", "duplicate", "no face"
# Camera frames are stored under this name (with their content's digest, as every photo).
CAMERA_NAME = "webcam"


class Workspace:
    """One visitor's folder (dataset, feature cache, exports) and in-memory state (model, training).

    Attributes:
        dataset: the visitor's labelled images.
        classifier: the model trained or loaded last, or None.
        training: the last training run, or None.
        training_queued: a training was accepted and waits for its turn (set and cleared by the app).
    """

    def __init__(self, folder: Path, *, max_images: int = DEFAULT_MAX_IMAGES):
        self.folder = folder
        self.max_images = max_images
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.dataset = Dataset(folder / "dataset")
        self.cache_dir = folder / "cache"
        self._classifier: Classifier | None = None
        self._live: LiveRecognizer | None = None
        self.live_rules: dict = {}  # the unknown rule the page's controls set (default: the model's)
        self.training: BackgroundTraining | None = None
        self.training_queued = False
        self.last_used = time.monotonic()
        self.closed = False
        self._lock = threading.RLock()  # reentrant: close() sets the classifier under it

    @property
    def classifier(self) -> Classifier | None:
        """The model trained or loaded last, or None."""
        return self._classifier

    @classifier.setter
    def classifier(self, classifier: Classifier | None) -> None:
        with self._lock:
            self._classifier, self._live, self.live_rules = classifier, None, {}

    def touch(self) -> None:
        """Mark the workspace as used now: its visitor is there (see :meth:`Workspaces.leave`)."""
        self.last_used = time.monotonic()

    def live_recognizer(self) -> LiveRecognizer:
        """The live view's recogniser of the current model (made on first use, kept while the model is)."""
        with self._lock:
            if self._classifier is None:
                raise ValueError("no model yet: train one, or load one from the Hub")
            if self._live is None or self._live.classifier is not self._classifier:
                self._live = LiveRecognizer(self._classifier)
            return self._live

    # Collecting ----------------------------------------------------------------------------

    def check_room(self, adding: int = 1) -> None:
        """Raise ``ValueError`` if ``adding`` more images would pass the workspace's limit."""
        have = len(self.dataset)
        if have + adding > self.max_images:
            raise ValueError(f"this workspace holds at most {self.max_images} images and has {have}; "
                             "delete some, or download the dataset and train locally with the facerec command line")

    def add_frame(self, label: str, frame: np.ndarray, *, faces: bool) -> str:
        """Store a camera frame under ``label``: in face mode only its largest face, cropped
        (:func:`facerec.faces.crop_sample`); returns ``ADDED``, ``DUPLICATE`` or ``NO_FACE``."""
        if faces:
            found = find_faces(frame)
            if not found:
                return NO_FACE
            frame = crop_sample(frame, found[0].box)
        self.check_room()
        before = len(self.dataset.samples(label)) if label.strip() in self.dataset.labels() else 0
        self.dataset.add(label, frame, name=CAMERA_NAME)
        return ADDED if len(self.dataset.samples(label)) > before else DUPLICATE

    def add_photos(self, label: str, photos: list, *, names: list[str], faces: bool) -> AddReport:
        """Add photos under ``label``; in face mode those in which no face is found are refused
        (by their own names: nothing would be learned from them), the others kept whole."""
        kept, kept_names, refused = [], [], []
        for photo, name in zip(photos, names):
            try:
                image = load_image(photo, name=name)
            except ImageError as error:
                refused.append((name, error.reason))
                continue
            if faces and not find_faces(image):
                refused.append((name, "no face found"))
                continue
            kept.append(image)
            kept_names.append(name)
        report = self.dataset.add_many(label, kept, names=kept_names)
        report.refused = refused + report.refused
        return report

    # Training ------------------------------------------------------------------------------

    def start_training(self, settings: TrainingSettings) -> BackgroundTraining:
        """Start training on the dataset in the background (see :func:`facerec.train` for the settings).

        Raises:
            ValueError: a training of this workspace is still running.
        """
        with self._lock:
            self.training_queued = False
            if self.training is not None and self.training.running:
                raise ValueError("a training is already running in this session: wait for it to finish, or stop it")
            self.training = BackgroundTraining(self.dataset, self.cache_dir, settings, on_finish=self._training_finished)
            return self.training

    def stop_training(self) -> bool:
        """Ask a running training to stop (it keeps its best epoch); False if none runs."""
        run = self.training
        if run is None or not run.running:
            return False
        run.stop.set()
        return True

    def _training_finished(self, run: BackgroundTraining) -> None:
        if run.classifier is not None and not self.closed:
            self.classifier = run.classifier
            convert_between_jobs(run.classifier.pipeline)
        if self.closed:
            self._delete_folder()

    # Sharing -------------------------------------------------------------------------------

    def export_dataset(self) -> Path:
        """The dataset as a zip (``<label>/<image>``) in the workspace's exports folder."""
        if not len(self.dataset):
            raise ValueError("the dataset is empty: add photos first")
        return self.dataset.export_zip(self.folder / "exports" / "facerec-dataset.zip")

    def export_model(self) -> Path:
        """The current model, saved and zipped, in the workspace's exports folder."""
        if self.classifier is None:
            raise ValueError("there is no model yet: train one, or load one from the Hub")
        folder = self.classifier.save(self.folder / "model")
        return atomic.write_bytes(self.folder / "exports" / "facerec-model.zip", zip_folder(folder))

    # Ending --------------------------------------------------------------------------------

    def close(self) -> None:
        """Delete the folder now, or, if a training is running, stop it and delete when it ends."""
        with self._lock:
            self.closed = True
            self.classifier = None
            running = self.stop_training()
        if not running:
            self._delete_folder()

    def _delete_folder(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


class Workspaces:
    """Workspaces by session id, under one root folder.

    Args:
        root: where workspace folders go; default a new private temporary folder, deleted at exit.
            Folders left in a given root by an earlier process are deleted on first use (no session
            outlives its process).
        idle_timeout: seconds without :meth:`get` after which a workspace is deleted.
        max_images: the most images one workspace may hold.
    """

    def __init__(self, root: str | os.PathLike | None = None, *, idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
                 max_images: int = DEFAULT_MAX_IMAGES):
        self._configured_root = Path(root) if root is not None else None
        self._root: Path | None = None
        self.idle_timeout = idle_timeout
        self.max_images = max_images
        self._workspaces: dict[str, Workspace] = {}
        self._lock = threading.Lock()
        self._sweeper: threading.Thread | None = None
        self._closing = threading.Event()

    @property
    def root(self) -> Path:
        with self._lock:
            return self._ensure_root()

    def __len__(self) -> int:
        return len(self._workspaces)

    def find(self, session_id: str) -> Workspace | None:
        """The session's workspace if it has one (None: never made, or ended); marks it as used now."""
        with self._lock:
            workspace = self._workspaces.get(session_id)
            if workspace is not None:
                workspace.touch()
            return workspace

    def get(self, session_id: str) -> Workspace:
        """The session's workspace, created on first use; marks it as used now."""
        if not session_id:
            raise ValueError("no session id")
        with self._lock:
            workspace = self._workspaces.get(session_id)
            if workspace is None:
                folder = self._ensure_root() / f"{FOLDER_PREFIX}{secrets.token_hex(16)}"
                workspace = self._workspaces[session_id] = Workspace(folder, max_images=self.max_images)
                logger.info("workspace opened (%d open)", len(self._workspaces))
            workspace.touch()
            return workspace

    def leave(self, session_id: str, *, grace: float, on_ended: Callable[[str], None] | None = None) -> None:
        """The visitor's page went away: end the workspace after ``grace`` seconds unless the session
        is used again by then (a page that lost its connection for a moment comes back with the same
        session, and an open page says it is still there, see :meth:`find`). ``on_ended(session_id)``
        runs once it is ended."""
        with self._lock:
            workspace = self._workspaces.get(session_id)
            if workspace is None:
                return
            left_at = time.monotonic()

        def end_if_still_gone() -> None:
            with self._lock:
                gone = self._workspaces.get(session_id) is workspace and workspace.last_used <= left_at
            if gone and self.end(session_id) and on_ended is not None:
                on_ended(session_id)

        if grace <= 0:
            end_if_still_gone()
        else:
            timer = threading.Timer(grace, end_if_still_gone)
            timer.daemon = True
            timer.start()

    def end(self, session_id: str) -> bool:
        """Close and delete a session's workspace now; False if it had none."""
        with self._lock:
            workspace = self._workspaces.pop(session_id, None)
        if workspace is None:
            return False
        workspace.close()
        logger.info("workspace closed (%d open)", len(self._workspaces))
        return True

    def sweep(self, now: float | None = None) -> int:
        """Close workspaces idle for longer than ``idle_timeout`` (not while they train); returns how many."""
        now = time.monotonic() if now is None else now
        with self._lock:
            idle = [key for key, workspace in self._workspaces.items()
                    if now - workspace.last_used > self.idle_timeout
                    and not (workspace.training is not None and workspace.training.running)]
        for key in idle:
            self.end(key)
        return len(idle)

    def close(self) -> None:
        """End every workspace and, for a temporary root, delete the root."""
        self._closing.set()
        for key in list(self._workspaces):
            self.end(key)
        if self._root is not None and self._configured_root is None:
            shutil.rmtree(self._root, ignore_errors=True)

    def _ensure_root(self) -> Path:
        if self._root is None:
            if self._configured_root is None:
                self._root = Path(tempfile.mkdtemp(prefix="facerec-workspaces-"))
            else:
                self._root = self._configured_root
                self._root.mkdir(mode=0o700, parents=True, exist_ok=True)
                for leftover in self._root.glob(f"{FOLDER_PREFIX}*"):
                    shutil.rmtree(leftover, ignore_errors=True)
            os.chmod(self._root, 0o700)
            atexit.register(self.close)
            self._sweeper = threading.Thread(target=self._sweep_forever, name="facerec-workspace-sweeper", daemon=True)
            self._sweeper.start()
        return self._root

    def _sweep_forever(self) -> None:
        while not self._closing.wait(SWEEP_INTERVAL):
            try:
                self.sweep()
            except Exception:  # noqa: BLE001 (a failed sweep is retried next time)
                logger.exception("sweeping idle workspaces failed")


def find_faces(image: np.ndarray) -> list[Face]:
    """The faces in an image as training will find them (face mode's default detectors), largest first."""
    return get_detector(FaceSettings()).detect(image)


def zip_folder(folder: Path) -> bytes:
    """A folder's files as zip bytes, paths relative to the folder."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder).as_posix())
    return buffer.getvalue()
