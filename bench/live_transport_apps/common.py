"""What the transport apps share: the command line, the per-frame log, the stand-in handler."""

from __future__ import annotations

import argparse
import json
import os
import threading
import time
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from bench.live_transport_apps.camera import StandIn  # noqa: E402


def parser(description: str) -> argparse.ArgumentParser:
    result = argparse.ArgumentParser(description=description)
    result.add_argument("--port", type=int, default=7860)
    result.add_argument("--cost-ms", type=float, default=10.0, help="CPU the stand-in handler spends per frame")
    result.add_argument("--faces", type=int, default=1, choices=(1, 3), help="faces in the fake camera's frames")
    result.add_argument("--log", default=None, help="append one JSON line per handled frame to this file")
    return result


class FrameLog:
    """One JSON line per handled frame: when, which frame, its size, the handler's time, whose session."""

    def __init__(self, path: str | None):
        self.stream = open(path, "a", buffering=1, encoding="utf-8") if path else None
        self.lock = threading.Lock()

    def write(self, **record) -> None:
        if self.stream is None:
            return
        with self.lock:
            self.stream.write(json.dumps({"t": time.time(), **record}) + "\n")


def stand_in(arguments: argparse.Namespace) -> StandIn:
    handler = StandIn(arguments.cost_ms, arguments.faces)
    print(f"stand-in: {handler.units} units of {handler.unit_ms:.3f} ms = {handler.units * handler.unit_ms:.1f} ms per frame",
          flush=True)
    return handler


def ready_file(path: str | Path | None, url: str) -> None:
    if path:
        Path(path).write_text(url, encoding="utf-8")
