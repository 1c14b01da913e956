"""What every benchmark script shares: the machine, timing, data folders, and result tables.

Each script builds :class:`Table` objects and hands them to :func:`write_report`, which prints
them and writes ``bench/results/<name>.md`` headed by the machine they were measured on (CPU,
cores, TensorFlow, device, load average, date). The machine is shared with other work, so every
table also carries the one-minute load average at the time each row was measured.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime
import json
import os
import platform
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from facerec import atomic

REPOSITORY = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results"
# ../shared/datasets beside the checkout, as the tests find them; FACEREC_DATASETS overrides.
DATASETS = Path(os.environ.get("FACEREC_DATASETS", REPOSITORY.parent / "shared" / "datasets"))
SEED = 1337


# Machine ---------------------------------------------------------------------------------------

def load_average() -> str:
    """The 1, 5 and 15 minute load averages, e.g. ``"1.02/0.87/0.80"`` (2 cores: 2.0 is full)."""
    return "/".join(f"{value:.2f}" for value in os.getloadavg())


def cpu_model() -> str:
    from facerec.devices import cpu_model  # imported late: it imports TensorFlow (see quiet_tensorflow)

    return cpu_model()


def machine_info() -> dict[str, str]:
    """The machine a result was measured on, in words (imports TensorFlow)."""
    import keras
    import tensorflow as tf

    from facerec.devices import describe_device

    return {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpu": cpu_model(),
        "cores": str(os.cpu_count()),
        "device": describe_device(),
        "gpu": ", ".join(device.name for device in tf.config.list_physical_devices("GPU")) or "none",
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "python": platform.python_version(),
        "TF_ENABLE_ONEDNN_OPTS": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "(unset: TensorFlow's default, on for x86)"),
        "load average at start (1/5/15 min)": load_average(),
    }


# Timing ----------------------------------------------------------------------------------------

class Stopwatch:
    """``with Stopwatch() as watch: ...`` then ``watch.seconds`` (wall clock), ``watch.cpu_seconds``
    (this process's CPU time, all threads) and ``watch.load`` (1-minute load average at the end).

    On a machine shared with other work the wall clock stretches with the load while the CPU time
    stays close to the work done, so tables report both.
    """

    def __enter__(self) -> "Stopwatch":
        self.started = time.perf_counter()
        self.cpu_started = _cpu_time()
        self.seconds = self.cpu_seconds = float("nan")
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self.started
        self.cpu_seconds = _cpu_time() - self.cpu_started
        self.load = os.getloadavg()[0]


def _cpu_time() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def percentile(samples: Sequence[float], share: float) -> float:
    return float(np.percentile(np.asarray(samples, dtype=float), share))


def best_of(function, repeats: int, *, warmup: int = 1) -> float:
    """The shortest of ``repeats`` timed calls of ``function()`` after ``warmup`` untimed ones."""
    for _ in range(warmup):
        function()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return min(times)


# Data ------------------------------------------------------------------------------------------

def dataset(name: str) -> Path:
    """A shared dataset folder (``train/`` and ``test/``); exits with a message when absent."""
    root = DATASETS / name
    if not (root / "train").is_dir():
        sys.exit(f"dataset {name!r} not found at {root} (set FACEREC_DATASETS to the shared datasets folder)")
    return root


def image_files(folder: Path) -> dict[str, list[Path]]:
    """``{label: [image paths]}`` of a ``<label>/<image>`` folder, both sorted."""
    return {label.name: sorted(path for path in label.iterdir() if path.is_file())
            for label in sorted(folder.iterdir()) if label.is_dir()}


def copy_images(files: dict[str, list[Path]], destination: Path) -> Path:
    """Copy ``{label: [paths]}`` into ``destination/<label>/`` (a folder both Keras and facerec read)."""
    for label, paths in files.items():
        (destination / label).mkdir(parents=True, exist_ok=True)
        for path in paths:
            shutil.copy2(path, destination / label / path.name)
    return destination


def subset(files: dict[str, list[Path]], *, labels: int | None = None, per_label: int | None = None,
           seed: int = SEED) -> dict[str, list[Path]]:
    """The first ``labels`` labels, each with ``per_label`` images drawn at random (``None``: all)."""
    chosen = dict(list(files.items())[:labels])
    generator = random.Random(seed)
    return {label: sorted(generator.sample(paths, min(per_label, len(paths)))) if per_label else paths
            for label, paths in chosen.items()}


@contextlib.contextmanager
def scratch_folder(prefix: str) -> Iterator[Path]:
    """A temporary folder, removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix=f"facerec-bench-{prefix}-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# Tables ----------------------------------------------------------------------------------------

@dataclasses.dataclass
class Table:
    """A markdown table: a title, column names, rows of values, and notes under it."""

    title: str
    columns: list[str]
    rows: list[list] = dataclasses.field(default_factory=list)
    notes: list[str] = dataclasses.field(default_factory=list)

    def add(self, *values) -> None:
        if len(values) != len(self.columns):
            raise ValueError(f"{self.title}: {len(values)} values for {len(self.columns)} columns")
        self.rows.append(list(values))
        print("  " + " | ".join(_cell(value) for value in values), flush=True)

    def markdown(self) -> str:
        lines = [f"### {self.title}", "", "| " + " | ".join(self.columns) + " |",
                 "|" + "|".join("---" for _ in self.columns) + "|"]
        lines += ["| " + " | ".join(_cell(value) for value in row) + " |" for row in self.rows]
        if self.notes:
            lines.append("")
            lines += [f"- {note}" for note in self.notes]
        return "\n".join(lines) + "\n"


def _cell(value) -> str:
    if isinstance(value, float):
        if value != value:
            return "–"
        return f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"
    return str(value)


def write_report(name: str, title: str, tables: Sequence[Table], *, machine: dict[str, str], arguments: argparse.Namespace,
                 started: float, summary: Sequence[str] = ()) -> Path:
    """Print the tables and write them to ``bench/results/<name>.md`` (``-quick`` appended in quick mode)."""
    output = Path(arguments.output_dir) / (f"{name}-quick.md" if arguments.quick else f"{name}.md")
    output.parent.mkdir(parents=True, exist_ok=True)
    command = f"python -m {running_module(name)}" + (" " + " ".join(sys.argv[1:]) if sys.argv[1:] else "")
    lines = [f"# {title}", "", f"Command: `{command}`" + (" (quick mode: reduced sizes, not the reported numbers)" if arguments.quick else ""), ""]
    lines += ["| machine | |", "|---|---|"] + [f"| {key} | {value} |" for key, value in machine.items()]
    lines += [f"| load average at end | {load_average()} |", f"| wall time of this script | {time.perf_counter() - started:.0f} s |", ""]
    if summary:
        lines += ["## Summary", ""] + [f"- {line}" for line in summary] + [""]
    lines += [table.markdown() for table in tables]
    text = "\n".join(lines)
    atomic.write_text(output, text)
    print("\n" + text + f"\nwritten to {output}", flush=True)
    return output


def running_module(report_name: str) -> str:
    """The module this process runs (``bench.training`` writes ``accuracy.md`` too), as ``python -m`` names it."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    return spec.name if spec is not None else f"bench.{report_name}"


def parser(description: str) -> argparse.ArgumentParser:
    """The options every script has: ``--quick`` and ``--output-dir``."""
    result = argparse.ArgumentParser(description=description)
    result.add_argument("--quick", action="store_true", help="tiny sizes: checks the script runs end to end in a minute or two")
    result.add_argument("--output-dir", default=str(RESULTS), help="where the markdown table goes (default: bench/results)")
    return result


# Subprocesses ----------------------------------------------------------------------------------

def run_json(module: str, arguments: Sequence[str], *, environment: dict[str, str] | None = None, timeout: float = 3600) -> dict:
    """Run ``python -m <module> <arguments>`` in a fresh interpreter (for settings read at
    TensorFlow import, such as ``TF_ENABLE_ONEDNN_OPTS``) and parse the JSON of its last line."""
    completed = subprocess.run([sys.executable, "-m", module, *arguments], cwd=REPOSITORY, capture_output=True, text=True,
                               env={**os.environ, **(environment or {})}, timeout=timeout)
    if completed.returncode != 0:
        raise RuntimeError(f"{module} {' '.join(arguments)} failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def quiet_tensorflow() -> None:
    """Less TensorFlow start-up noise on standard error (set before TensorFlow is imported)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
