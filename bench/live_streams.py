"""Live views as a page streams them: for the load test's phase of several visitors streaming at once.

Each stream is a visitor's live view on the app's own route (``facerec.app.live``): it asks for
its session's token as the page's load does (``/live_token``), opens the WebSocket, and sends a
JPEG frame whenever the answer to the previous one is back, as ``live.js`` does: one frame in
flight, the newest camera frame each time, so a slow answer makes the camera's frames go unsent
(skipped at the source) instead of queueing anywhere. Frames are the visitor's people's photos
placed in a 480-pixel webcam-like frame (the width the page sends), encoded once up front.

Counted per stream: answers (result frames the page would draw), answers naming a face, the
time from sending a frame to its answer, camera frames skipped at an assumed 30 frames/s, frames
the server dropped, and errors (a failed connection, an answer with an ``error``, a timeout).
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from pathlib import Path

import cv2
import numpy as np
from gradio_client import Client

FRAME_WIDTH, FRAME_HEIGHT = 480, 360  # facerec.app.live.FRAME_WIDTH, at the camera's 4:3
FACE_HEIGHT = 220  # pixels: a face at arm's length from a laptop camera
CAMERA_FPS = 30.0
ANSWER_TIMEOUT = 60.0


@dataclasses.dataclass
class StreamRecord:
    """What one visitor's live view got over its stream."""

    visitor: int
    seconds: float = 0.0
    sent: int = 0
    answers: int = 0
    named: int = 0
    boxed: int = 0
    server_dropped: int = 0
    latencies: list[float] = dataclasses.field(default_factory=list)  # seconds, send to answer
    errors: list[str] = dataclasses.field(default_factory=list)

    @property
    def results_per_second(self) -> float:
        return self.answers / self.seconds if self.seconds else 0.0

    @property
    def camera_frames_skipped(self) -> int:
        return max(0, round(self.seconds * CAMERA_FPS) - self.sent)


def webcam_frame(photo: Path) -> bytes:
    """The photo scaled to a face's size at arm's length, centred on a plain 480x360 frame, as JPEG."""
    image = cv2.imread(str(photo), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f"{photo}: not an image")
    scale = FACE_HEIGHT / image.shape[0]
    image = cv2.resize(image, (round(image.shape[1] * scale), FACE_HEIGHT), interpolation=cv2.INTER_CUBIC)
    frame = np.full((FRAME_HEIGHT, FRAME_WIDTH, 3), image.mean(axis=(0, 1)), np.uint8)
    top, left = (FRAME_HEIGHT - image.shape[0]) // 2, (FRAME_WIDTH - image.shape[1]) // 2
    frame[top : top + image.shape[0], left : left + image.shape[1]] = image[:, : FRAME_WIDTH - left]
    encoded, data = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 70])
    if not encoded:
        raise ValueError(f"{photo}: could not encode")
    return data.tobytes()


def live_token(client: Client) -> str:
    """The token the visitor's page would get on load, for the client's own session."""
    token = client.predict(api_name="/live_token")
    if not token:
        raise RuntimeError("the app issued no live-view token")
    return token


def socket_url(app_url: str, token: str) -> str:
    return app_url.replace("http://", "ws://").rstrip("/") + f"/facerec/live/ws?token={token}"


def stream(app_url: str, token: str, frames: list[bytes], record: StreamRecord, until: float) -> None:
    """Stream ``frames`` in a loop until ``time.perf_counter()`` passes ``until``, one frame in flight."""
    started = time.perf_counter()
    try:
        from websockets.sync.client import connect

        with connect(socket_url(app_url, token), max_size=None, open_timeout=ANSWER_TIMEOUT) as socket:
            while time.perf_counter() < until:
                sent_at = time.perf_counter()
                socket.send(frames[record.sent % len(frames)])
                record.sent += 1
                answer = json.loads(socket.recv(timeout=ANSWER_TIMEOUT))
                record.latencies.append(time.perf_counter() - sent_at)
                if "error" in answer:
                    record.errors.append(answer["error"])
                    continue
                record.answers += 1
                record.boxed += bool(answer["faces"])
                record.named += answer["largest"] is not None
                record.server_dropped = answer.get("dropped", 0)
    except Exception as error:  # noqa: BLE001 (a failed stream is what the phase reports)
        record.errors.append(f"{type(error).__name__}: {error}"[:300])
    record.seconds = time.perf_counter() - started


def stream_in_threads(app_url: str, tokens: list[str], frames: list[list[bytes]], seconds: float) -> list[StreamRecord]:
    """Every visitor's stream at once for ``seconds``; their records."""
    until = time.perf_counter() + seconds
    records = [StreamRecord(index) for index in range(len(tokens))]
    threads = [threading.Thread(target=stream, args=(app_url, token, visitor_frames, record, until))
               for token, visitor_frames, record in zip(tokens, frames, records)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return records
