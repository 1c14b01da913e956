"""Step 1, Collect photos: one card per person (or class), each with its own capture, record and upload.

The camera is the page's own (``camera.js``): one click on a card's Capture takes a photo (turning
the camera on first if it is off); holding its Record button takes five a second and sends them
all when it is released, in one event, so a recording cannot end half-counted. In face mode only
the face of each frame is kept; uploads without a face are refused by name.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import os
from pathlib import Path

import gradio as gr
import numpy as np

from facerec.app.sessions import ADDED, CAMERA_NAME, DUPLICATE, NO_FACE, Workspace
from facerec.app.shared import FACES, AppContext, note, reports_to, sentence
from facerec.dataset import AddReport
from facerec.images import load_image

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
EXAMPLE_DATASET = EXAMPLES / "faces"
THUMBNAILS = 6
# The page's camera functions (camera.js), as Gradio event js: they get the inputs' values (label,
# frame or frames, mode) and return them, the frame filled in.
GRAB_FRAME_JS = "async (label, frame, mode) => [label, await window.facerec.camera.grabForServer(), mode]"
RECORDED_FRAMES_JS = "async (label, frames, mode) => [label, await window.facerec.camera.stopRecording(), mode]"
CONFIRM_DELETE_JS = "(label) => [confirm(`Delete “${label}” and all its photos?`) ? label : null]"
CAMERA_HTML = """
<div class="facerec-camera">
  <video data-facerec-camera autoplay muted playsinline aria-label="Camera preview"></video>
  <div class="facerec-camera-off">
    <p>The camera is off. Press <b>📸 Capture</b> on a card and it turns on by itself,
       or turn it on now.</p>
  </div>
  <div class="facerec-camera-bar">
    <button type="button" class="facerec-camera-toggle">📷 Turn the camera on / off</button>
    <span class="facerec-camera-status" role="status"></span>
  </div>
</div>
"""


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
                with gr.Column(scale=2):
                    self._build_camera_and_files()
                with gr.Column(scale=3):
                    self._build_cards()
        self.outputs = [self.note, self.dataset, self.data_summary]
        self._wire()

    # Layout ------------------------------------------------------------------------------------

    def _build_camera_and_files(self) -> None:
        gr.HTML(CAMERA_HTML, elem_id="collect-camera", container=False)
        gr.Markdown("**📸 Capture** on a card takes one photo of that person. **Hold ⏺ Record** to take five a "
                    "second while you turn your head a little: varied photos teach it best. In face mode only "
                    "the face is kept, not the room.", elem_classes="hint")
        self.note = gr.Markdown(elem_id="collect-note")
        if EXAMPLE_DATASET.is_dir():
            self.example_button = gr.Button("👥 Load the example faces: 28 photos of 4 people", elem_id="load-example")
        with gr.Accordion("Import a zip, or download the dataset", open=False):
            self.archive = gr.File(label="A .zip with one folder per label", file_types=[".zip"], height=130,
                                   elem_id="import-archive")
            gr.Markdown("Layout: `alice/1.jpg`, `alice/2.jpg`, `bob/1.jpg`… (what **Download** makes).", elem_classes="hint")
            self.export_button = gr.Button("⬇ Download the dataset (.zip)", size="sm")
            self.dataset_file = gr.File(label="Dataset zip", visible=False)

    def _build_cards(self) -> None:
        with gr.Row(equal_height=True):
            self.new_label = gr.Textbox(label="Add a person (or class)", placeholder="A name, like Alice", scale=4,
                                        elem_id="new-label", max_lines=1)
            self.add_button = gr.Button("+ Add", scale=1, elem_id="add-label")
        # What the cards show (labels, counts, newest photos): the one value every event updates.
        self.dataset = gr.JSON(value={"labels": []}, visible=False)
        # Inputs that the page's script fills (a frame, recorded frames) or that API clients pass.
        self.frame = gr.Textbox(visible="hidden", label="Frame (JPEG data URL)")
        self.frames = gr.Textbox(visible="hidden", label="Recorded frames (JSON)")
        self.label = gr.Textbox(visible="hidden", label="Label")
        self.photo = gr.Textbox(visible="hidden", label="Photo")
        self.new_name = gr.Textbox(visible="hidden", label="New name")
        self.files = gr.File(file_count="multiple", visible=False, label="Photos")
        self.api = gr.Button(visible=False)  # triggers the cards' handlers by name, for API clients

        @gr.render(inputs=[self.dataset, self.mode])
        def cards(view: dict, mode: str, request: gr.Request) -> None:
            self._cards(view, mode, request)

    def _cards(self, view: dict, mode: str, request: gr.Request) -> None:
        if not view["labels"]:
            gr.Markdown("**No photos yet.** Add a person above (a name per person you want it to know), then "
                        "capture, record or upload their photos; or load the example faces.", elem_classes="empty-cards")
            return
        workspace = self.context.workspace(request)
        for entry in view["labels"]:
            self._card(workspace, entry["label"], entry["count"], mode)

    def _card(self, workspace: Workspace, label: str, count: int, mode: str) -> None:
        key = f"card-{label}"
        with gr.Group(key=key, elem_classes="label-card"):
            gr.Markdown(f"### {label}  \n{count} photo{'s' * (count != 1)}", key=f"{key}-title", elem_classes="card-title")
            samples = sorted(workspace.dataset.samples(label), key=lambda sample: sample.path.stat().st_mtime, reverse=True)
            gallery = gr.Gallery([(str(sample.path), None if sample.name == CAMERA_NAME else sample.name)
                                  for sample in samples[:THUMBNAILS]], key=f"{key}-photos",
                                 show_label=False, columns=THUMBNAILS, rows=1, height=104, object_fit="cover",
                                 allow_preview=True, interactive=False, elem_classes="card-photos")
            with gr.Row(key=f"{key}-actions"):
                capture = gr.Button("📸 Capture", size="sm", key=f"{key}-capture", elem_classes="facerec-capture")
                record = gr.Button("⏺ Hold to record", size="sm", key=f"{key}-record", elem_classes="facerec-record")
                upload = gr.UploadButton("⬆ Upload photos", size="sm", key=f"{key}-upload", file_count="multiple",
                                         file_types=["image"])
            with gr.Accordion("Rename or delete", open=False, key=f"{key}-edit"):
                with gr.Row():
                    new_name = gr.Textbox(show_label=False, placeholder="New name", key=f"{key}-new-name", scale=3, max_lines=1)
                    rename = gr.Button("Rename", size="sm", key=f"{key}-rename", scale=1)
                selected = gr.State(None)
                with gr.Row():
                    delete_photo = gr.Button("🗑 Delete the selected photo", size="sm", key=f"{key}-delete-photo")
                    delete_label = gr.Button(f"🗑 Delete {label}", size="sm", variant="stop", key=f"{key}-delete")
        fixed = gr.State(label)  # the card's label, as an input of its events
        private = dict(outputs=self.outputs, api_visibility="private", show_progress="hidden")
        capture.click(self.capture, [fixed, self.frame, self.mode], js=GRAB_FRAME_JS, **private)
        record.click(self.record, [fixed, self.frames, self.mode], js=RECORDED_FRAMES_JS, **private)
        upload.upload(self.add_photos, [upload, fixed, self.mode], **private)
        gallery.select(pick_photo, None, selected, api_visibility="private", show_progress="hidden")
        delete_photo.click(self.delete_photo, [fixed, selected], **private)
        rename.click(self.rename_label, [fixed, new_name], **private)
        delete_label.click(self.delete_label, [fixed], js=CONFIRM_DELETE_JS, **private)

    def _wire(self) -> None:
        gr.on([self.add_button.click, self.new_label.submit], self.add_label, [self.new_label],
              [*self.outputs, self.new_label], api_name="add_label", show_progress="hidden")
        self.archive.upload(self.import_zip, [self.archive], [*self.outputs, self.archive], api_name="import_zip")
        if EXAMPLE_DATASET.is_dir():
            self.example_button.click(self.load_example_dataset, None, self.outputs, api_name="load_example_dataset")
        self.export_button.click(self.export_dataset, None, [self.dataset_file, self.note], api_name="export_dataset")
        # The cards' handlers by name, for API clients (gradio_client): a button nobody sees triggers them.
        for method, inputs, name in ((self.add_photos, [self.files, self.label, self.mode], "add_photos"),
                                     (self.capture, [self.label, self.frame, self.mode], "capture"),
                                     (self.record, [self.label, self.frames, self.mode], "record"),
                                     (self.delete_photo, [self.label, self.photo], "delete_photo"),
                                     (self.rename_label, [self.label, self.new_name], "rename_label"),
                                     (self.delete_label, [self.label], "delete_label")):
            self.api.click(method, inputs, self.outputs, api_name=name, show_progress="hidden")

    # Views -------------------------------------------------------------------------------------

    def views(self, workspace: Workspace, text: str | None = None, kind: str = "info") -> dict:
        """The dataset's cards and summary, and the note (when there is something to say)."""
        counts = workspace.dataset.labels()
        views = {self.dataset: {"labels": [{"label": label, "count": count, "newest": newest(workspace, label)}
                                           for label, count in counts.items()]},
                 self.data_summary: data_summary(counts)}
        if text is not None:
            views[self.note] = note(text, kind)
        return views

    def on_load(self, request: gr.Request) -> dict:
        """The visitor's dataset, for a page (re)load."""
        return self.views(self.context.workspace(request))

    # Handlers ----------------------------------------------------------------------------------

    @reports_to("note")
    def add_label(self, label: str | None, request: gr.Request) -> dict:
        """Add a person (or class), with no photos yet."""
        workspace = self.context.workspace(request)
        label = workspace.dataset.add_label(required_label(label))
        return {**self.views(workspace, f"Added **{label}**: now capture, record or upload their photos."), self.new_label: ""}

    @reports_to("note")
    def add_photos(self, files: list[str] | str | None, label: str | None, mode: str, request: gr.Request) -> dict:
        """Add uploaded photos under a label; in face mode, photos without a face are refused by name."""
        workspace = self.context.workspace(request)
        label = required_label(label)
        files = [files] if isinstance(files, str) else list(files or [])
        if not files:
            raise ValueError("choose one or more photos to add")
        workspace.check_room(len(files))
        try:
            report = workspace.add_photos(label, files, names=[Path(path).name for path in files], faces=mode == FACES)
        finally:
            discard_uploads(files)
        return self.views(workspace, *report_note(label, report))

    @reports_to("note")
    def import_zip(self, archive: str | None, request: gr.Request) -> dict:
        """Add every photo of a zip laid out as <label>/<photo>."""
        workspace = self.context.workspace(request)
        if not archive:
            raise ValueError("choose a .zip file laid out as one folder per label")
        workspace.check_room()
        try:
            report = workspace.dataset.import_zip(archive)
        finally:
            discard_uploads([archive])
        text = sentence(report.summary())
        return {**self.views(workspace, text, "warning" if report.refused else "info"), self.archive: None}

    @reports_to("note")
    def load_example_dataset(self, request: gr.Request) -> dict:
        """Add the bundled example: photos of four people from the ORL face database."""
        workspace = self.context.workspace(request)
        workspace.check_room()
        report = workspace.dataset.import_folder(EXAMPLE_DATASET)
        return self.views(workspace, f"{sentence(report.summary())} of 4 people (ORL face database). Next: step 2, Train.")

    @reports_to("note")
    def capture(self, label: str | None, frame: str | None, mode: str, request: gr.Request) -> dict:
        """Store one camera frame (its face, in face mode) under a label."""
        workspace = self.context.workspace(request)
        label = required_label(label)
        outcome = workspace.add_frame(label, decode_frame(frame), faces=mode == FACES)
        if outcome == NO_FACE:
            return self.views(workspace, "No face in that frame: nothing saved. Face the camera, with light on your face.",
                              "warning")
        return self.views(workspace, f"Saved a photo of **{label}**." if outcome == ADDED else "That frame was already saved.")

    @reports_to("note")
    def record(self, label: str | None, frames: str | None, mode: str, request: gr.Request) -> dict:
        """Store every frame of a recording (sent when Record is released) under a label."""
        workspace = self.context.workspace(request)
        label = required_label(label)
        recorded = decode_recording(frames)
        tally = {ADDED: 0, DUPLICATE: 0, NO_FACE: 0}
        for frame in recorded:
            tally[workspace.add_frame(label, frame, faces=mode == FACES)] += 1
        return self.views(workspace, *recording_note(label, tally))

    @reports_to("note")
    def delete_photo(self, label: str | None, photo: str | None, request: gr.Request) -> dict:
        """Delete one photo of a label (the one picked in its card)."""
        workspace = self.context.workspace(request)
        label = required_label(label)
        if not photo or Path(photo).name != photo:
            raise ValueError("click a photo of the card first, then delete it")
        workspace.dataset.delete_sample(workspace.dataset.root / label / photo)
        return self.views(workspace, f"Deleted a photo of **{label}**.")

    @reports_to("note")
    def rename_label(self, label: str | None, new_name: str | None, request: gr.Request) -> dict:
        """Rename a label (its photos keep their place)."""
        workspace = self.context.workspace(request)
        label, new_name = required_label(label), required_label(new_name)
        workspace.dataset.rename_label(label, new_name)
        return self.views(workspace, f"Renamed **{label}** to **{new_name}**.")

    @reports_to("note")
    def delete_label(self, label: str | None, request: gr.Request) -> dict:
        """Delete a label and all its photos (nothing when the page's confirmation was declined)."""
        workspace = self.context.workspace(request)
        if label is None:
            return {}
        label = required_label(label)
        workspace.dataset.delete_label(label)
        return self.views(workspace, f"Deleted **{label}** and its photos.")

    @reports_to("note")
    def export_dataset(self, request: gr.Request) -> dict:
        """The dataset as a zip (one folder per label) to download."""
        return {self.dataset_file: gr.File(value=str(self.context.workspace(request).export_dataset()), visible=True)}


def newest(workspace: Workspace, label: str) -> list[str]:
    """The names of a label's newest photos (what its card shows)."""
    samples = sorted(workspace.dataset.samples(label), key=lambda sample: sample.path.stat().st_mtime, reverse=True)
    return [sample.path.name for sample in samples[:THUMBNAILS]]


def pick_photo(evt: gr.SelectData) -> str:
    """The stored file name of the photo clicked in a card."""
    value = evt.value
    while isinstance(value, dict):
        value = value.get("image", value.get("path"))
    return Path(str(value)).name if value else ""


def required_label(value: str | None) -> str:
    if not value or not str(value).strip():
        raise ValueError("type a name first: the person (or class) these photos show")
    return str(value)


def decode_frame(frame: str | None) -> np.ndarray:
    """A frame from the page's camera (a JPEG data URL) as an RGB array; a camera problem as a ValueError."""
    if not frame:
        raise ValueError("no picture from the camera: turn it on (allow camera access), then capture again")
    if frame.startswith("error:"):
        raise ValueError(f"the camera is not available ({frame[6:].strip()}): allow camera access in the browser, "
                         "or upload photos instead")
    header, _, encoded = frame.partition(",")
    if not header.startswith("data:image/"):
        raise ValueError("a camera frame must be an image data URL (data:image/jpeg;base64,...)")
    try:
        return load_image(base64.b64decode(encoded, validate=True), name="the camera frame")
    except binascii.Error:
        raise ValueError("the camera frame is not valid base64") from None


def decode_recording(frames: str | None) -> list[np.ndarray]:
    """The frames of a recording (``{"frames": [data URL, ...], "error": ...}`` as JSON)."""
    try:
        recording = json.loads(frames or "")
    except json.JSONDecodeError:
        raise ValueError("the recording did not arrive: hold Record again") from None
    decoded = [decode_frame(frame) for frame in recording.get("frames", []) if frame]
    if not decoded:
        raise ValueError(f"the recording has no frames ({recording.get('error') or 'the camera sent none'}): hold Record again")
    return decoded


def report_note(label: str, report: AddReport) -> tuple[str, str]:
    """What an upload did, in words, and whether it is a warning."""
    text = f"{sentence(report.summary())} for **{label}**."
    return text, "warning" if report.refused else "info"


def recording_note(label: str, tally: dict[str, int]) -> tuple[str, str]:
    saved, faceless = tally[ADDED], tally[NO_FACE]
    text = f"Recorded **{label}**: {saved} photo{'s' * (saved != 1)} saved"
    if tally[DUPLICATE]:
        text += f", {tally[DUPLICATE]} already saved"
    if faceless:
        return f"{text}; {faceless} frame{'s' * (faceless != 1)} without a face skipped.", "warning"
    return text + ".", "info"


def data_summary(counts: dict[str, int]) -> str:
    if not counts:
        return "No photos yet: add some in step 1."
    photos = sum(counts.values())
    listed = " · ".join(f"{label} {count}" for label, count in counts.items())
    return f"{len(counts)} label{'s' * (len(counts) != 1)}, {photos} photo{'s' * (photos != 1)}: {listed}"


def discard_uploads(paths: list[str]) -> None:
    """Delete Gradio's temporary copies of uploads once they are in the dataset (JPEG, no EXIF)."""
    for path in paths:
        with contextlib.suppress(OSError):
            os.remove(path)
