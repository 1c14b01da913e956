"""Shared pytest configuration for the facerec test suite.

Sections are delimited below; add new fixtures in their own section at the end.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

# ============================================================================================
# Hugging Face Hub test server (tests/hub_server.py)
#
# huggingface_hub and keras read HF_ENDPOINT, HF_HOME and HF_HUB_OFFLINE when they are
# imported, so the environment is set here, at conftest import time, before any test module
# imports them. The server's ports are reserved now (so HF_ENDPOINT is known) and it starts
# serving when the `hub` fixture is first used.
#
# Fixture `hub` (session scope) yields the `HubServer`:
#   .endpoint / .cdn_endpoint   Hub origin (= HF_ENDPOINT) and storage/CAS origin
#   .tokens                     HUB_TOKENS below: {"hf_alice": "alice", "hf_bob": "bob"}
#   .stop() / .start() / .restart() / .stopped()  (context manager: stopped inside the block)
#   .requests, .hits(method, path_regex, origin), .clear_requests()  recorded traffic
# No HF token is set globally: pass `token=` explicitly, or set HF_TOKEN only in a subprocess.
# ============================================================================================

sys.path.insert(0, str(Path(__file__).resolve().parent))

from hub_server import HubServer  # noqa: E402  (needs the path above)

HUB_TOKENS = {"hf_alice": "alice", "hf_bob": "bob"}

if "huggingface_hub" in sys.modules:
    raise RuntimeError("huggingface_hub was imported before tests/conftest.py could set HF_ENDPOINT")

_HUB_SERVER = HubServer(tokens=HUB_TOKENS)
_HF_HOME = tempfile.mkdtemp(prefix="facerec-hf-home-")
os.environ["HF_ENDPOINT"] = _HUB_SERVER.bind()
os.environ["HF_HOME"] = _HF_HOME
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
for _variable in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
    os.environ.pop(_variable, None)


@pytest.fixture(scope="session")
def hub() -> Iterator[HubServer]:
    """The session's Hub server, serving at HF_ENDPOINT."""
    _HUB_SERVER.start()
    yield _HUB_SERVER
    _HUB_SERVER.stop()
    shutil.rmtree(_HF_HOME, ignore_errors=True)


# ============================================================================================
# (end of the Hub test server section)
# ============================================================================================
