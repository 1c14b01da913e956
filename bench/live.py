"""Issue 11: the live view's result frames per second and latency, counted in a real browser.

For each backbone: the real app (``python app.py``, a temporary ``FACEREC_CACHE`` and workspaces)
is started; for each face count, headless Chromium opens it with a fake camera playing a 640x480
MJPEG of real faces (``five_celebrity_faces/test`` photos of one or three of its people, drifting
a little, so the tracker and the detector have work), a small model of the five people is trained
through the page, as a visitor does (a zip of 8 ``train/`` photos per person imported on "Collect
photos", the backbone picked and "Train model" pressed with the app's other defaults; a
``gradio_client`` sharing the page's session could lose its answers to the page's own event
stream, and hung there once), the server is left
to settle (the fast-path conversion the app runs after a first VGG16 training), and the page's
live view (the "Try it" tab) is switched on. Over ``--seconds`` the script counts what the page
rendered, from ``window.facerec.liveStats`` (kept by ``facerec/app/live.js``):

* result frames per second: answers drawn on the overlay;
* latency per result: from the camera frame's capture time (``requestVideoFrameCallback``) to the
  animation frame that painted its boxes; p50 and p95;
* the share of results in which every face has a name, and in which the names are the people on
  camera; the faces per result;
* the server's CPU (app process and its children, e.g. the dlib workers) per result, the load.

    python -m bench.live                              # dlib 1 and 3 faces, VGG16 1 and 3 faces
    python -m bench.live --rows dlib:1:0 dlib:3:0     # FACEREC_DLIB_WORKERS=0: dlib in the app's process
    python -m bench.live --quick                      # 8 s windows, dlib 1 face
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import zipfile
from pathlib import Path

import cv2
import numpy as np

from bench import harness
from bench.live_transport import CHROMIUM, CHROMIUM_ARGS
from bench.load_test import AppProcess, cpu_seconds

ROWS = ("dlib:1", "dlib:3", "vgg16:1", "vgg16:3")
PEOPLE = ("ben_afflek", "madonna", "elton_john", "jerry_seinfeld", "mindy_kaling")
TRAINING_PHOTOS = 8  # per person: a small model
WIDTH, HEIGHT = 640, 480
CAMERA_FRAMES = 90  # 3 s at 30 frames/s, looped by Chromium
TIMEOUT = 600  # s: a training or a first live result on a busy machine
TARGETS = {("dlib", 1): 15.0, ("dlib", 3): 10.0, ("vgg16", 1): 10.0}
TARGET_P50_MS = 200.0
WINDOW_JS = """([start, end]) => (window.facerec.liveStats.frames || [])
    .filter((frame) => frame.at >= start && frame.at <= end)
    .map((frame) => ({latency: frame.latency_ms ?? null, faces: frame.faces, server: frame.server_ms}))"""


# The fake camera -----------------------------------------------------------------------------------

def camera_photos(faces: int) -> list[Path]:
    """One test photo of each of the first ``faces`` people (the first in which BlazeFace finds one face)."""
    from facerec.detection import get_live_detector, FaceSettings
    from facerec.images import load_image

    detector = get_live_detector(FaceSettings())
    test = harness.dataset("five_celebrity_faces") / "test"
    chosen = []
    for person in PEOPLE[:faces]:
        photos = sorted((test / person).iterdir())
        chosen.append(next((path for path in photos if len(detector.detect(load_image(path))) == 1), photos[0]))
    return chosen


def camera_frames(faces: int, count: int = CAMERA_FRAMES) -> list[np.ndarray]:
    """640x480 BGR frames: the photos side by side on a plain wall, each drifting a little."""
    height = 300 if faces == 1 else 250
    pictures = []
    for photo in camera_photos(faces):
        picture = cv2.imread(str(photo))
        pictures.append(cv2.resize(picture, (round(picture.shape[1] * height / picture.shape[0]), height),
                                   interpolation=cv2.INTER_CUBIC)[:, :WIDTH // faces - 12])
    background = np.full((HEIGHT, WIDTH, 3), (196, 206, 214), np.uint8)
    cv2.rectangle(background, (0, 420), (WIDTH, HEIGHT), (150, 160, 170), -1)  # a table, for some structure
    frames = []
    for step in range(count):
        frame = background.copy()
        drift = round(6 * np.sin(step / count * 2 * np.pi))
        for index, picture in enumerate(pictures):
            slot = WIDTH // faces
            left, top = index * slot + (slot - picture.shape[1]) // 2 + drift, (HEIGHT - height) // 2 - 20
            frame[top:top + height, left:left + picture.shape[1]] = picture
        frames.append(frame)
    return frames


def write_camera(path: Path, faces: int) -> Path:
    """The fake camera's looping MJPEG of :func:`camera_frames`."""
    with open(path, "wb") as stream:
        for frame in camera_frames(faces):
            stream.write(cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes())
    return path


# The app, a page, a model --------------------------------------------------------------------------

def open_page(browser, url: str):
    """A new visitor's page, once its script is ready (it holds a live-view token)."""
    context = browser.new_context(permissions=["camera"], viewport={"width": 1360, "height": 1000})
    page = context.new_page()
    page.goto(url)
    page.get_by_role("tab", name="1 · Collect photos").wait_for(timeout=TIMEOUT * 1000)
    page.wait_for_function("() => !!(window.facerec && window.facerec.liveToken)", timeout=TIMEOUT * 1000)
    return page


def training_zip(path: Path) -> Path:
    """A zip laid out as the Collect tab imports it: ``<person>/<photo>``, 8 train/ photos per person."""
    train = harness.image_files(harness.dataset("five_celebrity_faces") / "train")
    with zipfile.ZipFile(path, "w") as archive:
        for person in PEOPLE:
            for photo in train[person][:TRAINING_PHOTOS]:
                archive.write(photo, f"{person}/{photo.name}")
    return path


def train_in_page(page, backbone: str, scratch: Path) -> float:
    """Import the training photos and train with ``backbone``, through the page; returns the training's seconds."""
    from playwright.sync_api import expect

    from facerec import backbones

    page.get_by_text("Import a zip, or download the dataset").click()
    page.locator("#import-archive input[type=file]").set_input_files(str(training_zip(scratch / "people.zip")))
    expect(page.locator(".card-title h3")).to_have_count(len(PEOPLE), timeout=TIMEOUT * 1000)
    page.get_by_role("tab", name="2 · Train").click()
    page.get_by_role("radio", name=backbones.BACKBONES[backbone].title, exact=True).check()
    started = time.perf_counter()
    page.get_by_role("button", name="🚀 Train model").click()
    expect(page.locator("#train-status")).to_contain_text("Trained in", timeout=TIMEOUT * 1000)
    return time.perf_counter() - started


def settle(pid: int, *, idle_share: float = 0.3, quiet_seconds: float = 5.0, ceiling: float = 300.0) -> float:
    """Wait until the app uses under ``idle_share`` of a core for ``quiet_seconds`` (the fast-path
    conversion the app starts after a training runs in the background); returns the seconds waited."""
    started = time.perf_counter()
    quiet_since, last = time.perf_counter(), cpu_seconds(pid)
    while time.perf_counter() - started < ceiling:
        time.sleep(1.0)
        now = cpu_seconds(pid)
        if now - last > idle_share:
            quiet_since = time.perf_counter()
        last = now
        if time.perf_counter() - quiet_since >= quiet_seconds:
            break
    return time.perf_counter() - started


# One row ----------------------------------------------------------------------------------------------

def measure_row(app: AppProcess, playwright, backbone: str, faces: int, seconds: float, scratch: Path) -> dict:
    camera = write_camera(scratch / f"camera-{faces}.mjpeg", faces)
    names = set(PEOPLE[:faces])
    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                         args=[*CHROMIUM_ARGS, f"--use-file-for-fake-video-capture={camera}"])
    try:
        page = open_page(browser, app.url)
        training_seconds = train_in_page(page, backbone, scratch)
        settled = settle(app.pid)
        page.get_by_role("tab", name="3 · Try it").click()
        page.get_by_role("tab", name="Live webcam").click()
        page.locator("#predict-live").get_by_role("button", name="▶ Start the live view").click()
        page.wait_for_function("() => (window.facerec.liveStats?.frames || []).some((frame) => "
                               "frame.faces.some((caption) => caption !== '…'))", timeout=TIMEOUT * 1000)
        page.wait_for_timeout(2000)  # past the first recognitions of every face
        cpu_before, start = cpu_seconds(app.pid), page.evaluate("() => performance.now()")
        wall_started = time.perf_counter()
        time.sleep(seconds)
        end = page.evaluate("() => performance.now()")
        wall = time.perf_counter() - wall_started
        cpu_used, load = cpu_seconds(app.pid) - cpu_before, os.getloadavg()[0]
        page.wait_for_timeout(500)  # the last result's painting frame
        frames = page.evaluate(WINDOW_JS, [start, end])
        page.screenshot(path=str(scratch / f"live-{backbone}-{faces}.png"))
    finally:
        browser.close()
    latencies = [frame["latency"] for frame in frames if frame["latency"] is not None]
    labels = [[caption.rsplit(" ", 1)[0] for caption in frame["faces"]] for frame in frames]
    shown = [label for faces_shown in labels for label in faces_shown]
    shares = {kind: sum(label == kind for label in shown) / max(1, len(shown)) for kind in ("…", "unknown")}
    right = [len(faces_shown) == faces and set(faces_shown) == names for faces_shown in labels]
    return {"backbone": backbone, "faces": faces, "results": len(frames), "seconds": (end - start) / 1000, "wall": wall,
            "rate": len(frames) / ((end - start) / 1000), "latency": latencies, "waiting": shares["…"], "unknown": shares["unknown"],
            "right": np.mean(right) if frames else float("nan"),
            "faces_shown": np.mean([len(faces_shown) for faces_shown in labels]) if frames else float("nan"),
            "server_ms": harness.percentile([frame["server"] for frame in frames], 50) if frames else float("nan"),
            "cpu_per_result": 1000 * cpu_used / max(1, len(frames)), "cpu_share": cpu_used / wall, "load": load,
            "training_seconds": training_seconds, "settled": settled}


COLUMNS = ["backbone", "faces", "dlib workers", "results/s in the page", "target", "latency p50 ms", "latency p95 ms",
           "faces shown named / unknown / '…'", "results naming exactly the people on camera", "faces per result",
           "server ms per frame p50", "server CPU ms per result", "server CPU (cores)", "results counted", "training s",
           "load (1 min)"]


def add_row(table: harness.Table, result: dict, workers: str) -> None:
    target = TARGETS.get((result["backbone"], result["faces"]))
    p50 = harness.percentile(result["latency"], 50) if result["latency"] else float("nan")
    table.add(result["backbone"], result["faces"], workers, result["rate"], f">= {target:.0f}" if target else "–", p50,
              harness.percentile(result["latency"], 95) if result["latency"] else float("nan"),
              f"{1 - result['waiting'] - result['unknown']:.0%} / {result['unknown']:.0%} / {result['waiting']:.0%}", f"{result['right']:.0%}", result["faces_shown"], result["server_ms"],
              result["cpu_per_result"], result["cpu_share"], result["results"], result["training_seconds"], f"{result['load']:.2f}")


def parse_rows(specifications: list[str]) -> list[tuple[str, int, str | None]]:
    """``backbone:faces[:dlib workers]`` -> ``(backbone, faces, workers or None for the app's default)``."""
    rows = []
    for specification in specifications:
        backbone, faces, *workers = specification.split(":")
        rows.append((backbone, int(faces), workers[0] if workers else None))
    return rows


def main() -> int:
    options = harness.parser(__doc__.split("\n\n")[0])
    options.add_argument("--rows", nargs="*", default=list(ROWS),
                         help="backbone:faces[:FACEREC_DLIB_WORKERS] (default: %(default)s, the app's default workers)")
    options.add_argument("--seconds", type=float, default=30.0, help="the counting window per row")
    arguments = options.parse_args()
    if arguments.quick:
        arguments.rows, arguments.seconds = ["dlib:1"], 8.0
    rows = parse_rows(arguments.rows)
    from playwright.sync_api import sync_playwright

    from facerec.dlib_workers import MAX_DEFAULT_WORKERS, WORKERS_VARIABLE

    started = time.perf_counter()
    machine = harness.machine_info()
    default_workers = f"default ({min(MAX_DEFAULT_WORKERS, os.cpu_count() or 1)})"
    table = harness.Table("Live view in headless Chromium (fake camera, real faces), per backbone and face count", COLUMNS)
    summary = []
    scratch = Path(tempfile.mkdtemp(prefix="facerec-bench-live-"))
    try:
        for backbone, workers in dict.fromkeys((backbone, workers) for backbone, _, workers in rows):
            settings = {"FACEREC_CACHE": str(scratch / "cache")}  # the fast path as users get it: raced, the faster kept
            if workers is not None:
                settings[WORKERS_VARIABLE] = workers
            folder = scratch / f"{backbone}-workers-{workers or 'default'}"
            folder.mkdir()
            app = AppProcess(settings, folder)
            try:
                print(f"{backbone} (dlib workers {workers or 'default'}): app ready in {app.wait_until_ready(TIMEOUT):.0f} s", flush=True)
                with sync_playwright() as playwright:
                    for faces in [faces for row_backbone, faces, row_workers in rows if (row_backbone, row_workers) == (backbone, workers)]:
                        result = measure_row(app, playwright, backbone, faces, arguments.seconds, folder)
                        add_row(table, result, (workers or default_workers) if backbone == "dlib" else "–")
                        summary.append(summary_line(result, workers))
                problems = [line for line in app.log_problems() if "cuInit" not in line]  # TensorFlow's GPU probe: no GPU here
                if problems:
                    table.notes.append(f"{backbone} app log: " + " / ".join(problems[:5]))
            finally:
                app.stop()
    finally:
        print(f"screenshots and app logs kept in {scratch}", flush=True)
        shutil.rmtree(scratch / "cache", ignore_errors=True)
    table.notes += [
        f"Model: {TRAINING_PHOTOS} train/ photos of each of the five people of five_celebrity_faces, trained through the page "
        "(a zip imported on Collect photos, the backbone picked, Train model pressed: the app's default settings for the "
        "backbone; a new page and training per row); the camera shows test/ photos of " + ", ".join(PEOPLE[:3]) + " (1 face: the first).",
        "Results/s: answers the page drew on its overlay per second of the window; latency: from the camera frame's capture "
        "time (requestVideoFrameCallback) to the animation frame that painted its boxes (window.facerec.liveStats).",
        "Faces shown: of every box drawn in the window, the share with a person's name, 'unknown' (below the model's "
        "threshold or too far from the person) and '…' (its first recognition still running); exactly: the result names "
        "the people on camera, one box each.",
        "Server CPU: the app's process and its children (dlib workers) over the window; the browser's is not counted.",
        f"dlib workers: the app's {WORKERS_VARIABLE} (default: one per core, at most 2; 0: dlib's network in the app's "
        "process, as before facerec.dlib_workers).",
    ]
    harness.write_report("live", "Live view in a real browser (issue 11)", [table], machine=machine,
                         arguments=arguments, started=started, summary=summary)
    return 0


def summary_line(result: dict, workers: str | None) -> str:
    target = TARGETS.get((result["backbone"], result["faces"]))
    p50 = harness.percentile(result["latency"], 50) if result["latency"] else float("nan")
    reached = f" (target >= {target:.0f}: {'reached' if result['rate'] >= target else 'not reached'})" if target else ""
    setting = f", dlib workers {workers}" if workers is not None and result["backbone"] == "dlib" else ""
    return (f"{result['backbone']}, {result['faces']} face(s){setting}: {result['rate']:.1f} results/s{reached}, latency p50 "
            f"{p50:.0f} ms (target <= {TARGET_P50_MS:.0f}: {'reached' if p50 <= TARGET_P50_MS else 'not reached'}), "
            f"load {result['load']:.2f}")


if __name__ == "__main__":
    raise SystemExit(main())
