"""Faces outlined and named on the image, and in words (facerec.drawing)."""

import numpy as np

from facerec.drawing import MIN_DRAWN_SIDE, PALETTE, PENDING_COLOUR, UNKNOWN_COLOUR, describe_face, draw_faces


def face(label, box, probability=0.9, probabilities=None, distance=None):
    return {"box": box, "label": label, "probability": probability, "probabilities": probabilities or {},
            "distance": distance, "face_confidence": 0.99}


def test_each_face_outlined_in_its_labels_colour_and_named_above():
    image = np.full((400, 600, 3), 255, np.uint8)
    drawn = draw_faces(image, [face("bob", (80, 160, 120, 120)), face("unknown", (360, 0, 120, 120), 0.3)],
                       labels=["alice", "bob"])
    assert drawn.shape == image.shape and drawn is not image and (image == 255).all()
    assert tuple(drawn[220, 80]) == PALETTE[1]  # The left edge of bob's box, in bob's colour.
    assert (drawn[190:250, 100:180] == 255).all()  # An outline: the face inside stays as it was.
    assert tuple(drawn[60, 360]) == UNKNOWN_COLOUR  # Unknown is grey; its tag sits inside (no room above).
    tag = drawn[125:160, 80:200]  # Above bob's box: the name, white on his colour.
    assert (tag == PALETTE[1]).all(axis=-1).any() and (tag > 240).all(axis=-1).any()


def test_colours_stay_with_the_label_and_names_in_any_script():
    image = np.zeros((500, 500, 3), np.uint8)
    first = draw_faces(image, [face("李雷", (40, 160, 200, 200))], labels=["José", "李雷"])
    second = draw_faces(image, [face("李雷", (40, 160, 200, 200))], labels=["José", "李雷"])
    assert (first == second).all() and tuple(first[250, 40]) == PALETTE[1]
    assert (draw_faces(image, []) == image).all()


def test_a_small_photo_is_enlarged_before_drawing_so_lines_and_names_are_sharp():
    small = np.full((112, 92, 3), 200, np.uint8)  # an ORL photo's size
    drawn = draw_faces(small, [face("alice", (20, 30, 50, 50)), face(None, (0, 0, 10, 10))], labels=["alice"])
    scale = MIN_DRAWN_SIDE / 112
    assert drawn.shape == (MIN_DRAWN_SIDE, round(92 * scale), 3)
    assert tuple(drawn[round(55 * scale), round(20 * scale)]) == PALETTE[0]
    assert tuple(drawn[2, 2]) == PENDING_COLOUR  # a face the live view has not named yet


def test_an_unknown_face_says_whom_it_is_closest_to_and_why_it_is_not_them():
    stranger = face("unknown", (0, 0, 1, 1), 0.63, {"Tony Blair": 0.63, "Colin Powell": 0.37}, distance=0.62)
    assert describe_face(stranger, threshold=0.0, distance_threshold=0.5) == \
        "unknown (closest: Tony Blair, farther than 0.50 from their photos: 0.62)"
    unsure = face("unknown", (0, 0, 1, 1), 0.41, {"a": 0.41, "b": 0.3, "c": 0.29})
    assert describe_face(unsure, threshold=0.5, strong=lambda text: f"**{text}**") == \
        "**unknown** (closest: a, only 41% sure, under 50%)"
    assert describe_face(face("a", (0, 0, 1, 1), 0.93), threshold=0.5) == "a (93%)"
