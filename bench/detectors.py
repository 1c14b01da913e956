"""Which face detector for which job: recall, false detections and time of each candidate.

Detectors: MTCNN (the core's), dlib's HOG detector (as the dlib backbone uses it), HOG on a copy
of at most 320 pixels with dlib's 5 landmarks for the eyes (a video variant, defined here only: it
did not measure worth shipping, see :class:`VideoHogDetector`), MediaPipe's BlazeFace short- and
full-range models, and fallback chains of them (each next detector runs only on the images where
the ones before it find no face). Three sets of images:

* photos: every photo of ``five_celebrity_faces`` (train and test). Each shows a person; its
  reference face is MTCNN's largest face, or dlib HOG's where MTCNN finds none (as today).
* frames: 640x480 webcam-like frames made here, the same on every run: one to three real faces
  (single-face photos of ``five_celebrity_faces`` and ``orl_att_faces``, each cut out around its
  reference face with hair and shoulders) pasted at face heights of 80 to 300 pixels on plain
  and textured backgrounds, JPEG-compressed as a webcam stream is; and frames with no face.
* pets: 50 cat and dog photos of ``dogs_vs_cats_small`` (test), where every face is a false one.

Matching: a detected face is a reference face when each one's eye midpoint (its box centre when
it has no eyes) lies inside the other's box. This takes BlazeFace's square brow-to-chin box and
MTCNN's taller forehead-to-chin box alike without tuning an IoU threshold to the conventions, and
refuses another person's face and a box far larger or smaller than the face.

    python -m bench.detectors            # the reported numbers
    python -m bench.detectors --quick
"""

from __future__ import annotations

import dataclasses
import functools
import time

import cv2
import numpy as np

from bench import harness

harness.quiet_tensorflow()

FRAME_HEIGHT, FRAME_WIDTH = 480, 640
# Face heights (of the reference box, in pixels) shown, by the number of faces in the frame.
FACE_HEIGHTS = {1: (80, 100, 120, 150, 180, 220, 260, 300), 2: (80, 110, 140, 180), 3: (80, 100, 130)}
FRAMES_WITH = {1: 96, 2: 24, 3: 16}
FRAMES_WITHOUT_FACE = 40
HEIGHT_BINS = ((80, 120), (120, 200), (200, 301))
# Room kept around the reference box when a face is cut out, as a share of its width (sides)
# or height (above, below): hair, neck and shoulders, as a webcam sees them.
CUT_MARGINS = {"side": 0.6, "above": 0.5, "below": 0.8}
WEBCAM_JPEG_QUALITY = 80
# HOG with one upsampling finds faces of about 40 pixels, so 80-pixel faces in a 640x480 frame at half size.
VIDEO_HOG_SIDE = 320
PETS = 50
BLAZEFACE_THRESHOLDS = {"short": (0.5, 0.7, 0.8, 0.85, 0.9), "full": (0.4, 0.5, 0.6, 0.7)}


@dataclasses.dataclass
class Frame:
    image: np.ndarray
    faces: list  # the pasted faces (facerec.faces.Face): boxes and eyes where they are in the frame


@dataclasses.dataclass
class Run:
    """One detector on one set of images: the faces found in each, and the time of each call."""

    found: list
    seconds: list
    cpu_seconds: list
    load: str


def main() -> int:
    arguments = harness.parser(__doc__.splitlines()[0]).parse_args()
    started, machine = time.perf_counter(), harness.machine_info()
    from facerec.detection import FallbackDetector
    from facerec.detection.blazeface import BlazeFaceDetector
    from facerec.detection.dlib_hog import HogFaceDetector
    from facerec.detection.mtcnn import MtcnnDetector
    from facerec.images import load_image

    mtcnn, hog = MtcnnDetector(), HogFaceDetector()
    hog_video = VideoHogDetector(hog)
    short, full = BlazeFaceDetector("short"), BlazeFaceDetector("full")
    chain = functools.partial(functools.reduce, FallbackDetector)
    detectors = {
        "MTCNN (core default)": mtcnn,
        "dlib HOG (upsampling 1)": hog,
        "dlib HOG at 320 px + 5 landmarks": hog_video,
        "BlazeFace short": short,
        "BlazeFace full": full,
        "MTCNN, then dlib HOG (dlib backbone)": chain([mtcnn, hog]),
        "BlazeFace short, then full": chain([short, full]),
        "BlazeFace short, then full, then MTCNN": chain([short, full, mtcnn]),
        "BlazeFace full, then dlib HOG at 320 px": chain([full, hog_video]),
        "BlazeFace full, then MTCNN": chain([full, mtcnn]),
        "BlazeFace full, then MTCNN, then dlib HOG": chain([full, mtcnn, hog]),
    }

    photo_root = harness.dataset("five_celebrity_faces")
    splits = {split: [path for paths in harness.image_files(photo_root / split).values() for path in paths]
              for split in ("train", "test")}
    orl = [paths[0] for paths in harness.image_files(harness.dataset("orl_att_faces") / "test").values()]
    pet_root = harness.dataset("dogs_vs_cats_small") / "test"
    pets = [path for paths in harness.image_files(pet_root).values() for path in paths[::4]][:PETS]
    frame_counts, no_face_frames = FRAMES_WITH, FRAMES_WITHOUT_FACE
    if arguments.quick:
        splits = {split: paths[:4] for split, paths in splits.items()}
        orl, pets, frame_counts, no_face_frames = orl[:3], pets[:4], {1: 4, 2: 2, 3: 2}, 3
    photo_paths = splits["train"] + splits["test"]
    photos = [load_image(path) for path in photo_paths]
    mtcnn_faces = [mtcnn.detect(image) for image in photos]
    references = [faces[:1] or hog.detect(image)[:1] for image, faces in zip(photos, mtcnn_faces)]
    # Sources of pasted faces: photos of one person only, so that the cut-out holds no other face.
    orl_images = [_orl_image(load_image(path)) for path in orl]
    sources = [(image, faces[0]) for image, faces in zip(photos + orl_images, mtcnn_faces + [mtcnn.detect(image) for image in orl_images])
               if len(faces) == 1]
    frames = _frames(sources, frame_counts, no_face_frames)
    pet_images = [load_image(path) for path in pets]

    runs = {}
    for name, detector in detectors.items():
        detector.detect(photos[0])  # builds the networks
        runs[name] = {"photos": _run(detector, photos), "frames": _run(detector, [frame.image for frame in frames]),
                      "pets": _run(detector, pet_images)}
        print(f"  measured {name}", flush=True)

    photo_table = _photo_table(runs, references, [len(splits["train"]), len(splits["test"])], photo_paths)
    frame_table = _frame_table(runs, frames)
    pet_table = _pet_table(runs, len(pets))
    convention_table = _convention_table(runs, references, ["BlazeFace short", "BlazeFace full", "dlib HOG (upsampling 1)",
                                                            "dlib HOG at 320 px + 5 landmarks"])
    threshold_table = _threshold_table(BlazeFaceDetector, photos, references, frames, pet_images)
    thread_table = _thread_table(BlazeFaceDetector, frames)
    summary = [f"{name}: reference face found in {_photos_found(run['photos'], references)} of {len(photos)} photos, "
               f"{_faces_found(run['frames'], frames)} of {sum(len(frame.faces) for frame in frames)} faces in frames, "
               f"{sum(bool(faces) for faces in run['pets'].found)} of {len(pets)} pet photos with a face; per 640x480 frame "
               f"{1000 * harness.percentile(run['frames'].cpu_seconds, 50):.1f} ms of CPU "
               f"({1000 * harness.percentile(run['frames'].seconds, 50):.1f} ms wall, p50)"
               for name, run in runs.items()]
    harness.write_report("detectors", "Face detectors: recall, false detections and time", [
        photo_table, frame_table, pet_table, convention_table, threshold_table, thread_table],
        machine=machine, arguments=arguments, started=started, summary=summary)
    return 0


class VideoHogDetector:
    """dlib's HOG detector on a copy of at most :data:`VIDEO_HOG_SIDE` pixels, with dlib's 5-point
    landmarks (on the full-size image) for the eye centres: a candidate video detector.

    Measured, not shipped: on the frames it finds what the full-size HOG finds for a third of its
    CPU, but BlazeFace full finds nearly as many for a seventh of this one's, with fewer false faces.
    """

    name = "dlib-hog-320+landmarks"

    def __init__(self, hog):
        self.hog = hog

    def detect(self, image: np.ndarray) -> list:
        from facerec.dlib_models import load_models
        from facerec.detection import Face

        scale = min(1.0, VIDEO_HOG_SIDE / max(image.shape[:2]))
        small = image if scale == 1.0 else cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        models, contiguous = load_models(), np.ascontiguousarray(image)
        faces = []
        for face in self.hog.detect(small):
            x, y, width, height = (round(value / scale) for value in face.box)
            shape = models.shape_predictor(contiguous, models.dlib.rectangle(x, y, x + width - 1, y + height - 1))
            points = np.array([(shape.part(index).x, shape.part(index).y) for index in range(shape.num_parts)], dtype=float)
            # The 5-point model: two corners of the eye on the right of the image, then two of the other.
            eyes = {"right_eye": tuple(points[0:2].mean(axis=0)), "left_eye": tuple(points[2:4].mean(axis=0))}
            faces.append(Face(box=(x, y, width, height), confidence=face.confidence, landmarks=eyes))
        return faces


# Matching --------------------------------------------------------------------------------------

def _eyes(face) -> tuple[float, float]:
    """The midpoint of the eyes, or the box centre when the face has no eyes."""
    landmarks = face.landmarks or {}
    if "left_eye" in landmarks and "right_eye" in landmarks:
        return tuple((np.asarray(landmarks["left_eye"]) + np.asarray(landmarks["right_eye"])) / 2.0)
    x, y, width, height = face.box
    return x + width / 2.0, y + height / 2.0


def _inside(point: tuple[float, float], box: tuple[int, int, int, int]) -> bool:
    x, y, width, height = box
    return x <= point[0] <= x + width and y <= point[1] <= y + height


def matches(found, reference) -> bool:
    """Whether a detected face is the reference face (see the module docstring)."""
    return _inside(_eyes(found), reference.box) and _inside(_eyes(reference), found.box)


def _photos_found(run: Run, references: list) -> int:
    return sum(any(matches(face, reference[0]) for face in faces) for faces, reference in zip(run.found, references) if reference)


def _faces_found(run: Run, frames: list[Frame]) -> int:
    return sum(any(matches(face, truth) for face in found) for found, frame in zip(run.found, frames) for truth in frame.faces)


# Measuring -------------------------------------------------------------------------------------

def _run(detector, images: list[np.ndarray]) -> Run:
    found, seconds, cpu_seconds = [], [], []
    for image in images:
        with harness.Stopwatch() as watch:
            faces = detector.detect(image)
        found.append(faces)
        seconds.append(watch.seconds)
        cpu_seconds.append(watch.cpu_seconds)
    return Run(found, seconds, cpu_seconds, harness.load_average().split("/")[0])


def _times(run: Run) -> list[float]:
    """ms per image: wall p50, p95; CPU p50, p95."""
    return [1000 * harness.percentile(samples, share) for samples in (run.seconds, run.cpu_seconds) for share in (50, 95)]


TIME_COLUMNS = ["ms p50", "ms p95", "CPU ms p50", "CPU ms p95", "load (1 min)"]


def _photo_table(runs: dict, references: list, split_sizes: list[int], paths: list) -> harness.Table:
    table = harness.Table("Photos (five_celebrity_faces, train + test): the reference face found", [
        "detector", f"train (of {split_sizes[0]})", f"test (of {split_sizes[1]})", "recall", "largest face is the reference",
        "photos with no face", "missed photos", *TIME_COLUMNS])
    for name, detector_runs in runs.items():
        run = detector_runs["photos"]
        hits = [bool(reference) and any(matches(face, reference[0]) for face in faces) for faces, reference in zip(run.found, references)]
        largest = sum(bool(faces) and bool(reference) and matches(faces[0], reference[0]) for faces, reference in zip(run.found, references))
        missed = [f"{path.parent.parent.name}/{path.parent.name}/{path.name}" for path, hit in zip(paths, hits) if not hit]
        shown = ", ".join(missed[:3]) + (f" and {len(missed) - 3} more" if len(missed) > 3 else "")
        table.add(name, sum(hits[:split_sizes[0]]), sum(hits[split_sizes[0]:]), sum(hits) / len(hits), largest,
                  sum(not faces for faces in run.found), shown or "–", *_times(run), run.load)
    table.notes += [
        "Reference face: MTCNN's largest face on the photo, else dlib HOG's (every photo has one). A face found "
        "matches it when each one's eye midpoint (box centre without eyes) lies inside the other's box.",
        "largest face is the reference: what training and recognize() use (they take the largest face).",
        "Times: the detector alone on the decoded photo (115-360 px wide); CPU: the process's, all threads.",
    ]
    return table


def _frame_table(runs: dict, frames: list[Frame]) -> harness.Table:
    faces = [truth for frame in frames for truth in frame.faces]
    with_faces = [index for index, frame in enumerate(frames) if frame.faces]
    without = [index for index, frame in enumerate(frames) if not frame.faces]
    bins = [f"{low}-{high - 1} px (of {sum(low <= truth.box[3] < high for truth in faces)})" for low, high in HEIGHT_BINS]
    table = harness.Table("Webcam-like 640x480 frames: faces found, false detections", [
        "detector", f"faces found (of {len(faces)})", "recall", *bins, f"false detections in the {len(with_faces)} frames with faces",
        f"frames without a face with a detection (of {len(without)})", *TIME_COLUMNS])
    for name, detector_runs in runs.items():
        run = detector_runs["frames"]
        found_by_bin = [sum(any(matches(face, truth) for face in run.found[index]) for index in with_faces
                            for truth in frames[index].faces if low <= truth.box[3] < high) for low, high in HEIGHT_BINS]
        false = sum(not any(matches(face, truth) for truth in frames[index].faces) for index in with_faces for face in run.found[index])
        found = _faces_found(run, frames)
        table.add(name, found, found / len(faces), *found_by_bin, false, sum(bool(run.found[index]) for index in without),
                  *_times(run), run.load)
    table.notes += [
        f"Frames: {FRAMES_WITH[1]} with one face, {FRAMES_WITH[2]} with two, {FRAMES_WITH[3]} with three (reported run), "
        f"faces {min(FACE_HEIGHTS[1])}-{max(FACE_HEIGHTS[1])} px tall (the reference box's height), from single-face "
        "celebrity photos and ORL faces; backgrounds plain, gradient, smooth noise or stripes; JPEG quality "
        f"{WEBCAM_JPEG_QUALITY}. Faces are enlarged from their photos, so the large ones are blurred, as a webcam's are.",
        "A pasted face's truth is its source photo's MTCNN face (box and eyes), moved and scaled with it.",
    ]
    return table


def _pet_table(runs: dict, count: int) -> harness.Table:
    table = harness.Table("Cat and dog photos (dogs_vs_cats_small test, no person): false detections", [
        "detector", "photos", "photos with a face", "faces", "ms p50", "load (1 min)"])
    for name, detector_runs in runs.items():
        run = detector_runs["pets"]
        table.add(name, count, sum(bool(faces) for faces in run.found), sum(len(faces) for faces in run.found),
                  1000 * harness.percentile(run.seconds, 50), run.load)
    table.notes.append(f"Every 4th test photo of each class, {count} in all.")
    return table


def _convention_table(runs: dict, references: list, names: list[str]) -> harness.Table:
    table = harness.Table("Box convention against MTCNN's box (photos where both find the reference face)", [
        "detector", "photos", "width / MTCNN width", "height / MTCNN height", "centre x shift / MTCNN width",
        "centre y shift / MTCNN height"])
    for name in names:
        width_ratios, height_ratios, x_shifts, y_shifts = [], [], [], []
        for faces, reference in zip(runs[name]["photos"].found, references):
            # Only MTCNN references (they have eyes); a HOG reference is HOG's own box.
            if not reference or not reference[0].landmarks:
                continue
            matched = [face for face in faces if matches(face, reference[0])]
            if not matched:
                continue
            (x, y, width, height), (mx, my, mwidth, mheight) = matched[0].box, reference[0].box
            width_ratios.append(width / mwidth)
            height_ratios.append(height / mheight)
            x_shifts.append((x + width / 2 - mx - mwidth / 2) / mwidth)
            y_shifts.append((y + height / 2 - my - mheight / 2) / mheight)
        table.add(name, len(width_ratios), *(_mean_sd(values) for values in (width_ratios, height_ratios, x_shifts, y_shifts)))
    table.notes.append("mean ± standard deviation over the photos; a positive y shift: the box centre is lower than MTCNN's.")
    return table


def _mean_sd(values: list[float]) -> str:
    return f"{np.mean(values):.2f} ± {np.std(values):.2f}" if values else "–"


def _threshold_table(detector_class, photos: list, references: list, frames: list[Frame], pets: list) -> harness.Table:
    faces = sum(len(frame.faces) for frame in frames)
    without = [index for index, frame in enumerate(frames) if not frame.faces]
    table = harness.Table("BlazeFace's confidence threshold: recall against false detections", [
        "model", "min_confidence", f"photos: reference found (of {len(photos)})", f"frames: faces found (of {faces})",
        f"face-free frames with a detection (of {len(without)})", f"pet photos with a face (of {len(pets)})", "load (1 min)"])
    for model, thresholds in BLAZEFACE_THRESHOLDS.items():
        default = detector_class(model).min_confidence
        for threshold in thresholds:
            detector = detector_class(model, min_confidence=threshold)
            photo_run, frame_run, pet_run = (_run(detector, images) for images in (photos, [frame.image for frame in frames], pets))
            table.add(model, f"{threshold}" + (" (default)" if threshold == default else ""), _photos_found(photo_run, references),
                      _faces_found(frame_run, frames), sum(bool(frame_run.found[index]) for index in without),
                      sum(bool(found) for found in pet_run.found), pet_run.load)
    table.notes.append("MediaPipe's own thresholds are 0.5 (short) and 0.6 (full). facerec's defaults were chosen on other "
                       "photos (facerec/blazeface.py: no more false faces than MTCNN on the 400 train cat and dog photos).")
    return table


def _thread_table(detector_class, frames: list[Frame]) -> harness.Table:
    table = harness.Table("BlazeFace: LiteRT threads (ms per 640x480 frame, everything included)", [
        "model", "threads", *TIME_COLUMNS])
    images = [frame.image for frame in frames]
    for model in BLAZEFACE_THRESHOLDS:
        for threads in (1, 2):
            detector = detector_class(model, threads=threads)
            detector.detect(images[0])
            table.add(model, threads, *_times(_run(detector, images)), harness.load_average().split("/")[0])
    return table


# Webcam-like frames ----------------------------------------------------------------------------

def _orl_image(image: np.ndarray) -> np.ndarray:
    """An ORL face (92x112, the face fills it) on a grey border, as a photo of a head would be:
    MTCNN needs some room around a face to find it, and the cut-out then has room around it too."""
    border = image.shape[0] // 2
    return cv2.copyMakeBorder(image, border, border, border, border, cv2.BORDER_REPLICATE)


def _frames(sources: list, counts: dict[int, int], without_face: int) -> list[Frame]:
    """Frames with ``count`` faces for each ``{count: frames}``, then ``without_face`` frames with none."""
    generator = np.random.default_rng(harness.SEED)
    frames = []
    for count, frame_count in counts.items():
        heights = FACE_HEIGHTS[count]
        for index in range(frame_count):
            image = _background(generator, index)
            column_width = FRAME_WIDTH // count
            truths = []
            for column in range(count):
                source, reference = sources[generator.integers(len(sources))]
                height = heights[(index + column) % len(heights)]
                truths.append(_paste(image, source, reference, height, (column * column_width, (column + 1) * column_width), generator))
            frames.append(Frame(_webcam_jpeg(image), truths))
    frames += [Frame(_webcam_jpeg(_background(generator, index)), []) for index in range(without_face)]
    return frames


def _background(generator: np.random.Generator, index: int) -> np.ndarray:
    """A plain, gradient, smooth-noise or striped 640x480 background (by ``index``, in turn)."""
    base = generator.integers(40, 220, 3).astype(np.float32)
    kind = index % 4
    if kind == 0:
        image = np.broadcast_to(base, (FRAME_HEIGHT, FRAME_WIDTH, 3)).copy()
    elif kind == 1:
        other = generator.integers(40, 220, 3).astype(np.float32)
        ramp = np.linspace(0.0, 1.0, FRAME_WIDTH if generator.integers(2) else FRAME_HEIGHT, dtype=np.float32)
        ramp = ramp[np.newaxis, :, np.newaxis] if ramp.size == FRAME_WIDTH else ramp[:, np.newaxis, np.newaxis]
        image = base + (other - base) * np.broadcast_to(ramp, (FRAME_HEIGHT, FRAME_WIDTH, 1))
    elif kind == 2:
        coarse = generator.normal(0.0, 45.0, (6, 8, 3)).astype(np.float32)
        image = base + cv2.resize(coarse, (FRAME_WIDTH, FRAME_HEIGHT), interpolation=cv2.INTER_CUBIC)
        image += generator.normal(0.0, 6.0, image.shape).astype(np.float32)
    else:
        widths = generator.integers(10, 60, 40)
        edges = np.minimum(np.cumsum(widths), FRAME_WIDTH)
        colours = generator.integers(30, 230, (len(widths), 3)).astype(np.float32)
        columns = np.searchsorted(edges, np.arange(FRAME_WIDTH), side="right").clip(0, len(widths) - 1)
        image = np.broadcast_to(colours[columns][np.newaxis], (FRAME_HEIGHT, FRAME_WIDTH, 3)).copy()
        if generator.integers(2):
            image = np.ascontiguousarray(cv2.resize(np.rot90(image), (FRAME_WIDTH, FRAME_HEIGHT), interpolation=cv2.INTER_NEAREST))
    return np.clip(image, 0, 255).astype(np.uint8)


def _paste(frame: np.ndarray, source: np.ndarray, reference, face_height: int, columns: tuple[int, int],
           generator: np.random.Generator):
    """Paste the head around ``reference`` (a face in ``source``) into ``frame`` so that its box is
    ``face_height`` tall and lies inside ``columns``; the pasted face's box and eyes in the frame."""
    from facerec.faces import Face

    x, y, width, height = reference.box
    scale = face_height / height
    cut_left = max(0, round(x - CUT_MARGINS["side"] * width))
    cut_right = min(source.shape[1], round(x + width + CUT_MARGINS["side"] * width))
    cut_top = max(0, round(y - CUT_MARGINS["above"] * height))
    cut_bottom = min(source.shape[0], round(y + height + CUT_MARGINS["below"] * height))
    cut = source[cut_top:cut_bottom, cut_left:cut_right]
    size = (max(1, round(cut.shape[1] * scale)), max(1, round(cut.shape[0] * scale)))
    scaled = cv2.resize(cut, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    face_width = width * scale
    face_left = generator.uniform(columns[0], max(columns[0], columns[1] - face_width))
    face_top = generator.uniform(0, max(0, FRAME_HEIGHT - face_height))
    left, top = round(face_left - (x - cut_left) * scale), round(face_top - (y - cut_top) * scale)
    # The part of the scaled cut that falls inside the column and the frame.
    low_x, high_x = max(left, columns[0]), min(left + size[0], columns[1])
    low_y, high_y = max(top, 0), min(top + size[1], FRAME_HEIGHT)
    frame[low_y:high_y, low_x:high_x] = scaled[low_y - top:high_y - top, low_x - left:high_x - left]

    def moved(point: tuple[float, float]) -> tuple[float, float]:
        return left + (point[0] - cut_left) * scale, top + (point[1] - cut_top) * scale

    corner = moved((x, y))
    landmarks = {name: moved(point) for name, point in (reference.landmarks or {}).items()}
    return Face(box=(round(corner[0]), round(corner[1]), round(face_width), face_height), confidence=1.0, landmarks=landmarks)


def _webcam_jpeg(image: np.ndarray) -> np.ndarray:
    ok, encoded = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, WEBCAM_JPEG_QUALITY])
    if not ok:
        raise ValueError("OpenCV could not encode a frame as JPEG")
    return cv2.cvtColor(cv2.imdecode(encoded, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


if __name__ == "__main__":
    raise SystemExit(main())
