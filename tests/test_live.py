"""The live view's core: faces followed from frame to frame, recognised when they appear and then
at a bounded rate, their names smoothed; every result says which detector found the face.

Real photos (five_celebrity_faces) pasted into webcam-sized frames, the real detector and the
real dlib model (the session's ``celebrity_model``); a fake clock makes the frame times exact.
"""

from __future__ import annotations

import numpy as np
import pytest

import facerec
from facerec.detection import Face
from facerec.live import REFRESH_SECONDS, LiveRecognizer
from facerec.tracking import FaceTracker, iou

FRAME_SECONDS = 1 / 15
FRAME_SHAPE = (480, 640, 3)


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def tick(self, seconds: float = FRAME_SECONDS) -> None:
        self.now += seconds


def face(x: int, y: int, side: int = 100) -> Face:
    return Face(box=(x, y, side, side), confidence=0.99, detector="test")


def frame_with(*placed: tuple[np.ndarray, int, int]) -> np.ndarray:
    """A 640x480 grey frame with each ``(photo, x, y)`` pasted at its place."""
    frame = np.full(FRAME_SHAPE, 180, np.uint8)
    for photo, x, y in placed:
        height, width = photo.shape[:2]
        frame[y:y + height, x:x + width] = photo
    return frame


def photo_of(path, height: int = 220) -> np.ndarray:
    import cv2

    image = facerec.load_image(path)
    return cv2.resize(image, (round(image.shape[1] * height / image.shape[0]), height), interpolation=cv2.INTER_AREA)


# The tracker -------------------------------------------------------------------------------------


def test_a_moving_face_keeps_its_track_and_a_new_face_starts_one():
    tracker = FaceTracker()
    first = tracker.update([face(100, 100)], now=0.0)[0].id
    ids = [tracker.update([face(100 + 8 * step, 100 + 3 * step)], now=step * FRAME_SECONDS)[0].id for step in range(1, 30)]
    assert ids == [first] * 29
    tracks = tracker.update([face(332, 187), face(500, 300, 80)], now=2.0)
    assert tracks[0].id == first and tracks[1].id not in (first,)
    assert iou(tracks[0].box, face(332, 187).box) == 1.0


def test_a_track_survives_a_missed_detection_then_ends():
    tracker = FaceTracker(keep_seconds=0.3)
    track = tracker.update([face(50, 50)], now=0.0)[0]
    assert [kept.id for kept in tracker.update([], now=0.1)] == [track.id] and track.missed == 1
    assert tracker.update([face(52, 50)], now=0.2)[0].id == track.id and track.missed == 0
    assert tracker.update([], now=0.6) == []
    assert tracker.update([face(52, 50)], now=0.7)[0].id != track.id


def test_overlapping_faces_are_not_swapped():
    tracker = FaceTracker()
    left, right = tracker.update([face(100, 100), face(170, 100)], now=0.0)
    moved = tracker.update([face(175, 100), face(104, 100)], now=FRAME_SECONDS)  # listed in the other order
    assert [track.id for track in moved] == [right.id, left.id]


# The live recogniser -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def people(celebrity_model):
    """Two test photos of different known people, resized for a webcam frame, and their labels."""
    model = celebrity_model
    return [(photo_of(model.probes[index]), model.classifier.labels[index]) for index in (0, 3)]


def counting_scores(classifier, monkeypatch) -> list[int]:
    """Spy on the classifier's recognition: the number of crops of each call."""
    calls, score = [], classifier.score_crops
    monkeypatch.setattr(classifier, "score_crops", lambda crops: calls.append(len(crops)) or score(crops))
    return calls


def test_a_face_is_named_at_once_and_recognised_again_only_at_the_refresh_rate(celebrity_model, people, monkeypatch):
    classifier, (photo, label) = celebrity_model.classifier, people[0]
    clock = FakeClock()
    live = LiveRecognizer.synchronous(classifier, clock=clock)
    calls = counting_scores(classifier, monkeypatch)
    seen = []
    frames = 30  # two seconds at 15 frames/s, the face moving right
    for step in range(frames):
        seen.append(live.process(frame_with((photo, 120 + 6 * step, 120))))
        clock.tick()
    assert all(len(found) == 1 for found in seen)
    assert {found[0]["track"] for found in seen} == {seen[0][0]["track"]}
    assert [found[0]["label"] for found in seen] == [label] * frames  # named from the first frame on
    assert all(found[0]["detector"] for found in seen)
    expected = frames * FRAME_SECONDS / REFRESH_SECONDS
    assert expected - 1 <= len(calls) <= expected + 2, calls  # not once per frame


def test_two_people_get_two_tracks_and_their_own_names(celebrity_model, people):
    (first, first_label), (second, second_label) = people
    clock = FakeClock()
    live = LiveRecognizer.synchronous(celebrity_model.classifier, clock=clock)
    for _ in range(3):
        found = live.process(frame_with((first, 40, 120), (second, 360, 140)))
        clock.tick()
    by_place = sorted(found, key=lambda face: face["box"][0])
    assert [face["label"] for face in by_place] == [first_label, second_label]
    assert len({face["track"] for face in found}) == 2


def test_recognition_in_the_background_never_holds_a_frame(celebrity_model, people):
    photo, label = people[0]
    live = LiveRecognizer(celebrity_model.classifier)
    first = live.process(frame_with((photo, 200, 120)))
    assert len(first) == 1  # the box comes at once, named or not yet
    frames = 1
    while not live.idle() or frames < 2:
        found = live.process(frame_with((photo, 200, 120)))
        frames += 1
    found = live.process(frame_with((photo, 200, 120)))
    assert found[0]["label"] == label and found[0]["track"] == first[0]["track"]


def test_every_photo_result_says_which_detector_ran(celebrity_model):
    found = celebrity_model.classifier.recognize(celebrity_model.probes[0])
    assert found and all(face["detector"] for face in found)
