"""Face detection and cropping on real photos."""

import json
import math

import cv2
import numpy as np
import pytest

import facerec
from facerec import load_image
from facerec.detection import Face
from facerec.faces import crop_face
from facerec.model_card import model_card_text

CELEBRITY = "five_celebrity_faces/train/jerry_seinfeld/httpwwwpsychiatrictimescomsitesdefaultfilesimagesmediaPTMofficSeinfeldjpg.jpg"
OTHER_CELEBRITY = "five_celebrity_faces/train/ben_afflek/httpcsvkmeuaeccjpg.jpg"
CAT = "dogs_vs_cats_small/test/cats/cat.4010.jpg"


def _eye_angle(face: dict) -> float:
    (left_x, left_y), (right_x, right_y) = face["landmarks"]["left_eye"], face["landmarks"]["right_eye"]
    return math.degrees(math.atan2(right_y - left_y, right_x - left_x))


def test_finds_the_face_in_a_real_photo(datasets):
    image = load_image(datasets / CELEBRITY)
    faces = facerec.detect_faces(image)
    assert len(faces) == 1
    x, y, width, height = faces[0]["box"]
    assert 0 <= x and 0 <= y and x + width <= image.shape[1] and y + height <= image.shape[0]
    assert width > 40 and height > 40 and faces[0]["confidence"] > 0.5
    assert {"left_eye", "right_eye", "nose", "mouth"} <= set(faces[0]["landmarks"])
    assert faces[0]["detector"] == "blazeface-full"  # the fast detector found it: no fallback needed


def test_finds_no_face_in_a_cat_photo(datasets):
    assert facerec.detect_faces(datasets / CAT) == []


def test_finds_every_face_in_a_group(datasets):
    first, second = (load_image(datasets / name) for name in (CELEBRITY, OTHER_CELEBRITY))
    height = max(first.shape[0], second.shape[0])
    group = np.zeros((height, first.shape[1] + second.shape[1], 3), dtype=np.uint8)
    group[: first.shape[0], : first.shape[1]] = first
    group[: second.shape[0], first.shape[1] :] = second
    faces = facerec.detect_faces(group)
    assert len(faces) == 2
    centres = sorted(face["box"][0] + face["box"][2] / 2 for face in faces)
    assert centres[0] < first.shape[1] < centres[1]


def test_alignment_levels_the_eyes(datasets):
    image = load_image(datasets / CELEBRITY)
    height, width = image.shape[:2]
    tilted = cv2.warpAffine(image, cv2.getRotationMatrix2D((width / 2, height / 2), 20, 1.0), (width, height),
                            borderMode=cv2.BORDER_REPLICATE)
    [face] = [Face(**item) for item in facerec.detect_faces(tilted)]
    assert abs(_eye_angle(facerec.detect_faces(tilted)[0])) > 12
    aligned = crop_face(tilted, face, size=224, margin=0.4, align=True)
    unaligned = crop_face(tilted, face, size=224, margin=0.4, align=False)
    assert abs(_eye_angle(facerec.detect_faces(aligned)[0])) < 5
    assert abs(_eye_angle(facerec.detect_faces(unaligned)[0])) > 12


def test_crop_is_square_and_sized():
    image = np.zeros((100, 200, 3), dtype=np.uint8)
    crop = crop_face(image, Face(box=(50, 20, 40, 60), confidence=1.0), size=64, margin=0.2)
    assert crop.shape == (64, 64, 3)
    with pytest.raises(ValueError, match="margin"):
        crop_face(image, Face(box=(50, 20, 40, 60), confidence=1.0), size=64, margin=-1)


def test_a_grayscale_crop_holds_the_photos_luminance_in_every_channel(datasets):
    image = load_image(datasets / CELEBRITY)
    [face] = [Face(**item) for item in facerec.detect_faces(image)]
    colour = crop_face(image, face, size=160, margin=0.1)
    gray = crop_face(image, face, size=160, margin=0.1, grayscale=True)
    assert gray.shape == colour.shape == (160, 160, 3)
    assert np.abs(colour[..., 0].astype(int) - colour[..., 2]).mean() > 5  # the photo has colour
    np.testing.assert_array_equal(gray[..., 0], cv2.cvtColor(colour, cv2.COLOR_RGB2GRAY))
    np.testing.assert_array_equal(gray[..., 0], gray[..., 1])
    np.testing.assert_array_equal(gray[..., 1], gray[..., 2])


def test_vgg16_can_classify_grayscale_faces_and_a_saved_model_keeps_its_crops_colour(datasets, tmp_path):
    """Colour crops by default; ``grayscale_faces=True`` makes them grayscale, the saved config says
    so and a loaded model goes on making them; a config.json from before the setting existed (no
    ``grayscale`` key) was trained on colour crops and still gets them."""
    photos = tmp_path / "photos"
    for label in ("jerry_seinfeld", "ben_afflek"):
        (photos / label).mkdir(parents=True)
        for path in sorted((datasets / "five_celebrity_faces" / "train" / label).iterdir())[:4]:
            (photos / label / path.name).symlink_to(path)
    image = load_image(datasets / CELEBRITY)
    fast = {"backbone": "vgg16", "weights": None, "image_size": 32, "epochs": 2, "cache_dir": tmp_path / "cache"}

    def crop_of(classifier):
        return classifier.pipeline.prepare(image, classifier.pipeline.locate(image)[0])

    def is_gray(crop):
        return bool((crop[..., 0] == crop[..., 1]).all() and (crop[..., 1] == crop[..., 2]).all())

    colour = facerec.train(photos, **fast)
    assert colour.config.faces["grayscale"] is False and not is_gray(crop_of(colour))
    gray = facerec.train(photos, grayscale_faces=True, **fast)
    assert gray.config.faces["grayscale"] is True and is_gray(crop_of(gray))
    assert "make it grayscale" in model_card_text(gray.config, "someone/faces")  # plain Keras users must too
    assert "make it grayscale" not in model_card_text(colour.config, "someone/faces")
    assert is_gray(crop_of(facerec.Classifier.load(gray.save(tmp_path / "gray"))))

    saved = colour.save(tmp_path / "colour")
    config = json.loads((saved / "config.json").read_text(encoding="utf-8"))
    del config["faces"]["grayscale"]
    (saved / "config.json").write_text(json.dumps(config), encoding="utf-8")
    assert not is_gray(crop_of(facerec.Classifier.load(saved)))
