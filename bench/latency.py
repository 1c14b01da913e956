"""Benchmark 3 and issue 11: the library's latency, against face_recognition's pipeline in the same run.

Models of the five people of ``five_celebrity_faces/train`` are trained with facerec's defaults
(dlib and VGG16, the default detector: BlazeFace, MTCNN where it finds none) and saved. Then each
configuration is measured in a fresh interpreter (settings such as ``FACEREC_DLIB_WORKERS`` are
read once per process), warm:

* ``Classifier.recognize()`` on single real photos (the 25 ``test/`` photos and ``examples/photos``)
  and on 640x480 frames holding them (a webcam's frame, full recognition, no tracking): p50/p95,
  wall and CPU (the process and its children: the dlib workers);
* ``LiveRecognizer.process()`` on the live view's frames (480 pixels wide, as the page sends them;
  the fake camera of ``bench.live`` with 1 and 3 faces), called back to back for a while with the
  recognition in its background worker: per-frame wall p50/p95 and CPU per frame;
* the baseline, **face_recognition's pipeline** called on dlib directly (what
  ``face_recognition.face_locations`` / ``face_encodings`` / ``compare_faces`` do with their
  defaults): HOG detector with one upsampling, the 5-point shape predictor, one
  ``compute_face_descriptor`` per face (the same model files), distances to each person's mean
  descriptor; on the same photos and frames;
* per training photo, feature extraction in face mode: facerec's (``compute_features`` on a cold
  cache, the views training computes) against the baseline's encoding of each photo.

VGG16 and dlib are measured with test-time flipping on (the default: each face and its mirror)
and off; dlib also with ``FACEREC_DLIB_WORKERS=0`` (its network in this process, as before
:mod:`facerec.dlib_workers`).

    python -m bench.latency            # the reported numbers
    python -m bench.latency --quick
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from bench import harness

harness.quiet_tensorflow()

import cv2  # noqa: E402
import numpy as np  # noqa: E402

FRAME_WIDTH, FRAME_HEIGHT = 640, 480
LIVE_WIDTH = 480  # what the page sends (facerec.app.live.FRAME_WIDTH)
LIVE_SECONDS = 12.0
TARGETS = {"dlib": "<= the baseline's p50", "vgg16": "<= 350 ms"}
# The models the configurations use: facerec.train's settings (the rest are its defaults).
MODELS = {"dlib": {"backbone": "dlib"}, "vgg16": {"backbone": "vgg16"}, "vgg16-224": {"backbone": "vgg16", "image_size": 224}}
# name -> (model, or "baseline", test-time flip, environment)
CONFIGURATIONS = {
    "baseline": ("baseline", False, {}),
    "dlib": ("dlib", True, {}),
    "dlib-no-flip": ("dlib", False, {}),
    "dlib-in-process": ("dlib", True, {"FACEREC_DLIB_WORKERS": "0"}),
    "vgg16": ("vgg16", True, {}),
    "vgg16-no-flip": ("vgg16", False, {}),
    "vgg16-224": ("vgg16-224", True, {}),
}


def backbone_of(configuration: str) -> str:
    model = CONFIGURATIONS[configuration][0]
    return MODELS[model]["backbone"] if model in MODELS else model


def process_cpu() -> float:
    """CPU seconds of this process and its children (the dlib workers) so far."""
    from bench.load_test import cpu_seconds

    return cpu_seconds(os.getpid())


def photos(quick: bool) -> list[Path]:
    """Real photos: the celebrity test photos and the example photos (one is a group of three)."""
    found = [path for paths in harness.image_files(harness.dataset("five_celebrity_faces") / "test").values() for path in paths]
    found += sorted((harness.REPOSITORY / "examples" / "photos").glob("*.jpg"))
    return found[:4] if quick else found


def webcam_frame(image: np.ndarray) -> np.ndarray:
    """A 640x480 frame holding the photo at full height, centred, the sides filled from its edges."""
    height, width = image.shape[:2]
    scale = FRAME_HEIGHT / height
    resized = cv2.resize(image, (max(1, round(width * scale)), FRAME_HEIGHT), interpolation=cv2.INTER_LINEAR)[:, :FRAME_WIDTH]
    left = (FRAME_WIDTH - resized.shape[1]) // 2
    return cv2.copyMakeBorder(resized, 0, 0, left, FRAME_WIDTH - resized.shape[1] - left, cv2.BORDER_REPLICATE)


class FaceRecognitionBaseline:
    """face_recognition 1.3's pipeline with its defaults, on dlib directly: ``load_image_file``
    (PIL, RGB), ``face_locations`` (HOG, ``number_of_times_to_upsample=1``), ``face_encodings``
    (5-point landmarks, ``num_jitters=1``), and the distances of ``face_distance`` to each known
    person (here each person's mean encoding, as facerec's prototypes)."""

    def __init__(self):
        from facerec.dlib_models import load_models

        models = load_models()
        self.detector = models.dlib.get_frontal_face_detector()
        self.predictor, self.recognizer = models.shape_predictor, models.recognizer
        self.known: np.ndarray | None = None

    def encodings(self, image: np.ndarray) -> list[np.ndarray]:
        return [np.asarray(self.recognizer.compute_face_descriptor(image, self.predictor(image, box), 1))
                for box in self.detector(image, 1)]

    def learn(self, people: dict[str, list[Path]]) -> None:
        means = []
        for paths in people.values():
            found = [encoding for path in paths for encoding in self.encodings(load_rgb(path))[:1]]
            means.append(np.mean(found, axis=0))
        self.known = np.stack(means)

    def recognize(self, image: np.ndarray | Path) -> list[int]:
        picture = load_rgb(image) if isinstance(image, Path) else image
        return [int(np.argmin(np.linalg.norm(self.known - encoding, axis=1))) for encoding in self.encodings(picture)]


def load_rgb(path: Path) -> np.ndarray:
    from PIL import Image

    return np.array(Image.open(path).convert("RGB"))


def timed_calls(function, items: list, repeats: int) -> tuple[list[float], list[float]]:
    """Wall and CPU (with children) seconds of ``function(item)`` for every item, ``repeats`` times."""
    walls, cpus = [], []
    for _ in range(repeats):
        for item in items:
            started, cpu_started = time.perf_counter(), process_cpu()
            function(item)
            walls.append(time.perf_counter() - started)
            cpus.append(process_cpu() - cpu_started)
    return walls, cpus


def live_cost(classifier, faces: int, seconds: float) -> dict:
    """``LiveRecognizer.process`` back to back on the live view's frames, recognition in the background."""
    from bench.live import camera_frames
    from facerec.live import LiveRecognizer

    frames = [cv2.cvtColor(cv2.resize(frame, (LIVE_WIDTH, LIVE_WIDTH * FRAME_HEIGHT // FRAME_WIDTH), interpolation=cv2.INTER_AREA),
                           cv2.COLOR_BGR2RGB) for frame in camera_frames(faces)]
    live = LiveRecognizer(classifier)
    for frame in frames[:10]:  # the first recognitions, and the detector's warm-up
        live.process(frame)
    while not live.idle():
        time.sleep(0.01)
    walls, found, named, started, cpu_started = [], [], [], time.perf_counter(), process_cpu()
    while time.perf_counter() - started < seconds:
        frame = frames[len(walls) % len(frames)]
        call = time.perf_counter()
        result = live.process(frame)
        walls.append(time.perf_counter() - call)
        found.append(len(result))
        named.append(sum(face["label"] is not None for face in result))
    elapsed, cpu = time.perf_counter() - started, process_cpu() - cpu_started
    return {"walls": walls, "frames_per_second": len(walls) / elapsed, "cpu_per_frame": cpu / len(walls),
            "faces": float(np.mean(found)), "named": float(np.mean(named)), "load": os.getloadavg()[0]}


def measure(configuration: str, model_folder: str, repeats: int, quick: bool) -> dict:
    """One configuration's numbers (in its own interpreter), as JSON-ready values."""
    backbone, flip = backbone_of(configuration), CONFIGURATIONS[configuration][1]
    paths = photos(quick)
    frames = [webcam_frame(load_rgb(path)) for path in paths]
    if backbone == "baseline":
        baseline = FaceRecognitionBaseline()
        train = harness.image_files(harness.dataset("five_celebrity_faces") / "train")
        baseline.learn(train)
        recognize = baseline.recognize
        for path in paths[:2]:
            recognize(path)
        features = timed_calls(lambda path: baseline.encodings(load_rgb(path))[:1], training_photos(quick), 1)
        live, runtime = {}, "dlib in process"
        accuracy = baseline_accuracy(baseline, list(train))
    else:
        import facerec

        classifier = facerec.Classifier.load(model_folder)
        classifier.config.test_time_flip = flip
        recognize = classifier.recognize
        runtime = warm_fast_path(classifier)
        for path in paths[:2]:  # warm-up: graph tracing, the detectors, the dlib workers
            recognize(path)
        features = feature_extraction(classifier, quick)
        with harness.scratch_folder("evaluate") as folder:
            test = harness.image_files(harness.dataset("five_celebrity_faces") / "test")
            known = harness.copy_images({label: test[label] for label in classifier.labels}, folder / "test")
            accuracy = classifier.evaluate(known, cache_dir=folder / "cache")["accuracy"]
        live = {faces: live_cost(classifier, faces, 4.0 if quick else LIVE_SECONDS) for faces in (1, 3)}
    photo_walls, photo_cpus = timed_calls(recognize, paths, repeats)
    frame_walls, frame_cpus = timed_calls(recognize, frames, repeats)
    return {"photo": [photo_walls, photo_cpus], "frame": [frame_walls, frame_cpus], "features": list(features),
            "live": live, "images": len(paths), "load": os.getloadavg()[0], "runtime": runtime,
            "accuracy": accuracy}


def baseline_accuracy(baseline: FaceRecognitionBaseline, people: list[str]) -> float:
    """Share of the test photos whose first face is closest to its own person's mean encoding."""
    test = harness.image_files(harness.dataset("five_celebrity_faces") / "test")
    answers = [(baseline.recognize(path)[:1] or [-1])[0] == people.index(person) for person in people for path in test[person]]
    return float(np.mean(answers))


def warm_fast_path(classifier) -> str:
    """A running app has its backbone on the fast path (converted after the first training, see
    facerec.backbones.fast_inference); returns where the frozen pass runs."""
    if classifier.config.backbone == "dlib":
        return "dlib workers" if os.environ.get("FACEREC_DLIB_WORKERS") != "0" else "dlib in process"
    return "litert" if classifier.pipeline.prepare_fast_path() else "keras"


def training_photos(quick: bool) -> list[Path]:
    files = harness.image_files(harness.dataset("five_celebrity_faces") / "train")
    return [path for paths in harness.subset(files, per_label=2 if quick else 8).values() for path in paths]


def feature_extraction(classifier, quick: bool) -> tuple[list[float], list[float]]:
    """Per training photo, facerec's face-mode feature extraction on a cold cache (detection, crop,
    the views that training computes), as one ``compute_features`` call: its time over the photos."""
    from facerec.augment import scoring_views
    from facerec.cache import Cache
    from facerec.dataset import Sample
    from facerec.features import compute_features

    paths = training_photos(quick)
    samples = [Sample(path.parent.name, path) for path in paths]
    label_index = {label: index for index, label in enumerate(sorted({sample.label for sample in samples}))}
    with harness.scratch_folder("features") as folder:
        started, cpu_started = time.perf_counter(), process_cpu()
        compute_features(classifier.pipeline, samples, label_index, cache=Cache(folder),
                         views=scoring_views(classifier.config.test_time_flip))
        wall, cpu = time.perf_counter() - started, process_cpu() - cpu_started
    return [wall / len(paths)] * len(paths), [cpu / len(paths)] * len(paths)


# Report ------------------------------------------------------------------------------------------

def milliseconds(values: list[float], share: float) -> float:
    return 1000 * harness.percentile(values, share) if values else float("nan")


def train_models(arguments: argparse.Namespace, scratch: Path) -> dict[str, Path]:
    """A saved model per backbone, trained with the defaults on five_celebrity_faces/train."""
    import facerec

    root = harness.dataset("five_celebrity_faces")
    training = root / "train"
    if arguments.quick:
        training = harness.copy_images(harness.subset(harness.image_files(training), labels=2, per_label=4), scratch / "train")
    folders = {}
    for model in sorted({CONFIGURATIONS[name][0] for name in arguments.configurations} & set(MODELS)):
        print(f"training the {model} model on {training}", flush=True)
        classifier = facerec.train(training, cache_dir=arguments.cache_dir or scratch / "cache", **MODELS[model])
        folders[model] = classifier.save(scratch / f"model-{model}")
    return folders


def tables_of(results: dict[str, dict], repeats: int) -> tuple[list[harness.Table], list[str]]:
    recognize = harness.Table("Classifier.recognize(): single photos and 640x480 frames (full recognition, no tracking)", [
        "configuration", "frozen pass in", "photo p50 ms", "photo p95 ms", "photo CPU ms p50", "frame p50 ms", "frame p95 ms", "frame CPU ms p50",
        "target (photo p50)", "test accuracy", "photos x passes", "load (1 min)"])
    features = harness.Table("Face-mode feature extraction per training photo (cold cache)", [
        "configuration", "ms per photo (wall)", "CPU ms per photo", "photos", "load (1 min)"])
    live = harness.Table("LiveRecognizer.process() back to back on the live view's 480x360 frames (recognition in its background worker)", [
        "configuration", "faces on camera", "frames/s", "process p50 ms", "process p95 ms", "CPU ms per frame (with workers)",
        "faces per frame", "named faces per frame", "load (1 min)"])
    baseline_photo = milliseconds(results["baseline"]["photo"][0], 50) if "baseline" in results else float("nan")
    baseline_frame = milliseconds(results["baseline"]["frame"][0], 50) if "baseline" in results else float("nan")
    summary = []
    for name, result in results.items():
        backbone = backbone_of(name)
        photo, frame = result["photo"], result["frame"]
        recognize.add(name, result["runtime"], milliseconds(photo[0], 50), milliseconds(photo[0], 95), milliseconds(photo[1], 50),
                      milliseconds(frame[0], 50), milliseconds(frame[0], 95), milliseconds(frame[1], 50),
                      TARGETS.get(backbone, "–"), result["accuracy"], f"{result['images']} x {repeats}", f"{result['load']:.2f}")
        walls, cpus = result["features"]
        features.add(name, 1000 * walls[0], 1000 * cpus[0], len(walls), f"{result['load']:.2f}")
        for faces, cost in result["live"].items():
            live.add(name, faces, cost["frames_per_second"], milliseconds(cost["walls"], 50), milliseconds(cost["walls"], 95),
                     1000 * cost["cpu_per_frame"], cost["faces"], cost["named"], f"{cost['load']:.2f}")
        if backbone != "baseline":
            summary.append(f"{name}: recognize() p50 {milliseconds(photo[0], 50):.0f} ms on a photo (baseline "
                           f"{baseline_photo:.0f}), {milliseconds(frame[0], 50):.0f} ms on a 640x480 frame (baseline "
                           f"{baseline_frame:.0f}); features {1000 * walls[0]:.0f} ms per training photo (baseline "
                           f"{1000 * results['baseline']['features'][0][0]:.0f}) at load {result['load']:.2f}"
                           if "baseline" in results else f"{name}: recognize() p50 {milliseconds(photo[0], 50):.0f} ms")
    recognize.notes += [
        "baseline: face_recognition 1.3's pipeline with its defaults, called on dlib directly (HOG detector with one "
        "upsampling, 5-point landmarks, one descriptor per face, the same model files; the distances to each person's mean "
        "descriptor). dlib / vgg16: facerec's Classifier.recognize() from the file (or frame) to the named boxes: decode, "
        "BlazeFace (MTCNN where it finds none), crop or chip, the backbone over the face (and its mirror with test-time "
        "flip), the head, the distance rule.",
        "vgg16: faces at its default input, 160 px; vgg16-224: at 224 px (the default before issue 11's change). "
        "dlib, dlib-in-process, vgg16, vgg16-224: with the mirror (config.test_time_flip = True, two views per face; "
        "VGG16's default); -no-flip: the same model with config.test_time_flip = False (one view per face; dlib's "
        "default, so dlib-no-flip is what the app runs); -in-process: FACEREC_DLIB_WORKERS=0 (dlib's network in the "
        "calling process, as before facerec.dlib_workers).",
        "Test accuracy: the 25 photos of five_celebrity_faces/test, closed set (facerec: Classifier.evaluate with the "
        "configuration's test-time flip; baseline: the closest person's mean encoding).",
        "CPU ms: the process's and its children's (the dlib workers') CPU time per call. On a shared machine the wall "
        "clock stretches with the load (see the load column).",
    ]
    features.notes.append("facerec: compute_features on 8 train/ photos per person (40), cold cache: decode, detection, "
                          "crop, the views training computes (the face and its mirror with test-time flip), cache writes; "
                          "baseline: face_recognition's encoding of the photo's first face (load, HOG, landmarks, descriptor).")
    live.notes.append("Frames: bench.live's fake camera (test/ photos of 1 or 3 people on a wall, drifting), resized to 480 "
                      "pixels wide as the page sends them; each process() call detects and tracks, and hands due faces "
                      "(new ones, and each every 0.5 s) to the shared background worker. CPU per frame includes that "
                      "recognition's (and the dlib workers').")
    return [recognize, features, live], summary


def main() -> int:
    options = harness.parser(__doc__.split("\n\n")[0])
    options.add_argument("--repeats", type=int, default=3, help="passes over the photos per configuration")
    options.add_argument("--cache-dir", help="feature cache for training the models (default: a temporary one)")
    options.add_argument("--configurations", nargs="*", default=list(CONFIGURATIONS), choices=list(CONFIGURATIONS))
    options.add_argument("--measure", nargs=2, metavar=("CONFIGURATION", "MODEL"), help=argparse.SUPPRESS)
    arguments = options.parse_args()
    if arguments.quick:
        arguments.repeats = 1
    if arguments.measure:
        print(json.dumps(measure(*arguments.measure, arguments.repeats, arguments.quick)))
        return 0
    started = time.perf_counter()
    machine = harness.machine_info()
    results = {}
    with harness.scratch_folder("latency") as scratch:
        os.environ["FACEREC_CACHE"] = str(scratch / "facerec-cache")  # the converted fast path, for the measuring interpreters
        models = train_models(arguments, scratch)
        for name in arguments.configurations:
            model, _, environment = CONFIGURATIONS[name]
            print(f"measuring {name}", flush=True)
            forwarded = ["--measure", name, str(models.get(model, "-")), "--repeats", str(arguments.repeats)]
            results[name] = harness.run_json("bench.latency", forwarded + (["--quick"] if arguments.quick else []),
                                             environment=environment)
    tables, summary = tables_of(results, arguments.repeats)
    harness.write_report("latency", "Recognition latency against face_recognition's pipeline (issue 11)", tables,
                         machine=machine, arguments=arguments, started=started, summary=summary)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
