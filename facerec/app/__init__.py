"""facerec's web app: teach a computer to recognise faces (or anything else) in minutes.

Collect photos from the webcam or your files under a label per person, train a classifier head
on a frozen backbone, see how good it is, try it on photos or the live webcam, and share it on
the Hugging Face Hub. ``python app.py`` (or ``facerec app``) starts it; ``--help`` lists the
options, and :mod:`facerec.app.settings` the environment variables. Every event has an
``api_name``, so ``gradio_client`` can script it.

This package is the only part of facerec that imports gradio: one module per tab (``collect``,
``train``, ``predict``, ``share``), the per-visitor workspaces (``sessions``), the settings and
the look (``settings``, ``assets``); :func:`build_demo` assembles them.
"""

from __future__ import annotations

import os

# Before gradio and huggingface_hub are imported: both read these at import time.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

from facerec.quiet import import_tensorflow_quietly  # noqa: E402

import_tensorflow_quietly()  # before the tabs import it, chattering

import argparse  # noqa: E402
import functools  # noqa: E402
import logging  # noqa: E402

import gradio as gr  # noqa: E402

from facerec.app import assets  # noqa: E402
from facerec.app.collect import CollectTab  # noqa: E402
from facerec.app.live import LiveRoute  # noqa: E402
from facerec.app.predict import PredictTab  # noqa: E402
from facerec.app.sessions import Workspaces  # noqa: E402
from facerec.app.settings import AppConfig  # noqa: E402
from facerec.app.share import ShareTab  # noqa: E402
from facerec.app.shared import FACES, IMAGES, AppContext, ModelViews, logger  # noqa: E402
from facerec.app.train import TrainTab  # noqa: E402

__all__ = ["app_context", "build_demo", "demo", "launch", "main"]

# Uploads above this are refused by Gradio before they reach a handler.
MAX_UPLOAD = "100mb"
# Gradio's own temporary copies (uploads, images shown on the page) are deleted this long after
# they were made, checked this often: (frequency, age) in seconds.
GRADIO_CACHE_LIFETIME = (600, 3600)
KEEP_ALIVE_SECONDS = 30
LAUNCH_OPTIONS = dict(theme=assets.THEME, css=assets.CSS, js=assets.PAGE_JS, run_history=False,
                      max_file_size=MAX_UPLOAD)


@functools.cache
def app_context() -> AppContext:
    """The app's settings from the environment, and the visitors' workspaces (made once per process)."""
    config = AppConfig.from_environment()
    if os.environ.get("SYSTEM") == "spaces" and not config.sign_in:
        logger.warning("no 'Sign in with Hugging Face' button: it needs hf_oauth: true in the Space's README and gradio[oauth]")
    workspaces = Workspaces(config.data_dir, idle_timeout=config.session_timeout_minutes * 60, max_images=config.max_images)
    return AppContext(config, workspaces)


def build_demo(context: AppContext | None = None) -> gr.Blocks:
    """The app's page: banner, mode, the four tabs, and the wiring between them.

    Its live view needs the app's own route: launch it with :func:`launch`, which adds it to
    Gradio's server (``demo.launch(app_kwargs={"routes": demo.facerec_live.routes()})``).
    """
    context = context or app_context()
    live = LiveRoute(context)
    with gr.Blocks(title="facerec · teach a computer faces", analytics_enabled=False,
                   delete_cache=GRADIO_CACHE_LIFETIME) as demo:
        gr.HTML(assets.HERO)
        with gr.Row(equal_height=True):
            mode = gr.Radio([("Faces: find and crop every face", FACES), ("Whole images: objects, pets, scenes", IMAGES)],
                            value=FACES, label="What should it recognise?", scale=3)
            if context.config.sign_in:
                gr.LoginButton(scale=1)
        # Shown on the Train tab, kept up to date by the Collect tab.
        data_summary = gr.Textbox(label="Training data", interactive=False, lines=2, render=False)
        with gr.Tabs():
            collect = CollectTab(context, mode=mode, data_summary=data_summary)
            train = TrainTab(context, mode=mode, data_summary=data_summary)
            predict = PredictTab(context)
            share = ShareTab(context)
        gr.Markdown(assets.PRIVACY.format(timeout=f"{context.config.session_timeout_minutes:g} minutes"))

        model_views = ModelViews()
        model_views.register(predict.model_outputs, predict.model_views)
        model_views.register([share.model_info], share.show_model)
        train.wire(demo=demo, model_views=model_views)
        share.wire(model_views=model_views)
        demo.load(collect.on_load, None, [collect.dataset, data_summary], api_name="session")

        def session_model(request: gr.Request) -> dict:
            """The session's model in every tab, for a page (re)load."""
            return model_views.updates(context.workspace(request).classifier)

        demo.load(session_model, None, model_views.components, api_name="session_model", show_progress="hidden")
        demo.load(share.on_load, None, share.repo_id, api_name="session_share", show_progress="hidden")
        live.wire(demo)
        # An open page says so twice a minute; a closed one is forgotten after the grace period.
        gr.Timer(KEEP_ALIVE_SECONDS).tick(context.keep_alive, None, None, api_visibility="private", queue=False,
                                          show_progress="hidden")

        def leave(request: gr.Request) -> None:
            """The page went away."""
            context.leave(demo, request)

        demo.unload(leave)
    demo.queue(default_concurrency_limit=4)
    return demo


@functools.cache
def _demo() -> gr.Blocks:
    return build_demo()


def __getattr__(name: str):
    if name == "demo":  # Built on first use, so that importing facerec.app builds nothing.
        return _demo()
    raise AttributeError(f"module 'facerec.app' has no attribute {name!r}")


def launch(**options):
    """Start the app with its theme, privacy settings (no run history) and live route; ``options`` go to
    ``demo.launch``."""
    demo = _demo()
    return demo.launch(**{**LAUNCH_OPTIONS, "app_kwargs": {"routes": demo.facerec_live.routes()}, **options})


def main(argv: list[str] | None = None) -> None:
    """``python app.py [--host HOST] [--port PORT] [--share] [--root-path PATH]``: start the app and
    say, in a few lines, where it is and how to share it."""
    parser = argparse.ArgumentParser(prog="facerec app", description="facerec: teach a computer faces, in the browser.")
    parser.add_argument("--host", default=None, help="address to listen on (default 127.0.0.1, or GRADIO_SERVER_NAME)")
    parser.add_argument("--port", type=int, default=None, help="port (default 7860 or the next free one, or GRADIO_SERVER_PORT)")
    parser.add_argument("--share", action="store_true", help="also serve on a temporary public gradio.live link")
    parser.add_argument("--root-path", default=None, help="URL prefix when served behind a proxy")
    arguments = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # One line per request otherwise.
    _, local_url, share_url = launch(server_name=arguments.host, server_port=arguments.port, share=arguments.share or None,
                                        root_path=arguments.root_path, quiet=True, prevent_thread_lock=True)
    print(f"facerec is running at {local_url}: open it in a browser." + (f" Public link: {share_url}" if share_url else ""))
    if not share_url:
        print("For a public link (to try it on a phone, say): python app.py --share. Stop it with Ctrl+C.")
    _demo().block_thread()
