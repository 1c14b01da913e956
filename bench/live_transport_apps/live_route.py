"""Transport 3, the recipe: the page sends small JPEGs to a route on the Gradio app's own server.

The page (``live.js``, run by a ``gr.HTML``'s ``js_on_load``) shows its own ``getUserMedia``
video, and whenever a new video frame is there and no answer is awaited, draws it at ``width``
pixels to a canvas, JPEG-encodes it and sends it; the answer (boxes and names) is drawn on a canvas
over the video. One frame in flight per visitor: a slow server means fewer frames, never a queue.

The route is added to the FastAPI app that ``demo.launch()`` builds, through the documented
``launch(app_kwargs=...)`` (keyword arguments of the FastAPI app: ``routes`` puts ours before
Gradio's own); ``gr.mount_gradio_app`` would take the same ``routes``. Sessions: the route never
trusts a session id from the page. A Gradio event (``demo.load``), which knows the visitor's
``session_hash``, issues an unguessable token for it; the page's script gets the token through a
JS-only ``.then`` and presents it with every connection; ``demo.unload`` revokes it.

    live = LiveRoute(process)          # process(frame_rgb, session_hash) -> dict (JSON-able)
    with gr.Blocks() as demo:
        live_view = live.component()   # the gr.HTML: video, overlay, start button
        live.wire(demo)                # demo.load / .then / demo.unload for the token
    demo.launch(app_kwargs={"routes": live.routes()})

Three ways to carry a frame, all measured by bench.live_transport:

* ``ws``: a WebSocket at ``<root>/facerec/live/ws`` (binary JPEG up, JSON down); uvicorn needs
  the ``websockets`` (or ``wsproto``) package for it, which gradio 6.31 does not install;
* ``http``: ``POST <root>/facerec/live/frame`` with the JPEG as the body (plain FastAPI, no
  extra package);
* ``server``: the ``gr.HTML``'s own ``server_functions`` (Gradio's ``/gradio_api/component_server``
  route: JSON with the JPEG as a data URL, outside the queue).
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable
from pathlib import Path

import anyio
import cv2
import gradio as gr
import numpy as np
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from facerec.app.live import LiveTokens

SCRIPT = (Path(__file__).with_name("live.js")).read_text(encoding="utf-8")
PATH = "/facerec/live"
MAX_FRAME_BYTES = 2_000_000  # A 640x480 JPEG is 20-60 kB; anything much larger is not a frame.
CLOSE_BAD_TOKEN = 4401  # WebSocket close code: the page must reload (its session is gone).


class LiveRoute:
    """The live route, its session tokens and the page component; see the module docstring.

    ``process(frame, session_hash)`` gets an RGB frame and the visitor's Gradio session hash and
    returns the JSON-able result. At most ``workers`` frames are processed at once, over all
    visitors (one per core: more only makes each frame slower); each visitor has at most one
    frame in flight, so what waits is bounded by the number of visitors.
    """

    def __init__(self, process: Callable[[np.ndarray, str], dict], *, transport: str = "ws", width: int = 480,
                 quality: float = 0.7, mirror: bool = True, workers: int = 2):
        if transport not in ("ws", "http", "server"):
            raise ValueError(f"unknown transport {transport!r}")
        self.process, self.transport = process, transport
        self.width, self.quality, self.mirror = width, quality, mirror
        self.limiter = anyio.CapacityLimiter(workers)
        self.workers = threading.BoundedSemaphore(workers)  # For server functions, which run in Gradio's threads.
        self.tokens = LiveTokens()  # the app's own: a stream is tied to a session the same way

    # Frames ------------------------------------------------------------------------------------

    def _handle(self, jpeg: bytes, session: str) -> dict:
        if len(jpeg) > MAX_FRAME_BYTES:
            return {"error": "frame too large"}
        frame = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
        if frame is None:
            return {"error": "not a JPEG"}
        started = time.perf_counter()
        result = self.process(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB), session)
        return {**result, "server_ms": round((time.perf_counter() - started) * 1000, 2)}

    async def _socket(self, websocket: WebSocket) -> None:
        session = self.tokens.session(websocket.query_params.get("token"))
        if session is None:
            await websocket.close(code=CLOSE_BAD_TOKEN)  # Before accept: the browser sees a failed handshake.
            return
        await websocket.accept()
        try:
            while True:
                jpeg = await websocket.receive_bytes()
                if self.tokens.session(websocket.query_params.get("token")) is None:
                    await websocket.close(code=CLOSE_BAD_TOKEN)  # Revoked (the page was closed or reloaded).
                    return
                result = await anyio.to_thread.run_sync(self._handle, jpeg, session, limiter=self.limiter)
                await websocket.send_text(json.dumps(result))
        except (WebSocketDisconnect, RuntimeError, KeyError):
            return  # The page went away (KeyError: a text message where bytes were expected).

    async def _frame(self, request: Request) -> Response:
        session = self.tokens.session(request.headers.get("x-live-token"))
        if session is None:
            return JSONResponse({"error": "bad token"}, status_code=401)
        jpeg = await request.body()
        result = await anyio.to_thread.run_sync(self._handle, jpeg, session, limiter=self.limiter)
        return JSONResponse(result)

    def routes(self) -> list:
        """For ``demo.launch(app_kwargs={"routes": live.routes()})`` (or ``gr.mount_gradio_app``)."""
        return [WebSocketRoute(f"{PATH}/ws", self._socket), Route(f"{PATH}/frame", self._frame, methods=["POST"])]

    # The page ----------------------------------------------------------------------------------

    def component(self, **html_options) -> gr.HTML:
        """The gr.HTML that shows the video and its overlay and runs live.js."""

        def live_frame(message: dict) -> dict:  # A server function: one JSON argument in, JSON out.
            session = self.tokens.session(message.get("token") if isinstance(message, dict) else None)
            if session is None:
                return {"error": "bad token"}
            jpeg = base64.b64decode(str(message.get("frame", "")).split(",", 1)[-1])
            with self.workers:
                return self._handle(jpeg, session)

        template = (f'<div class="facerec-live" data-transport="{self.transport}" data-width="{self.width}" '
                    f'data-quality="{self.quality}" data-mirror="{int(self.mirror)}" data-path="{PATH}">'
                    '<div class="stage"><video playsinline muted></video><canvas></canvas></div>'
                    '<button type="button" class="start">Start the live camera</button>'
                    '<span class="status"></span></div>')
        css = (".facerec-live .stage{position:relative;width:fit-content;max-width:100%;line-height:0}"
               ".facerec-live video{display:block;max-width:100%;height:auto;background:#111}"
               ".facerec-live[data-mirror='1'] video{transform:scaleX(-1)}"
               ".facerec-live canvas{position:absolute;left:0;top:0;width:100%;height:100%;pointer-events:none}"
               ".facerec-live .status{margin-left:.5em;font-size:.9em}")
        return gr.HTML(value="", html_template=template, css_template=css, js_on_load=SCRIPT,
                       server_functions=[live_frame], **html_options)

    def wire(self, demo: gr.Blocks) -> None:
        """The token's way to the page: issued by a load event, handed to live.js by a JS-only step."""
        token = gr.Textbox(visible=False)
        demo.load(self.tokens.issue, None, token, api_visibility="private", show_progress="hidden").then(
            None, token, None, js="(token) => { window.__facerecLiveToken = token;"
                                  " window.dispatchEvent(new CustomEvent('facerec-live-token', {detail: token})); }")
        demo.unload(self.tokens.revoke)
