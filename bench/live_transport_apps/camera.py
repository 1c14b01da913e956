"""The fake camera and the stand-in recognizer that every transport app of bench.live_transport shares.

The fake camera is an MJPEG file (what Chromium's ``--use-file-for-fake-video-capture`` plays):
640x480 frames, real ORL faces pasted off-centre (so a mirrored view is told from a plain one),
and the frame's index as a bar code across the top: 20 cells of 32x32 pixels, black = 1,

    cells 0, 1    marker 1 1          cells 16, 17  checksum: the 14 data bits' count of ones, mod 4
    cells 2..15   index, 14 bits       cells 18, 19  marker 0 1

so a reader finds both the index and whether the frame it got is mirrored (the markers then read
1 0 ... 1 1). The page and the server decode the same code: the page when the frame is shown in
the preview, the server from the frame it was sent, so capture-to-display latency is measured per
frame.

The stand-in handler (:class:`StandIn`) costs a controllable amount of CPU per frame (OpenCV work
calibrated to ``cost_ms`` on one core, the 5-15 ms of detection plus tracking the real recognizer
will need) and returns what the real one will: a box and a name per face, in the coordinates of
the frame it got.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import cv2
import numpy as np

WIDTH, HEIGHT = 640, 480
CELLS, CELL = 20, 32
DATA_BITS = 14
BACKGROUND = (214, 206, 196)  # BGR: a light wall.
# ../shared/datasets beside the checkout, as bench.harness finds it; FACEREC_DATASETS overrides.
ORL = Path(os.environ.get("FACEREC_DATASETS", Path(__file__).resolve().parents[3] / "shared" / "datasets")) / "orl_att_faces" / "train"
# Faces in the 640x480 frame: (x, y, width, height), left of centre so a mirror shows.
LAYOUTS = {
    1: [(96, 128, 184, 224)],
    3: [(24, 150, 184, 224), (262, 170, 138, 168), (470, 200, 92, 112)],
}
NAMES = ["s1", "s2", "s3"]


def _bits(index: int) -> list[int]:
    data = [(index >> (DATA_BITS - 1 - bit)) & 1 for bit in range(DATA_BITS)]
    check = sum(data) % 4
    return [1, 1, *data, (check >> 1) & 1, check & 1, 0, 1]


def draw_code(frame: np.ndarray, index: int) -> None:
    """Write ``index`` (mod 2**14) as the bar code across the top of a 640x480 frame, in place."""
    frame[:CELL] = 255
    for cell, bit in enumerate(_bits(index % (1 << DATA_BITS))):
        if bit:
            frame[:CELL, cell * CELL:(cell + 1) * CELL] = 0


def read_code(frame: np.ndarray) -> tuple[int | None, bool]:
    """``(index, mirrored)`` from a frame of any size (RGB, BGR or grey); ``(None, False)`` if unreadable."""
    height, width = frame.shape[:2]
    band = frame[: max(1, height * CELL // HEIGHT)]
    if band.ndim == 3:
        band = band.mean(axis=2)
    row = band[band.shape[0] // 4: max(band.shape[0] // 4 + 1, 3 * band.shape[0] // 4)].mean(axis=0)
    cells = [row[int((cell + 0.25) * width / CELLS): max(int((cell + 0.25) * width / CELLS) + 1,
                                                          int((cell + 0.75) * width / CELLS))].mean()
             for cell in range(CELLS)]
    bits = [int(value < 128) for value in cells]
    for mirrored, candidate in ((False, bits), (True, bits[::-1])):
        if candidate[:2] == [1, 1] and candidate[18:] == [0, 1]:
            data = candidate[2:2 + DATA_BITS]
            if sum(data) % 4 == candidate[16] * 2 + candidate[17]:
                return int("".join(map(str, data)), 2), mirrored
    return None, False


def write_mjpeg(path: Path, *, frames: int = 2400, faces: int = 1, quality: int = 85) -> Path:
    """A looping MJPEG of ``frames`` 640x480 frames (80 s at 30 frames/s), each with its bar code."""
    people = [sorted((ORL / name).glob("*.jpg")) for name in NAMES[:faces]]
    if not all(people):
        raise SystemExit(f"ORL faces not found under {ORL}")
    background = np.full((HEIGHT, WIDTH, 3), BACKGROUND, np.uint8)
    cv2.rectangle(background, (0, 400), (WIDTH, HEIGHT), (170, 160, 150), -1)  # A table.
    with open(path, "wb") as stream:
        for index in range(frames):
            frame = background.copy()
            for (x, y, w, h), photos in zip(LAYOUTS[faces], people):
                photo = cv2.imread(str(photos[(index // 15) % len(photos)]))  # A new photo every half second.
                frame[y:y + h, x:x + w] = cv2.resize(photo, (w, h), interpolation=cv2.INTER_CUBIC)
            draw_code(frame, index)
            stream.write(cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, quality])[1].tobytes())
    return path


class StandIn:
    """What the live recognizer will cost and return, without the recognizer.

    ``process(frame)`` (RGB or BGR, any size) spends about ``cost_ms`` of one core's time on
    OpenCV work on a 640x480 copy of the frame (calibrated at start: the fastest of several
    timings of one unit of work, so a busy machine at start does not make it cheaper; the copy
    keeps the cost the same whatever size the transport sends), then returns the frame's index,
    whether it arrived mirrored, and a box and name per face in the frame's own coordinates.
    """

    def __init__(self, cost_ms: float = 10.0, faces: int = 1):
        cv2.setNumThreads(1)  # One core per frame, as dlib's HOG detector uses.
        self.cost_ms, self.faces = cost_ms, faces
        sample = np.random.default_rng(0).integers(0, 255, (HEIGHT, WIDTH, 3), np.uint8)
        timings = []
        for _ in range(30):
            started = time.perf_counter()
            self._unit(sample)
            timings.append(time.perf_counter() - started)
        self.unit_ms = min(timings) * 1000
        self.units = max(0, round(cost_ms / self.unit_ms)) if cost_ms > 0 else 0

    @staticmethod
    def _unit(frame: np.ndarray) -> float:
        grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
        small = cv2.resize(grey, (320, 240), interpolation=cv2.INTER_AREA)
        return float(cv2.GaussianBlur(small, (9, 9), 0).mean())

    def process(self, frame: np.ndarray) -> dict:
        index, mirrored = read_code(frame)
        if self.units:
            full = frame if frame.shape[:2] == (HEIGHT, WIDTH) else cv2.resize(frame, (WIDTH, HEIGHT))
            for _ in range(self.units):
                self._unit(full)
        height, width = frame.shape[:2]
        sx, sy = width / WIDTH, height / HEIGHT
        boxes = []
        for (x, y, w, h), name in zip(LAYOUTS[self.faces], NAMES):
            left = WIDTH - x - w if mirrored else x
            boxes.append({"box": [round(left * sx), round(y * sy), round(w * sx), round(h * sy)], "name": name})
        return {"frame": index, "mirrored": mirrored, "width": width, "height": height, "faces": boxes}

    @staticmethod
    def draw(frame: np.ndarray, result: dict) -> np.ndarray:
        """The frame with every box and name drawn on it (a copy), as today's live view shows it."""
        out = frame.copy()
        for face in result["faces"]:
            x, y, w, h = face["box"]
            cv2.rectangle(out, (x, y), (x + w, y + h), (0, 255, 0), 2)
            cv2.putText(out, face["name"], (x, max(12, y - 6)), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 255, 0), 2)
        return out
