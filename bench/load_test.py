"""Load test (issue 6, point 6): the real app on localhost, N visitors predicting while one trains.

The app runs as it would on a Space, in its own process (``python app.py --port N`` with the
FACEREC_* settings), and is driven only through ``gradio_client``, one ``Client`` per visitor, so
every visitor is its own Gradio session with its own private workspace:

1. **Setup** (not load): each predicting visitor uploads the training photos of two people and
   trains once with the app's default settings, as a visitor pressing "Train" does. Every
   predicting session thus holds a model of its own in the server's memory, as N real visitors
   would (the app cannot share one visitor's model with another short of the Hub).
2. **One visitor alone**: a few sequential predictions with nothing else running, the service
   time without any queue.
3. **Predicting only** (``--baseline-seconds``): the N visitors, one thread each, call
   ``/predict`` back to back on real photos of their two people (the ORL test photos, face mode;
   generated colour patches in "whole images" mode when the shared datasets are absent).
4. **Predicting while one trains** (``--seconds``): the same, while one more visitor trains in a
   loop. Each round is a *new* visitor (new session, empty feature cache) who uploads the photos
   of four people and trains, so the face detector, the backbone and the head all work for the
   whole window, as when new visitors keep arriving. The round running when the window closes is
   stopped with ``/stop_training``. Comparing with phase 3 shows what training costs predictions.
5. **Live views while one trains** (``--live-seconds``, ``--live-visitors``): that many of the
   predicting visitors stream their live view at once (``bench.live_streams``: the page's
   protocol on the app's WebSocket route, one frame in flight) while new visitors keep training.
   Target: no failed request, no backlog, at least 3 result frames per second per stream.

After the phases every session is closed; the app ends a closed session's workspace after
``--session-grace`` seconds (FACEREC_SESSION_GRACE; 120 in the app), and memory is read again
once that has passed. Over many rounds (``--seconds 1200 --clients 1``: the long mode) the RSS
after each round shows what a training keeps: the summary compares round 5 with the last.

Every request's latency (queue wait included) and outcome is recorded; the server's memory (RSS
of the app process and its children, from ``/proc``) is sampled throughout. The report gives
requests served, errors with their messages, p50/p95/max latency per endpoint, throughput, a
timeline of the training window, memory by phase, and the training rounds completed in it.
Errors are reported, not asserted: the script exits non-zero only when the harness itself
breaks (the app does not start, or setup cannot reach it).

    python -m bench.load_test          # 8 visitors: 30 s predicting, 60 s predicting while one trains
    python -m bench.load_test --quick  # 2 visitors, 5 s + 15 s, untrained 32-pixel backbone
    python -m bench.load_test --weights none --image-size 32   # the fast test configuration
    python -m bench.load_test --weights none --image-size 32 --clients 1 --baseline-seconds 0 \
        --seconds 1200 --live-visitors 0 --output-dir /tmp/long   # long mode: memory over 50+ rounds
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from bench import harness, live_streams

harness.quiet_tensorflow()
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import httpx  # noqa: E402
import numpy as np  # noqa: E402
from gradio_client import Client, handle_file  # noqa: E402
from PIL import Image  # noqa: E402

ORL = "orl_att_faces"
PEOPLE_PER_PREDICTOR = 2
PEOPLE_PER_TRAINING_ROUND = 4
GENERATED_COLOURS = ((200, 40, 40), (40, 40, 200), (40, 190, 40), (200, 200, 40), (40, 200, 200), (200, 40, 200))
MEMORY_SAMPLE_SECONDS = 0.5
# Sequential predictions of one visitor with the server otherwise idle: the service time without queueing.
ALONE_REQUESTS = 6
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
MIB = 1024 * 1024


# Records ---------------------------------------------------------------------------------------

SETUP, ALONE, PREDICT_ONLY, UNDER_TRAINING = "setup", "1 visitor alone", "predicting only", "predicting while 1 trains"
LIVE = "live views while 1 trains"
# Result frames per second each live view keeps with several visitors streaming while one trains.
LIVE_TARGET_RESULTS_PER_SECOND = 3.0
# Rounds compared for the memory a training keeps: the first few warm the caches up.
MEMORY_FROM_ROUND = 5
MEMORY_TO_ROUND = 50  # the target's last round (issue 14)


@dataclasses.dataclass
class RequestRecord:
    """One call to the app: in which phase, by whom, when it started (``time.perf_counter()``),
    how long it took including the wait in Gradio's queue, and what came back."""

    phase: str
    role: str
    endpoint: str
    started: float
    seconds: float = 0.0
    error: str | None = None
    answer: str | None = None  # predictions: "correct", "wrong" or "no face"

    @property
    def ended(self) -> float:
        return self.started + self.seconds


@dataclasses.dataclass
class TrainingRound:
    """One round of the training visitor (a new session uploading photos and training)."""

    phase: str
    started: float
    seconds: float
    images: int
    outcome: str
    in_window: bool
    server_rss: int


class RequestLog:
    """Records from many threads, the phase they belong to, and the phases' times and load."""

    def __init__(self) -> None:
        self.records: list[RequestRecord] = []
        self.rounds: list[TrainingRound] = []
        self.streams: list[live_streams.StreamRecord] = []
        self.phase = SETUP
        self.phase_start = time.perf_counter()
        self.phases: dict[str, dict] = {}  # phase -> {"start", "seconds", "load"}
        self._lock = threading.Lock()

    def start_phase(self, phase: str) -> None:
        self.phase, self.phase_start = phase, time.perf_counter()

    def end_phase(self) -> float:
        """Close the current phase: remember its start, length and load average; returns its length."""
        seconds = self.now()
        self.phases[self.phase] = {"start": self.phase_start, "seconds": seconds, "load": harness.load_average()}
        return seconds

    def now(self) -> float:
        """Seconds since the current phase started."""
        return time.perf_counter() - self.phase_start

    def window_time(self, moment: float) -> float:
        """``moment`` (a ``time.perf_counter()`` value) in seconds since the training window opened."""
        return moment - self.phases.get(UNDER_TRAINING, {"start": self.phase_start})["start"]

    def of(self, phase: str, endpoint: str | None = None) -> list[RequestRecord]:
        return [record for record in self.records if record.phase == phase and endpoint in (None, record.endpoint)]

    @contextlib.contextmanager
    def timed(self, role: str, endpoint: str) -> Iterator[RequestRecord]:
        """Time the block as one request; an exception becomes the record's error (and is re-raised)."""
        record = RequestRecord(self.phase, role, endpoint, time.perf_counter())
        try:
            yield record
        except Exception as error:
            record.error = describe_error(error)
            raise
        finally:
            record.seconds = time.perf_counter() - record.started
            with self._lock:
                self.records.append(record)


def describe_error(error: BaseException) -> str:
    text = " ".join(str(error).split()) or "(no message)"
    return f"{type(error).__name__}: {text[:300]}"


# The app in a subprocess ----------------------------------------------------------------------

class AppProcess:
    """``python app.py --port N`` with the given FACEREC_* settings, its output in a log file."""

    def __init__(self, settings: dict[str, str], scratch: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log_path = scratch / "app.log"
        environment = {**os.environ, **settings, "GRADIO_ANALYTICS_ENABLED": "False",
                       "FACEREC_APP_DATA": str(scratch / "workspaces"), "GRADIO_TEMP_DIR": str(scratch / "gradio")}
        self.gradio_temp = Path(environment["GRADIO_TEMP_DIR"])
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen([sys.executable, "app.py", "--host", "127.0.0.1", "--port", str(self.port)],
                                        cwd=harness.REPOSITORY, env=environment, stdout=self._log, stderr=subprocess.STDOUT,
                                        start_new_session=True)

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_until_ready(self, timeout: float) -> float:
        """Seconds until the app answers its config; raises RuntimeError if it exits or never does."""
        started = time.perf_counter()
        while time.perf_counter() - started < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"the app exited with code {self.process.returncode}:\n{self.log_tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}config", timeout=5).status_code == 200:
                    return time.perf_counter() - started
            time.sleep(1)
        raise RuntimeError(f"the app did not answer within {timeout:.0f} s:\n{self.log_tail()}")

    def log_problems(self) -> list[str]:
        """The app's log lines that report a failure (ERROR, CRITICAL, tracebacks): what visitors do not see."""
        self._log.flush()
        markers = (" ERROR ", " CRITICAL ", "Traceback (most recent call last)")
        # TensorFlow probing for a GPU on a machine without one logs this at its ERROR level; it is not a failure.
        harmless = ("failed call to cuInit",)
        return [line.strip() for line in self.log_path.read_text(errors="replace").splitlines()
                if any(marker in line for marker in markers) and not any(text in line for text in harmless)]

    def log_tail(self, characters: int = 4000) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")[-characters:]

    def stop(self) -> None:
        """End the app's process group (this script started it): SIGINT, then SIGKILL after 30 s."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        self._log.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# Memory and CPU of the server ------------------------------------------------------------------

def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (from /proc/<pid>/task/*/children)."""
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        for children in Path(f"/proc/{current}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                pending += [int(child) for child in children.read_text().split()]
    return found


def tree_rss(pid: int) -> int:
    """Resident memory of ``pid`` and its descendants, in bytes (0 once it has exited)."""
    total = 0
    for member in process_tree(pid):
        with contextlib.suppress(OSError, IndexError, ValueError):
            total += int(Path(f"/proc/{member}/statm").read_text().split()[1]) * PAGE_SIZE
    return total


def peak_rss(pid: int) -> int:
    """The app process's own high-water mark of resident memory (VmHWM), in bytes."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of ``pid`` and its descendants so far."""
    total = 0.0
    for member in process_tree(pid):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return total


class MemorySampler:
    """Samples the server tree's RSS every ``interval`` seconds in a thread (times from ``time.perf_counter()``)."""

    def __init__(self, pid: int, interval: float = MEMORY_SAMPLE_SECONDS):
        self.pid, self.interval = pid, interval
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="memory-sampler", daemon=True)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def current(self) -> int:
        return tree_rss(self.pid)

    def peak(self, start: float = float("-inf"), end: float = float("inf")) -> int:
        """The highest sample between ``start`` and ``end`` (``time.perf_counter()`` values)."""
        return max((rss for moment, rss in self.samples if start <= moment <= end), default=0)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append((time.perf_counter(), tree_rss(self.pid)))
            self._stop.wait(self.interval)


# Photos -----------------------------------------------------------------------------------------

@dataclasses.dataclass
class People:
    """Photos by person: ``train`` to teach the app, ``test`` to ask it; ``mode`` the app's mode."""

    train: dict[str, list[Path]]
    test: dict[str, list[Path]]
    mode: str
    source: str


def orl_people() -> People | None:
    """The ORL faces (40 people, 7 training and 3 test photos each), or None when absent."""
    root = harness.DATASETS / ORL
    if not (root / "train").is_dir():
        return None
    return People(harness.image_files(root / "train"), harness.image_files(root / "test"), "faces",
                  f"{ORL} (real faces; face mode: the app's detector finds and crops each face)")


def generated_people(folder: Path, count: int) -> People:
    """Noisy colour patches, one colour per "person" ("whole images" mode), when ORL is absent."""
    train, test = {}, {}
    for number in range(count):
        colour = np.asarray(GENERATED_COLOURS[number % len(GENERATED_COLOURS)]) * (1 - 0.05 * (number // len(GENERATED_COLOURS)))
        name = f"colour{number}"
        paths = []
        for index in range(10):
            generator = np.random.default_rng(number * 100 + index)
            pixels = np.clip(colour + generator.normal(0, 35, (64, 64, 3)), 0, 255).astype("uint8")
            path = folder / f"{name}-{index}.png"
            Image.fromarray(pixels).save(path)
            paths.append(path)
        train[name], test[name] = paths[:7], paths[7:]
    return People(train, test, "images", "generated colour patches (the shared datasets are absent; whole-image mode)")


def groups_of_people(people: People, clients: int) -> tuple[list[list[str]], list[str]]:
    """Two people for each predicting visitor, and four for the training visitor (from the end of
    the list, apart from the predictors' people while there are enough)."""
    names = sorted(people.train)
    predictors = [[names[(client * PEOPLE_PER_PREDICTOR + offset) % len(names)] for offset in range(PEOPLE_PER_PREDICTOR)]
                  for client in range(clients)]
    return predictors, names[-PEOPLE_PER_TRAINING_ROUND:]


# Visitors ---------------------------------------------------------------------------------------

def new_visitor(url: str) -> Client:
    """A new browser tab, as far as the app can tell: its own session and workspace."""
    return Client(url, verbose=False, download_files=False, analytics_enabled=False)


def training_arguments(mode: str) -> list:
    """``/train``'s inputs with the app's default settings (what pressing Train does)."""
    from facerec.settings import TrainingSettings

    defaults = TrainingSettings(faces=mode == "faces")
    return ["", mode, defaults.backbone, defaults.epochs, defaults.batch_size, defaults.learning_rate, defaults.optimizer,
            defaults.augment, defaults.trainable_layers, defaults.validation_split]


def add_people(client: Client, people: People, names: list[str], log: RequestLog, role: str, timeout: float) -> int:
    """Upload each person's training photos under their name; returns how many were sent."""
    sent = 0
    for name in names:
        paths = people.train[name]
        with log.timed(role, "/add_photos"):
            client.submit([handle_file(str(path)) for path in paths], name, people.mode, api_name="/add_photos").result(timeout=timeout)
        sent += len(paths)
    return sent


def train_predictor(url: str, people: People, names: list[str], log: RequestLog, timeout: float) -> Client:
    """A predicting visitor with a trained model of its people (setup, before the window)."""
    client = new_visitor(url)
    add_people(client, people, names, log, "setup", timeout)
    with log.timed("setup", "/train"):
        client.submit(*training_arguments(people.mode), api_name="/train").result(timeout=timeout)
    return client


def predict_once(client: Client, name: str, path: Path, log: RequestLog, timeout: float) -> None:
    """One ``/predict`` call on a photo of ``name``; its outcome goes to the log (errors too)."""
    with contextlib.suppress(Exception), log.timed("predictor", "/predict") as record:
        _, _, label_output, _ = client.submit(handle_file(str(path)), 0.5, 0.5, api_name="/predict").result(timeout=timeout)
        record.answer = "no face" if not label_output else "correct" if label_output.get("label") == name else "wrong"


def predict_until(client: Client, people: People, names: list[str], log: RequestLog, seconds: float, timeout: float,
                  limit: int | None = None) -> None:
    """Call ``/predict`` back to back on the visitor's people's test photos for ``seconds`` of the
    current phase (or ``limit`` calls)."""
    photos = [(name, path) for name in names for path in people.test[name]]
    calls = 0
    while log.now() < seconds and (limit is None or calls < limit):
        name, path = photos[calls % len(photos)]
        predict_once(client, name, path, log, timeout)
        calls += 1


def train_in_rounds(url: str, people: People, names: list[str], log: RequestLog, memory: MemorySampler, seconds: float,
                    timeout: float) -> None:
    """New visitors, one after another, each uploading four people's photos and training, for
    ``seconds`` of the current phase; the round running at the end is stopped (Stop keeps its best epoch)."""
    while log.now() < seconds:
        started = time.perf_counter()
        outcome, images = "trained", 0
        client = new_visitor(url)
        try:
            images = add_people(client, people, names, log, "trainer", timeout)
            outcome = run_training_round(client, people.mode, log, seconds, timeout)
        except Exception as error:  # noqa: BLE001 (reported, and the next round starts)
            outcome = describe_error(error)
        finally:
            with contextlib.suppress(Exception):
                client.close()
        log.rounds.append(TrainingRound(log.phase, started, time.perf_counter() - started, images, outcome,
                                        in_window=log.now() <= seconds, server_rss=memory.current()))


def run_training_round(client: Client, mode: str, log: RequestLog, seconds: float, timeout: float) -> str:
    """One ``/train`` call, stopped with ``/stop_training`` if it outlasts the phase."""
    with log.timed("trainer", "/train") as record:
        job = client.submit(*training_arguments(mode), api_name="/train")
        while not job.done() and log.now() < seconds:
            time.sleep(0.2)
        stopped = not job.done()
        if stopped:
            with log.timed("trainer", "/stop_training"):
                client.submit(api_name="/stop_training").result(timeout=timeout)
        status = job.result(timeout=timeout)[0]
        record.answer = "stopped at the window's end" if stopped else "trained"
    return f"{record.answer}: {' '.join(str(status).split())[:120]}"


# Report -----------------------------------------------------------------------------------------

def milliseconds(records: list[RequestRecord]) -> list[float]:
    return [record.seconds * 1000 for record in records if record.error is None]


def latency_cells(served: list[float]) -> list[float]:
    """p50, p95 and max of the latencies (dashes when there are none)."""
    return [harness.percentile(served, share) if served else float("nan") for share in (50, 95, 100)]


def latency_table(log: RequestLog) -> harness.Table:
    table = harness.Table("Requests per phase and endpoint (latency includes the wait in Gradio's queue)",
                          ["phase", "role", "endpoint", "requests", "served", "errors", "p50 ms", "p95 ms", "max ms",
                           "served / s", "answers correct / wrong / no face", "load at phase end (1/5/15)"])
    for phase in (ALONE, PREDICT_ONLY, UNDER_TRAINING):
        if phase not in log.phases:
            continue
        groups: dict[tuple[str, str], list[RequestRecord]] = {}
        for record in log.of(phase):
            groups.setdefault((record.role, record.endpoint), []).append(record)
        for (role, endpoint), records in sorted(groups.items()):
            served = milliseconds(records)
            answers = [record.answer for record in records if record.error is None]
            table.add(phase, role, endpoint, len(records), len(served), len(records) - len(served), *latency_cells(served),
                      len(served) / log.phases[phase]["seconds"],
                      " / ".join(str(answers.count(kind)) for kind in ("correct", "wrong", "no face")) if endpoint == "/predict" else "–",
                      log.phases[phase]["load"])
    table.notes.append("served / s: over the phase's wall time, including the last requests that finished after its end")
    return table


def timeline_table(log: RequestLog, memory: MemorySampler, seconds: float) -> harness.Table:
    """The training window in slices: did predictions keep flowing while training ran, did memory grow?"""
    width = max(5.0, seconds / 6)
    start_of_window = log.phases[UNDER_TRAINING]["start"]
    table = harness.Table(f"The training window in {width:.0f}-second slices (predictions counted when they finished)",
                          ["slice (s)", "predictions served", "errors", "p50 ms", "p95 ms", "trainer busy with", "server RSS max MiB"])
    start = 0.0
    while start < seconds - 1e-9:
        end = min(seconds, start + width)
        finished = [record for record in log.of(UNDER_TRAINING, "/predict") if start <= log.window_time(record.ended) < end]
        trainer = sorted({record.endpoint for record in log.of(UNDER_TRAINING) if record.role == "trainer"
                          and log.window_time(record.started) < end and log.window_time(record.ended) > start})
        served = milliseconds(finished)
        table.add(f"{start:.0f}–{end:.0f}", len(served), len(finished) - len(served), *latency_cells(served)[:2],
                  ", ".join(trainer) or "–", memory.peak(start_of_window + start, start_of_window + end) / MIB)
        start = end
    return table


def rounds_table(log: RequestLog) -> harness.Table:
    table = harness.Table("Training rounds (each a new visitor: new session, cold feature cache)",
                          ["phase", "round", "started (s into the window)", "seconds", "photos uploaded", "server RSS after MiB", "outcome"])
    for number, training in enumerate(log.rounds, 1):
        table.add(training.phase, number, log.window_time(training.started), training.seconds, training.images,
                  training.server_rss / MIB, training.outcome.replace("|", "\\|"))
    return table


def live_table(log: RequestLog) -> harness.Table:
    table = harness.Table(f"{LIVE}: each visitor's live view (the page's protocol on the WebSocket route)",
                          ["visitor", "seconds", "frames sent", "result frames", "results / s", "with a face boxed",
                           "with a name", "send to answer p50 ms", "p95 ms", "max ms", "camera frames skipped",
                           "dropped by the server", "errors", "load at phase end (1/5/15)"])
    load = log.phases.get(LIVE, {}).get("load", "–")
    for record in log.streams:
        latencies = [value * 1000 for value in record.latencies]
        p50, p95, longest = latency_cells(latencies) if latencies else (float("nan"),) * 3
        table.add(record.visitor + 1, record.seconds, record.sent, record.answers, record.results_per_second,
                  record.boxed, record.named, p50, p95, longest, record.camera_frames_skipped, record.server_dropped,
                  len(record.errors), load)
    table.notes.append(f"camera frames skipped: of a {live_streams.CAMERA_FPS:g} frames/s camera, those never sent "
                       "because the previous frame's answer was not back yet (the page sends one frame at a time, so "
                       "nothing queues); dropped by the server: frames replaced by a newer one while waiting")
    for record in log.streams:
        for message in sorted(set(record.errors)):
            table.notes.append(f"visitor {record.visitor + 1}: {record.errors.count(message)} x {message}")
    return table


def setup_table(log: RequestLog) -> harness.Table:
    table = harness.Table("Setup (before the phases): each predicting visitor uploads its photos and trains once",
                          ["endpoint", "requests", "errors", "p50 s", "max s"])
    for endpoint in ("/add_photos", "/train"):
        records = log.of(SETUP, endpoint)
        served = [value / 1000 for value in milliseconds(records)]
        table.add(endpoint, len(records), len(records) - len(served), *latency_cells(served)[::2])
    table.notes.append(f"setup wall time {log.phases[SETUP]['seconds']:.0f} s, load at its end {log.phases[SETUP]['load']}: "
                       "the trainings queue, since the app trains one at a time")
    return table


def errors_table(log: RequestLog, server_problems: list[str]) -> harness.Table:
    table = harness.Table("Errors (every phase), and failures in the app's own log", ["phase", "role", "endpoint", "count", "message"])
    counted: dict[tuple[str, str, str, str], int] = {}
    for record in log.records:
        if record.error is not None:
            key = (record.phase, record.role, record.endpoint, record.error)
            counted[key] = counted.get(key, 0) + 1
    for line in server_problems:
        key = ("any", "app log", "–", line[:300])
        counted[key] = counted.get(key, 0) + 1
    for (phase, role, endpoint, message), count in sorted(counted.items()):
        table.add(phase, role, endpoint, count, message.replace("|", "\\|"))
    if not counted:
        table.notes.append("none: every request was served, and the app logged no ERROR and no traceback")
    return table


def memory_table(moments: list[tuple[str, int, str]], memory: MemorySampler, log: RequestLog, high_water: int) -> harness.Table:
    table = harness.Table(f"Server memory (RSS of the app process and its children, sampled every {MEMORY_SAMPLE_SECONDS:g} s)",
                          ["when", "RSS MiB", "load average (1/5/15)"])
    for when, rss, load in moments:
        table.add(when, rss / MIB, load)
    for phase, times in log.phases.items():
        table.add(f"peak during {phase}", memory.peak(times["start"], times["start"] + times["seconds"]) / MIB, times["load"])
    table.add("peak over the whole run (sampled)", memory.peak() / MIB, "–")
    table.add("app process high-water mark (VmHWM)", high_water / MIB, "–")
    return table


def folder_size(folder: Path) -> tuple[int, int]:
    files = [path for path in folder.rglob("*") if path.is_file()] if folder.is_dir() else []
    return len(files), sum(path.stat().st_size for path in files)


def rate_line(log: RequestLog, phase: str) -> str:
    if phase not in log.phases:
        return f"{phase}: not run"
    served = milliseconds(log.of(phase, "/predict"))
    p50, p95, longest = latency_cells(served)
    return (f"{phase}: {len(served)} predictions served in {log.phases[phase]['seconds']:.0f} s "
            f"({len(served) / log.phases[phase]['seconds']:.2f}/s), p50 {p50:.0f} ms, p95 {p95:.0f} ms, max {longest:.0f} ms")


def live_line(log: RequestLog) -> str:
    if not log.streams:
        return f"{LIVE}: not run"
    rates = [record.results_per_second for record in log.streams]
    failed = sum(len(record.errors) for record in log.streams)
    trained = sum(training.phase == LIVE and training.outcome.startswith("trained") for training in log.rounds)
    reached = "reached" if min(rates) >= LIVE_TARGET_RESULTS_PER_SECOND and not failed else "not reached"
    return (f"{LIVE}: {len(rates)} live views streaming at once, result frames per second per view min {min(rates):.1f}, "
            f"mean {np.mean(rates):.1f}, max {max(rates):.1f} (target: at least {LIVE_TARGET_RESULTS_PER_SECOND:g} each and "
            f"no failure: {reached}); {failed} stream errors; {trained} trainings finished meanwhile")


def memory_per_round_line(log: RequestLog) -> str:
    rounds = [training for training in log.rounds if training.phase == UNDER_TRAINING and training.outcome.startswith("trained")]
    if len(rounds) <= MEMORY_FROM_ROUND:
        return f"memory per training round: fewer than {MEMORY_FROM_ROUND + 1} rounds completed, not measured"
    first, last = rounds[MEMORY_FROM_ROUND - 1], rounds[-1]
    growth = (last.server_rss - first.server_rss) / MIB
    per_round = growth / (len(rounds) - MEMORY_FROM_ROUND)
    at_target = ""
    if len(rounds) > MEMORY_TO_ROUND:
        target_growth = (rounds[MEMORY_TO_ROUND - 1].server_rss - first.server_rss) / MIB
        at_target = f"; {target_growth:+.0f} MiB from round {MEMORY_FROM_ROUND} to round {MEMORY_TO_ROUND}"
    return (f"memory per training round: server RSS {first.server_rss / MIB:.0f} MiB after round {MEMORY_FROM_ROUND}, "
            f"{last.server_rss / MIB:.0f} MiB after round {len(rounds)}: {growth:+.0f} MiB ({per_round:+.1f} MiB per round"
            f"{at_target}; target: within 50 MiB from round {MEMORY_FROM_ROUND} to round {MEMORY_TO_ROUND})")


def summarise(arguments, people: People, log: RequestLog, memory: MemorySampler, server_cpu: float, high_water: int,
              temp: tuple[int, int], ready_seconds: float, server_problems: int) -> list[str]:
    errors = [record for record in log.records if record.error is not None]
    completed = [training for training in log.rounds if training.phase == UNDER_TRAINING and training.in_window
                 and training.outcome.startswith("trained")]
    window = log.phases[UNDER_TRAINING]["seconds"]
    weights = "none (untrained VGG16: the fast test configuration, not a real model)" if arguments.weights == "none" else arguments.weights
    training_photos = sum(len(people.train[name]) for name in sorted(people.train)[:PEOPLE_PER_PREDICTOR])
    return [
        f"settings: {arguments.clients} predicting visitors; {arguments.baseline_seconds:g} s predicting only, then "
        f"{arguments.seconds:g} s while 1 more visitor trains in rounds; then {arguments.live_visitors} live views for "
        f"{arguments.live_seconds:g} s while 1 trains; backbone {training_arguments(people.mode)[2]} (the app's default "
        f"for this mode; VGG16 weights {weights}, {f'{arguments.image_size} px' if arguments.image_size else 'the default size'}); "
        f"request timeout {arguments.request_timeout:g} s; app ready {ready_seconds:.0f} s after launch",
        f"photos: {people.source}; each predicting visitor trained once (setup) on {PEOPLE_PER_PREDICTOR} people "
        f"({training_photos} photos) and asks about their test photos; each training round: a new visitor, "
        f"{PEOPLE_PER_TRAINING_ROUND} people, the app's default settings",
        rate_line(log, ALONE), rate_line(log, PREDICT_ONLY), rate_line(log, UNDER_TRAINING), live_line(log),
        f"errors: {len(errors)} requests failed (target: none); {server_problems} ERROR or traceback lines in the app's log",
        f"training rounds completed in the window: {len(completed)} of "
        f"{sum(training.phase == UNDER_TRAINING for training in log.rounds)} started", memory_per_round_line(log),
        f"server memory: peak {memory.peak() / MIB:.0f} MiB sampled, VmHWM {high_water / MIB:.0f} MiB; "
        f"server CPU in the training window {server_cpu:.0f} s of {window * (os.cpu_count() or 1):.0f} core-seconds",
        f"Gradio's temporary folder after the run: {temp[0]} files, {temp[1] / MIB:.1f} MiB (uploads and shown images)",
        f"load average (1/5/15) at the end: {harness.load_average()} on {os.cpu_count()} cores: other work shares the "
        "machine, so latencies stretch with it",
        "clients are threads of this script (one gradio_client.Client each, result files not downloaded) on the same machine",
    ]


# Run --------------------------------------------------------------------------------------------

def resolve_arguments(arguments) -> None:
    """Fill in what ``--quick`` changes: fewer visitors, shorter phases, the untrained 32-pixel backbone."""
    quick = arguments.quick
    arguments.clients = arguments.clients or (2 if quick else 8)
    arguments.seconds = arguments.seconds or (15.0 if quick else 60.0)
    arguments.baseline_seconds = arguments.baseline_seconds if arguments.baseline_seconds is not None else (5.0 if quick else 30.0)
    arguments.weights = arguments.weights or ("none" if quick else "hed-bsds500")
    arguments.image_size = arguments.image_size or (32 if quick else None)  # None: the app's default
    arguments.live_visitors = min(arguments.clients, arguments.live_visitors if arguments.live_visitors is not None else (2 if quick else 4))
    arguments.live_seconds = arguments.live_seconds or (15.0 if quick else 60.0)


def parse_arguments():
    options = harness.parser(__doc__.split("\n\n")[0])
    options.add_argument("--clients", type=int, default=None, help="predicting visitors (default 8; 2 with --quick)")
    options.add_argument("--seconds", type=float, default=None,
                         help="length of the window with training (default 60; 15 with --quick)")
    options.add_argument("--baseline-seconds", type=float, default=None,
                         help="length of the predicting-only phase before it, 0 to skip (default 30; 5 with --quick)")
    options.add_argument("--weights", default=None,
                         help="FACEREC_WEIGHTS for the app (default hed-bsds500, the offline pretrained trunk; none with --quick)")
    options.add_argument("--image-size", type=int, default=None, help="FACEREC_IMAGE_SIZE (default: the app's; 32 with --quick)")
    options.add_argument("--live-visitors", type=int, default=None,
                         help="predicting visitors who then stream their live view at once, 0 to skip (default 4; 2 with --quick)")
    options.add_argument("--live-seconds", type=float, default=None,
                         help="length of the live phase, while one more visitor trains (default 60; 15 with --quick)")
    options.add_argument("--session-grace", type=float, default=10.0,
                         help="FACEREC_SESSION_GRACE: seconds a closed session's workspace stays (default 10; the app's is 120)")
    options.add_argument("--request-timeout", type=float, default=180.0,
                         help="seconds a single request may take before it counts as an error (default 180)")
    options.add_argument("--setup-timeout", type=float, default=1800.0, help="seconds a setup training may take (default 1800)")
    arguments = options.parse_args()
    resolve_arguments(arguments)
    return arguments


def set_up_predictors(url: str, people: People, groups: list[list[str]], log: RequestLog, timeout: float) -> list[Client]:
    """Every predicting visitor trained, in parallel (the app queues their trainings). A visitor
    whose setup failed (recorded as an error) still predicts, and its errors are counted."""
    clients: list[Client | None] = [None] * len(groups)

    def set_up(index: int) -> None:
        with contextlib.suppress(Exception):
            clients[index] = train_predictor(url, people, groups[index], log, timeout)

    run_in_threads([(set_up, (index,)) for index in range(len(groups))])
    return [client if client is not None else new_visitor(url) for client in clients]


def run_in_threads(calls: list[tuple]) -> None:
    """Run ``(function, arguments)`` pairs, each in its own thread, and wait for all."""
    threads = [threading.Thread(target=function, args=arguments) for function, arguments in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def run_phases(app: AppProcess, arguments, people: People, log: RequestLog, memory: MemorySampler) -> tuple[list, float]:
    """Setup, then the three timed phases; returns memory moments and the server's CPU seconds in the training window."""
    groups, trainer_people = groups_of_people(people, arguments.clients)
    moments = [("idle, after start", tree_rss(app.pid), harness.load_average())]
    clients = set_up_predictors(app.url, people, groups, log, arguments.setup_timeout)
    log.end_phase()
    if not any(record.error is None for record in log.of(SETUP, "/train")):
        raise RuntimeError(f"no predicting visitor could train during setup:\n{app.log_tail()}")
    moments.append((f"after setup ({arguments.clients} sessions with a model)", memory.current(), harness.load_average()))
    report_progress(log, SETUP)

    log.start_phase(ALONE)
    predict_until(clients[0], people, groups[0], log, float("inf"), arguments.request_timeout, limit=ALONE_REQUESTS)
    log.end_phase()
    report_progress(log, ALONE)
    if arguments.baseline_seconds > 0:
        log.start_phase(PREDICT_ONLY)
        run_in_threads([(predict_until, (client, people, names, log, arguments.baseline_seconds, arguments.request_timeout))
                        for client, names in zip(clients, groups)])
        log.end_phase()
        report_progress(log, PREDICT_ONLY)

    moments.append(("start of the training window", memory.current(), harness.load_average()))
    cpu_before = cpu_seconds(app.pid)
    log.start_phase(UNDER_TRAINING)
    run_in_threads([(predict_until, (client, people, names, log, arguments.seconds, arguments.request_timeout))
                    for client, names in zip(clients, groups)]
                   + [(train_in_rounds, (app.url, people, trainer_people, log, memory, arguments.seconds, arguments.request_timeout))])
    log.end_phase()
    server_cpu = cpu_seconds(app.pid) - cpu_before
    moments.append(("end of the training window", memory.current(), harness.load_average()))
    report_progress(log, UNDER_TRAINING)
    if arguments.live_visitors:
        run_live_phase(app, arguments, people, groups, clients, log, memory, trainer_people)
        moments.append(("end of the live phase", memory.current(), harness.load_average()))

    for client in clients:
        with contextlib.suppress(Exception):
            client.close()
    settle = arguments.session_grace + 10
    time.sleep(settle)  # the app ends each closed session's workspace once its grace period has passed
    moments.append((f"{settle:g} s after every session closed (grace {arguments.session_grace:g} s)", memory.current(),
                    harness.load_average()))
    return moments, server_cpu


def run_live_phase(app: AppProcess, arguments, people: People, groups: list[list[str]], clients: list[Client],
                   log: RequestLog, memory: MemorySampler, trainer_people: list[str]) -> None:
    """The first ``--live-visitors`` predicting visitors stream their live views at once while new visitors train."""
    visitors = range(arguments.live_visitors)
    tokens = [live_streams.live_token(clients[index]) for index in visitors]
    frames = [[live_streams.webcam_frame(path) for name in groups[index] for path in people.test[name]] for index in visitors]
    log.start_phase(LIVE)
    streams: list = []
    run_in_threads([(lambda: streams.extend(live_streams.stream_in_threads(app.url, tokens, frames, arguments.live_seconds)), ()),
                    (train_in_rounds, (app.url, people, trainer_people, log, memory, arguments.live_seconds, arguments.request_timeout))])
    log.streams = streams
    log.end_phase()
    report_progress(log, LIVE)


def report_progress(log: RequestLog, phase: str) -> None:
    print(f"{phase}: {log.phases[phase]['seconds']:.0f} s, {len(log.of(phase))} requests, "
          f"{sum(record.error is not None for record in log.of(phase))} errors; load average {log.phases[phase]['load']}", flush=True)


def main() -> int:
    started = time.perf_counter()
    arguments = parse_arguments()
    machine = harness.machine_info()
    print(f"load average at start: {harness.load_average()}", flush=True)
    settings = {"FACEREC_WEIGHTS": arguments.weights, "FACEREC_SESSION_GRACE": str(arguments.session_grace),
                **({"FACEREC_IMAGE_SIZE": str(arguments.image_size)} if arguments.image_size else {})}
    with harness.scratch_folder("load") as scratch:
        people = orl_people() or generated_people(scratch, max(PEOPLE_PER_TRAINING_ROUND + 2, 2 * arguments.clients))
        app = AppProcess(settings, scratch)
        try:
            ready_seconds = app.wait_until_ready(timeout=600)
            print(f"app ready at {app.url} after {ready_seconds:.0f} s (pid {app.pid}); setting up {arguments.clients} visitors",
                  flush=True)
            log = RequestLog()
            with MemorySampler(app.pid) as memory:
                moments, server_cpu = run_phases(app, arguments, people, log, memory)
            temp = folder_size(app.gradio_temp)
            high_water = peak_rss(app.pid)
            server_problems = app.log_problems()
        finally:
            app.stop()
    tables = [latency_table(log), timeline_table(log, memory, arguments.seconds), live_table(log), rounds_table(log),
              memory_table(moments, memory, log, high_water), setup_table(log), errors_table(log, server_problems)]
    summary = summarise(arguments, people, log, memory, server_cpu, high_water, temp, ready_seconds, len(server_problems))
    harness.write_report("load_test", "Load test: the app under concurrent visitors", tables, machine=machine,
                         arguments=arguments, started=started, summary=summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
