"""What every tab of the app uses: the visitor's workspace, user-level errors, notes, the model's summary."""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import functools
import inspect
import logging
from collections.abc import Callable

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
            raise ValueError("this request has no session: reload the page")
        return self.workspaces.get(request.session_hash)

    def keep_alive(self, request: gr.Request) -> None:
        """An open page says it is still there (its workspace is not ended while it is)."""
        if request is not None and request.session_hash:
            self.workspaces.find(request.session_hash)

    def leave(self, demo: gr.Blocks, request: gr.Request) -> None:
        """The visitor's page went away: their workspace goes after the grace period (unless the page
        comes back), and Gradio's own state of the session with it."""
        if request is not None and request.session_hash:
            self.workspaces.leave(request.session_hash, grace=self.config.session_grace_seconds,
                                  on_ended=lambda session: forget_session(demo, session))


def reports_to(note_name: str, *, clears: str | None = None) -> Callable:
    """Make a tab method's user-level problems a warning in the tab's note, not a failure of every output.

    A ``ValueError`` (what the core raises for bad input, and what handlers raise for a missing
    label, camera or token) becomes a warning toast and the note's text, with every other output
    left as it was (but ``clears``, emptied), and one line in the log; anything else is a fault:
    it fails the event (Gradio shows the error) and the log gets its traceback. ``note_name`` and
    ``clears`` are attributes of the tab. Works for functions and generators.
    """
    def decorate(method: Callable) -> Callable:
        def warning(self, error: ValueError) -> dict:
            message = sentence(str(error))
            logger.info("told a visitor: %s", message)
            gr.Warning(message)
            return {getattr(self, note_name): note(message, "warning"), **({getattr(self, clears): ""} if clears else {})}

        def fault(error: Exception):
            logger.error("%s failed", method.__qualname__, exc_info=error)
            return gr.Error(f"Something went wrong ({type(error).__name__}: {error}); the log has the details.")

        if inspect.isgeneratorfunction(method):
            @functools.wraps(method)
            def generator(self, *args, **kwargs):
                try:
                    yield from method(self, *args, **kwargs)
                except ValueError as error:
                    yield warning(self, error)
                except gr.Error:
                    raise
                except Exception as error:  # noqa: BLE001 (a fault: reported, then failed)
                    raise fault(error) from None
            return generator

        @functools.wraps(method)
        def function(self, *args, **kwargs):
            try:
                return method(self, *args, **kwargs)
            except ValueError as error:
                return warning(self, error)
            except gr.Error:
                raise
            except Exception as error:  # noqa: BLE001 (a fault: reported, then failed)
                raise fault(error) from None
        return function
    return decorate


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


class ModelViews:
    """Every component that shows the session's model, across tabs, and how each tab fills its own.

    Tabs register ``show(classifier) -> {component: value}`` for their components; the tabs that
    make a model (Train, and Share when it loads one) output to :attr:`components` and return
    :meth:`updates`.
    """

    def __init__(self):
        self.components: list = []
        self._shows: list[Callable] = []

    def register(self, components: list, show: Callable[[Classifier | None], dict]) -> None:
        self.components += components
        self._shows.append(show)

    def updates(self, classifier: Classifier | None) -> dict:
        return {component: value for show in self._shows for component, value in show(classifier).items()}


def forget_session(demo: gr.Blocks, session_hash: str) -> None:
    """Drop Gradio's state of an ended session, and give the freed memory back to the system.

    Gradio keeps each closed session's page state (a copy of the page's configuration, with what
    its renders added) until 10,000 sessions have come after it; an app serving visitor after
    visitor would grow by that much each.
    """
    holder = getattr(demo, "state_holder", None)
    if holder is not None:
        with holder.lock:
            holder.session_data.pop(session_hash, None)
            holder.time_last_used.pop(session_hash, None)
    trim_memory()


def trim_memory() -> None:
    """Return freed heap memory to the system (glibc keeps it otherwise, and the process only grows)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
