"""A new user's first training: how long it takes, cold and warm, and the longest silence in it.

The app's example dataset (28 photos of 4 people) and a 54-photo dataset (4 people of
``five_celebrity_faces/train``), each trained with the app's defaults for face mode (the dlib
backbone) and with VGG16 in face mode (the offline pretrained trunk at its face-mode size):

* **cold**: a fresh interpreter on a fresh machine: an empty facerec cache (no feature cache, no
  network converted for the fast CPU path), nothing built yet, as the first visitor of a new
  Space;
* **warm**: a second training in the same process on the same photos by a new visitor (an
  empty feature cache of its own): the backbone is built, the detectors are loaded.

Each run records every progress update (``on_update``) and reports the longest silence between
two, the step it fell in, and whether the backbone was converted for the fast path (it must not
be, in jobs this small: see ``facerec.training.FAST_PATH_MIN_PASSES``). The app repeats a silent
step's update every second on top of that (``facerec.app.jobs``).

    python -m bench.first_training
    python -m bench.first_training --quick
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from bench import harness

harness.quiet_tensorflow()

EXAMPLE = harness.REPOSITORY / "examples" / "faces"
CELEBRITIES, CELEBRITY_PHOTOS = "five_celebrity_faces", 54
BACKBONES = {"dlib": {"backbone": "dlib"}, "vgg16": {"backbone": "vgg16", "weights": "hed-bsds500"}}
SILENCE_TARGET_SECONDS = 2.0


def datasets(scratch: Path, quick: bool) -> dict[str, Path]:
    """The example dataset and the 54-photo one (fewer photos in quick mode)."""
    files = harness.subset(harness.image_files(harness.dataset(CELEBRITIES) / "train"), labels=4,
                           per_label=3 if quick else 14)
    ordered = [(label, path) for label, paths in files.items() for path in paths]
    kept: dict[str, list[Path]] = {}
    for label, path in ordered[: 12 if quick else CELEBRITY_PHOTOS]:
        kept.setdefault(label, []).append(path)
    return {"example dataset (28 photos, 4 people)": EXAMPLE,
            f"{sum(map(len, kept.values()))} photos of 4 people ({CELEBRITIES})": harness.copy_images(kept, scratch / "celebrities")}


def measure(folder: str, backbone: str, quick: bool) -> dict:
    """In this (fresh) interpreter: a cold training, then a warm one; their times and silences."""
    from facerec.backbones import fast_inference
    from facerec.training import train  # imported before timing: an app has done it at its start

    conversions = []
    export = fast_inference.export
    fast_inference.export = lambda model: conversions.append(1) or export(model)
    settings = {**BACKBONES[backbone], **({"image_size": 64, "epochs": 5} if quick and backbone == "vgg16" else {})}
    runs = {}
    for run in ("cold", "warm"):
        updates: list[tuple[float, str, str]] = []
        with tempfile.TemporaryDirectory(prefix=f"facerec-first-{run}-") as cache, harness.Stopwatch() as watch:
            started = time.perf_counter()
            classifier = train(folder, cache_dir=cache, on_update=lambda update: updates.append(
                (time.perf_counter() - started, update.stage, update.message)), **settings)
            finished = time.perf_counter() - started
        times = [0.0] + [at for at, _, _ in updates] + [finished]
        gaps = [(later - earlier, (["start"] + [stage for _, stage, _ in updates])[index])
                for index, (earlier, later) in enumerate(zip(times, times[1:]))]
        silence, step = max(gaps)
        runs[run] = {"seconds": watch.seconds, "cpu_seconds": watch.cpu_seconds, "load": watch.load, "silence": silence,
                     "silence_step": step, "updates": len(updates), "conversions": len(conversions),
                     "passes": classifier.report["forward_passes"], "accuracy": classifier.metrics.get("accuracy")}
        conversions.clear()
    return runs


def main() -> int:
    options = harness.parser(__doc__.split("\n\n")[0])
    options.add_argument("--measure", nargs=2, metavar=("FOLDER", "BACKBONE"), help=argparse.SUPPRESS)
    arguments = options.parse_args()
    if arguments.measure:
        print(json.dumps(measure(*arguments.measure, arguments.quick)))
        return 0
    started = time.perf_counter()
    machine = harness.machine_info()
    table = harness.Table("A first training with the app's defaults, cold and warm", [
        "dataset", "backbone", "run", "seconds", "CPU s", "longest silence s", "in the step", "progress updates",
        "conversions for the fast path", "backbone passes", "validation accuracy", "load (1 min)"])
    summary = []
    with harness.scratch_folder("first-training") as scratch:
        for name, folder in datasets(scratch, arguments.quick).items():
            for backbone in BACKBONES:
                print(f"{name}, {backbone}", flush=True)
                with tempfile.TemporaryDirectory(prefix="facerec-machine-cache-") as machine_cache:
                    runs = harness.run_json("bench.first_training", ["--measure", str(folder), backbone]
                                            + (["--quick"] if arguments.quick else []),
                                            environment={"FACEREC_CACHE": machine_cache})
                for run, result in runs.items():
                    table.add(name, backbone, run, result["seconds"], result["cpu_seconds"], result["silence"],
                              result["silence_step"], result["updates"], result["conversions"], result["passes"],
                              result["accuracy"], result["load"])
                    reached = "reached" if result["silence"] <= SILENCE_TARGET_SECONDS else "not reached"
                    summary.append(f"{name}, {backbone}, {run}: {result['seconds']:.1f} s, longest silence "
                                   f"{result['silence']:.1f} s ({result['silence_step']}; the library's own updates, "
                                   f"before the app's one-second repeats: {reached} without them), "
                                   f"{result['conversions']} conversions")
    table.notes += [
        "cold: a fresh interpreter and an empty facerec cache (FACEREC_CACHE): the first training on a new machine; warm: a "
        "second training in the same process on the same photos with a new, empty feature cache (a new visitor of a running app).",
        "longest silence: the longest time between two progress updates of facerec.train (from the call to the first update, "
        "between updates, and from the last to the return), and the step it fell in ('start' before the first update). The "
        "app adds a repeat of the current step every second (facerec.app.jobs.HEARTBEAT_SECONDS), so what a visitor sees is "
        "never silent for longer than about a second.",
        "conversions: exports of the backbone for the LiteRT fast path during the training (0 expected: these jobs are far "
        "below facerec.training.FAST_PATH_MIN_PASSES).",
    ]
    harness.write_report("first_training", "A new user's first training: cold and warm", [table], machine=machine,
                         arguments=arguments, started=started, summary=summary)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
