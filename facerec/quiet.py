"""Import TensorFlow (and LiteRT) without their native start-up lines on the terminal.

They go straight to the process's standard error, before any log level applies, and would bury
a command's or the app's own output ("Could not find cuda drivers" on every CPU run, once per
native runtime loaded). Python errors raised by the imports still surface: the stream is
restored before they propagate.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys


def import_tensorflow_quietly() -> None:
    """Import ``tensorflow`` and, where installed, LiteRT's interpreter, their native chatter silenced."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import tensorflow  # noqa: F401

        with contextlib.suppress(ImportError):
            importlib.import_module("ai_edge_litert.interpreter")
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
