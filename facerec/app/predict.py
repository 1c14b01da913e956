"""Step 3, Try it: name every face in a photo or in the live webcam."""

from __future__ import annotations

from pathlib import Path

import gradio as gr
import numpy as np

from facerec.app.shared import AppContext, model_summary, note, user_errors
from facerec.config import DEFAULT_THRESHOLD, UNKNOWN
from facerec.drawing import draw_faces

EXAMPLE_PHOTOS = sorted((Path(__file__).resolve().parents[2] / "examples" / "photos").glob("*.jpg"))
LIVE_STREAM = dict(stream_every=0.5, time_limit=60, concurrency_limit=8, concurrency_id="webcam", show_progress="hidden")


class PredictTab:
    """The Try it tab's components, handlers and events."""

    def __init__(self, context: AppContext):
        self.context = context
        with gr.Tab("3 · Try it", id="predict"):
            self.model_info = gr.Markdown(elem_id="model-info")
            with gr.Row():
                with gr.Column():
                    with gr.Tabs():
                        with gr.Tab("Photo") as self.photo_tab:
                            self.photo = gr.Image(sources=["upload", "webcam", "clipboard"], type="numpy", label="Photo",
                                                  height=340)
                            gr.Examples([[str(path)] for path in EXAMPLE_PHOTOS], inputs=[self.photo], cache_examples=False,
                                        label="Example photos (people of the example dataset, and someone else)",
                                        elem_id="predict-examples", api_name="example_photo", api_visibility="private")
                        with gr.Tab("Live webcam") as self.live_tab:
                            self.live_camera = gr.Image(sources=["webcam"], streaming=True, type="numpy", label="Live camera",
                                                        height=340, webcam_options=gr.WebcamOptions(mirror=True),
                                                        elem_id="live-camera")
                    self.threshold = gr.Slider(0, 1, value=DEFAULT_THRESHOLD, step=0.05, label="Say “unknown” below",
                                               info="A face whose best probability is under this is called unknown.")
                with gr.Column():
                    self.annotated = gr.AnnotatedImage(label="Every face, named", height=340, color_map={UNKNOWN: "#9ca3af"})
                    self.live_view = gr.Image(label="Every face, named (live)", height=340, streaming=True, sources=["webcam"],
                                              interactive=False, visible=False, elem_id="live-view", buttons=["fullscreen"])
                    self.probabilities = gr.Label(label="Probabilities for the largest face", num_top_classes=5)
                    self.note = gr.Markdown(elem_id="predict-note")
        self._wire()

    def _wire(self) -> None:
        outputs = [self.annotated, self.probabilities, self.note]
        gr.on([self.photo.change, self.threshold.release], self.predict, [self.photo, self.threshold], outputs,
              api_name="predict")
        self.live_camera.stream(self.predict_stream, [self.live_camera, self.threshold],
                                [self.live_view, self.probabilities, self.note], api_name="predict_stream", **LIVE_STREAM)
        self.photo_tab.select(lambda: show_result(False), None, [self.annotated, self.live_view],
                              api_name="show_photo_result", api_visibility="private", show_progress="hidden")
        self.live_tab.select(lambda: show_result(True), None, [self.annotated, self.live_view],
                             api_name="show_live_result", api_visibility="private", show_progress="hidden")

    def on_load(self, request: gr.Request) -> str:
        """The session's model, for a page (re)load."""
        return model_summary(self.context.workspace(request).classifier)

    # Handlers ----------------------------------------------------------------------------------

    def predict(self, image: np.ndarray | None, threshold: float, request: gr.Request) -> tuple:
        """Name every face in a photo; the probabilities are the largest face's."""
        if image is None:
            return None, None, ""
        found = self.recognize(image, threshold, request)
        whole_image = bool(found) and found[0]["face_confidence"] is None
        boxes = [] if whole_image else [(corners(face["box"]), face["label"]) for face in found]
        return (image, boxes), *prediction_text(found)

    def predict_stream(self, frame: np.ndarray | None, threshold: float, request: gr.Request) -> tuple:
        """The live webcam: every face boxed and named on the frame itself.

        The frame goes back as an image drawn here (sent inline, as base64) rather than as an
        annotated image, which Gradio would write to disk a few times a second.
        """
        if frame is None:
            return gr.skip(), gr.skip(), gr.skip()
        found = self.recognize(frame, threshold, request)
        labels = self.context.workspace(request).classifier.labels
        return draw_faces(frame, found, labels=labels), *prediction_text(found)

    def recognize(self, image: np.ndarray, threshold: float, request: gr.Request) -> list[dict]:
        classifier = self.context.workspace(request).classifier
        if classifier is None:
            raise gr.Error("No model yet: train one in step 2, or load one from the Hub in step 4.")
        with user_errors():
            return classifier.recognize(image, threshold=float(threshold))


def prediction_text(found: list[dict]) -> tuple[dict | None, str]:
    """The largest face's probabilities, and a sentence naming every face."""
    if not found:
        return None, note("No face found: try a clearer, front-facing photo, or train in Whole images mode.", "warning")
    whole_image = found[0]["face_confidence"] is None
    count = "" if whole_image else f"{len(found)} face{'s' * (len(found) != 1)}: "
    return found[0]["probabilities"], count + ", ".join(map(describe_face, found))


def describe_face(face: dict) -> str:
    if face["label"] != UNKNOWN:
        return f"**{face['label']}** ({face['probability']:.0%})"
    closest = max(face["probabilities"], key=face["probabilities"].get)
    return f"**{UNKNOWN}** (closest: {closest}, {face['probability']:.0%})"


def corners(box: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    x, y, width, height = box
    return x, y, x + width, y + height


def show_result(live: bool) -> tuple[gr.AnnotatedImage, gr.Image]:
    """Show the photo's result or the live view, whichever tab is open."""
    return gr.AnnotatedImage(visible=not live), gr.Image(visible=live)
