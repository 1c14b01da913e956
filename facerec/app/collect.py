"""Step 1, Collect photos: label, capture from the webcam, upload, import, edit, export."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import gradio as gr
import numpy as np
import pandas as pd

from facerec.app.sessions import ADDED, NO_FACE, Workspace
from facerec.app.shared import FACES, AppContext, note, sentence, user_errors
from facerec.labels import validate_label

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
EXAMPLE_DATASET = EXAMPLES / "faces"
GALLERY_SIZE = 60
# Camera frames go to the server this often while the camera is on (for Capture and Record).
WEBCAM_STREAM = dict(stream_every=0.25, time_limit=60, concurrency_limit=8, concurrency_id="webcam", show_progress="hidden")


class CollectTab:
    """The Collect tab's components, handlers and events.

    Args:
        mode: the app's "What should it recognise?" choice (faces or whole images).
        data_summary: the Train tab's summary of the training data, kept up to date from here.
    """

    def __init__(self, context: AppContext, *, mode: gr.Radio, data_summary: gr.Textbox):
        self.context, self.mode, self.data_summary = context, mode, data_summary
        with gr.Tab("1 · Collect photos", id="collect"):
            with gr.Row():
                with gr.Column(scale=3):
                    self._build_inputs()
                with gr.Column(scale=2):
                    self._build_dataset_view()
        self.dataset_outputs = [self.counts_table, self.label_in, self.data_summary, self.gallery]
        self._wire()

    # Layout ------------------------------------------------------------------------------------

    def _build_inputs(self) -> None:
        self.label_in = gr.Dropdown(label="Label", choices=[], value=None, allow_custom_value=True, elem_id="label",
                                    info="Who (or what) the photos show. Pick a label or type a new name.")
        with gr.Tabs():
            with gr.Tab("Webcam"):
                self.camera = gr.Image(sources=["webcam"], streaming=True, type="numpy", label="Camera", height=360,
                                       webcam_options=gr.WebcamOptions(mirror=True), elem_id="camera")
                gr.Markdown("Turn the camera on (click the box, then its ⏺ button). Then **Capture** one photo, "
                            "or **hold** Record to save a photo of every frame: move your head a little for variety. "
                            "In face mode only the face is kept.", elem_classes="hint")
                with gr.Row():
                    self.capture_button = gr.Button("📸 Capture photo", variant="secondary")
                    gr.Button("⏺ Hold to record", variant="primary", elem_id="record-hold")
                self.recording = gr.Checkbox(label="Recording (ticked while you hold the button; tick it for hands-free)",
                                             value=False, elem_id="recording")
            with gr.Tab("Upload photos"):
                self.photos = gr.File(label="Photos of this label (several at once)", file_count="multiple",
                                      file_types=["image"], height=200)
            with gr.Tab("Import a zip"):
                self.archive = gr.File(label="A .zip with one folder per label", file_types=[".zip"], height=200)
                gr.Markdown("Layout: `alice/1.jpg`, `alice/2.jpg`, `bob/1.jpg`… (what **Download dataset** makes).",
                            elem_classes="hint")
            with gr.Tab("Example"):
                gr.Markdown("Try the app without a camera: 28 photos of 4 people from the ORL face database "
                            "(AT&T Laboratories Cambridge). Then train, and try the example photos in step 3.")
                self.example_button = gr.Button("Load the example faces", variant="primary")
        self.note = gr.Markdown(elem_id="collect-note")

    def _build_dataset_view(self) -> None:
        gr.Markdown("### Your dataset")
        self.counts_table = gr.Dataframe(headers=["Label", "Photos"], interactive=False, max_height=220, elem_id="counts",
                                         label="Labels (click one to show its photos)")
        self.gallery = gr.Gallery(label="Photos of the selected label", columns=4, height=320, elem_id="gallery",
                                  object_fit="cover", allow_preview=True, interactive=False, buttons=["fullscreen"])
        self.selected_photo = gr.Textbox(visible="hidden", label="Selected photo")
        with gr.Accordion("Edit the dataset", open=False):
            with gr.Row():
                self.new_name = gr.Textbox(label="Rename the label to", scale=3)
                self.rename_button = gr.Button("Rename", scale=1)
            with gr.Row():
                self.delete_photo_button = gr.Button("🗑 Delete the selected photo", size="sm")
                self.delete_label_button = gr.Button("🗑 Delete the whole label", size="sm", variant="stop")
        with gr.Row():
            self.export_button = gr.Button("⬇ Download dataset (.zip)", size="sm")
        self.dataset_file = gr.File(label="Dataset zip", visible=False)

    def _wire(self) -> None:
        outputs = [self.note, *self.dataset_outputs]
        self.label_in.change(self.show_label, self.label_in, self.gallery, api_name="show_label", show_progress="hidden")
        self.counts_table.select(pick_label, None, self.label_in, api_name="pick_label")
        self.gallery.select(pick_photo, None, self.selected_photo, api_name="pick_photo")
        self.camera.stream(self.webcam_frame, [self.camera, self.label_in, self.recording, self.mode], outputs,
                           api_name="webcam_frame", **WEBCAM_STREAM)
        self.recording.change(self.recording_changed, [self.recording, self.label_in], outputs, api_name="recording",
                              show_progress="hidden")
        self.capture_button.click(self.capture_photo, [self.label_in, self.mode], outputs, api_name="capture",
                                  show_progress="minimal")
        self.photos.upload(self.add_photos, [self.photos, self.label_in], [*outputs, self.photos], api_name="add_photos")
        self.archive.upload(self.import_zip, [self.archive, self.label_in], [*outputs, self.archive], api_name="import_zip")
        self.example_button.click(self.load_example_dataset, None, outputs, api_name="load_example_dataset")
        self.delete_photo_button.click(self.delete_photo, [self.label_in, self.selected_photo], [*outputs, self.selected_photo],
                                       api_name="delete_photo")
        self.rename_button.click(self.rename_label, [self.label_in, self.new_name], [*outputs, self.new_name],
                                 api_name="rename_label")
        self.delete_label_button.click(
            self.delete_label, self.label_in, outputs, api_name="delete_label",
            js="(label) => (label && confirm(`Delete the label “${label}” and all its photos?`)) ? label : null")
        self.export_button.click(self.export_dataset, None, self.dataset_file, api_name="export_dataset")

    # Views -------------------------------------------------------------------------------------

    def dataset_views(self, workspace: Workspace, label: str | None, *, keep_label: bool = False) -> dict:
        """Counts table, label picker, training-data summary and gallery.

        ``keep_label``: update the picker's choices only, leaving what the visitor typed alone.
        """
        counts = workspace.dataset.labels()
        label = (label or "").strip() or None
        return {
            self.counts_table: pd.DataFrame({"Label": list(counts), "Photos": list(counts.values())}),
            self.label_in: gr.Dropdown(choices=list(counts)) if keep_label else gr.Dropdown(choices=list(counts), value=label),
            self.data_summary: data_summary(counts),
            self.gallery: gallery(workspace, label),
        }

    def on_load(self, request: gr.Request) -> dict:
        """The visitor's dataset, for a page (re)load."""
        return self.dataset_views(self.context.workspace(request), None, keep_label=True)

    # Handlers ----------------------------------------------------------------------------------

    def show_label(self, label: str | None, request: gr.Request) -> gr.Gallery:
        """The photos of one label, newest first."""
        return gallery(self.context.workspace(request), label)

    def add_photos(self, files: list[str] | None, label: str | None, request: gr.Request) -> dict:
        """Add uploaded photos under a label."""
        workspace = self.context.workspace(request)
        label = required_label(label)
        if not files:
            raise gr.Error("Choose one or more photos to add.")
        with user_errors():
            workspace.check_room(len(files))
            report = workspace.dataset.add_many(label, files, names=[Path(path).name for path in files])
        discard_uploads(files)
        return {self.note: note(sentence(report.summary()), "warning" if report.refused else "info"),
                **self.dataset_views(workspace, label), self.photos: None}

    def import_zip(self, archive: str | None, label: str | None, request: gr.Request) -> dict:
        """Add every photo of a zip laid out as <label>/<photo>."""
        workspace = self.context.workspace(request)
        if not archive:
            raise gr.Error("Choose a .zip file laid out as one folder per label.")
        with user_errors():
            workspace.check_room()
            report = workspace.dataset.import_zip(archive)
        discard_uploads([archive])
        labels = workspace.dataset.labels()
        label = label if label in labels else next(iter(labels), None)
        return {self.note: note(sentence(report.summary()), "warning" if report.refused else "info"),
                **self.dataset_views(workspace, label), self.archive: None}

    def load_example_dataset(self, request: gr.Request) -> dict:
        """Add the bundled example: photos of four people from the ORL face database."""
        workspace = self.context.workspace(request)
        with user_errors():
            workspace.check_room()
            report = workspace.dataset.import_folder(EXAMPLE_DATASET)
        label = next(iter(workspace.dataset.labels()), None)
        text = f"{sentence(report.summary())} of 4 people (ORL face database). Next: step 2, Train."
        return {self.note: note(text), **self.dataset_views(workspace, label)}

    def capture_photo(self, label: str | None, mode: str, request: gr.Request) -> dict:
        """Store the camera's current frame (its face, in face mode) under a label."""
        workspace = self.context.workspace(request)
        label = required_label(label)
        frame = workspace.recent_frame()
        if frame is None:
            raise gr.Error("The camera is off: click the camera box, allow access, then press its ⏺ button to start it.")
        with user_errors():
            outcome = workspace.add_frame(label, frame, faces=mode == FACES)
        if outcome == NO_FACE:
            text = note("No face in that frame: nothing saved. Face the camera, with light on your face.", "warning")
        else:
            text = note(f"Saved a photo of **{label}**." if outcome == ADDED else "That frame was already saved.")
        return {self.note: text, **self.dataset_views(workspace, label)}

    def webcam_frame(self, frame: np.ndarray | None, label: str | None, recording: bool, mode: str,
                     request: gr.Request) -> dict:
        """Every camera frame: remembered for Capture, and stored while Record is on."""
        workspace = self.context.workspace(request)
        if frame is None:
            return {}
        workspace.remember_frame(frame)
        if not recording:
            return {}
        if not label or not label.strip():
            return {self.note: note("Type a label first: recorded frames need a name.", "warning")}
        if workspace.recording is None:
            workspace.recording = {}
        with user_errors():
            workspace.add_frame(label, frame, faces=mode == FACES)
        views = self.dataset_views(workspace, label)
        # The picker and gallery wait for the end of the recording: refreshing them every frame
        # would reopen the picker's menu and re-send every thumbnail.
        return {self.note: recording_note(label, workspace.recording, live=True),
                self.counts_table: views[self.counts_table], self.data_summary: views[self.data_summary]}

    def recording_changed(self, recording: bool, label: str | None, request: gr.Request) -> dict:
        """Start a new tally when recording starts; sum it up and refresh the gallery when it stops."""
        workspace = self.context.workspace(request)
        if recording:
            workspace.recording = {}
            text = f"Recording **{label}**… move your head a little." if label else "Type a label first: recorded frames need a name."
            return {self.note: note(text, "recording" if label else "warning")}
        tally, workspace.recording = workspace.recording, None
        if tally is None:
            return {}
        if not label or not label.strip():
            return {self.note: note("Nothing recorded: type a label first.", "warning")}
        return {self.note: recording_note(label, tally, live=False), **self.dataset_views(workspace, label, keep_label=True)}

    def delete_photo(self, label: str | None, photo: str | None, request: gr.Request) -> dict:
        """Delete the photo picked in the gallery."""
        workspace = self.context.workspace(request)
        label = required_label(label)
        if not photo or Path(photo).name != photo:
            raise gr.Error("Click a photo in the gallery first, then delete it.")
        with user_errors():
            workspace.dataset.delete_sample(workspace.dataset.root / label / photo)
        return {self.note: note(f"Deleted a photo of **{label}**."), **self.dataset_views(workspace, label),
                self.selected_photo: ""}

    def rename_label(self, label: str | None, new_name: str | None, request: gr.Request) -> dict:
        """Rename a label (its photos keep their place)."""
        workspace = self.context.workspace(request)
        label, new_name = required_label(label), required_label(new_name)
        with user_errors():
            workspace.dataset.rename_label(label, new_name)
        return {self.note: note(f"Renamed **{label}** to **{new_name}**."), **self.dataset_views(workspace, new_name),
                self.new_name: ""}

    def delete_label(self, label: str | None, request: gr.Request) -> dict:
        """Delete a label and all its photos (nothing when the page's confirmation was declined)."""
        workspace = self.context.workspace(request)
        if label is None:
            return {}
        label = required_label(label)
        with user_errors():
            workspace.dataset.delete_label(label)
        return {self.note: note(f"Deleted **{label}** and its photos."), **self.dataset_views(workspace, None)}

    def export_dataset(self, request: gr.Request) -> gr.File:
        """The dataset as a zip (one folder per label) to download."""
        with user_errors():
            return gr.File(value=str(self.context.workspace(request).export_dataset()), visible=True)


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


def required_label(value: str | None) -> str:
    if not value or not str(value).strip():
        raise gr.Error("Type a label first: the name of the person (or class) these photos show.")
    with user_errors():
        return validate_label(value)


def data_summary(counts: dict[str, int]) -> str:
    if not counts:
        return "No photos yet: add some in step 1."
    photos = sum(counts.values())
    listed = " · ".join(f"{label} {count}" for label, count in counts.items())
    return f"{len(counts)} label{'s' * (len(counts) != 1)}, {photos} photo{'s' * (photos != 1)}: {listed}"


def gallery(workspace: Workspace, label: str | None) -> gr.Gallery:
    if not label or label not in workspace.dataset.labels():
        return gr.Gallery(value=[], label="Photos of the selected label")
    samples = sorted(workspace.dataset.samples(label), key=lambda sample: sample.path.stat().st_mtime, reverse=True)
    shown = f" (newest {GALLERY_SIZE})" if len(samples) > GALLERY_SIZE else ""
    return gr.Gallery(value=[str(sample.path) for sample in samples[:GALLERY_SIZE]],
                      label=f"{label}: {len(samples)} photo{'s' * (len(samples) != 1)}{shown}")


def recording_note(label: str, tally: dict, *, live: bool) -> str:
    saved, faceless = tally.get(ADDED, 0), tally.get(NO_FACE, 0)
    text = f"{'Recording' if live else 'Recorded'} **{label}**: {saved} photo{'s' * (saved != 1)} saved"
    if faceless:
        return note(f"{text}; {faceless} frame{'s' * (faceless != 1)} without a face skipped.", "warning")
    return note(text + ".", "recording" if live else "info")


def discard_uploads(paths: list[str]) -> None:
    """Delete Gradio's temporary copies of uploads once they are in the dataset (JPEG, no EXIF)."""
    for path in paths:
        with contextlib.suppress(OSError):
            os.remove(path)
