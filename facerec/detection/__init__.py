"""Face mode: its settings, and the face detectors by name.

    settings = FaceSettings()                   # face mode on, the default detector
    faces = get_detector(settings).detect(rgb)  # [Face(box, confidence, landmarks), ...], largest first

Each detector is one module (``blazeface``, ``mtcnn``, ``dlib_hog``); :data:`DETECTORS` names
them and the chains that back one up with another, and :func:`get_detector` builds each once
per process. The default, ``blazeface+mtcnn``, is MediaPipe's BlazeFace (full range: 5-6 ms of
CPU per 640x480 frame) and, for the photos where it finds no face, MTCNN (about 190 ms): on the
117 photos of ``five_celebrity_faces`` BlazeFace alone found every face, as MTCNN and dlib's
HOG together did before (``bench/results/detectors.md``). Video frames use BlazeFace alone
(:func:`get_live_detector`). MTCNN's boxes are taller than BlazeFace's, so in the chain they are
redrawn in BlazeFace's convention: a face is cut out the same way whichever detector found it.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable

from facerec.detection.base import Detector, Face, FallbackDetector, Reboxed
from facerec.detection.mtcnn import DEFAULT_MIN_CONFIDENCE

__all__ = ["DETECTORS", "Detector", "Face", "FaceSettings", "FallbackDetector", "get_detector", "get_live_detector"]

# Measured on the train split of web photos (cross-validated): a tight crop keeps the face and
# drops hair, background and other people, which a few training photos cannot teach to ignore.
DEFAULT_FACE_MARGIN = 0.1
BLAZEFACE, BLAZEFACE_SHORT = "blazeface", "blazeface-short"
MTCNN = "mtcnn"
DLIB_HOG = "dlib-hog"
# BlazeFace, and MTCNN for the photos where BlazeFace finds no face: the default.
BLAZEFACE_THEN_MTCNN = "blazeface+mtcnn"
# MTCNN, and dlib's HOG detector for the photos where MTCNN finds no face (needs dlib): the
# detector of models saved by facerec 0.1.
MTCNN_THEN_DLIB_HOG = "mtcnn+dlib-hog"
DEFAULT_DETECTOR = BLAZEFACE_THEN_MTCNN
# MTCNN's box in BlazeFace's convention, measured where both found the face (n = 115 photos):
# 1.22 times as wide, 0.89 times as tall, its centre lower by 0.05 of MTCNN's height.
MTCNN_AS_BLAZEFACE = (1.22, 0.89, 0.05)


@dataclasses.dataclass(frozen=True)
class FaceSettings:
    """Face mode: whether to find and crop faces, and how."""

    enabled: bool = True
    margin: float = DEFAULT_FACE_MARGIN
    align: bool = True
    # Grayscale crops for the VGG16 and MobileNet backbones (dlib's network takes its own colour
    # chips); off by default: see TrainingSettings.grayscale_faces.
    grayscale: bool = False
    min_confidence: float = DEFAULT_MIN_CONFIDENCE
    detector: str = DEFAULT_DETECTOR

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> FaceSettings:
        known = {field.name for field in dataclasses.fields(cls)}
        return cls(**{key: value for key, value in values.items() if key in known})

    def detection_signature(self) -> str:
        """Identifies what finds the faces; part of the cache key of detected boxes."""
        return f"{self.detector}-{self.min_confidence}" if self.enabled else "whole-image"


def _blazeface(model: str) -> Callable[[FaceSettings], Detector]:
    def build(settings: FaceSettings) -> Detector:
        from facerec.detection.blazeface import BlazeFaceDetector

        # MTCNN's confidences are not BlazeFace's: BlazeFace keeps its own measured threshold.
        return BlazeFaceDetector(model)
    return build


def _mtcnn(settings: FaceSettings) -> Detector:
    from facerec.detection.mtcnn import MtcnnDetector

    return MtcnnDetector(min_confidence=settings.min_confidence)


def _dlib_hog(settings: FaceSettings) -> Detector:
    from facerec.detection.dlib_hog import HogFaceDetector

    return HogFaceDetector()


SINGLE_DETECTORS: dict[str, Callable[[FaceSettings], Detector]] = {
    BLAZEFACE: _blazeface("full"),
    BLAZEFACE_SHORT: _blazeface("short"),
    MTCNN: _mtcnn,
    DLIB_HOG: _dlib_hog,
}
# Detectors that back one up with the next, for the images where it finds no face. The first is
# the fastest: video frames use it alone (see get_live_detector).
CHAINS: dict[str, tuple[str, ...]] = {
    BLAZEFACE_THEN_MTCNN: (BLAZEFACE, MTCNN),
    MTCNN_THEN_DLIB_HOG: (MTCNN, DLIB_HOG),
}
# Box conventions a chain redraws a later detector's boxes in: (chain, detector) -> (width
# factor, height factor, centre shift down as a share of the height).
CONVENTIONS: dict[tuple[str, str], tuple[float, float, float]] = {
    (BLAZEFACE_THEN_MTCNN, MTCNN): MTCNN_AS_BLAZEFACE,
}
DETECTORS = (*SINGLE_DETECTORS, *CHAINS)

_detectors: dict[tuple[str, float], Detector] = {}
_detectors_lock = threading.RLock()  # reentrant: a chain is built from the shared detectors


def get_detector(settings: FaceSettings) -> Detector:
    """One shared detector per setting: some take memory and a second to build.

    Raises:
        ValueError: no detector has that name.
    """
    if settings.detector not in DETECTORS:
        raise ValueError(f"unknown face detector {settings.detector!r}; choose one of {sorted(DETECTORS)}")
    key = (settings.detector, settings.min_confidence)
    with _detectors_lock:
        if key not in _detectors:
            _detectors[key] = _build(settings)
        return _detectors[key]


def get_live_detector(settings: FaceSettings) -> Detector:
    """The detector for video frames: the first (fastest) of a chain, alone; a missed face in
    one frame is found in the next, where a photo has no next frame."""
    chain = CHAINS.get(settings.detector)
    return get_detector(dataclasses.replace(settings, detector=chain[0]) if chain else settings)


def _build(settings: FaceSettings) -> Detector:
    if settings.detector in SINGLE_DETECTORS:
        return SINGLE_DETECTORS[settings.detector](settings)
    detectors = [get_detector(dataclasses.replace(settings, detector=name)) for name in CHAINS[settings.detector]]
    detectors = [Reboxed(detector, *CONVENTIONS[settings.detector, name]) if (settings.detector, name) in CONVENTIONS
                 else detector for detector, name in zip(detectors, CHAINS[settings.detector])]
    chained = detectors[-1]
    for detector in reversed(detectors[:-1]):
        chained = FallbackDetector(detector, chained)
    return chained
