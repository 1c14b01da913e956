"""Step 3, Try it: name every face in a photo, or in the live webcam (see :mod:`facerec.app.live`)."""

from __future__ import annotations

from pathlib import Path

import gradio as gr
import numpy as np

from facerec.app.live import LiveView
from facerec.app.shared import AppContext, model_summary, note, reports_to
from facerec.classifier import Classifier
from facerec.config import DEFAULT_THRESHOLD, UNKNOWN
from facerec.drawing import describe_face, draw_faces

EXAMPLE_PHOTOS = Path(__file__).resolve().parents[2] / "examples" / "photos"
# The example photos, with what each one shows (people of the example dataset, and others).
EXAMPLES = [("subject-13.jpg", "Subject 13"), ("subject-8.jpg", "Subject 8"),
            ("group-of-three.jpg", "Subjects 5, 8 and 11 together"),
            ("someone-else.jpg", "Someone else: not in the example dataset")]
DISTANCE_RULE = ("dlib measures how far a face is from each person's photos (0 is the same photo). Farther than "
                 "this from the closest person, a face is “unknown”: lower is stricter. 0.5 was measured best "
                 "on people the model never saw (0.6 is dlib's own cut-off).")
PROBABILITY_RULE = "A face whose best probability is under this is called “unknown”. Higher is stricter."


class PredictTab:
    """The Try it tab's components, handlers and events."""

    def __init__(self, context: AppContext):
        self.context = context
        with gr.Tab("3 · Try it", id="predict"):
            self.model_info = gr.Markdown(elem_id="model-info")
            with gr.Row():
                with gr.Column():
                    with gr.Tabs():
                        with gr.Tab("Photo"):
                            self.photo = gr.Image(sources=["upload", "clipboard"], type="numpy", label="Photo", height=340)
                            examples = [(EXAMPLE_PHOTOS / name, caption) for name, caption in EXAMPLES
                                        if (EXAMPLE_PHOTOS / name).is_file()]
                            if examples:
                                gr.Examples([[str(path)] for path, _ in examples], inputs=[self.photo], cache_examples=False,
                                            example_labels=[caption for _, caption in examples],
                                            label="Example photos (of the example dataset's people, and someone else)",
                                            elem_id="predict-examples", api_name="example_photo", api_visibility="private")
                        with gr.Tab("Live webcam", elem_id="live-tab"):
                            self.live = LiveView(context, elem_id="predict-live")
                    self.threshold = gr.Slider(0, 1, value=DEFAULT_THRESHOLD, step=0.05, label="Say “unknown” below",
                                               info=PROBABILITY_RULE, elem_id="threshold")
                    self.distance = gr.Slider(0.3, 0.8, value=0.5, step=0.02, label="Say “unknown” farther than",
                                              info=DISTANCE_RULE, visible=False, elem_id="distance-threshold")
                with gr.Column():
                    self.result = gr.Image(label="Every face, named", height=340, interactive=False, elem_id="photo-result",
                                           buttons=["download", "fullscreen"])
                    self.headline = gr.Markdown(elem_id="predict-headline")
                    self.probabilities = gr.Label(label="Probabilities for the largest face", num_top_classes=5,
                                                  show_heading=False, elem_id="probabilities")
                    self.note = gr.Markdown(elem_id="predict-note")
        self.model_outputs = [self.model_info, self.threshold, self.distance]
        self._wire()

    def _wire(self) -> None:
        outputs = [self.result, self.headline, self.probabilities, self.note]
        gr.on([self.photo.change, self.threshold.release, self.distance.release], self.predict,
              [self.photo, self.threshold, self.distance], outputs, api_name="predict")
        gr.on([self.threshold.release, self.distance.release], self.live.set_thresholds, [self.threshold, self.distance],
              None, api_name="live_thresholds", show_progress="hidden")

    def model_views(self, classifier: Classifier | None) -> dict:
        """What this tab shows of the session's model: its summary, and the control of its unknown rule."""
        if classifier is None:
            return {self.model_info: model_summary(None), self.threshold: gr.Slider(visible=True),
                    self.distance: gr.Slider(visible=False)}
        distance = classifier.distance_threshold
        return {self.model_info: model_summary(classifier),
                self.threshold: gr.Slider(value=classifier.threshold, visible=distance is None),
                self.distance: gr.Slider(value=distance if distance is not None else 0.5, visible=distance is not None)}

    # Handlers ----------------------------------------------------------------------------------

    @reports_to("note")
    def predict(self, image: np.ndarray | None, threshold: float, distance: float, request: gr.Request) -> dict:
        """Name every face in a photo; the headline and probabilities are the largest face's."""
        if image is None:
            return {self.result: None, self.headline: "", self.probabilities: None, self.note: ""}
        classifier = self.context.workspace(request).classifier
        if classifier is None:
            raise ValueError("no model yet: train one in step 2, or load one from the Hub in step 4")
        rules = rules_of(classifier, threshold, distance)
        found = classifier.recognize(image, **rules)
        whole_image = bool(found) and found[0]["face_confidence"] is None
        drawn = image if whole_image else draw_faces(image, found, labels=classifier.labels)
        if not found:
            return {self.result: drawn, self.headline: "", self.probabilities: None,
                    self.note: note("No face found: try a clearer, front-facing photo, or train in Whole images mode.",
                                    "warning")}
        largest = found[0]
        count = "" if whole_image else f"{len(found)} face{'s' * (len(found) != 1)}: "
        listed = ", ".join(describe_face(face, strong=lambda text: f"**{text}**", **rules) for face in found)
        return {self.result: drawn, self.headline: headline(largest), self.probabilities: largest["probabilities"],
                self.note: count + listed}


def rules_of(classifier: Classifier, threshold: float, distance: float) -> dict:
    """The unknown rule the page's controls set, for :meth:`Classifier.recognize`: the distance for
    a model with one (dlib), else the probability threshold."""
    if classifier.distance_threshold is not None:
        return {"threshold": classifier.threshold, "distance_threshold": float(distance)}
    return {"threshold": float(threshold)}


def headline(face: dict) -> str:
    """The largest face's answer, as big as the page makes it: a name, or “Unknown”."""
    if face["label"] == UNKNOWN:
        return "## Unknown  \nNot close enough to anyone it was trained on (the bars show whom it is closest to)."
    return f"## {face['label']}  \n{face['probability']:.0%} sure"
