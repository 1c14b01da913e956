"""What every tab of the app uses: the visitor's workspace, user-level errors, notes, the model's summary."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import Iterator

import gradio as gr

from facerec.app.sessions import Workspace, Workspaces
from facerec.app.settings import AppConfig
from facerec.backbones import backbone_title
from facerec.classifier import Classifier

logger = logging.getLogger("facerec.app")

FACES, IMAGES = "faces", "images"
NOTE_ICONS = {"info": "✅", "warning": "⚠️", "recording": "🔴"}


@dataclasses.dataclass(frozen=True)
class AppContext:
    """The app's settings and the visitors' workspaces, handed to every tab."""

    config: AppConfig
    workspaces: Workspaces

    def workspace(self, request: gr.Request | None) -> Workspace:
        """The workspace of the visitor who made ``request``."""
        if request is None or not request.session_hash:
            raise gr.Error("This request has no session: reload the page.")
        return self.workspaces.get(request.session_hash)

    def end_session(self, request: gr.Request) -> None:
        """The visitor left: delete their workspace (after a running training stops)."""
        if request is not None and request.session_hash:
            self.workspaces.end(request.session_hash)


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Show the core's plain-language errors (ValueError and its kinds) to the user."""
    try:
        yield
    except ValueError as error:
        raise gr.Error(sentence(str(error))) from None


def sentence(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def note(text: str, kind: str = "info") -> str:
    """A status line: ``info`` (done), ``warning`` (nothing done, and why) or ``recording`` (under way)."""
    return f"{NOTE_ICONS[kind]} {text}"


def model_summary(classifier: Classifier | None) -> str:
    """The session's model in a line, for the tabs that use it."""
    if classifier is None:
        return "**No model yet.** Train one in step 2, or load one from the Hub in step 4."
    config = classifier.config
    accuracy = classifier.metrics.get("accuracy")
    measured = f"validation accuracy **{accuracy:.0%}**" if accuracy is not None else "no validation score"
    mode = "face mode" if config.faces.get("enabled") else "whole images"
    return (f"**Model:** {len(config.labels)} labels ({', '.join(config.labels)}) · {backbone_title(config.backbone)} · "
            f"{mode} · {measured}  \n<small>Backbone weights: {config.backbone_weights.get('description', 'unknown')}</small>")
