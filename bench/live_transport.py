"""Which transport can carry the live webcam view: result frames per second and capture-to-display
latency, counted in a real browser.

Each scenario starts one small app from ``bench/live_transport_apps`` (a stand-in handler that
costs a calibrated ~10 ms of CPU per frame instead of the recognizer), opens it in headless
Chromium whose fake camera plays an MJPEG written here (640x480, real ORL faces, the frame's index
as a bar code across the top), and for ``--seconds`` counts on the page:

* the camera's own frame rate: distinct bar codes shown by the preview ``<video>`` per second;
* result frames: results rendered by the page per second (distinct frame indices: an image
  loaded into the result ``<img>``, or boxes drawn on the overlay canvas, or a frame of the
  returned WebRTC video);
* latency, per result: from the moment its frame was first shown in the preview (the frame's
  capture time, when Chromium gives one, is reported too) to the animation frame after the
  result was on the page; p50/p95 over the window, and the p50 of its first and last 10 s (a
  backlog shows as growth);
* what was sent (frames per second, bytes and pixels per frame), the server's and the browser's
  CPU use, the load average.

Scenarios: Gradio's own webcam streaming (``.stream(stream_every=...)``, result as an image or as
boxes drawn over the preview), the page's own frames to a route on the same server (WebSocket,
POST, or a ``gr.HTML`` server function), several visitors at once (browser contexts), a
background CPU hog (two busy Python processes), and WebRTC through fastrtc when it runs.

    python -m bench.live_transport                 # every scenario (about 30 minutes)
    python -m bench.live_transport --only ws http  # scenarios whose name contains a word
    python -m bench.live_transport --list
    python -m bench.live_transport --quick         # 8 s windows, a few scenarios

WebSocket scenarios need a Python with the ``websockets`` package (``--ws-python``, default
/tmp/venv-ws/bin/python); fastrtc ones a Python with fastrtc (``--rtc-python``); a scenario
whose interpreter is missing is skipped, saying so.
"""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench import harness

APPS = Path(__file__).resolve().parent / "live_transport_apps"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-gpu"]
LAYOUT = (96, 128, 184, 224)  # camera.LAYOUTS[1][0], without importing cv2 here.
TARGETS = "targets: >= 15 result frames/s (1 face, 10 ms), >= 10 (3 faces or VGG16), p50 latency <= 200 ms, >= 3 frames/s each with 4 visitors on a busy server"


@dataclasses.dataclass
class Scenario:
    name: str
    transport: str  # gradio-image, gradio-json, ws, http, server, fastrtc
    setting: str
    app: list[str]  # module and its arguments
    python: str = sys.executable
    faces: int = 1
    cost_ms: float = 10.0
    visitors: int = 1
    hog: bool = False


def scenarios(ws_python: str, rtc_python: str, rtc5_python: str) -> list[Scenario]:
    result = []

    def gradio(output, every, *, width=0, cost=10.0, faces=1, visitors=1, hog=False, extra=(), tag="", name_tag=""):
        setting = f"stream_every={every}" + (f", width {width}" if width else "") + tag
        args = ["bench.live_transport_apps.gradio_stream", "--output", output, "--stream-every", str(every),
                "--width", str(width), *extra]
        name = f"gradio-{output}-{every}" + (f"-w{width}" if width else "") + (f"-cost{cost:g}" if cost != 10 else "") \
            + (f"-faces{faces}" if faces != 1 else "") + (f"-x{visitors}" if visitors > 1 else "") + ("-hog" if hog else "") + name_tag
        result.append(Scenario(name, f"gradio-{output}", setting, args, faces=faces, cost_ms=cost, visitors=visitors, hog=hog))

    def custom(via, *, width=480, cost=10.0, faces=1, visitors=1, hog=False):
        args = ["bench.live_transport_apps.custom", "--via", via, "--width", str(width)]
        name = f"{via}-{width}" + (f"-cost{cost:g}" if cost != 10 else "") + (f"-faces{faces}" if faces != 1 else "") \
            + (f"-x{visitors}" if visitors > 1 else "") + ("-hog" if hog else "")
        result.append(Scenario(name, via, f"{width} px JPEG q0.7, one frame in flight", args,
                               python=ws_python if via == "ws" else sys.executable, faces=faces, cost_ms=cost,
                               visitors=visitors, hog=hog))

    for every in (0.5, 0.2, 0.1, 0.066, 0.05, 0.033):
        gradio("image", every)
    for every in (0.5, 0.2, 0.1, 0.066, 0.05, 0.033):
        gradio("json", every)
    gradio("image", 0.05, width=320)
    gradio("json", 0.05, width=320)
    gradio("image", 0.05, extra=("--format", "jpeg"), tag=", format=jpeg", name_tag="-jpeg")
    gradio("image", 0.05, cost=150)
    gradio("json", 0.05, cost=150)
    for via in ("ws", "http", "server"):
        custom(via)
    custom("ws", width=320)
    custom("ws", width=640)
    custom("ws", cost=15, faces=3)
    custom("http", cost=15, faces=3)
    custom("ws", cost=30)
    custom("ws", cost=150)
    gradio("json", 0.05, hog=True)
    custom("ws", hog=True)
    custom("http", hog=True)
    gradio("json", 0.05, visitors=4)
    # The app's time_limit=60 ends each stream after a minute (it rejoins the queue): without it.
    gradio("json", 0.05, visitors=4, extra=("--time-limit", "0"), tag=", time_limit=None", name_tag="-nolimit")
    gradio("json", 0.05, visitors=4, hog=True)
    gradio("image", 0.1, visitors=4, hog=True)
    custom("ws", visitors=4)
    custom("ws", visitors=4, hog=True)
    custom("http", visitors=4, hog=True)
    custom("ws", cost=15, faces=3, visitors=4, hog=True)
    # fastrtc requires gradio<6: forced onto 6.31 (rtc_python) it does not render; for reference,
    # the same app on the gradio 5.50 that pip picks for it (rtc5_python).
    rtc = ["bench.live_transport_apps.rtc", "--package", "fastrtc"]
    result.append(Scenario("fastrtc-gradio6", "fastrtc", "WebRTC both ways, on gradio 6.31", rtc, python=rtc_python))
    for visitors, hog in ((1, False), (4, False), (1, True), (4, True)):
        result.append(Scenario("fastrtc-gradio5" + (f"-x{visitors}" if visitors > 1 else "") + ("-hog" if hog else ""),
                               "fastrtc", "WebRTC both ways, on gradio 5.50 (not 6.31)", rtc, python=rtc5_python,
                               visitors=visitors, hog=hog))
    return result


# Processes ---------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def cpu_ticks() -> dict[int, tuple[int, int]]:
    """{pid: (parent pid, utime + stime in clock ticks)} of every process."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        table[int(entry)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
    return table


def descendants(table: dict[int, tuple[int, int]], root: int) -> set[int]:
    found, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, (ppid, _) in table.items() if ppid == parent and pid not in found]
        found.update(children)
        frontier += children
    return found


def cpu_seconds(table: dict[int, tuple[int, int]], pids: set[int]) -> float:
    return sum(table[pid][1] for pid in pids if pid in table) / os.sysconf("SC_CLK_TCK")


def start_hog() -> list[subprocess.Popen]:
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]


def stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# One run -------------------------------------------------------------------------------------------

def start_pages(scenario: Scenario, browsers: list, url: str, timeout_s: float = 90) -> list:
    """One page per visitor: each in its own context of one browser, or in its own browser."""
    probe = (APPS / "measure.js").read_text(encoding="utf-8")
    pages = []
    for visitor in range(scenario.visitors):
        context = browsers[visitor % len(browsers)].new_context(permissions=["camera"], viewport={"width": 1280, "height": 900})
        context.add_init_script(probe)
        page = context.new_page()
        page.stream_posts = []  # (wall time, bytes) of each frame Gradio's webcam sent
        page.on("request", lambda request, page=page: page.stream_posts.append((time.time(), len(request.post_data_buffer or b"")))
                if request.method == "POST" and "/stream/" in request.url else None)
        page.goto(url)
        pages.append(page)
    for page in pages:
        if scenario.transport.startswith("gradio"):
            page.evaluate("() => __bench.watchPreview('#cam video')")
            if scenario.transport == "gradio-image":
                page.evaluate("() => __bench.watchImages('#result')")
            page.locator("#cam").get_by_text("Click to Access Webcam").click(timeout=30_000)
            page.locator('#cam button[aria-label="capture photo"]').click(timeout=30_000)
        elif scenario.transport == "fastrtc":
            # Its only <video> shows the camera before the start, the returned frames after: the
            # camera's times come from the probe's tap on getUserMedia.
            page.evaluate("() => { __bench.watchPreview('video.bench-camera-tap'); __bench.watchResultVideo('#rtc video'); }")
            page.locator('#rtc button[aria-label="start stream"]').wait_for(timeout=60_000)
            page.wait_for_timeout(1000)
            page.locator('#rtc button[aria-label="start stream"]').evaluate("button => button.click()")
        else:
            page.evaluate("() => __bench.watchPreview('#live video')")
            page.locator("#live button.start").click(timeout=30_000)
    deadline = time.time() + timeout_s
    for page in pages:
        page.wait_for_function("() => __bench.results.length > 0", timeout=max(1, deadline - time.time()) * 1000)
    return pages


def percentile(values, share):
    return harness.percentile(values, share) if len(values) else float("nan")


def page_stats(data: dict, window: tuple[float, float]) -> dict:
    start, end = window
    seconds = (end - start) / 1000
    seen, capture = dict(map(tuple, data["seen"])), dict(map(tuple, data["capture"]))
    results = [(int(index), t, arrived) for index, t, arrived in data["results"]]
    distinct = {index for index, _, _ in results if index >= 0}
    matched = [(index, t) for index, t, _ in results if index in seen and t >= seen[index]]
    latency = [(t, t - seen[index]) for index, t in matched]
    from_capture = [t - capture[index] for index, t in matched if index in capture and t >= capture[index]]
    first = [value for t, value in latency if t < start + 10_000]
    last = [value for t, value in latency if t > end - 10_000]
    preview = [index for index, t in data["seen"] if start <= t <= end]
    return {
        "camera_fps": len(preview) / seconds,
        "result_fps": len(distinct) / seconds,
        "renders": len(results) / seconds,
        "latency": [value for _, value in latency],
        "from_capture": from_capture,
        "first_p50": percentile(first, 50), "last_p50": percentile(last, 50),
        "unmatched": sum(1 for index, _, _ in results if index not in seen),
        "preview_mirrored": data["previewMirrored"], "result_mirrored": data["resultMirrored"],
        "sent": data["sent"], "errors": data["errors"], "preview_size": data["previewSize"],
    }


def run(scenario: Scenario, cameras: dict[int, Path], seconds: float, warmup: float = 3.0,
        separate_browsers: bool = False) -> dict:
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="live-transport-"))
    port, ready, log = free_port(), work / "ready", work / "frames.jsonl"
    command = [scenario.python, "-m", *scenario.app, "--port", str(port), "--ready", str(ready), "--log", str(log),
               "--cost-ms", str(scenario.cost_ms), "--faces", str(scenario.faces)]
    environment = {**os.environ, "PYTHONPATH": str(harness.REPOSITORY), "GRADIO_ANALYTICS_ENABLED": "False"}
    app = subprocess.Popen(command, cwd=harness.REPOSITORY, env=environment, stdout=open(work / "app.out", "w"),
                           stderr=subprocess.STDOUT)
    hogs: list[subprocess.Popen] = []
    try:
        deadline = time.time() + 90
        while not ready.exists():
            if app.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"the app did not start: {(work / 'app.out').read_text()[-2000:]}")
            time.sleep(0.2)
        url = ready.read_text().strip()
        if scenario.hog:
            hogs = start_hog()
        with sync_playwright() as playwright:
            browsers = [playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
                *CHROMIUM_ARGS, f"--use-file-for-fake-video-capture={cameras[scenario.faces]}"])
                for _ in range(scenario.visitors if separate_browsers else 1)]
            pages = start_pages(scenario, browsers, url)
            time.sleep(warmup)
            mine = {app.pid, *(hog.pid for hog in hogs)}
            table = cpu_ticks()
            server = descendants(table, app.pid)
            browser_pids = descendants(table, os.getpid()) - mine - server - {os.getpid()}
            cpu_before = cpu_seconds(table, server), cpu_seconds(table, browser_pids)
            wall_start = time.time()
            starts = [page.evaluate("() => performance.now()") for page in pages]
            time.sleep(seconds)
            ends = [page.evaluate("() => performance.now()") for page in pages]
            wall_end = time.time()
            table = cpu_ticks()
            browser_pids |= descendants(table, os.getpid()) - mine - descendants(table, app.pid) - {os.getpid()}
            cpu_after = cpu_seconds(table, descendants(table, app.pid)), cpu_seconds(table, browser_pids)
            load = os.getloadavg()[0]
            dumps = [page.evaluate("([a, b]) => __bench.dump(a, b)", [a, b]) for page, a, b in zip(pages, starts, ends)]
            posts = [[post for post in page.stream_posts if wall_start <= post[0] <= wall_end] for page in pages]
            selectors = {"gradio-image": ("#cam video", "#result"), "gradio-json": ("#cam video", "#cam"),
                         "fastrtc": ("#rtc video", "#nothing")}.get(scenario.transport, ("#live video", "#live"))
            face_x = (LAYOUT[0] + LAYOUT[2] / 2) / 640
            agreement = pages[0].evaluate("([p, r, x]) => __bench.agreement(p, r, x)", [*selectors, face_x]) \
                if scenario.faces == 1 else {}
            screenshot = work / "page.png"
            pages[0].screenshot(path=str(screenshot))
            for browser in browsers:
                browser.close()
    finally:
        stop(hogs)
        stop([app])
    frames = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    frames = [frame for frame in frames if wall_start <= frame["t"] <= wall_end]
    wall = wall_end - wall_start
    stats = [page_stats(dump, (a, b)) for dump, a, b in zip(dumps, starts, ends)]
    return {"scenario": scenario, "stats": stats, "posts": posts, "frames": frames, "wall": wall, "load": load,
            "server_cpu": (cpu_after[0] - cpu_before[0]) / wall, "browser_cpu": (cpu_after[1] - cpu_before[1]) / wall,
            "screenshot": screenshot, "agreement": agreement, "app_output": (work / "app.out").read_text()[-3000:]}


def session_checks(python: str, camera_file: Path) -> harness.Table:
    """The custom route's sessions: who may send frames, and for which session they count."""
    from playwright.sync_api import sync_playwright

    table = harness.Table("The live route's sessions (custom transport, WebSocket and POST)", ["check", "expected", "observed", "ok"])
    work = Path(tempfile.mkdtemp(prefix="live-transport-sessions-"))
    port, ready, log = free_port(), work / "ready", work / "frames.jsonl"
    app = subprocess.Popen([python, "-m", "bench.live_transport_apps.custom", "--via", "ws", "--port", str(port), "--ready",
                            str(ready), "--log", str(log), "--cost-ms", "1"], cwd=harness.REPOSITORY,
                           env={**os.environ, "PYTHONPATH": str(harness.REPOSITORY)}, stdout=open(work / "app.out", "w"),
                           stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 90
        while not ready.exists():
            if app.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"the app did not start: {(work / 'app.out').read_text()[-2000:]}")
            time.sleep(0.2)
        url = ready.read_text().strip().rstrip("/")
        probe_ws = """async ([url, token]) => await new Promise((resolve) => {
            const socket = new WebSocket(url.replace(/^http/, 'ws') + '/facerec/live/ws?token=' + encodeURIComponent(token));
            socket.onopen = () => { socket.close(); resolve('opened'); };
            socket.onclose = (event) => resolve('closed ' + event.code);
            setTimeout(() => resolve('timeout'), 5000);
        })"""
        probe_post = """async ([url, token]) => (await fetch(url + '/facerec/live/frame', {method: 'POST', body: new Blob([new Uint8Array(10)]),
                                                                  headers: {'X-Live-Token': token}})).status"""
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
                *CHROMIUM_ARGS, f"--use-file-for-fake-video-capture={camera_file}"])
            visitors = []
            for _ in range(2):
                context = browser.new_context(permissions=["camera"])
                context.add_init_script((APPS / "measure.js").read_text(encoding="utf-8"))
                page = context.new_page()
                page.goto(url)
                page.wait_for_function("() => window.__facerecLiveToken", timeout=30_000)
                page.evaluate("() => __bench.watchPreview('#live video')")
                page.locator("#live button.start").click()
                page.wait_for_function("() => __bench.results.length > 3", timeout=30_000)
                visitors.append((context, page, page.evaluate("() => window.__facerecLiveToken")))
            (_, page_a, token_a), (context_b, page_b, token_b) = visitors
            table.add("a made-up token, WebSocket", "refused", page_a.evaluate(probe_ws, [url, "not-a-token"]), "")
            table.add("a made-up token, POST", "401", str(page_a.evaluate(probe_post, [url, "not-a-token"])), "")
            table.add("no token, WebSocket", "refused", page_a.evaluate(probe_ws, [url, ""]), "")
            table.add("visitor A's token from visitor B's page", "opens, but counts as A's session (a token is a "
                      "bearer secret, known only to A's page)", page_b.evaluate(probe_ws, [url, token_a]), "")
            sessions = {json.loads(line)["session"] for line in log.read_text().splitlines()}
            table.add("sessions the two visitors' frames were handled under", "2 distinct", str(len(sessions)), "")
            table.add("tokens differ per visitor", "yes", "yes" if token_a != token_b else "no", "")
            context_b.close()  # Visitor B leaves: demo.unload revokes B's token.
            time.sleep(3)
            table.add("visitor B's token after B closed the page", "refused", page_a.evaluate(probe_ws, [url, token_b]), "")
            table.add("visitor A still streams after B left", "yes",
                      "yes" if page_a.evaluate("() => new Promise(r => { const n = __bench.results.length;"
                                               " setTimeout(() => r(__bench.results.length > n), 2000); })") else "no", "")
            browser.close()
    finally:
        stop([app])
    for line in table.rows:
        expected, observed = line[1], line[2]
        line[3] = "yes" if (expected.startswith("refused") and observed.startswith("closed")) or expected.split(" ")[0] == observed \
            or (expected.startswith("opens") and observed == "opened") else "NO"
    return table


# Report ----------------------------------------------------------------------------------------------

COLUMNS = ["scenario", "transport", "setting", "faces, handler", "visitors", "CPU hog", "camera fps",
           "sent/s", "handled/s", "frame sent", "result fps per visitor (min-max)",
           "latency p50 ms (capture -> shown)", "p95 ms", "p50 first 10 s -> last 10 s", "p50 from preview ms",
           "preview mirrored / result agrees", "server CPU (cores)", "server CPU ms per frame", "browser CPU (cores)",
           "load (1 min)"]


def row(outcome: dict) -> list:
    scenario, stats, wall = outcome["scenario"], outcome["stats"], outcome["wall"]
    latency = [value for s in stats for value in s["latency"]]
    from_capture = [value for s in stats for value in s["from_capture"]]
    fps = [s["result_fps"] for s in stats]
    if scenario.transport.startswith("gradio"):
        sent = [len(posts) / wall for posts in outcome["posts"]]
        sizes = [size for posts in outcome["posts"] for _, size in posts]
    else:
        sent = [len(s["sent"]) / wall for s in stats]
        sizes = [item[1] for s in stats for item in s["sent"]]
    shapes = sorted({f"{frame['shape'][1]}x{frame['shape'][0]}" for frame in outcome["frames"]})
    frame_sent = (f"{'/'.join(shapes) or '?'}, {np.median(sizes) / 1000:.1f} kB" if sizes else f"{'/'.join(shapes) or '?'}")
    if scenario.transport.startswith("gradio") and sizes:
        frame_sent += " (base64 JSON)"
    first = [s["first_p50"] for s in stats]
    last = [s["last_p50"] for s in stats]
    agreement = outcome["agreement"]
    agrees = "–" if not agreement or agreement.get("agree") is None else _yes(agreement["agree"])
    mirrored = f"{_yes(agreement.get('previewMirrored', stats[0]['preview_mirrored']))} / {agrees}"
    handled = len(outcome["frames"]) / wall
    # Latency from the frame's capture time where the browser gives it, else from its first showing.
    headline = from_capture if len(from_capture) >= len(latency) / 2 else latency
    return [scenario.name, scenario.transport, scenario.setting, f"{scenario.faces}, {scenario.cost_ms:g} ms",
            scenario.visitors, "yes" if scenario.hog else "no",
            f"{np.median([s['camera_fps'] for s in stats]):.1f}",
            f"{np.mean(sent):.1f}" if sent else "–", f"{handled / scenario.visitors:.1f}", frame_sent,
            f"{min(fps):.1f}" if len(fps) == 1 else f"{min(fps):.1f}-{max(fps):.1f}",
            percentile(headline, 50), percentile(headline, 95),
            f"{np.nanmedian(first):.0f} -> {np.nanmedian(last):.0f}" if latency else "–",
            percentile(latency, 50), mirrored, f"{outcome['server_cpu']:.2f}",
            f"{outcome['server_cpu'] * 1000 / handled:.0f}" if handled else "–", f"{outcome['browser_cpu']:.2f}",
            f"{outcome['load']:.2f}"]


def _yes(value) -> str:
    return "?" if value is None else ("yes" if value else "no")


def machine(arguments) -> dict[str, str]:
    import platform

    import gradio

    chromium = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True).stdout.strip()
    try:
        from importlib.metadata import version

        playwright = version("playwright")
    except Exception:  # noqa: BLE001
        playwright = "?"
    return {
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "cpu": harness.cpu_model(),
        "cores": str(os.cpu_count()),
        "python": platform.python_version(),
        "gradio": gradio.__version__,
        "chromium": chromium,
        "playwright": playwright,
        "window per scenario": f"{arguments.seconds:g} s after the first result and {3:g} s of warm-up",
        "visitors": "a browser each" if arguments.separate_browsers else "a browser context each, in one Chromium",
        "load average at start (1/5/15 min)": harness.load_average(),
    }


def main() -> None:
    parser = harness.parser(__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="measuring window per scenario")
    parser.add_argument("--only", nargs="*", default=None, help="run the scenarios whose name contains one of these")
    parser.add_argument("--list", action="store_true")
    parser.add_argument("--ws-python", default="/tmp/venv-ws/bin/python")
    parser.add_argument("--rtc-python", default="/tmp/venv-rtc/bin/python", help="fastrtc forced onto gradio 6.31")
    parser.add_argument("--rtc5-python", default="/tmp/venv-rtc5/bin/python", help="fastrtc with the gradio 5 it requires")
    parser.add_argument("--separate-browsers", action="store_true",
                        help="each visitor in a browser of its own (default: a context each, in one browser)")
    parser.add_argument("--no-sessions", dest="sessions", action="store_false", help="skip the live route's session checks")
    parser.add_argument("--name", default="live_transport", help="results file name (bench/results/<name>.md)")
    arguments = parser.parse_args()
    chosen = scenarios(arguments.ws_python, arguments.rtc_python, arguments.rtc5_python)
    if arguments.only:
        chosen = [s for s in chosen if any(word == s.name or word in s.name for word in arguments.only)]
    if arguments.quick:
        arguments.seconds = min(arguments.seconds, 8.0)
        if not arguments.only:
            chosen = [s for s in chosen if s.name in ("gradio-image-0.1", "gradio-json-0.05", "ws-480", "http-480")]
    if arguments.list:
        for s in chosen:
            print(f"{s.name:32s} {s.transport:13s} {s.setting}")
        return
    if not Path(CHROMIUM).exists():
        sys.exit(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    started = time.perf_counter()
    info = machine(arguments)
    from bench.live_transport_apps import camera

    folder = Path(tempfile.mkdtemp(prefix="live-transport-camera-"))
    cameras = {faces: camera.write_mjpeg(folder / f"faces{faces}.mjpeg", faces=faces) for faces in (1, 3)}
    table = harness.Table("Result frames per second and latency, by transport", COLUMNS)
    skipped, failures = [], []
    for scenario in chosen:
        if not Path(scenario.python).exists():
            skipped.append(f"{scenario.name}: no interpreter at {scenario.python}")
            continue
        print(f"{scenario.name} (load {harness.load_average()})", flush=True)
        try:
            outcome = run(scenario, cameras, arguments.seconds, separate_browsers=arguments.separate_browsers)
        except Exception as error:  # noqa: BLE001: one failed scenario must not lose the others.
            failures.append(f"{scenario.name}: {type(error).__name__}: {str(error).strip()[:1500]}")
            print(f"  failed: {failures[-1]}", flush=True)
            continue
        table.add(*row(outcome))
        errors = {e for s in outcome["stats"] for e in s["errors"]}
        if errors:
            table.notes.append(f"{scenario.name}: page errors {sorted(errors)[:3]}")
    table.notes += [
        "camera fps: distinct frames the preview <video> showed per second (Chromium plays the MJPEG at its own rate: this bounds everything).",
        "result fps: distinct camera frames whose result was rendered, per second and visitor. Latency (all visitors pooled): "
        "from the frame's capture time (requestVideoFrameCallback metadata.captureTime of the preview) to the animation frame "
        "after its result was on the page; 'from preview': from the frame's first showing in the preview instead; "
        "'first 10 s -> last 10 s': the p50 at the start and the end of the window (a backlog grows).",
        "sent/s: frames the page sent per visitor; handled/s: frames the server's handler ran on, per visitor.",
        "preview mirrored / result agrees: whether the preview shows the camera mirrored, and whether the result shown agrees "
        "with it (result image mirrored like the preview; overlay box centred on the face as the preview shows it).",
        "frame sent: the frame size the handler got, and the median request body per frame (Gradio: the JSON with the base64 "
        "data URL; custom: the JPEG blob).",
        "server / browser CPU: CPU seconds per second of the app's process and of Chromium (all its processes) over the window; "
        "2 cores in all. The browser's share is the visitors' machines' work here, on the server's cores.",
        TARGETS + ".",
    ]
    tables = [table]
    if arguments.sessions and Path(arguments.ws_python).exists():
        print("session checks", flush=True)
        tables.append(session_checks(arguments.ws_python, cameras[1]))
    notes = [f"skipped {line}" for line in skipped] + [f"failed {line}" for line in failures]
    harness.write_report(arguments.name, "Live webcam transports: result frames per second and latency in a browser", tables,
                         machine=info, arguments=arguments, started=started, summary=notes)


if __name__ == "__main__":
    main()
