"""dlib's face-recognition network in worker processes, so that it never holds this process's GIL.

    pool = shared_pool()                      # None when FACEREC_DLIB_WORKERS=0
    descriptors = pool.descriptors(chips)     # (n, 150, 150, 3) uint8 chips -> (n, 128) float64

dlib's ``compute_face_descriptor`` keeps Python's global interpreter lock for its whole run,
about 85-110 ms of CPU per 150x150 chip here (measured: a Python thread spinning beside it got
5% of its usual turns). In the app that stalls everything else in the process while a face is
recognised: the web server's event loop, the thread answering the next live frame, the other
visitors. A worker process runs the network on its own interpreter; this process only waits on
a pipe, which releases the lock. With two workers on two cores, the chips of one call (a face and
its mirror, or a batch of training photos) are also split between them and run side by side.

Each worker is ``python -m facerec.dlib_workers`` (it imports dlib and numpy, not TensorFlow),
started when the pool is first used, speaking a small binary protocol over its standard input
and output (chips in as raw bytes, descriptors out as float64): nothing is pickled. A worker that
dies (killed, out of memory) is replaced and its chips are sent once more to the new one; a worker
whose parent dies sees its input close and exits (after the chips in hand, if any). Workers that
cannot start raise :class:`WorkerError`, on which the dlib backbone computes in its own process.
``FACEREC_DLIB_WORKERS`` sets how many workers there are (default: one per core, at most 2); 0
runs the network in this process, as before.
"""

from __future__ import annotations

import atexit
import concurrent.futures
import logging
import os
import queue
import struct
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

WORKERS_VARIABLE = "FACEREC_DLIB_WORKERS"
MAX_DEFAULT_WORKERS = 2
CHIP_SHAPE = (150, 150, 3)
DESCRIPTOR_SIZE = 128
READY = b"R"
_COUNT = struct.Struct("<i")  # chips in a request; descriptors in an answer, or -1 then an error message
_LENGTH = struct.Struct("<I")
_FAILED = -1
_PACKAGE_PARENT = str(Path(__file__).resolve().parents[1])


class WorkerError(RuntimeError):
    """A worker process could not start, or failed twice on the same chips."""


def worker_count() -> int:
    """How many worker processes ``FACEREC_DLIB_WORKERS`` asks for (default: one per core, at most 2).

    Raises:
        ValueError: the variable is not a whole number of at least 0.
    """
    value = os.environ.get(WORKERS_VARIABLE, "").strip()
    if not value:
        return min(MAX_DEFAULT_WORKERS, os.cpu_count() or 1)
    try:
        count = int(value)
    except ValueError:
        count = -1
    if count < 0:
        raise ValueError(f"{WORKERS_VARIABLE} must be a whole number of worker processes (0: none), got {value!r}")
    return count


WORKER_COMMAND = (sys.executable, "-m", "facerec.dlib_workers")


class _Worker:
    """One worker process and its pipes; used by one thread at a time (the pool sees to it)."""

    def __init__(self, command: tuple[str, ...]):
        environment = {**os.environ, "PYTHONPATH": os.pathsep.join(
            filter(None, [_PACKAGE_PARENT, os.environ.get("PYTHONPATH")]))}
        self.process = subprocess.Popen(list(command), stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=environment,
                                        close_fds=True)
        try:
            ready = _read_exactly(self.process.stdout, len(READY))
        except EOFError:
            ready = b""
        if ready != READY:
            self.close()
            raise WorkerError(f"a dlib worker process did not start (exit code {self.process.poll()}); see its "
                              "messages above")

    @property
    def pid(self) -> int:
        return self.process.pid

    def describe(self, chips: np.ndarray) -> np.ndarray:
        """Descriptors ``(n, 128)`` float64 of ``(n, 150, 150, 3)`` uint8 chips.

        Raises:
            OSError, EOFError: the process died (the pool replaces it).
            WorkerError: dlib refused the chips (the message is dlib's).
        """
        self.process.stdin.write(_COUNT.pack(len(chips)) + np.ascontiguousarray(chips, dtype=np.uint8).tobytes())
        self.process.stdin.flush()
        [count] = _COUNT.unpack(_read_exactly(self.process.stdout, _COUNT.size))
        if count == _FAILED:
            [length] = _LENGTH.unpack(_read_exactly(self.process.stdout, _LENGTH.size))
            raise WorkerError(_read_exactly(self.process.stdout, length).decode("utf-8", "replace"))
        data = _read_exactly(self.process.stdout, count * DESCRIPTOR_SIZE * 8)
        return np.frombuffer(data, np.float64).reshape(count, DESCRIPTOR_SIZE).copy()

    def close(self) -> None:
        for stream in (self.process.stdin, self.process.stdout):
            try:
                stream.close()
            except OSError:
                pass
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class DescriptorPool:
    """``count`` worker processes running dlib's recognition network; thread-safe.

    Workers start on first use. Each call splits its chips into one share per worker and waits
    for all of them; calls from several threads share the workers (each waits for a free one).
    ``command`` starts a worker (default :data:`WORKER_COMMAND`).
    """

    def __init__(self, count: int, *, command: tuple[str, ...] = WORKER_COMMAND):
        if count < 1:
            raise ValueError(f"a pool needs at least 1 worker, got {count}")
        self.count, self.command = count, tuple(command)
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._workers: list[_Worker] = []
        self._lock = threading.Lock()
        self._started = False
        self._closed = False
        self._dispatch = concurrent.futures.ThreadPoolExecutor(max_workers=count, thread_name_prefix="facerec-dlib")

    def pids(self) -> list[int]:
        """The worker processes' ids (empty before the first call)."""
        with self._lock:
            return [worker.pid for worker in self._workers]

    def descriptors(self, chips: np.ndarray) -> np.ndarray:
        """Descriptors ``(n, 128)`` float64 of chips ``(n, 150, 150, 3)`` uint8, in order.

        Raises:
            WorkerError: a worker could not be started, or failed twice on the same chips.
        """
        chips = np.asarray(chips, dtype=np.uint8)
        if chips.ndim != 4 or chips.shape[1:] != CHIP_SHAPE:
            raise ValueError(f"chips must be (n, {', '.join(map(str, CHIP_SHAPE))}) uint8, got {chips.shape}")
        if len(chips) == 0:
            return np.zeros((0, DESCRIPTOR_SIZE), np.float64)
        self._start()
        shares = [share for share in np.array_split(chips, min(self.count, len(chips))) if len(share)]
        if len(shares) == 1:
            return self._on_a_worker(shares[0])
        futures = [self._dispatch.submit(self._on_a_worker, share) for share in shares[1:]]
        first = self._on_a_worker(shares[0])  # this thread does a share too
        return np.concatenate([first, *(future.result() for future in futures)])

    def close(self) -> None:
        """Stop every worker (they also stop by themselves when this process ends)."""
        with self._lock:
            self._closed = True
            workers, self._workers = self._workers, []
        for worker in workers:
            worker.close()
        self._dispatch.shutdown(wait=False)

    def _start(self) -> None:
        with self._lock:
            if self._closed:
                raise WorkerError("the dlib worker pool is closed")
            if self._started:
                return
            with concurrent.futures.ThreadPoolExecutor(self.count) as starting:  # about a second each, side by side
                started = list(starting.map(lambda _: _Worker(self.command), range(self.count)))
            self._workers.extend(started)
            for worker in started:
                self._idle.put(worker)
            self._started = True

    def _on_a_worker(self, chips: np.ndarray) -> np.ndarray:
        worker = self._idle.get()
        try:
            try:
                return worker.describe(chips)
            except (OSError, EOFError, ValueError) as error:  # ValueError: a closed pipe
                logger.warning("dlib worker %s stopped (%s: %s); starting a new one", worker.pid, type(error).__name__, error)
            worker = self._replace(worker)  # on failure the dead one goes back, and the next call tries again
            try:
                return worker.describe(chips)
            except (OSError, EOFError, ValueError) as error:
                raise WorkerError(f"a new dlib worker failed on the same chips too ({type(error).__name__}: {error})") from error
        finally:
            self._idle.put(worker)

    def _replace(self, dead: _Worker) -> _Worker:
        dead.close()
        fresh = _Worker(self.command)
        with self._lock:
            self._workers = [fresh if worker is dead else worker for worker in self._workers]
        return fresh


_shared: DescriptorPool | None = None
_shared_lock = threading.Lock()


def shared_pool() -> DescriptorPool | None:
    """The process's pool, of ``worker_count()`` workers (made on first use); None while that is 0
    (run dlib in this process)."""
    global _shared
    count = worker_count()
    if count == 0:
        return None
    with _shared_lock:
        if _shared is None:
            _shared = DescriptorPool(count)
            atexit.register(_shared.close)
        return _shared


def _read_exactly(stream, size: int) -> bytes:
    chunks, remaining = [], size
    while remaining:
        chunk = stream.read(remaining)
        if not chunk:
            raise EOFError(f"the other end closed the pipe with {remaining} of {size} bytes unread")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _serve(requests, answers) -> None:
    """A worker's loop: chips in, descriptors out, until its input closes."""
    from facerec.dlib_models import load_models

    recognizer = load_models().recognizer
    answers.write(READY)
    answers.flush()
    chip_bytes = int(np.prod(CHIP_SHAPE))
    while True:
        try:
            [count] = _COUNT.unpack(_read_exactly(requests, _COUNT.size))
            chips = np.frombuffer(_read_exactly(requests, count * chip_bytes), np.uint8).reshape(count, *CHIP_SHAPE)
        except EOFError:
            return  # the parent closed the pool, or died
        try:
            descriptors = recognizer.compute_face_descriptor([np.ascontiguousarray(chip) for chip in chips])
            answer = _COUNT.pack(count) + np.asarray([np.asarray(item) for item in descriptors], np.float64).tobytes()
        except Exception as error:  # noqa: BLE001 (handed to the parent, as dlib said it)
            message = f"{type(error).__name__}: {error}".encode()
            answer = _COUNT.pack(_FAILED) + _LENGTH.pack(len(message)) + message
        try:
            answers.write(answer)
            answers.flush()
        except OSError:  # BrokenPipeError: the parent went away while the chips were computed
            return


if __name__ == "__main__":
    # Answers go to a copy of standard output; anything printed (by dlib or Python) goes to standard error.
    _answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    _serve(sys.stdin.buffer, _answers)
