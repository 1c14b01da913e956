"""Frozen features of a set of labelled images, computed once per image and cached on disk.

The cache key of an image's features is its content hash, the pipeline signature (backbone, its
weights, input size, face settings) and the view number (see :mod:`facerec.augment`).
Retraining after adding ten images runs ten images (times the views) through the backbone; the
rest come from disk.
"""

from __future__ import annotations

import dataclasses
import hashlib
import threading
from collections.abc import Callable

import numpy as np

from facerec.augment import augmented_view
from facerec.cache import Cache
from facerec.dataset import Sample
from facerec.detection import Face
from facerec.images import ImageError, load_image

# Crops gathered before one call to the frozen pass. Small, so that progress moves every second or
# two (8 VGG16 views take about 1.5 s on a 2-core CPU; 32 took 6 s, 20-70 s on a busy machine,
# with no update between: bench/results/first_training.md); batch 8 and 32 run at the same rate
# (bench/results/throughput.md).
BATCH_SIZE = 8

Progress = Callable[[int, int], None]


class Stopped(Exception):
    """Raised when a stop was requested before there was anything to keep."""


@dataclasses.dataclass
class FeatureTable:
    """Cached-output rows for a list of samples: ``inputs[k][row]`` is frozen output ``k``.

    Samples with no face (face mode) or an unreadable file have no rows and are listed instead.
    ``computed`` counts the rows that ran through the backbone (cache misses).
    """

    inputs: list[np.ndarray]
    labels: np.ndarray
    sample_rows: np.ndarray
    views: np.ndarray
    no_face: list[Sample]
    unreadable: list[tuple[Sample, str]]
    computed: int = 0

    def __len__(self) -> int:
        return len(self.labels)


def face_key(pipeline, image_hash: str) -> str:
    return f"faces:{pipeline.detector_signature()}:{image_hash}"


def compute_features(pipeline, samples: list[Sample], label_index: dict[str, int], *, cache: Cache, views: list[int],
                     progress: Progress | None = None, stop: threading.Event | None = None) -> FeatureTable:
    """Frozen outputs of every sample and view, from the cache where possible.

    Args:
        views: which views of each image: 0 the image, -1 its mirror, 1 and up augmented views
            (see :mod:`facerec.augment`).
        progress: called with ``(done, total)`` samples as work advances.
        stop: when set, raises :class:`Stopped` at the next batch.
    """
    if not views:
        raise ValueError("at least one view is needed")
    signature = pipeline.signature()
    rows: list[tuple[list[np.ndarray], int, int, int]] = []
    pending: list[tuple[np.ndarray, str, int, int]] = []  # crop, cache key, sample index, view
    no_face: list[Sample] = []
    unreadable: list[tuple[Sample, str]] = []
    computed = 0

    def flush() -> None:
        nonlocal computed
        if stop is not None and stop.is_set():
            raise Stopped("stopped while computing features")
        if not pending:
            return
        outputs = pipeline.frozen_outputs(np.stack([crop for crop, *_ in pending]))
        computed += len(pending)
        for position, (_, key, sample_index, view) in enumerate(pending):
            arrays = [_storage_dtype(output[position]) for output in outputs]
            cache.put_arrays(key, arrays)
            rows.append((arrays, label_index[samples[sample_index].label], sample_index, view))
        pending.clear()

    for sample_index, sample in enumerate(samples):
        try:
            data = sample.path.read_bytes()
        except OSError as error:
            unreadable.append((sample, f"cannot read the file ({error.strerror or error})"))
            continue
        image_hash = hashlib.sha256(data).hexdigest()
        keys = {view: f"features:{signature}:{image_hash}:{view}" for view in views}
        missing = []
        for view, key in keys.items():
            arrays = cache.get_arrays(key)
            if arrays is None:
                missing.append(view)
            else:
                rows.append((arrays, label_index[sample.label], sample_index, view))
        if missing:
            try:
                crop = _main_crop(pipeline, cache, data, image_hash, sample)
            except ImageError as error:
                unreadable.append((sample, error.reason))
            else:
                if crop is None:
                    no_face.append(sample)
                else:
                    pending.extend((augmented_view(crop, image_hash, view), keys[view], sample_index, view) for view in missing)
        if len(pending) >= BATCH_SIZE:
            flush()
        if progress is not None:
            progress(sample_index + 1, len(samples))
    flush()
    return _table(rows, no_face, unreadable, pipeline.output_count, computed)


def concatenate_tables(first: FeatureTable, second: FeatureTable, *, offset: int) -> FeatureTable:
    """The rows of both tables in one, ``second``'s sample indices shifted by ``offset`` (the
    number of samples ``first`` was computed from), so each image keeps its own index."""
    if not len(second):
        return first
    if not len(first):
        return dataclasses.replace(second, sample_rows=second.sample_rows + offset)
    return FeatureTable(
        [np.concatenate([a, b]) for a, b in zip(first.inputs, second.inputs)],
        np.concatenate([first.labels, second.labels]),
        np.concatenate([first.sample_rows, second.sample_rows + offset]),
        np.concatenate([first.views, second.views]),
        first.no_face + second.no_face, first.unreadable + second.unreadable, first.computed + second.computed,
    )


def _main_crop(pipeline, cache: Cache, data: bytes, image_hash: str, sample: Sample) -> np.ndarray | None:
    """The crop of the image's largest face (face mode) or the whole image; None if no face."""
    image = load_image(data, name=str(sample.path))
    face: Face | None = None
    if pipeline.faces.enabled:
        key = face_key(pipeline, image_hash)
        boxes = cache.get_json(key)
        if boxes is None:
            found = pipeline.locate(image)
            boxes = [dataclasses.asdict(item) for item in found]
            cache.put_json(key, boxes)
        if not boxes:
            return None
        face = Face.from_dict(boxes[0])
    return pipeline.prepare(image, face)


def _storage_dtype(array: np.ndarray) -> np.ndarray:
    # Spatial activations (fine-tuning) are large; half precision halves disk and memory use
    # at no measurable cost to a head trained on them. Pooled vectors stay in full precision.
    return array.astype(np.float16) if array.ndim > 1 else array.astype(np.float32)


def _table(rows, no_face, unreadable, output_count: int, computed: int) -> FeatureTable:
    if not rows:
        return FeatureTable([np.zeros((0,)) for _ in range(output_count)], np.zeros((0,), int), np.zeros((0,), int),
                            np.zeros((0,), int), no_face, unreadable, computed)
    rows.sort(key=lambda row: (row[2], row[3]))
    inputs = [np.stack([row[0][index] for row in rows]).astype(np.float32) for index in range(output_count)]
    labels = np.asarray([row[1] for row in rows])
    return FeatureTable(inputs, labels, np.asarray([row[2] for row in rows]), np.asarray([row[3] for row in rows]),
                        no_face, unreadable, computed)
