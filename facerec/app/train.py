"""Step 2, Train: pick a backbone, watch the curves, read the results."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import gradio as gr
import pandas as pd

from facerec import backbones, devices
from facerec.app.jobs import BackgroundTraining
from facerec.app.live import LiveView
from facerec.app.sessions import Workspace
from facerec.app.shared import FACES, AppContext, ModelViews, note, reports_to, sentence
from facerec.backbones.applications import AUTO
from facerec.classifier import Classifier
from facerec.dataset import check_trainable
from facerec.features import Stopped
from facerec.settings import OPTIMIZERS, TrainingSettings

DEFAULTS = TrainingSettings()
CURVE_COLOURS = {"training": "#4f46e5", "validation": "#059669"}


class TrainTab:
    """The Train tab's components, handlers and events.

    Args:
        mode: the app's "What should it recognise?" choice; it picks the recommended backbone.
        data_summary: the summary of the training data (kept up to date by the Collect tab),
            rendered here.
    """

    def __init__(self, context: AppContext, *, mode: gr.Radio, data_summary: gr.Textbox):
        self.context, self.mode, self.data_summary = context, mode, data_summary
        with gr.Tab("2 · Train", id="train"):
            with gr.Row():
                with gr.Column(scale=2):
                    self._build_settings()
                with gr.Column(scale=3):
                    self._build_curves()
            with gr.Accordion("See it work: the live camera, right here", open=True, visible=False) as self.live_box:
                gr.Markdown("Every face the camera sees is boxed and named by the model you just trained "
                            "(the same view as step 3's Live webcam).", elem_classes="hint")
                LiveView(context, elem_id="train-live")
            with gr.Row():
                self.per_class = gr.Dataframe(per_class_table({}), label="Accuracy per label", interactive=False, scale=2,
                                              wrap=True, column_widths=["34%", "26%", "18%", "22%"], elem_id="per-class")
                self.confusion = gr.Dataframe(confusion_table({}), label="Confusion matrix (rows: true label, columns: predicted)",
                                              interactive=False, scale=3, wrap=True, elem_id="confusion")
        self.inputs = [self.data_summary, self.mode, self.backbone, self.epochs, self.batch_size, self.learning_rate,
                       self.optimizer, self.augment, self.trainable_layers, self.validation_split]

    def _build_settings(self) -> None:
        self.data_summary.render()
        self.backbone = gr.Radio([(backbone.title, backbone.name) for backbone in backbones.BACKBONES.values()],
                                 value=backbones.default_backbone(faces=True), label="Backbone",
                                 info="The pretrained network whose features the new classifier learns from.")
        gr.Markdown("\n".join(f"- **{backbone.title}**: {backbone.purpose}" for backbone in backbones.BACKBONES.values()),
                    elem_classes="hint")
        self.weights_note = gr.Markdown()
        with gr.Accordion("Advanced settings", open=False):
            self.epochs = gr.Slider(1, 200, value=DEFAULTS.epochs, step=1, label="Epochs",
                                    info="Passes over the photos. Training stops early when validation stops improving.")
            self.batch_size = gr.Dropdown([8, 16, 32, 64, 128], value=DEFAULTS.batch_size, label="Batch size")
            self.learning_rate = gr.Number(value=DEFAULTS.learning_rate, minimum=1e-6, maximum=1.0, step=1e-4,
                                           label="Learning rate")
            self.optimizer = gr.Radio(list(OPTIMIZERS), value=DEFAULTS.optimizer, label="Optimizer")
            self.augment = gr.Slider(0, 5, value=DEFAULTS.augment, step=1, label="Augmentation",
                                     info="Extra varied copies of each photo (flip, rotation, zoom, light).")
            self.trainable_layers = gr.Slider(0, 6, value=DEFAULTS.trainable_layers, step=1, label="Unfrozen top layers",
                                              info="Fine-tune this many top layers of the backbone (slower; 0 keeps it frozen).")
            self.validation_split = gr.Slider(0.1, 0.5, value=DEFAULTS.validation_split, step=0.05,
                                              label="Held out for validation", info="Share of each label's photos kept for scoring.")
            self.reset_button = gr.Button("Reset to defaults", size="sm")
        with gr.Row():
            self.train_button = gr.Button("🚀 Train model", variant="primary", scale=3)
            self.stop_button = gr.Button("■ Stop", variant="stop", scale=1)
        self.status = gr.Markdown(elem_id="train-status")

    def _build_curves(self) -> None:
        with gr.Row():
            self.loss_plot = gr.LinePlot(x="epoch", y="value", color="series", title="Loss per epoch", x_title="epoch",
                                         y_title="loss", color_title="", height=260, color_map=CURVE_COLOURS)
            self.accuracy_plot = gr.LinePlot(x="epoch", y="value", color="series", title="Accuracy per epoch",
                                             x_title="epoch", y_title="accuracy", color_title="", height=260, y_lim=[0, 1],
                                             color_map=CURVE_COLOURS)
        self.results = gr.Markdown(elem_id="results")

    def wire(self, *, demo: gr.Blocks, model_views: ModelViews) -> None:
        """Connect the events; ``model_views`` (in every tab) show the model when a training ends."""
        self.model_views = model_views
        self.outputs = [self.status, self.loss_plot, self.accuracy_plot, self.results, self.per_class, self.confusion,
                        self.live_box, *model_views.components]
        gr.on([demo.load, self.backbone.change, self.mode.change], self.describe_backbone, [self.backbone, self.mode],
              self.weights_note, api_name="describe_backbone")
        self.mode.change(recommended_backbone, self.mode, self.backbone, api_name="recommended_backbone",
                         show_progress="hidden")
        training = self.train_button.click(self.train, self.inputs, self.outputs, api_name="train", validator=self.check,
                                           concurrency_limit=1, concurrency_id="training", show_progress_on=[self.status])
        stopped = gr.State(False)
        self.stop_button.click(self.stop, None, [self.status, stopped], api_name="stop_training", cancels=[training]).then(
            self.outcome, stopped, self.outputs, api_name="training_outcome", show_progress_on=[self.status])
        self.reset_button.click(reset_settings, None, [self.epochs, self.batch_size, self.learning_rate, self.optimizer,
                                                       self.augment, self.trainable_layers, self.validation_split],
                                api_name="reset_settings")

    # Handlers ----------------------------------------------------------------------------------

    def describe_backbone(self, backbone: str, mode: str) -> str:
        """Which weights the backbone starts from, and what trains."""
        entry = backbones.get_backbone(backbone)
        image_size = self.context.config.image_size or entry.default_image_size(mode == FACES)
        try:
            weights = entry.pipeline_class().describe_weights(backbone, self._weights(entry), image_size)
        except ValueError as error:
            weights = f"not available: {error}"
        return f"**Weights:** {weights}  \n**Trains on:** {devices.describe_device()}"

    def check(self, data_summary: str, mode: str, backbone: str, epochs: float, batch_size: float, learning_rate: float,
              optimizer: str, augment: float, trainable_layers: float, validation_split: float,
              request: gr.Request) -> list[dict]:
        """Before a training joins the queue: refuse it, with the reason, if it cannot run."""
        workspace = self.context.workspace(request)
        problem = None
        if workspace.training_queued or (workspace.training is not None and workspace.training.running):
            problem = "A training is already running or waiting in this session: wait for it, or press Stop."
        else:
            try:
                check_trainable(workspace.dataset.labels(), float(validation_split))
                self.settings(mode, backbone, epochs, batch_size, learning_rate, optimizer, augment, trainable_layers,
                              validation_split)
            except ValueError as error:
                problem = sentence(str(error))
        if problem is None:
            workspace.training_queued = True
        return [gr.validate(problem is None, problem or "")] + [gr.validate(True, "")] * (len(self.inputs) - 1)

    def settings(self, mode: str, backbone: str, epochs: float, batch_size: float, learning_rate: float, optimizer: str,
                 augment: float, trainable_layers: float, validation_split: float) -> TrainingSettings:
        """The training settings from the page's controls (raises ValueError, with the reason, for a bad value)."""
        entry = backbones.get_backbone(backbone)
        return TrainingSettings(backbone=backbone, weights=self._weights(entry), image_size=self.context.config.image_size,
                                faces=mode == FACES, epochs=int(epochs), batch_size=int(batch_size),
                                learning_rate=float(learning_rate), optimizer=optimizer, augment=int(augment),
                                trainable_layers=int(trainable_layers), validation_split=float(validation_split))

    def _weights(self, backbone: backbones.Backbone) -> str | None:
        # FACEREC_WEIGHTS chooses among a Keras backbone's weights; other backbones have their own.
        return self.context.config.weights if backbone.keras_weights else AUTO

    @reports_to("status")
    def train(self, data_summary: str, mode: str, backbone: str, epochs: float, batch_size: float, learning_rate: float,
              optimizer: str, augment: float, trainable_layers: float, validation_split: float,
              request: gr.Request, progress: gr.Progress = gr.Progress()) -> Iterator[dict]:
        """Train on the session's dataset: live curves each epoch, then the validation results."""
        workspace = self.context.workspace(request)
        settings = self.settings(mode, backbone, epochs, batch_size, learning_rate, optimizer, augment,
                                 trainable_layers, validation_split)
        run = workspace.start_training(settings)
        yield self.cleared_views()  # the last training's results go until this one has its own
        for update in run.updates():
            # Whoever reads this training's progress is there, even if their page's heartbeat
            # dropped for a while (a busy server): its workspace must not end under the training.
            workspace.touch()
            if update.total:
                unit = "images" if update.stage == "features" else "epochs"
                progress((update.done, update.total), desc=sentence(update.message), unit=unit)
            else:
                progress(None, desc=sentence(update.message))
            if update.metrics:
                yield self.live_views(run)
        yield self.finished_views(workspace, run)

    def stop(self, request: gr.Request) -> tuple[str, bool]:
        """Stop this session's training (it keeps the best epoch so far), or cancel a queued one.

        Also says whether there is an outcome to show next: not after cancelling a queued training.
        """
        workspace = self.context.workspace(request)
        was_queued, workspace.training_queued = workspace.training_queued, False
        if workspace.stop_training():
            return note("Stopping after this step: the best epoch so far is kept…", "warning"), True
        if was_queued:
            return note("Training cancelled before it started.", "warning"), False
        return note("No training is running.", "warning"), True

    @reports_to("status")
    def outcome(self, show: bool, request: gr.Request) -> dict:
        """After Stop: wait for the training to end, then show what it kept.

        Stop also cancels the training's live view, so this shows the outcome even when the
        training ended on its own just before the click.
        """
        workspace = self.context.workspace(request)
        if not show or workspace.training is None:
            return {}
        return self.finished_views(workspace, workspace.training)

    # Views -------------------------------------------------------------------------------------

    def cleared_views(self) -> dict:
        """Nothing of an earlier training: empty curves, results and tables."""
        return {self.status: note("Starting…", "recording"), self.loss_plot: None, self.accuracy_plot: None,
                self.results: "", self.per_class: per_class_table({}), self.confusion: confusion_table({})}

    def live_views(self, run: BackgroundTraining) -> dict:
        latest = run.history[-1]
        status = note(f"Epoch {latest['epoch']} of {run.settings.epochs}: " + ", ".join(
            f"{name} {latest[key]:.3f}" for key, name in (("loss", "loss"), ("accuracy", "accuracy"),
                                                          ("val_loss", "validation loss"),
                                                          ("val_accuracy", "validation accuracy"))
            if key in latest), "recording")
        loss, accuracy = curves(run.history)
        return {self.status: status, self.loss_plot: loss, self.accuracy_plot: accuracy}

    def finished_views(self, workspace: Workspace, run: BackgroundTraining) -> dict:
        """The outcome of a finished training."""
        run.wait()
        loss, accuracy = curves(run.history)
        if isinstance(run.error, Stopped):
            status = note("Stopped before the first epoch ended: no model was made. Train again when ready.", "warning")
            return {self.status: status, self.loss_plot: loss, self.accuracy_plot: accuracy}
        if run.error is not None:
            raise run.error  # reports_to shows a ValueError (bad data, a missing package) as a note
        classifier = run.classifier
        report, metrics = classifier.report, classifier.metrics
        stopped = " (stopped early: best epoch kept)" if run.stop.is_set() else ""
        status = note(f"Trained in {report['seconds']:.0f} s on {report['device']}, {len(run.history)} epochs{stopped}. "
                      "Try it in step 3.")
        return {self.status: status, self.loss_plot: loss, self.accuracy_plot: accuracy, self.results: results_text(classifier),
                self.per_class: per_class_table(metrics), self.confusion: confusion_table(metrics),
                self.live_box: gr.Accordion(visible=True), **self.model_views.updates(workspace.classifier)}


def recommended_backbone(mode: str) -> str:
    """The backbone for the mode: the face specialist for faces, VGG16 for whole images."""
    return backbones.default_backbone(faces=mode == FACES)


def reset_settings() -> tuple:
    """The advanced settings' defaults."""
    return (DEFAULTS.epochs, DEFAULTS.batch_size, DEFAULTS.learning_rate, DEFAULTS.optimizer, DEFAULTS.augment,
            DEFAULTS.trainable_layers, DEFAULTS.validation_split)


def curves(history: list[dict]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Long-format loss and accuracy per epoch, for training and validation."""
    def long(metric: str) -> pd.DataFrame:
        rows = [{"epoch": row["epoch"], "value": row[key], "series": series}
                for row in history for key, series in ((metric, "training"), (f"val_{metric}", "validation")) if key in row]
        return pd.DataFrame(rows, columns=["epoch", "value", "series"])
    return long("loss"), long("accuracy")


def results_text(classifier: Classifier) -> str:
    metrics, report = classifier.metrics, classifier.report
    lines = []
    if metrics.get("accuracy") is not None:
        correct = sum(metrics["confusion"][index][index] for index in range(len(metrics["labels"])))
        lines.append(f"### Validation accuracy: {metrics['accuracy']:.0%} ({correct} of {metrics['count']} held-out photos)")
        if classifier.config.refit_note():
            lines.append(classifier.config.refit_note())
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


def per_class_table(metrics: dict) -> pd.DataFrame:
    labels, confusion = metrics.get("labels", []), metrics.get("confusion", [])
    rows = []
    for index, label in enumerate(labels):
        total, accuracy = sum(confusion[index]), metrics["per_class"].get(label)
        rows.append({"Label": label, "Validation photos": total, "Correct": confusion[index][index],
                     "Accuracy": "–" if accuracy is None else f"{accuracy:.0%}"})
    return pd.DataFrame(rows, columns=["Label", "Validation photos", "Correct", "Accuracy"])


def confusion_table(metrics: dict):
    labels, confusion = metrics.get("labels", []), metrics.get("confusion", [])
    frame = pd.DataFrame(confusion, columns=labels)
    frame.insert(0, "true ↓ / predicted →", labels)
    peak = max([1] + [value for row in confusion for value in row])

    def shade(value: int) -> str:
        strength = value / peak
        return f"background-color: rgba(79, 70, 229, {0.08 + 0.72 * strength:.2f}); color: {'white' if strength > 0.5 else 'inherit'}"
    return frame.style.map(shade, subset=labels) if labels else frame
