"""The app's settings, from environment variables.

    FACEREC_WEIGHTS          backbone weights: auto (default: ImageNet, else the offline VGG16
                             trunk), imagenet, hed-bsds500, a weights file, or none (untrained:
                             for tests and quick offline demos only)
    FACEREC_IMAGE_SIZE       backbone input size in pixels (default: the backbone's for the mode, VGG16 160
                             for faces and 224 for whole images; 32 for quick tests)
    FACEREC_APP_DATA         where session workspaces live (default: a private temporary folder)
    FACEREC_SESSION_TIMEOUT  minutes without activity before a session's data is deleted (default 180)
    FACEREC_SESSION_GRACE    seconds a closed page's data is kept, in case it reconnects (default 120)
    FACEREC_MAX_IMAGES       most images one session may hold (default 2000)
    FACEREC_USE_HF_TOKEN     1: visitors may push with the server's HF_TOKEN; default 1 locally,
                             0 on a Space (where visitors must sign in or paste their own token)
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
from pathlib import Path

from facerec.backbones.applications import AUTO

DEFAULT_SESSION_TIMEOUT_MINUTES = 180.0
# A page that loses its connection for a moment (a phone changing networks) comes back within this.
DEFAULT_SESSION_GRACE_SECONDS = 120.0
DEFAULT_MAX_IMAGES = 2000


def on_space(environ: dict[str, str] = os.environ) -> bool:
    """Whether this runs on a Hugging Face Space (what ``gradio.utils.get_space`` checks)."""
    return environ.get("SYSTEM") == "spaces" and bool(environ.get("SPACE_ID"))


@dataclasses.dataclass(frozen=True)
class AppConfig:
    """The app's settings (see the module docstring).

    Attributes:
        sign_in: show "Sign in with Hugging Face": only on a Space with ``hf_oauth: true`` in its
            README (which sets ``OAUTH_CLIENT_ID``) and gradio's oauth extra installed.
    """

    weights: str | None
    image_size: int | None  # None: each backbone's default for the mode (FACEREC_IMAGE_SIZE overrides)
    data_dir: Path | None
    session_timeout_minutes: float
    session_grace_seconds: float
    max_images: int
    use_server_token: bool
    sign_in: bool

    @classmethod
    def from_environment(cls, environ: dict[str, str] = os.environ) -> AppConfig:
        weights = environ.get("FACEREC_WEIGHTS", AUTO).strip() or AUTO
        data_dir = environ.get("FACEREC_APP_DATA")
        space = on_space(environ)
        return cls(
            weights=None if weights.lower() == "none" else weights,
            image_size=int(environ["FACEREC_IMAGE_SIZE"]) if environ.get("FACEREC_IMAGE_SIZE", "").strip() else None,
            data_dir=Path(data_dir) if data_dir else None,
            session_timeout_minutes=float(environ.get("FACEREC_SESSION_TIMEOUT", DEFAULT_SESSION_TIMEOUT_MINUTES)),
            session_grace_seconds=float(environ.get("FACEREC_SESSION_GRACE", DEFAULT_SESSION_GRACE_SECONDS)),
            max_images=int(environ.get("FACEREC_MAX_IMAGES", DEFAULT_MAX_IMAGES)),
            use_server_token=environ.get("FACEREC_USE_HF_TOKEN", "0" if space else "1").strip().lower() in ("1", "true", "yes"),
            sign_in=space and bool(environ.get("OAUTH_CLIENT_ID"))
            and all(importlib.util.find_spec(name) for name in ("authlib", "itsdangerous")),
        )
