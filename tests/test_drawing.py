"""Boxes and names drawn on the image (facerec.drawing)."""

import numpy as np

from facerec.drawing import PALETTE, UNKNOWN_COLOUR, draw_faces


def face(label, box, probability=0.9):
    return {"box": box, "label": label, "probability": probability, "probabilities": {}, "face_confidence": 0.99}


def test_each_face_boxed_in_its_labels_colour_and_named():
    image = np.full((200, 300, 3), 255, np.uint8)
    drawn = draw_faces(image, [face("bob", (40, 80, 60, 60)), face("unknown", (180, 0, 60, 60), 0.3)],
                       labels=["alice", "bob"])
    assert drawn.shape == image.shape and drawn is not image and (image == 255).all()
    assert tuple(drawn[110, 40]) == PALETTE[1]  # The left edge of bob's box, in bob's colour.
    assert tuple(drawn[30, 180]) == UNKNOWN_COLOUR  # Unknown is grey; its name sits inside (no room above).
    label_strip = drawn[60:80, 40:100]  # Above bob's box: the name, white on his colour.
    assert (label_strip == PALETTE[1]).all(axis=-1).any() and (label_strip > 240).all(axis=-1).any()


def test_colours_stay_with_the_label_and_names_in_any_script():
    image = np.zeros((120, 120, 3), np.uint8)
    first = draw_faces(image, [face("李雷", (10, 40, 50, 50))], labels=["José", "李雷"])
    second = draw_faces(image, [face("李雷", (10, 40, 50, 50))], labels=["José", "李雷"])
    assert (first == second).all() and tuple(first[60, 10]) == PALETTE[1]
    assert (draw_faces(image, []) == image).all()
