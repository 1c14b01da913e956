"""Follow faces from one video frame to the next, so each is recognised once, not in every frame.

    tracker = FaceTracker()
    for frame in video:
        tracks = tracker.update(detector.detect(frame), now=time.monotonic())
        for track in tracks: track.id, track.face.box ...

Between two frames a face moves a little, so its new box overlaps its old one far more than any
other face's: each detection joins the track whose last box it overlaps most (intersection over
union, greedily from the best pair: a handful of faces needs no Hungarian assignment). A
detection that overlaps no track starts a new one; a track that finds no detection is kept for a
short while (a missed frame must not make the name blink) and then dropped.
"""

from __future__ import annotations

import dataclasses
import itertools

from facerec.detection import Face

Box = tuple[int, int, int, int]
# Boxes of the same face in consecutive frames overlap far more than this (a face crossing the
# whole frame in a second moves about a tenth of its width per frame at 15 frames/s).
MIN_IOU = 0.3
# A track survives this long without a detection (a blink of the detector, a hand passing).
KEEP_SECONDS = 0.5


@dataclasses.dataclass
class Track:
    """One face followed over frames.

    Attributes:
        id: unique within its tracker, never reused.
        face: the latest detection (box, confidence, landmarks, detector).
        first_seen, last_seen: when it started and was last detected (the tracker's clock).
        missed: how many updates in a row found no detection for it.
    """

    id: int
    face: Face
    first_seen: float
    last_seen: float
    missed: int = 0

    @property
    def box(self) -> Box:
        return self.face.box


class FaceTracker:
    """Tracks faces by the overlap of their boxes from one update to the next."""

    def __init__(self, *, min_iou: float = MIN_IOU, keep_seconds: float = KEEP_SECONDS):
        if not 0.0 < min_iou <= 1.0:
            raise ValueError(f"min_iou must be in (0, 1], got {min_iou!r}")
        self.min_iou, self.keep_seconds = min_iou, keep_seconds
        self.tracks: list[Track] = []
        self._ids = itertools.count(1)

    def update(self, faces: list[Face], now: float) -> list[Track]:
        """Match this frame's detections to the tracks; returns the tracks alive now, detected ones first
        (in the order of ``faces``), then the ones kept through a missed detection."""
        pairs = sorted(((iou(track.box, face.box), track_index, face_index)
                        for track_index, track in enumerate(self.tracks) for face_index, face in enumerate(faces)),
                       reverse=True)
        matched_tracks: dict[int, int] = {}  # face index -> track index
        for overlap, track_index, face_index in pairs:
            if overlap < self.min_iou:
                break
            if face_index not in matched_tracks and track_index not in matched_tracks.values():
                matched_tracks[face_index] = track_index
        detected = []
        for face_index, face in enumerate(faces):
            if face_index in matched_tracks:
                track = self.tracks[matched_tracks[face_index]]
                track.face, track.last_seen, track.missed = face, now, 0
            else:
                track = Track(next(self._ids), face, first_seen=now, last_seen=now)
            detected.append(track)
        kept = []
        for track_index, track in enumerate(self.tracks):
            if track_index not in matched_tracks.values() and now - track.last_seen <= self.keep_seconds:
                track.missed += 1
                kept.append(track)
        self.tracks = detected + kept
        return list(self.tracks)


def iou(first: Box, second: Box) -> float:
    """Intersection over union of two ``(x, y, width, height)`` boxes (0 when they do not touch)."""
    left, top = max(first[0], second[0]), max(first[1], second[1])
    right = min(first[0] + first[2], second[0] + second[2])
    bottom = min(first[1] + first[3], second[1] + second[3])
    intersection = max(0, right - left) * max(0, bottom - top)
    union = first[2] * first[3] + second[2] * second[3] - intersection
    return intersection / union if union > 0 else 0.0
