"""The live view: the page sends small JPEG frames to a route of the app's own server and draws the answers.

Gradio's webcam streaming was measured carrying at most 9-15 result frames a second here, with a
queue that grows when several visitors stream (``bench/results/live_transport.md``). So the live
view is the page's own: its script (``live.js``) shows the camera (``camera.js``' stream), and
whenever a new frame is there and no answer is awaited, sends it, 480 pixels wide, to
``<root>/facerec/live/ws`` (a WebSocket; ``POST <root>/facerec/live/frame`` where WebSockets do
not get through), and draws the boxes and names it gets back on a canvas over the video, mirrored
like the preview. One frame in flight per visitor: a slow server means fewer frames, never a queue.

The route never trusts a session id from the page: a Gradio event (the page's load), which knows
the visitor's session, issues an unguessable token, which the page presents with every frame; the
page's unload revokes it. Frames are decoded in memory and never written to disk.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
import time
from pathlib import Path

import anyio
import cv2
import gradio as gr
import numpy as np
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from facerec.app.shared import AppContext
from facerec.drawing import caption, label_colour

SCRIPT = (Path(__file__).with_name("live.js")).read_text(encoding="utf-8")
PATH = "/facerec/live"
FRAME_WIDTH = 480  # frames are sent this wide: enough for faces down to about 40 pixels
FRAME_QUALITY = 0.7
MAX_FRAME_BYTES = 2_000_000  # a 480-pixel JPEG is 5-30 kB; anything much larger is not a frame
CLOSE_BAD_TOKEN = 4401  # WebSocket close code: the page must reload (its session is gone)
# Frames processed at once, over all visitors: one per core (more only makes each slower).
WORKERS = 2


class LiveTokens:
    """Unguessable tokens that tie a live stream to one visitor's session.

    A Gradio event, which knows the visitor's session, calls :meth:`issue`; the page presents the
    token with every frame; :meth:`revoke` forgets it when the visitor leaves. A session has at
    most one token: a reload of the same session gets a fresh one and the old one stops working.
    """

    def __init__(self):
        self._sessions: dict[str, str] = {}  # token -> session hash
        self._lock = threading.Lock()

    def issue(self, request: gr.Request) -> str:
        """A new token for this visitor's session ("" for a request without a session)."""
        if request is None or not request.session_hash:
            return ""
        token = secrets.token_urlsafe(24)
        with self._lock:
            for old in [key for key, session in self._sessions.items() if session == request.session_hash]:
                del self._sessions[old]
            self._sessions[token] = request.session_hash
        return token

    def revoke(self, request: gr.Request) -> None:
        """Forget the session's token (the visitor left)."""
        with self._lock:
            for token in [key for key, session in self._sessions.items() if session == request.session_hash]:
                del self._sessions[token]

    def session(self, token: str | None) -> str | None:
        """The session a token belongs to, or None for a made-up, revoked or missing one."""
        if not token:
            return None
        with self._lock:
            return self._sessions.get(token)


class LiveRoute:
    """The live view's server side: the route, its session tokens, and what a frame gets back.

    One per app: :meth:`routes` go to ``demo.launch(app_kwargs={"routes": ...})``, :meth:`wire`
    into the Blocks, and each :class:`LiveView` on the page uses it.
    """

    def __init__(self, context: AppContext):
        self.context = context
        self.limiter = anyio.CapacityLimiter(WORKERS)
        self.tokens = LiveTokens()

    # Frames ------------------------------------------------------------------------------------

    def answer(self, jpeg: bytes, session: str) -> dict:
        """What the page draws for one frame: every face's box, caption and colour, and the largest
        face's probabilities; or ``{"error": ...}`` in words for the visitor."""
        if len(jpeg) > MAX_FRAME_BYTES:
            return {"error": "that frame is too large"}
        frame = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
        if frame is None:
            return {"error": "that frame is not a JPEG image"}
        frame = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
        workspace = self.context.workspaces.find(session)
        if workspace is None:
            return {"error": "this page's session has ended: reload the page"}
        if workspace.classifier is None:
            return {"error": "no model yet: train one in step 2, or load one from the Hub in step 4"}
        started = time.perf_counter()
        recognizer = workspace.live_recognizer()
        faces = recognizer.process(frame, **workspace.live_rules)
        labels = workspace.classifier.labels
        largest = next((face for face in faces if face["label"] is not None), None)
        return {
            "width": frame.shape[1], "height": frame.shape[0],
            "faces": [{"box": [int(value) for value in face["box"]], "caption": caption(face),
                       "colour": "#%02x%02x%02x" % label_colour(face["label"], labels), "detector": face["detector"],
                       "track": face["track"]} for face in faces],
            "largest": None if largest is None else {"label": largest["label"], "probabilities": dict(
                sorted(largest["probabilities"].items(), key=lambda item: -item[1])[:3])},
            "whole_image": not recognizer.faces_enabled,
            "server_ms": round((time.perf_counter() - started) * 1000, 1),
        }

    async def _socket(self, websocket: WebSocket) -> None:
        """One page's stream. The page sends a frame when the last answer is back; frames that come
        sooner are not queued: the newest replaces any waiting one (the answer says how many went)."""
        token = websocket.query_params.get("token")
        session = self.tokens.session(token)
        if session is None:
            await websocket.close(code=CLOSE_BAD_TOKEN)  # before accept: the page sees a failed handshake
            return
        await websocket.accept()
        waiting: asyncio.Queue[bytes] = asyncio.Queue(maxsize=1)
        dropped = 0

        async def receive() -> None:
            nonlocal dropped
            while True:
                jpeg = await websocket.receive_bytes()
                if waiting.full():
                    waiting.get_nowait()
                    dropped += 1
                waiting.put_nowait(jpeg)

        async def answer() -> None:
            while True:
                jpeg = await waiting.get()
                if self.tokens.session(token) != session:
                    await websocket.close(code=CLOSE_BAD_TOKEN)  # revoked: the page was closed or reloaded
                    return
                result = await anyio.to_thread.run_sync(self.answer, jpeg, session, limiter=self.limiter)
                await websocket.send_text(json.dumps({**result, "dropped": dropped}))

        try:
            async with asyncio.TaskGroup() as tasks:
                receiving = tasks.create_task(receive())
                answering = tasks.create_task(answer())
                answering.add_done_callback(lambda _: receiving.cancel())
        except* (WebSocketDisconnect, RuntimeError, KeyError):
            pass  # the page went away (KeyError: a text message where bytes were expected)

    async def _frame(self, request: Request) -> Response:
        """One frame by plain HTTP, where WebSockets do not get through (the page waits for each answer)."""
        session = self.tokens.session(request.headers.get("x-live-token"))
        if session is None:
            return JSONResponse({"error": "bad token"}, status_code=401)
        jpeg = await request.body()
        return JSONResponse(await anyio.to_thread.run_sync(self.answer, jpeg, session, limiter=self.limiter))

    def routes(self) -> list:
        """For ``demo.launch(app_kwargs={"routes": ...})``: the WebSocket and its plain-HTTP twin."""
        return [WebSocketRoute(f"{PATH}/ws", self._socket), Route(f"{PATH}/frame", self._frame, methods=["POST"])]

    def wire(self, demo: gr.Blocks) -> None:
        """The token's way to the page: issued by the page's load, handed to live.js by a JS-only step."""
        token = gr.Textbox(visible=False)
        # API clients may ask too (a token only ever opens the asker's own session).
        demo.load(self.tokens.issue, None, token, api_name="live_token", api_visibility="undocumented", show_progress="hidden").then(
            None, token, None, js="(token) => { window.facerec = window.facerec || {}; window.facerec.liveToken = token;"
                                  " window.dispatchEvent(new CustomEvent('facerec-live-token', {detail: token})); }")
        demo.unload(self.tokens.revoke)
        demo.facerec_live = self


class LiveView:
    """One live view on the page: the camera's video with the names drawn over it.

    Args:
        elem_id: the view's id on the page (several views share the camera and the route).
    """

    def __init__(self, context: AppContext, *, elem_id: str):
        self.context = context
        template = (f'<div class="facerec-camera facerec-live" data-width="{FRAME_WIDTH}" data-quality="{FRAME_QUALITY}" '
                    f'data-path="{PATH}">'
                    '<video data-facerec-camera autoplay muted playsinline aria-label="Live camera"></video>'
                    '<canvas class="facerec-overlay"></canvas><div class="facerec-live-panel" role="status"></div>'
                    '<div class="facerec-camera-off"><p>Press <b>▶ Start the live view</b>: every face it sees is '
                    'boxed and named.</p></div>'
                    '<div class="facerec-camera-bar"><button type="button" class="facerec-live-toggle">▶ Start the live view'
                    '</button><span class="facerec-live-status"></span></div></div>')
        self.html = gr.HTML(value="", html_template=template, js_on_load=SCRIPT, elem_id=elem_id, container=False)

    def set_thresholds(self, threshold: float, distance: float, request: gr.Request) -> None:
        """The unknown rule the page's sliders set, for the session's live view too."""
        workspace = self.context.workspace(request)
        classifier = workspace.classifier
        if classifier is not None:
            workspace.live_rules = ({"distance_threshold": float(distance)} if classifier.distance_threshold is not None
                                    else {"threshold": float(threshold)})
