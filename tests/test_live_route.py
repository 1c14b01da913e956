"""The live view's route (facerec.app.live): tokens tie a stream to one visitor's session, and a
stream that sends faster than it is answered has its extra frames dropped, never queued.

The real app (the ``facerec_app`` fixture) and real WebSocket and HTTP clients; each visitor's
session is a gradio_client session with a model of its own (colour patches, whole images).
"""

from __future__ import annotations

import io
import json
import time
from types import SimpleNamespace

import httpx
import pytest
from conftest import COLOURS, colour_image
from gradio_client import Client, handle_file
from PIL import Image

websockets = pytest.importorskip("websockets.sync.client", reason="the websockets package (the live view's transport)")

FAST_TRAINING = dict(data_summary="", mode="images", backbone="vgg16", epochs=10, batch_size=16, learning_rate=0.01,
                     optimizer="adam", augment=0, trainable_layers=0, validation_split=0.2)


def jpeg(colour: str, width: int = 120, seed: int = 0) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(colour_image(COLOURS[colour], seed=seed, size=width)).save(buffer, format="JPEG")
    return buffer.getvalue()


def trained_visitor(url: str, labels: tuple[str, str], tmp_path) -> Client:
    visitor = Client(url, verbose=False, download_files=str(tmp_path / labels[0]))
    for label in labels:
        paths = []
        for index in range(6):
            path = tmp_path / f"{label}-{index}.png"
            Image.fromarray(colour_image(COLOURS[label], seed=index)).save(path)
            paths.append(handle_file(str(path)))
        visitor.predict(paths, label, "images", api_name="/add_photos")
    assert "Trained in" in visitor.predict(*FAST_TRAINING.values(), api_name="/train")[0]
    return visitor


@pytest.fixture(scope="module")
def visitors(facerec_app, tmp_path_factory):
    """Two visitors with models of their own, and a live-view token for each (as their pages get one)."""
    folder = tmp_path_factory.mktemp("live-visitors")
    made = [trained_visitor(facerec_app.url, labels, folder) for labels in (("red", "blue"), ("green", "blue"))]
    live = facerec_app.demo.facerec_live
    yield [SimpleNamespace(client=visitor, token=live.tokens.issue(SimpleNamespace(session_hash=visitor.session_hash)))
           for visitor in made]
    for visitor in made:
        visitor.close()


def socket_url(facerec_app, token: str) -> str:
    return facerec_app.url.replace("http://", "ws://").rstrip("/") + f"/facerec/live/ws?token={token}"


NAMING_CEILING_SECONDS = 180


def named(socket, frame: bytes) -> dict:
    """Send the frame until an answer names it (recognition runs beside the stream, so the first
    answers may only box it), as a page does. Bounded by time, not by frames: the unnamed answers
    come back in a millisecond, however long the recognition beside them takes on a busy machine."""
    deadline = time.monotonic() + NAMING_CEILING_SECONDS
    while True:
        socket.send(frame)
        answer = json.loads(socket.recv(timeout=120))
        if answer.get("largest"):
            return answer
        if time.monotonic() > deadline:
            raise AssertionError(f"never named within {NAMING_CEILING_SECONDS} s: {answer}")


def test_each_token_reaches_its_own_visitors_model_only(facerec_app, visitors):
    for visitor, colour, labels in ((visitors[0], "red", {"red", "blue"}), (visitors[1], "green", {"green", "blue"})):
        with websockets.connect(socket_url(facerec_app, visitor.token)) as socket:
            answer = named(socket, jpeg(colour))
        assert answer["whole_image"] and answer["width"] == 120 and len(answer["faces"]) == 1
        assert set(answer["largest"]["probabilities"]) == labels
        assert answer["largest"]["label"] == colour and answer["faces"][0]["caption"].startswith(colour)


def test_a_made_up_or_revoked_token_is_refused(facerec_app, visitors):
    with pytest.raises(websockets.InvalidStatus):
        with websockets.connect(socket_url(facerec_app, "made-up")):
            pass
    response = httpx.post(facerec_app.url.rstrip("/") + "/facerec/live/frame", content=jpeg("red"),
                          headers={"X-Live-Token": "made-up", "Content-Type": "image/jpeg"})
    assert response.status_code == 401
    answer = httpx.post(facerec_app.url.rstrip("/") + "/facerec/live/frame", content=jpeg("red"), timeout=120,
                        headers={"X-Live-Token": visitors[0].token, "Content-Type": "image/jpeg"}).json()
    assert answer["width"] == 120 and len(answer["faces"]) == 1  # the plain-HTTP twin, for networks without WebSockets


def test_frames_sent_faster_than_answered_are_dropped_not_queued(facerec_app, visitors):
    widths = [64 + 4 * index for index in range(15)]  # each frame tells its answer by its width
    frames = [jpeg("red", width=width, seed=index) for index, width in enumerate(widths)]
    workspace = facerec_app.workspaces.find(visitors[0].client.session_hash)
    with websockets.connect(socket_url(facerec_app, visitors[0].token)) as socket:
        # Holding the workspace (as a model swap does) keeps the first frame's answer busy until every
        # frame is sent: a 32-pixel model otherwise answers each one before the next arrives.
        with workspace._lock:
            for frame in frames:
                socket.send(frame)  # without waiting: a page that misbehaves
        answers = []
        while not answers or answers[-1]["width"] != widths[-1]:
            answers.append(json.loads(socket.recv(timeout=120)))
    assert len(answers) < len(widths)  # the server did not work through a backlog
    assert answers[-1]["dropped"] == len(widths) - len(answers)
    assert [answer["width"] for answer in answers] == sorted(answer["width"] for answer in answers)  # newest wins
