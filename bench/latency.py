"""Benchmark 3: prediction latency of ``Classifier.recognize()`` and frames per second of the live path.

A model is trained with facerec's defaults on ``five_celebrity_faces/train`` and saved. Then, each
configuration in a fresh interpreter (the frozen forward pass is chosen once per process):

* ``recognize()`` on single real photos (the ``test/`` photos and ``examples/photos``), warm:
  p50 and p95, split into face detection and the rest;
* the live path: what the app's webcam stream does per frame, ``recognize()`` on a 640x480
  frame (real photos placed in a 640x480 webcam-like frame), as frames per second.

Detection (MTCNN) is measured on its own too, with the settings that make it cheaper (the size of
the copy it runs on, ``min_face_size``, ``scale_factor``) and their recall: the share of photos in
which each setting still finds the face the reference setting (full resolution, MTCNN defaults)
finds (box IoU >= 0.5).

    python -m bench.latency            # the reported numbers
    python -m bench.latency --quick
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from bench import harness

harness.quiet_tensorflow()

import cv2  # noqa: E402
import numpy as np  # noqa: E402

TARGET_P50_MS = 400.0
FRAME_WIDTH, FRAME_HEIGHT = 640, 480
# name -> (description, environment)
CONFIGURATIONS = {
    "keras": ("frozen pass in Keras (FACEREC_FAST_INFERENCE=0)", {"FACEREC_FAST_INFERENCE": "0"}),
    "fast": ("frozen pass in LiteRT/XNNPACK (facerec.fast_inference, default when installed)", {"FACEREC_FAST_INFERENCE": "1"}),
}
# Detection settings tried: (largest side of the copy MTCNN runs on, or None for full size; MTCNN keyword arguments)
DETECTION_SETTINGS = (
    (None, {}),
    (800, {}),
    (640, {}),
    (480, {}),
    (320, {}),
    (None, {"scale_factor": 0.6}),
    (480, {"scale_factor": 0.6}),
    (None, {"min_face_size": 40}),
    (480, {"min_face_size": 40}),
)


def photos(quick: bool) -> list[Path]:
    """Real photos: the celebrity test photos and the example photos (one is a group of three)."""
    found = [path for paths in harness.image_files(harness.dataset("five_celebrity_faces") / "test").values() for path in paths]
    examples = harness.REPOSITORY / "examples" / "photos"
    found += sorted(examples.glob("*.jpg")) if examples.is_dir() else []
    return found[:4] if quick else found


def webcam_frame(image: np.ndarray) -> np.ndarray:
    """A 640x480 frame holding the photo at full height, centred, the sides filled from its edges
    (a person in front of a webcam, face about 150-300 pixels tall)."""
    height, width = image.shape[:2]
    scale = FRAME_HEIGHT / height
    resized = cv2.resize(image, (max(1, round(width * scale)), FRAME_HEIGHT), interpolation=cv2.INTER_LINEAR)
    resized = resized[:, :FRAME_WIDTH]
    left = (FRAME_WIDTH - resized.shape[1]) // 2
    return cv2.copyMakeBorder(resized, 0, 0, left, FRAME_WIDTH - resized.shape[1] - left, cv2.BORDER_REPLICATE)


def measure(model_folder: str, repeats: int, quick: bool) -> dict:
    """Recognize latencies and live frames per second with the current environment's settings."""
    import facerec
    from facerec.backbones import fast_inference
    from facerec.images import load_image

    classifier = facerec.Classifier.load(model_folder)
    paths = photos(quick)
    images = [load_image(path) for path in paths]
    frames = [webcam_frame(image) for image in images]
    for path in paths[:2]:  # warm-up: graph tracing and the detector
        classifier.recognize(path)
    # A running app has long passed the fast path's warm-up (facerec.fast_inference.WARM_UP_IMAGES).
    face = classifier.pipeline.locate(images[0])[0]
    crop = classifier.pipeline.prepare(images[0], face)
    classifier.pipeline.frozen_outputs(np.repeat(crop[None], fast_inference.WARM_UP_IMAGES + 1, axis=0))
    classifier.recognize(paths[0])
    recognize, detect, recognize_cpu, detect_cpu = [], [], [], []
    for _ in range(repeats):
        for path, image in zip(paths, images):
            started, cpu_started = time.perf_counter(), time.process_time()
            classifier.recognize(path)
            recognize.append(time.perf_counter() - started)
            recognize_cpu.append(time.process_time() - cpu_started)
            started, cpu_started = time.perf_counter(), time.process_time()
            classifier.pipeline.locate(image)
            detect.append(time.perf_counter() - started)
            detect_cpu.append(time.process_time() - cpu_started)
    started, cpu_started = time.perf_counter(), time.process_time()
    frame_count = 0
    for _ in range(repeats):
        for frame in frames:
            classifier.recognize(frame)
            frame_count += 1
    live_seconds, live_cpu = time.perf_counter() - started, time.process_time() - cpu_started
    forward = getattr(classifier.pipeline, "_forward", None)
    return {"recognize": recognize, "detect": detect, "recognize_cpu": recognize_cpu, "detect_cpu": detect_cpu,
            "frames": frame_count, "live_seconds": live_seconds, "live_cpu": live_cpu,
            "load": os.getloadavg()[0], "images": len(paths), "backend": getattr(forward, "backend", "its own")}


def iou(first: tuple, second: tuple) -> float:
    ax, ay, aw, ah = first
    bx, by, bw, bh = second
    width = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    height = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    overlap = width * height
    return overlap / (aw * ah + bw * bh - overlap) if overlap else 0.0


def detect_boxes(detector, image: np.ndarray, max_side: int | None, settings: dict, min_confidence: float) -> list[tuple]:
    """Face boxes in ``image`` coordinates, as facerec's detector finds them, with the given settings."""
    scale = 1.0 if max_side is None else min(1.0, max_side / max(image.shape[:2]))
    small = image if scale == 1.0 else cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    try:
        found = detector.detect_faces(small, **settings)
    except ValueError:  # the pyramid shrank below MTCNN's smallest kernel (see facerec/faces.py)
        found = []
    boxes = [tuple(value / scale for value in item["box"]) for item in found if item["confidence"] >= min_confidence]
    return sorted(boxes, key=lambda box: box[2] * box[3], reverse=True)


def detection_table(quick: bool, repeats: int) -> harness.Table:
    from mtcnn import MTCNN

    from facerec.devices import default_device
    from facerec.detection.mtcnn import DEFAULT_MIN_CONFIDENCE, DETECTION_MAX_SIDE
    from facerec.images import load_image

    detector = MTCNN(device=default_device())
    images = [load_image(path) for path in photos(quick)]
    sets = {"photos": images, "640x480 frames": [webcam_frame(image) for image in images]}
    table = harness.Table("Face detection (MTCNN) alone: time and recall by setting", [
        "images", "detection copy (largest side)", "MTCNN settings", "p50 ms", "p95 ms", "CPU ms p50", "faces found", "recall of reference face",
        "load (1 min)"])
    for set_name, set_images in sets.items():
        reference = [detect_boxes(detector, image, None, {}, DEFAULT_MIN_CONFIDENCE) for image in set_images]
        for max_side, settings in DETECTION_SETTINGS:
            times, cpu_times, found, kept = [], [], 0, 0
            for index, image in enumerate(set_images):
                for _ in range(repeats):
                    started, cpu_started = time.perf_counter(), time.process_time()
                    boxes = detect_boxes(detector, image, max_side, settings, DEFAULT_MIN_CONFIDENCE)
                    times.append(time.perf_counter() - started)
                    cpu_times.append(time.process_time() - cpu_started)
                found += bool(boxes)
                kept += bool(reference[index]) and any(iou(reference[index][0], box) >= 0.5 for box in boxes)
            described = "full size" if max_side is None else str(max_side)
            if max_side == DETECTION_MAX_SIDE:
                described += " (facerec default)"
            table.add(f"{set_name} ({len(set_images)})", described, ", ".join(f"{key}={value}" for key, value in settings.items()) or "defaults",
                      1000 * harness.percentile(times, 50), 1000 * harness.percentile(times, 95), 1000 * harness.percentile(cpu_times, 50),
                      f"{found}/{len(set_images)}",
                      f"{kept}/{sum(bool(boxes) for boxes in reference)}", harness.load_average().split("/")[0])
    table.notes.append("Reference: MTCNN defaults (min_face_size=20, scale_factor=0.709) on the full-size image; a face is "
                       f"kept when a box overlaps the reference's largest face with IoU >= 0.5; confidence >= {DEFAULT_MIN_CONFIDENCE}.")
    return table


def main() -> int:
    options = harness.parser(__doc__.split("\n\n")[0])
    options.add_argument("--repeats", type=int, default=3, help="passes over the photos per configuration")
    options.add_argument("--cache-dir", help="feature cache for training the model (default: a temporary one)")
    options.add_argument("--measure", help=__import__("argparse").SUPPRESS)
    options.add_argument("--configurations", nargs="*", default=list(CONFIGURATIONS), choices=list(CONFIGURATIONS))
    arguments = options.parse_args()
    if arguments.quick:
        arguments.repeats = 1
    if arguments.measure:
        print(json.dumps(measure(arguments.measure, arguments.repeats, arguments.quick)))
        return 0

    import facerec
    from facerec import backbones

    started = time.perf_counter()
    machine = harness.machine_info()
    latency = harness.Table("Classifier.recognize() on single photos, and the live path (640x480 frames)", [
        "backbone", "configuration", "frozen pass ran in", "recognize p50 ms", "recognize p95 ms", "of which detection p50 ms", "live frames/s",
        "recognize CPU ms p50", "recognize CPU ms p95", "detection CPU ms p50", "live CPU ms per frame", "photos x passes", "load (1 min)"])
    summary = []
    root = harness.dataset("five_celebrity_faces")
    with harness.scratch_folder("latency") as scratch:
        training = root / "train"
        if arguments.quick:
            training = harness.copy_images(harness.subset(harness.image_files(root / "train"), labels=2, per_label=4), scratch / "train")
        extra = [name for name, backbone in backbones.BACKBONES.items() if backbone.faces_only]
        for backbone in ["vgg16", *extra]:
            settings = {"epochs": 2, "image_size": 64} if arguments.quick and backbone == "vgg16" else {}
            print(f"training a {backbone} model on {training}", flush=True)
            classifier = facerec.train(training, cache_dir=arguments.cache_dir or scratch / "cache", backbone=backbone, **settings)
            model_folder = classifier.save(scratch / f"model-{backbone}")
            for configuration in arguments.configurations:
                description, environment = CONFIGURATIONS[configuration]
                print(f"measuring {backbone} / {configuration}", flush=True)
                forwarded = ["--measure", str(model_folder), "--repeats", str(arguments.repeats)] + (["--quick"] if arguments.quick else [])
                result = harness.run_json("bench.latency", forwarded, environment=environment)
                p50 = 1000 * harness.percentile(result["recognize"], 50)
                latency.add(backbone, description, result["backend"], p50, 1000 * harness.percentile(result["recognize"], 95),
                            1000 * harness.percentile(result["detect"], 50), result["frames"] / result["live_seconds"],
                            1000 * harness.percentile(result["recognize_cpu"], 50), 1000 * harness.percentile(result["recognize_cpu"], 95),
                            1000 * harness.percentile(result["detect_cpu"], 50), 1000 * result["live_cpu"] / result["frames"],
                            f"{result['images']} x {arguments.repeats}", f"{result['load']:.2f}")
                if backbone == "vgg16":
                    cpu_p50 = 1000 * harness.percentile(result["recognize_cpu"], 50)
                    summary.append(f"{description}: recognize p50 {p50:.0f} ms wall, {cpu_p50:.0f} ms CPU (target under "
                                   f"{TARGET_P50_MS:.0f} ms: {'reached' if p50 < TARGET_P50_MS else 'not reached'} in wall time at "
                                   f"load {result['load']:.1f}), live {result['frames'] / result['live_seconds']:.2f} frames/s")
    latency.notes += [
        "recognize(): from the file path to the labelled boxes: decode, MTCNN detection, crop and align, the frozen pass "
        "over each face and its mirror (flip test-time augmentation, the default), the head. Warm: the first two calls "
        "(graph tracing, building the fast path) are not counted.",
        "Live path: recognize() on 640x480 RGB frames already in memory, one after another, as the webcam stream does.",
        "CPU ms: this process's CPU time per call, all threads. Under load the wall clock stretches (see the load column); "
        "on a quiet 2-core machine a call takes between CPU/2 (both cores busy throughout) and CPU (one core).",
    ]
    harness.write_report("latency", "Prediction latency and live frames per second", [latency, detection_table(arguments.quick, arguments.repeats)],
                         machine=machine, arguments=arguments, started=started, summary=summary)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
