"""facerec app: teach a computer to recognise faces (or anything else) in minutes.

Collect photos from the webcam or your files under a label per person, train a classifier head on
a frozen VGG16, see how good it is, try it on photos or the live webcam, and share it on the
Hugging Face Hub. Run ``python app.py`` (``--help`` for options); this file is also the entry of
the Hugging Face Space. Every event has an ``api_name``, so ``gradio_client`` can script it.

Configuration (environment variables):

    FACEREC_WEIGHTS          backbone weights: auto (default: ImageNet, else the offline VGG16
                             trunk), imagenet, hed-bsds500, a weights file, or none (untrained:
                             for tests and quick offline demos only)
    FACEREC_IMAGE_SIZE       backbone input size in pixels (default 224; 32 for quick tests)
    FACEREC_APP_DATA         where session workspaces live (default: a private temporary folder)
    FACEREC_SESSION_TIMEOUT  minutes without activity before a session's data is deleted (default 180)
    FACEREC_MAX_IMAGES       most images one session may hold (default 2000)
    FACEREC_USE_HF_TOKEN     1: visitors may push with the server's HF_TOKEN; default 1 locally,
                             0 on a Space (where visitors must sign in or paste their own token)
"""

from __future__ import annotations

import os

# Before gradio and huggingface_hub are imported: both read these at import time.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import argparse  # noqa: E402
import contextlib  # noqa: E402
import dataclasses  # noqa: E402
import importlib.util  # noqa: E402
import logging  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

import gradio as gr  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from huggingface_hub import constants, get_token  # noqa: E402

import facerec  # noqa: E402
from facerec import backbones, devices  # noqa: E402
from facerec.config import DEFAULT_THRESHOLD, UNKNOWN  # noqa: E402
from facerec.dataset import check_trainable  # noqa: E402
from facerec.drawing import draw_faces  # noqa: E402
from facerec.features import Stopped  # noqa: E402
from facerec.hub import looks_like_repo_id, pull_from_hub  # noqa: E402
from facerec.labels import validate_label  # noqa: E402
from facerec.pipeline import PIPELINES  # noqa: E402
from facerec.training import OPTIMIZERS, TrainingSettings  # noqa: E402
from facerec.workspaces import ADDED, NO_FACE, BackgroundTraining, Workspace, Workspaces  # noqa: E402

logger = logging.getLogger("facerec.app")

HERE = Path(__file__).resolve().parent
EXAMPLE_DATASET = HERE / "examples" / "faces"
EXAMPLE_PHOTOS = sorted((HERE / "examples" / "photos").glob("*.jpg"))
FACES, IMAGES = "faces", "images"
DEFAULTS = TrainingSettings()
GALLERY_SIZE = 60
# Uploads above this are refused by Gradio before they reach a handler.
MAX_UPLOAD = "100mb"
# Gradio's own temporary copies (uploads, images shown on the page) are deleted this long after
# they were made, checked this often: (frequency, age) in seconds.
GRADIO_CACHE_LIFETIME = (600, 3600)


@dataclasses.dataclass(frozen=True)
class AppConfig:
    """The app's settings from the environment (see the module docstring)."""

    weights: str | None
    image_size: int
    data_dir: Path | None
    session_timeout_minutes: float
    max_images: int
    use_server_token: bool

    @classmethod
    def from_environment(cls, environ: dict[str, str] = os.environ) -> AppConfig:
        weights = environ.get("FACEREC_WEIGHTS", backbones.AUTO).strip() or backbones.AUTO
        data_dir = environ.get("FACEREC_APP_DATA")
        token_default = "0" if gr.utils.get_space() else "1"
        return cls(
            weights=None if weights.lower() == "none" else weights,
            image_size=int(environ.get("FACEREC_IMAGE_SIZE", DEFAULTS.image_size)),
            data_dir=Path(data_dir) if data_dir else None,
            session_timeout_minutes=float(environ.get("FACEREC_SESSION_TIMEOUT", 180)),
            max_images=int(environ.get("FACEREC_MAX_IMAGES", 2000)),
            use_server_token=environ.get("FACEREC_USE_HF_TOKEN", token_default).strip().lower() in ("1", "true", "yes"),
        )


CONFIG = AppConfig.from_environment()
# "Sign in with Hugging Face" exists only on a Space with `hf_oauth: true` in its README, and
# needs gradio[oauth]; without them visitors paste a token instead.
SIGN_IN = (bool(gr.utils.get_space()) and bool(os.environ.get("OAUTH_CLIENT_ID"))
           and all(importlib.util.find_spec(name) for name in ("authlib", "itsdangerous")))
if gr.utils.get_space() and not SIGN_IN:
    logger.warning("no 'Sign in with Hugging Face' button: it needs hf_oauth: true in the Space's README and gradio[oauth]")
WORKSPACES = Workspaces(CONFIG.data_dir, idle_timeout=CONFIG.session_timeout_minutes * 60, max_images=CONFIG.max_images)


# Helpers ---------------------------------------------------------------------------------------


def _workspace(request: gr.Request) -> Workspace:
    if request is None or not request.session_hash:
        raise gr.Error("This request has no session: reload the page.")
    return WORKSPACES.get(request.session_hash)


@contextlib.contextmanager
def _user_errors() -> Iterator[None]:
    """Show the core's plain-language errors (ValueError and its kinds) to the user."""
    try:
        yield
    except ValueError as error:
        raise gr.Error(_sentence(str(error))) from None


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def _label(value: str | None) -> str:
    if not value or not str(value).strip():
        raise gr.Error("Type a label first: the name of the person (or class) these photos show.")
    with _user_errors():
        return validate_label(value)


def _discard_uploads(paths: list[str]) -> None:
    """Delete Gradio's temporary copies of uploads once they are in the dataset (JPEG, no EXIF)."""
    for path in paths:
        with contextlib.suppress(OSError):
            os.remove(path)


def _dataset_views(workspace: Workspace, label: str | None, *, keep_label: bool = False) -> tuple:
    """Counts table, label picker, training-data summary and gallery (see DATA_OUTPUTS).

    ``keep_label``: update the picker's choices only, leaving what the visitor typed alone.
    """
    counts = workspace.dataset.labels()
    table = pd.DataFrame({"Label": list(counts), "Photos": list(counts.values())})
    label = (label or "").strip() or None
    picker = gr.Dropdown(choices=list(counts)) if keep_label else gr.Dropdown(choices=list(counts), value=label)
    return table, picker, _data_summary(counts), _gallery(workspace, label)


def _data_summary(counts: dict[str, int]) -> str:
    if not counts:
        return "No photos yet: add some in step 1."
    photos = sum(counts.values())
    listed = " · ".join(f"{label} {count}" for label, count in counts.items())
    return f"{len(counts)} label{'s' * (len(counts) != 1)}, {photos} photo{'s' * (photos != 1)}: {listed}"


def _gallery(workspace: Workspace, label: str | None) -> gr.Gallery:
    if not label or label not in workspace.dataset.labels():
        return gr.Gallery(value=[], label="Photos of the selected label")
    samples = sorted(workspace.dataset.samples(label), key=lambda sample: sample.path.stat().st_mtime, reverse=True)
    shown = f" (newest {GALLERY_SIZE})" if len(samples) > GALLERY_SIZE else ""
    return gr.Gallery(value=[str(sample.path) for sample in samples[:GALLERY_SIZE]],
                      label=f"{label}: {len(samples)} photo{'s' * (len(samples) != 1)}{shown}")


def _note(text: str, kind: str = "info") -> str:
    icon = {"info": "✅", "warning": "⚠️", "recording": "🔴"}[kind]
    return f"{icon} {text}"


def _backbone_title(name: str) -> str:
    if name in backbones.BACKBONES:
        return backbones.BACKBONES[name].title
    return getattr(PIPELINES[name], "title", name) if name in PIPELINES else name


def _weights_description(backbone: str) -> str:
    if backbone not in backbones.BACKBONES:
        return f"the {_backbone_title(backbone)} backbone's own pretrained model (named with the results after training)"
    try:
        return backbones.resolve_weights(backbone, CONFIG.weights, image_size=CONFIG.image_size).description
    except ValueError as error:
        return f"not available: {error}"


def _training_settings(mode: str, backbone: str, epochs: float, batch_size: float, learning_rate: float,
                       optimizer: str, augment: float, trainable_layers: float, validation_split: float) -> dict:
    # FACEREC_WEIGHTS chooses among a Keras backbone's weights; other backbones have their own.
    weights = CONFIG.weights if backbone in backbones.BACKBONES else backbones.AUTO
    settings = dict(backbone=backbone, weights=weights, image_size=CONFIG.image_size, faces=mode == FACES,
                    epochs=int(epochs), batch_size=int(batch_size), learning_rate=float(learning_rate),
                    optimizer=optimizer, augment=int(augment), trainable_layers=int(trainable_layers),
                    validation_split=float(validation_split))
    TrainingSettings(**settings)  # Raises ValueError, with the reason, for a bad value.
    return settings


def _model_summary(classifier: facerec.Classifier | None) -> str:
    if classifier is None:
        return "**No model yet.** Train one in step 2, or load one from the Hub in step 4."
    config = classifier.config
    accuracy = classifier.metrics.get("accuracy")
    measured = f"validation accuracy **{accuracy:.0%}**" if accuracy is not None else "no validation score"
    title = _backbone_title(config.backbone)
    mode = "face mode" if config.faces.get("enabled") else "whole images"
    return (f"**Model:** {len(config.labels)} labels ({', '.join(config.labels)}) · {title} · {mode} · {measured}  \n"
            f"<small>Backbone weights: {config.backbone_weights.get('description', 'unknown')}</small>")


def _hub_token(typed: str | None, oauth_token: gr.OAuthToken | None, *, needed: bool) -> str | bool | None:
    """The token for a Hub call: typed > signed-in > the server's HF_TOKEN (when allowed).

    Returns None to let huggingface_hub use the server's token (HF_TOKEN or its stored login),
    False to use no token at all.
    """
    if typed and typed.strip():
        return typed.strip()
    if oauth_token is not None and oauth_token.token:
        return oauth_token.token
    if CONFIG.use_server_token and (get_token() is not None or not needed):
        return None
    if needed:
        raise gr.Error("Pushing needs a Hugging Face token with write access: paste one"
                       + (", or sign in." if SIGN_IN else f" (create one at {constants.ENDPOINT}/settings/tokens)."))
    return False


# Data: collect photos ---------------------------------------------------------------------------


def session_views(request: gr.Request, profile: gr.OAuthProfile | None) -> tuple:
    """Everything that depends on the session, for a page (re)load."""
    workspace = _workspace(request)
    summary = _model_summary(workspace.classifier)
    repository = f"{profile.username}/my-face-model" if profile is not None else gr.skip()
    return (*_dataset_views(workspace, None, keep_label=True), summary, summary, repository)


def show_label(label: str | None, request: gr.Request) -> gr.Gallery:
    """The photos of one label, newest first."""
    return _gallery(_workspace(request), label)


def pick_label(evt: gr.SelectData) -> str:
    """The label of the row clicked in the counts table."""
    row = evt.row_value if evt.row_value is not None else [evt.value]
    return str(row[0])


def pick_photo(evt: gr.SelectData) -> str:
    """The file name of the photo clicked in the gallery (the dataset names files by content)."""
    value = evt.value
    while isinstance(value, dict):
        value = value.get("image", value.get("path"))
    return Path(str(value)).name if value else ""


def add_photos(files: list[str] | None, label: str | None, request: gr.Request) -> tuple:
    """Add uploaded photos under a label."""
    workspace = _workspace(request)
    label = _label(label)
    if not files:
        raise gr.Error("Choose one or more photos to add.")
    with _user_errors():
        workspace.check_room(len(files))
        report = workspace.dataset.add_many(label, files, names=[Path(path).name for path in files])
    _discard_uploads(files)
    return _note(_sentence(report.summary()), "warning" if report.refused else "info"), *_dataset_views(workspace, label), None


def import_zip(archive: str | None, label: str | None, request: gr.Request) -> tuple:
    """Add every photo of a zip laid out as <label>/<photo>."""
    workspace = _workspace(request)
    if not archive:
        raise gr.Error("Choose a .zip file laid out as one folder per label.")
    with _user_errors():
        workspace.check_room()
        report = workspace.dataset.import_zip(archive)
    _discard_uploads([archive])
    labels = workspace.dataset.labels()
    label = label if label in labels else next(iter(labels), None)
    return _note(_sentence(report.summary()), "warning" if report.refused else "info"), *_dataset_views(workspace, label), None


def load_example_dataset(request: gr.Request) -> tuple:
    """Add the bundled example: photos of four people from the ORL face database."""
    workspace = _workspace(request)
    with _user_errors():
        workspace.check_room()
        report = workspace.dataset.import_folder(EXAMPLE_DATASET)
    label = next(iter(workspace.dataset.labels()), None)
    text = f"{_sentence(report.summary())} of 4 people (ORL face database). Next: step 2, Train."
    return _note(text), *_dataset_views(workspace, label)


def capture_photo(label: str | None, mode: str, request: gr.Request) -> tuple:
    """Store the camera's current frame (its face, in face mode) under a label."""
    workspace = _workspace(request)
    label = _label(label)
    frame = workspace.recent_frame()
    if frame is None:
        raise gr.Error("The camera is off: click the camera box, allow access, then press its ⏺ button to start it.")
    with _user_errors():
        outcome = workspace.add_frame(label, frame, faces=mode == FACES)
    if outcome == NO_FACE:
        note = _note("No face in that frame: nothing saved. Face the camera, with light on your face.", "warning")
    else:
        note = _note(f"Saved a photo of **{label}**." if outcome == ADDED else "That frame was already saved.")
    return note, *_dataset_views(workspace, label)


def webcam_frame(frame: np.ndarray | None, label: str | None, recording: bool, mode: str, request: gr.Request) -> tuple:
    """Every camera frame: remembered for Capture, and stored while Record is on."""
    workspace = _workspace(request)
    if frame is None:
        return (gr.skip(),) * (1 + len(DATA_OUTPUTS))
    workspace.remember_frame(frame)
    if not recording:
        return (gr.skip(),) * (1 + len(DATA_OUTPUTS))
    if not label or not label.strip():
        return _note("Type a label first: recorded frames need a name.", "warning"), *(gr.skip(),) * len(DATA_OUTPUTS)
    if workspace.recording is None:
        workspace.recording = {}
    with _user_errors():
        workspace.add_frame(label, frame, faces=mode == FACES)
    table, _, summary, _ = _dataset_views(workspace, label)
    # The picker and gallery wait for the end of the recording: refreshing them every frame
    # would reopen the picker's menu and re-send every thumbnail.
    return _recording_note(label, workspace.recording, live=True), table, gr.skip(), summary, gr.skip()


def recording_changed(recording: bool, label: str | None, request: gr.Request) -> tuple:
    """Start a new tally when recording starts; sum it up and refresh the gallery when it stops."""
    workspace = _workspace(request)
    if recording:
        workspace.recording = {}
        text = f"Recording **{label}**… move your head a little." if label else "Type a label first: recorded frames need a name."
        return _note(text, "recording" if label else "warning"), *(gr.skip(),) * len(DATA_OUTPUTS)
    tally, workspace.recording = workspace.recording, None
    if tally is None:
        return (gr.skip(),) * (1 + len(DATA_OUTPUTS))
    if not label or not label.strip():
        return _note("Nothing recorded: type a label first.", "warning"), *(gr.skip(),) * len(DATA_OUTPUTS)
    return _recording_note(label, tally, live=False), *_dataset_views(workspace, label, keep_label=True)


def _recording_note(label: str, tally: dict, *, live: bool) -> str:
    saved, faceless = tally.get(ADDED, 0), tally.get(NO_FACE, 0)
    text = f"{'Recording' if live else 'Recorded'} **{label}**: {saved} photo{'s' * (saved != 1)} saved"
    if faceless:
        return _note(f"{text}; {faceless} frame{'s' * (faceless != 1)} without a face skipped.", "warning")
    return _note(text + ".", "recording" if live else "info")


def delete_photo(label: str | None, photo: str | None, request: gr.Request) -> tuple:
    """Delete the photo picked in the gallery."""
    workspace = _workspace(request)
    label = _label(label)
    if not photo or Path(photo).name != photo:
        raise gr.Error("Click a photo in the gallery first, then delete it.")
    with _user_errors():
        workspace.dataset.delete_sample(workspace.dataset.root / label / photo)
    return _note(f"Deleted a photo of **{label}**."), *_dataset_views(workspace, label), ""


def rename_label(label: str | None, new_name: str | None, request: gr.Request) -> tuple:
    """Rename a label (its photos keep their place)."""
    workspace = _workspace(request)
    label, new_name = _label(label), _label(new_name)
    with _user_errors():
        workspace.dataset.rename_label(label, new_name)
    return _note(f"Renamed **{label}** to **{new_name}**."), *_dataset_views(workspace, new_name), ""


def delete_label(label: str | None, request: gr.Request) -> tuple:
    """Delete a label and all its photos (nothing when the page's confirmation was declined)."""
    workspace = _workspace(request)
    if label is None:
        return (gr.skip(),) * (1 + len(DATA_OUTPUTS))
    label = _label(label)
    with _user_errors():
        workspace.dataset.delete_label(label)
    return _note(f"Deleted **{label}** and its photos."), *_dataset_views(workspace, None)


def export_dataset(request: gr.Request) -> gr.File:
    """The dataset as a zip (one folder per label) to download."""
    with _user_errors():
        return gr.File(value=str(_workspace(request).export_dataset()), visible=True)


# Train ------------------------------------------------------------------------------------------


def describe_backbone(backbone: str) -> str:
    """Which weights the backbone starts from, and what trains."""
    return f"**Weights:** {_weights_description(backbone)}  \n**Trains on:** {devices.describe_device()}"


def check_training(data_summary: str, mode: str, backbone: str, epochs: float, batch_size: float, learning_rate: float,
                   optimizer: str, augment: float, trainable_layers: float, validation_split: float,
                   request: gr.Request) -> list[dict]:
    """Before a training joins the queue: refuse it, with the reason, if it cannot run."""
    workspace = _workspace(request)
    problem = None
    if workspace.training_queued or (workspace.training is not None and workspace.training.running):
        problem = "A training is already running or waiting in this session: wait for it, or press Stop."
    else:
        try:
            check_trainable(workspace.dataset.labels(), float(validation_split))
            _training_settings(mode, backbone, epochs, batch_size, learning_rate, optimizer, augment, trainable_layers, validation_split)
        except ValueError as error:
            problem = _sentence(str(error))
    if problem is None:
        workspace.training_queued = True
    return [gr.validate(problem is None, problem or "")] + [gr.validate(True, "")] * (len(TRAIN_INPUTS) - 1)


def train_model(data_summary: str, mode: str, backbone: str, epochs: float, batch_size: float, learning_rate: float,
                optimizer: str, augment: float, trainable_layers: float, validation_split: float,
                request: gr.Request, progress: gr.Progress = gr.Progress()) -> Iterator[tuple]:
    """Train on the session's dataset: live curves each epoch, then the validation results."""
    workspace = _workspace(request)
    with _user_errors():
        settings = _training_settings(mode, backbone, epochs, batch_size, learning_rate, optimizer, augment,
                                      trainable_layers, validation_split)
        run = workspace.start_training(**settings)
    for update in run.updates():
        if update.total:
            unit = "images" if update.stage == "features" else "epochs"
            progress((update.done, update.total), desc=_sentence(update.message), unit=unit)
        if update.metrics:
            yield _live_views(run)
    yield _training_views(workspace, run)


def stop_training(request: gr.Request) -> tuple[str, bool]:
    """Stop this session's training (it keeps the best epoch so far), or cancel a queued one.

    Also says whether there is an outcome to show next: not after cancelling a queued training.
    """
    workspace = _workspace(request)
    was_queued, workspace.training_queued = workspace.training_queued, False
    if workspace.stop_training():
        return _note("Stopping after this step: the best epoch so far is kept…", "warning"), True
    if was_queued:
        return _note("Training cancelled before it started.", "warning"), False
    return _note("No training is running.", "warning"), True


def training_outcome(show: bool, request: gr.Request) -> tuple:
    """After Stop: wait for the training to end, then show what it kept.

    Stop also cancels the training's live view, so this shows the outcome even when the
    training ended on its own just before the click.
    """
    run = _workspace(request).training
    if not show or run is None:
        return (gr.skip(),) * len(TRAIN_OUTPUTS)
    return _training_views(_workspace(request), run)


def reset_settings() -> tuple:
    """The advanced settings' defaults."""
    return (DEFAULTS.epochs, DEFAULTS.batch_size, DEFAULTS.learning_rate, DEFAULTS.optimizer, DEFAULTS.augment,
            DEFAULTS.trainable_layers, DEFAULTS.validation_split)


def _curves(history: list[dict]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Long-format loss and accuracy per epoch, for training and validation."""
    def long(metric: str) -> pd.DataFrame:
        rows = [{"epoch": row["epoch"], "value": row[key], "series": series}
                for row in history for key, series in ((metric, "training"), (f"val_{metric}", "validation")) if key in row]
        return pd.DataFrame(rows, columns=["epoch", "value", "series"])
    return long("loss"), long("accuracy")


def _live_views(run: BackgroundTraining) -> tuple:
    latest = run.history[-1]
    status = _note(f"Epoch {latest['epoch']} of {run.settings['epochs']}: " + ", ".join(
        f"{name} {latest[key]:.3f}" for key, name in (("loss", "loss"), ("accuracy", "accuracy"),
                                                      ("val_loss", "validation loss"), ("val_accuracy", "validation accuracy"))
        if key in latest), "recording")
    return (status, *_curves(run.history), *(gr.skip(),) * (len(TRAIN_OUTPUTS) - 3))


def _training_views(workspace: Workspace, run: BackgroundTraining) -> tuple:
    """The outcome of a finished training, for TRAIN_OUTPUTS."""
    run.wait()
    loss, accuracy = _curves(run.history)
    if isinstance(run.error, Stopped):
        status = _note("Stopped before the first epoch ended: no model was made. Train again when ready.", "warning")
        return (status, loss, accuracy, *(gr.skip(),) * (len(TRAIN_OUTPUTS) - 3))
    if isinstance(run.error, ValueError):
        raise gr.Error(_sentence(str(run.error)))
    if run.error is not None:
        logger.error("training failed", exc_info=run.error)
        raise gr.Error(f"Training failed: {type(run.error).__name__}: {run.error}")
    classifier = run.classifier
    report, metrics = classifier.report, classifier.metrics
    stopped = " (stopped early: best epoch kept)" if run.stop.is_set() else ""
    status = _note(f"Trained in {report['seconds']:.0f} s on {report['device']}, {len(run.history)} epochs{stopped}. "
                   "Try it in step 3.")
    summary = _model_summary(workspace.classifier)
    return (status, loss, accuracy, _results_text(classifier), _per_class_table(metrics), _confusion_table(metrics),
            summary, summary, classifier.threshold)


def _results_text(classifier: facerec.Classifier) -> str:
    metrics, report = classifier.metrics, classifier.report
    lines = []
    if metrics.get("accuracy") is not None:
        correct = sum(metrics["confusion"][index][index] for index in range(len(metrics["labels"])))
        lines.append(f"### Validation accuracy: {metrics['accuracy']:.0%} ({correct} of {metrics['count']} held-out photos)")
    else:
        lines.append("### No validation photos: accuracy not measured")
    lines.append(f"Backbone weights: {report['weights']}.")
    if report.get("no_face"):
        names = ", ".join(f"{Path(path).parent.name}/{Path(path).name}" for path in report["no_face"][:8])
        more = f" and {len(report['no_face']) - 8} more" if len(report["no_face"]) > 8 else ""
        lines.append(f"⚠️ {len(report['no_face'])} photo(s) had no face and were left out: {names}{more}.")
    if report.get("unreadable"):
        lines.append(f"⚠️ {len(report['unreadable'])} photo(s) could not be read and were left out.")
    return "\n\n".join(lines)


def _per_class_table(metrics: dict) -> pd.DataFrame:
    labels, confusion = metrics.get("labels", []), metrics.get("confusion", [])
    rows = []
    for index, label in enumerate(labels):
        total, accuracy = sum(confusion[index]), metrics["per_class"].get(label)
        rows.append({"Label": label, "Validation photos": total, "Correct": confusion[index][index],
                     "Accuracy": "–" if accuracy is None else f"{accuracy:.0%}"})
    return pd.DataFrame(rows, columns=["Label", "Validation photos", "Correct", "Accuracy"])


def _confusion_table(metrics: dict):
    labels, confusion = metrics.get("labels", []), metrics.get("confusion", [])
    frame = pd.DataFrame(confusion, columns=labels)
    frame.insert(0, "true ↓ / predicted →", labels)
    peak = max([1] + [value for row in confusion for value in row])

    def shade(value: int) -> str:
        strength = value / peak
        return f"background-color: rgba(79, 70, 229, {0.08 + 0.72 * strength:.2f}); color: {'white' if strength > 0.5 else 'inherit'}"
    return frame.style.map(shade, subset=labels) if labels else frame


# Predict ----------------------------------------------------------------------------------------


def predict(image: np.ndarray | None, threshold: float, request: gr.Request) -> tuple:
    """Name every face in a photo; the probabilities are the largest face's."""
    if image is None:
        return None, None, ""
    found = _recognize(image, threshold, request)
    whole_image = bool(found) and found[0]["face_confidence"] is None
    boxes = [] if whole_image else [(_corners(face["box"]), face["label"]) for face in found]
    return (image, boxes), *_prediction_text(found)


def predict_stream(frame: np.ndarray | None, threshold: float, request: gr.Request) -> tuple:
    """The live webcam: every face boxed and named on the frame itself.

    The frame goes back as an image drawn here (sent inline, as base64) rather than as an
    annotated image, which Gradio would write to disk a few times a second.
    """
    if frame is None:
        return gr.skip(), gr.skip(), gr.skip()
    found = _recognize(frame, threshold, request)
    return draw_faces(frame, found, labels=_workspace(request).classifier.labels), *_prediction_text(found)


def _recognize(image: np.ndarray, threshold: float, request: gr.Request) -> list[dict]:
    classifier = _workspace(request).classifier
    if classifier is None:
        raise gr.Error("No model yet: train one in step 2, or load one from the Hub in step 4.")
    with _user_errors():
        return classifier.recognize(image, threshold=float(threshold))


def _prediction_text(found: list[dict]) -> tuple[dict | None, str]:
    """The largest face's probabilities, and a sentence naming every face."""
    if not found:
        return None, _note("No face found: try a clearer, front-facing photo, or train in Whole images mode.", "warning")
    whole_image = found[0]["face_confidence"] is None
    count = "" if whole_image else f"{len(found)} face{'s' * (len(found) != 1)}: "
    return found[0]["probabilities"], count + ", ".join(map(_describe_face, found))


def _describe_face(face: dict) -> str:
    if face["label"] != UNKNOWN:
        return f"**{face['label']}** ({face['probability']:.0%})"
    closest = max(face["probabilities"], key=face["probabilities"].get)
    return f"**{UNKNOWN}** (closest: {closest}, {face['probability']:.0%})"


def _corners(box: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    x, y, width, height = box
    return x, y, x + width, y + height


def show_result(live: bool) -> tuple[gr.AnnotatedImage, gr.Image]:
    """Show the photo's result or the live view, whichever tab is open."""
    return gr.AnnotatedImage(visible=not live), gr.Image(visible=live)


# Share ------------------------------------------------------------------------------------------


def push_model(repo_id: str, private: bool, token: str, oauth_token: gr.OAuthToken | None, request: gr.Request) -> str:
    """Push the session's model to a Hub model repo (created if new)."""
    workspace = _workspace(request)
    if workspace.classifier is None:
        raise gr.Error("No model to push yet: train one in step 2 first.")
    repo_id = (repo_id or "").strip()
    if not repo_id:
        raise gr.Error("Enter a repository name, like your-name/my-face-model.")
    with _user_errors():
        commit_url = workspace.classifier.push_to_hub(repo_id, token=_hub_token(token, oauth_token, needed=True), private=bool(private))
    repo_url = commit_url.split("/commit/")[0]
    pushed = "/".join(repo_url.rsplit("/", 2)[-2:])
    kept = " Its model card was edited on the Hub, so it was kept as it is." if commit_url.card_kept else ""
    return _note(f"Pushed to [{pushed}]({repo_url}) ({'private' if private else 'public'}).{kept} "
                 f"Load it anywhere with `facerec.Classifier.from_pretrained(\"{pushed}\")`.")


def load_model(repo_id: str, revision: str, token: str, oauth_token: gr.OAuthToken | None, request: gr.Request) -> tuple:
    """Load a facerec model from a Hub repo as the session's model."""
    workspace = _workspace(request)
    repo_id = (repo_id or "").strip()
    if not looks_like_repo_id(repo_id) or Path(repo_id).exists():
        raise gr.Error("Enter a Hub repo id like namespace/model-name.")
    with _user_errors():
        classifier = pull_from_hub(repo_id, revision=(revision or "").strip() or None, cache_dir=workspace.folder / "hub",
                                   token=_hub_token(token, oauth_token, needed=False))
    workspace.classifier = classifier
    summary = _model_summary(classifier)
    return _note(f"Loaded **{repo_id}**. Try it in step 3."), summary, summary, classifier.threshold


def forget_token() -> str:
    """Empty the token box."""
    return ""


def export_model(request: gr.Request) -> gr.File:
    """The session's model, saved and zipped, to download."""
    with _user_errors():
        return gr.File(value=str(_workspace(request).export_model()), visible=True)


def end_session(request: gr.Request) -> None:
    """The visitor left: delete their workspace (after a running training stops)."""
    if request is not None and request.session_hash:
        WORKSPACES.end(request.session_hash)


# Layout -----------------------------------------------------------------------------------------

# System fonts only: a web font would tell a font server about every visitor.
THEME = gr.themes.Soft(primary_hue="indigo", secondary_hue="emerald", neutral_hue="slate",
                       font=["ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "Roboto", "sans-serif"],
                       font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"])

CSS = """
.gradio-container { max-width: 1280px !important; margin: auto; }
#hero { padding: 18px 22px; border-radius: 14px; color: white;
        background: linear-gradient(120deg, #4338ca 0%, #6d28d9 55%, #059669 100%); }
#hero h1 { margin: 0 0 4px 0; font-size: 1.75rem; color: white; }
#hero p { margin: 0; opacity: 0.92; color: white; }
#hero .steps { display: flex; align-items: center; gap: 10px; flex-wrap: wrap; margin-top: 12px; }
#hero .steps button { background: rgba(255,255,255,0.16); color: white; border: none; border-radius: 999px;
                      margin: 0; padding: 3px 12px; font-size: 0.9rem; line-height: 1.5; cursor: pointer; }
#hero .steps button:hover { background: rgba(255,255,255,0.3); }
.hint { color: var(--body-text-color-subdued); font-size: 0.92rem; }
#record-hold { user-select: none; touch-action: none; }
#train-status { min-height: 64px; }
footer { visibility: visible; }
"""

# Hold-to-record: pressing the button ticks the Record box, releasing it unticks it. And two
# touches of polish: the label menu stays closed, and the banner's steps open their tab.
HOLD_TO_RECORD_JS = """
() => {
  const box = () => document.querySelector('#recording input[type=checkbox]');
  const set = (on) => { const b = box(); if (b && b.checked !== on) b.click(); };
  let holding = false;
  const press = (event) => {
    if (!event.target.closest('#record-hold') || holding) return;
    holding = true; set(true);
  };
  const release = () => { if (holding) { holding = false; set(false); } };
  document.addEventListener('pointerdown', press);
  document.addEventListener('pointerup', release);
  document.addEventListener('pointercancel', release);
  document.addEventListener('keydown', (event) => {
    if ((event.key === ' ' || event.key === 'Enter') && !event.repeat && event.target.closest('#record-hold')) {
      event.preventDefault(); press(event);
    }
  });
  document.addEventListener('keyup', (event) => { if (event.target.closest('#record-hold')) release(); });
  // Gradio's dropdown opens its menu when its choices change while it holds a typed (new) label,
  // even without focus; close it again unless the visitor is using it.
  new MutationObserver(() => {
    const input = document.querySelector('#label input');
    const menu = document.querySelector('#label ul');
    if (input && menu && menu.offsetParent !== null && document.activeElement !== input) { input.focus(); input.blur(); }
  }).observe(document.body, { childList: true, subtree: true });
  // The steps in the banner open their tab.
  document.addEventListener('click', (event) => {
    const step = event.target.closest('#hero [data-tab]');
    if (!step) return;
    const tab = [...document.querySelectorAll('button[role=tab]')].find((b) => b.textContent.trim() === step.dataset.tab);
    if (tab) tab.click();
  });
}
"""

HERO = """
<div id="hero">
  <h1>facerec · teach a computer faces</h1>
  <p>Show it a few photos of each person, train in a minute, and it names every face it sees.
     Works for any kind of image, too.</p>
  <div class="steps">
    <button data-tab="1 · Collect photos">1 · Collect photos</button>
    <button data-tab="2 · Train">2 · Train</button>
    <button data-tab="3 · Try it">3 · Try it</button>
    <button data-tab="4 · Share">4 · Share</button>
  </div>
</div>
"""

PRIVACY = (
    "<small>🔒 Your photos and models stay in a private workspace of this browser tab: other visitors cannot see them, "
    "and they are deleted when you close or reload the tab (or after {timeout} idle). Download the dataset or push the model to keep them. "
    "Example faces: The Database of Faces, AT&T Laboratories Cambridge (Olivetti Research Laboratory).</small>"
)

with gr.Blocks(title="facerec · teach a computer faces", analytics_enabled=False,
               delete_cache=GRADIO_CACHE_LIFETIME) as demo:
    gr.HTML(HERO)
    with gr.Row(equal_height=True):
        mode = gr.Radio([("Faces: find and crop every face", FACES), ("Whole images: objects, pets, scenes", IMAGES)],
                        value=FACES, label="What should it recognise?", scale=3)
        if SIGN_IN:
            gr.LoginButton(scale=1)

    with gr.Tabs():
        # 1 · Collect ------------------------------------------------------------------------
        with gr.Tab("1 · Collect photos", id="collect"):
            with gr.Row():
                with gr.Column(scale=3):
                    label_in = gr.Dropdown(label="Label", choices=[], value=None, allow_custom_value=True, elem_id="label",
                                           info="Who (or what) the photos show. Pick a label or type a new name.")
                    with gr.Tabs():
                        with gr.Tab("Webcam"):
                            camera = gr.Image(sources=["webcam"], streaming=True, type="numpy", label="Camera",
                                              height=360, webcam_options=gr.WebcamOptions(mirror=True), elem_id="camera")
                            gr.Markdown("Turn the camera on (click the box, then its ⏺ button). Then **Capture** one photo, "
                                        "or **hold** Record to save a photo of every frame: move your head a little for variety. "
                                        "In face mode only the face is kept.", elem_classes="hint")
                            with gr.Row():
                                capture_button = gr.Button("📸 Capture photo", variant="secondary")
                                hold_button = gr.Button("⏺ Hold to record", variant="primary", elem_id="record-hold")
                            recording = gr.Checkbox(label="Recording (ticked while you hold the button; tick it for hands-free)",
                                                    value=False, elem_id="recording")
                        with gr.Tab("Upload photos"):
                            photos = gr.File(label="Photos of this label (several at once)", file_count="multiple",
                                             file_types=["image"], height=200)
                        with gr.Tab("Import a zip"):
                            archive = gr.File(label="A .zip with one folder per label", file_types=[".zip"], height=200)
                            gr.Markdown("Layout: `alice/1.jpg`, `alice/2.jpg`, `bob/1.jpg`… (what **Download dataset** makes).",
                                        elem_classes="hint")
                        with gr.Tab("Example"):
                            gr.Markdown("Try the app without a camera: 28 photos of 4 people from the ORL face database "
                                        "(AT&T Laboratories Cambridge). Then train, and try the example photos in step 3.")
                            example_button = gr.Button("Load the example faces", variant="primary")
                    collect_note = gr.Markdown(elem_id="collect-note")
                with gr.Column(scale=2):
                    gr.Markdown("### Your dataset")
                    counts_table = gr.Dataframe(headers=["Label", "Photos"], interactive=False, max_height=220, elem_id="counts",
                                                label="Labels (click one to show its photos)")
                    gallery = gr.Gallery(label="Photos of the selected label", columns=4, height=320, elem_id="gallery",
                                         object_fit="cover", allow_preview=True, interactive=False, buttons=["fullscreen"])
                    selected_photo = gr.Textbox(visible="hidden", label="Selected photo")
                    with gr.Accordion("Edit the dataset", open=False):
                        with gr.Row():
                            new_name = gr.Textbox(label="Rename the label to", scale=3)
                            rename_button = gr.Button("Rename", scale=1)
                        with gr.Row():
                            delete_photo_button = gr.Button("🗑 Delete the selected photo", size="sm")
                            delete_label_button = gr.Button("🗑 Delete the whole label", size="sm", variant="stop")
                    with gr.Row():
                        export_button = gr.Button("⬇ Download dataset (.zip)", size="sm")
                    dataset_file = gr.File(label="Dataset zip", visible=False)

        # 2 · Train --------------------------------------------------------------------------
        with gr.Tab("2 · Train", id="train"):
            with gr.Row():
                with gr.Column(scale=2):
                    data_summary = gr.Textbox(label="Training data", interactive=False, lines=2)
                    backbone = gr.Radio([(_backbone_title(name), name) for name in PIPELINES], value=DEFAULTS.backbone, label="Backbone",
                                        info="The pretrained network whose features the new classifier learns from.")
                    weights_note = gr.Markdown()
                    with gr.Accordion("Advanced settings", open=False):
                        epochs = gr.Slider(1, 200, value=DEFAULTS.epochs, step=1, label="Epochs",
                                           info="Passes over the photos. Training stops early when validation stops improving.")
                        batch_size = gr.Dropdown([8, 16, 32, 64, 128], value=DEFAULTS.batch_size, label="Batch size")
                        learning_rate = gr.Number(value=DEFAULTS.learning_rate, minimum=1e-6, maximum=1.0, step=1e-4,
                                                  label="Learning rate")
                        optimizer = gr.Radio(list(OPTIMIZERS), value=DEFAULTS.optimizer, label="Optimizer")
                        augment = gr.Slider(0, 5, value=DEFAULTS.augment, step=1, label="Augmentation",
                                            info="Extra varied copies of each photo (flip, rotation, zoom, light).")
                        trainable_layers = gr.Slider(0, 6, value=DEFAULTS.trainable_layers, step=1, label="Unfrozen top layers",
                                                     info="Fine-tune this many top layers of the backbone (slower; 0 keeps it frozen).")
                        validation_split = gr.Slider(0.1, 0.5, value=DEFAULTS.validation_split, step=0.05,
                                                     label="Held out for validation", info="Share of each label's photos kept for scoring.")
                        reset_button = gr.Button("Reset to defaults", size="sm")
                    with gr.Row():
                        train_button = gr.Button("🚀 Train model", variant="primary", scale=3)
                        stop_button = gr.Button("■ Stop", variant="stop", scale=1)
                    train_status = gr.Markdown(elem_id="train-status")
                with gr.Column(scale=3):
                    with gr.Row():
                        loss_plot = gr.LinePlot(x="epoch", y="value", color="series", title="Loss per epoch",
                                                x_title="epoch", y_title="loss", color_title="", height=260,
                                                color_map={"training": "#4f46e5", "validation": "#059669"})
                        accuracy_plot = gr.LinePlot(x="epoch", y="value", color="series", title="Accuracy per epoch",
                                                    x_title="epoch", y_title="accuracy", color_title="", height=260,
                                                    y_lim=[0, 1], color_map={"training": "#4f46e5", "validation": "#059669"})
                    results_text = gr.Markdown(elem_id="results")
            with gr.Row():
                per_class = gr.Dataframe(_per_class_table({}), label="Accuracy per label", interactive=False, scale=2)
                confusion = gr.Dataframe(_confusion_table({}), label="Confusion matrix (rows: true label, columns: predicted)",
                                         interactive=False, scale=3)

        # 3 · Try it -------------------------------------------------------------------------
        with gr.Tab("3 · Try it", id="predict"):
            model_info = gr.Markdown(elem_id="model-info")
            with gr.Row():
                with gr.Column():
                    with gr.Tabs():
                        with gr.Tab("Photo") as photo_tab:
                            photo = gr.Image(sources=["upload", "webcam", "clipboard"], type="numpy", label="Photo", height=340)
                            gr.Examples([[str(path)] for path in EXAMPLE_PHOTOS], inputs=[photo], cache_examples=False,
                                        label="Example photos (people of the example dataset, and someone else)",
                                        elem_id="predict-examples",
                                        api_name="example_photo", api_visibility="private")
                        with gr.Tab("Live webcam") as live_tab:
                            live_camera = gr.Image(sources=["webcam"], streaming=True, type="numpy", label="Live camera",
                                                   height=340, webcam_options=gr.WebcamOptions(mirror=True), elem_id="live-camera")
                    threshold = gr.Slider(0, 1, value=DEFAULT_THRESHOLD, step=0.05, label="Say “unknown” below",
                                          info="A face whose best probability is under this is called unknown.")
                with gr.Column():
                    annotated = gr.AnnotatedImage(label="Every face, named", height=340, color_map={UNKNOWN: "#9ca3af"})
                    live_view = gr.Image(label="Every face, named (live)", height=340, streaming=True, sources=["webcam"],
                                         interactive=False, visible=False, elem_id="live-view", buttons=["fullscreen"])
                    probabilities = gr.Label(label="Probabilities for the largest face", num_top_classes=5)
                    predict_note = gr.Markdown(elem_id="predict-note")

        # 4 · Share --------------------------------------------------------------------------
        with gr.Tab("4 · Share", id="share"):
            share_model_info = gr.Markdown()
            with gr.Row():
                with gr.Column():
                    gr.Markdown("### Push to the Hugging Face Hub\nThe model, its metrics and a model card, in one commit.")
                    repo_id = gr.Textbox(label="Repository", placeholder="your-name/my-face-model")
                    private = gr.Checkbox(value=True, label="Private repository (recommended for faces)")
                    token = gr.Textbox(label="Hugging Face token (write access)", type="password",
                                       placeholder="hf_…  (not needed if you signed in" + (
                                           " or the server has HF_TOKEN)" if CONFIG.use_server_token else ")"),
                                       info="Used for one push or load, then cleared: never stored, logged or shown.")
                    push_button = gr.Button("⬆ Push to the Hub", variant="primary")
                    push_note = gr.Markdown()
                with gr.Column():
                    gr.Markdown("### Load a model from the Hub\nAny model pushed by facerec; private ones need a token.")
                    load_repo = gr.Textbox(label="Repository", placeholder="namespace/model-name")
                    load_revision = gr.Textbox(label="Revision (optional)", placeholder="main, a branch, or a commit id")
                    load_button = gr.Button("⬇ Load model")
                    load_note = gr.Markdown()
                    gr.Markdown("### Download\nThe model as a zip: a Keras 3 folder that `keras.saving.load_model` "
                                "and `facerec.Classifier.load` read.")
                    export_model_button = gr.Button("⬇ Download model (.zip)")
                    model_file = gr.File(label="Model zip", visible=False)

    gr.Markdown(PRIVACY.format(timeout=f"{CONFIG.session_timeout_minutes:g} minutes"))

    # Events ---------------------------------------------------------------------------------
    DATA_OUTPUTS = [counts_table, label_in, data_summary, gallery]
    TRAIN_INPUTS = [data_summary, mode, backbone, epochs, batch_size, learning_rate, optimizer, augment,
                    trainable_layers, validation_split]
    TRAIN_OUTPUTS = [train_status, loss_plot, accuracy_plot, results_text, per_class, confusion, model_info, share_model_info,
                     threshold]
    WEBCAM = dict(stream_every=0.25, time_limit=60, concurrency_limit=8, concurrency_id="webcam", show_progress="hidden")

    demo.load(session_views, None, [*DATA_OUTPUTS, model_info, share_model_info, repo_id], api_name="session")
    demo.unload(end_session)
    gr.on([demo.load, backbone.change], describe_backbone, backbone, weights_note, api_name="describe_backbone")

    label_in.change(show_label, label_in, gallery, api_name="show_label", show_progress="hidden")
    counts_table.select(pick_label, None, label_in, api_name="pick_label")
    gallery.select(pick_photo, None, selected_photo, api_name="pick_photo")
    camera.stream(webcam_frame, [camera, label_in, recording, mode], [collect_note, *DATA_OUTPUTS], api_name="webcam_frame", **WEBCAM)
    recording.change(recording_changed, [recording, label_in], [collect_note, *DATA_OUTPUTS], api_name="recording",
                     show_progress="hidden")
    capture_button.click(capture_photo, [label_in, mode], [collect_note, *DATA_OUTPUTS], api_name="capture",
                         show_progress="minimal")
    photos.upload(add_photos, [photos, label_in], [collect_note, *DATA_OUTPUTS, photos], api_name="add_photos")
    archive.upload(import_zip, [archive, label_in], [collect_note, *DATA_OUTPUTS, archive], api_name="import_zip")
    example_button.click(load_example_dataset, None, [collect_note, *DATA_OUTPUTS], api_name="load_example_dataset")
    delete_photo_button.click(delete_photo, [label_in, selected_photo], [collect_note, *DATA_OUTPUTS, selected_photo],
                              api_name="delete_photo")
    rename_button.click(rename_label, [label_in, new_name], [collect_note, *DATA_OUTPUTS, new_name], api_name="rename_label")
    delete_label_button.click(delete_label, label_in, [collect_note, *DATA_OUTPUTS], api_name="delete_label",
                              js="(label) => (label && confirm(`Delete the label “${label}” and all its photos?`)) ? label : null")
    export_button.click(export_dataset, None, dataset_file, api_name="export_dataset")

    training = train_button.click(train_model, TRAIN_INPUTS, TRAIN_OUTPUTS, api_name="train", validator=check_training,
                                  concurrency_limit=1, concurrency_id="training", show_progress_on=[train_status])
    stopped = gr.State(False)
    stop_button.click(stop_training, None, [train_status, stopped], api_name="stop_training", cancels=[training]).then(
        training_outcome, stopped, TRAIN_OUTPUTS, api_name="training_outcome", show_progress_on=[train_status])
    reset_button.click(reset_settings, None, [epochs, batch_size, learning_rate, optimizer, augment, trainable_layers,
                                              validation_split], api_name="reset_settings")

    gr.on([photo.change, threshold.release], predict, [photo, threshold], [annotated, probabilities, predict_note],
          api_name="predict")
    live_camera.stream(predict_stream, [live_camera, threshold], [live_view, probabilities, predict_note],
                       api_name="predict_stream", **{**WEBCAM, "stream_every": 0.5})
    photo_tab.select(lambda: show_result(False), None, [annotated, live_view], api_name="show_photo_result",
                     api_visibility="private", show_progress="hidden")
    live_tab.select(lambda: show_result(True), None, [annotated, live_view], api_name="show_live_result",
                    api_visibility="private", show_progress="hidden")

    # The typed token is cleared after each use, whatever the outcome: Gradio keeps the inputs of
    # a session's last calls in memory, and the token box is one of them.
    push_button.click(push_model, [repo_id, private, token], push_note, api_name="push_to_hub").then(
        forget_token, None, token, api_name="forget_token_after_push", api_visibility="private")
    load_button.click(load_model, [load_repo, load_revision, token], [load_note, model_info, share_model_info, threshold],
                      api_name="load_from_hub").then(
        forget_token, None, token, api_name="forget_token_after_load", api_visibility="private")
    export_model_button.click(export_model, None, model_file, api_name="export_model")

demo.queue(default_concurrency_limit=4)

LAUNCH_OPTIONS = dict(theme=THEME, css=CSS, js=HOLD_TO_RECORD_JS, run_history=False, max_file_size=MAX_UPLOAD)


def launch(**options):
    """Start the app with its theme and privacy settings (no run history); ``options`` go to ``demo.launch``."""
    return demo.launch(**{**LAUNCH_OPTIONS, **options})


def main(argv: list[str] | None = None) -> None:
    """``python app.py [--host HOST] [--port PORT] [--share] [--root-path PATH]``."""
    parser = argparse.ArgumentParser(description="facerec: teach a computer faces, in the browser.")
    parser.add_argument("--host", default=None, help="address to listen on (default 127.0.0.1, or GRADIO_SERVER_NAME)")
    parser.add_argument("--port", type=int, default=None, help="port (default 7860 or the next free one, or GRADIO_SERVER_PORT)")
    parser.add_argument("--share", action="store_true", help="also serve on a temporary public gradio.live link")
    parser.add_argument("--root-path", default=None, help="URL prefix when served behind a proxy")
    arguments = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # One line per request otherwise.
    launch(server_name=arguments.host, server_port=arguments.port, share=arguments.share or None, root_path=arguments.root_path)


if __name__ == "__main__":
    main()
