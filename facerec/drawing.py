"""Show what :meth:`Classifier.recognize` found: every face outlined and named on the image, and in words.

    found = classifier.recognize(photo)
    picture = facerec.drawing.draw_faces(load_image(photo), found, labels=classifier.labels)
    facerec.drawing.describe_face(found[0], threshold=0.5)    # "alice (93%)"

Each label keeps one colour (its place in ``labels``), in photos and in the live view alike;
``"unknown"`` is grey. Boxes are outlines, so the face stays visible, with the name on a tag
just above. A small photo is enlarged before drawing, so lines and names are sharp however it is
shown. Names are drawn with DejaVu Sans when the system has it (most Linux systems, and any
script it covers), else with Pillow's built-in font.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from facerec.config import UNKNOWN

PALETTE = [(79, 70, 229), (5, 150, 105), (220, 38, 38), (217, 119, 6), (219, 39, 119), (8, 145, 178),
           (101, 163, 13), (124, 58, 237), (234, 88, 12), (37, 99, 235)]
UNKNOWN_COLOUR = (120, 126, 138)
PENDING_COLOUR = (230, 232, 236)  # a face seen, not yet named (live view)
FONT_FILES = ("DejaVuSans-Bold.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
# Photos smaller than this (longer side, pixels) are enlarged before drawing.
MIN_DRAWN_SIDE = 480


def draw_faces(image: np.ndarray, faces: list[dict], *, labels: Sequence[str] = ()) -> np.ndarray:
    """A copy of an RGB ``uint8`` image with each face outlined and named (with its probability).

    Args:
        faces: what :meth:`~facerec.classifier.Classifier.recognize` returned for the image.
        labels: the classifier's labels, which fix each label's colour.
    """
    picture = Image.fromarray(image).convert("RGB")
    scale = max(1.0, MIN_DRAWN_SIDE / max(picture.size))
    if scale > 1.0:
        picture = picture.resize((round(picture.width * scale), round(picture.height * scale)), Image.LANCZOS)
    draw = ImageDraw.Draw(picture)
    side = max(picture.size)
    # Sizes for a picture shown about 340 pixels high (the app's result): lines and names stay
    # legible, and a name is no wider than about its face, so the tags of neighbours do not overlap.
    line = max(2, round(side / 160))
    for face in faces:
        x, y, width, height = (round(value * scale) for value in face["box"])
        colour = label_colour(face["label"], labels)
        draw.rectangle((x, y, x + width, y + height), outline=colour, width=line)
        text = caption(face)
        font = _font(max(11, min(round(side / 22), round(1.6 * width / max(1, len(text))))))
        left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
        tag_width, tag_height = right - left + 2 * line, bottom - top + 2 * line
        # The tag sits just above the box (inside its top edge when the box touches the image's
        # top), and inside the picture on the right.
        tag_x = max(0, min(x, picture.width - tag_width))
        tag_y = y - tag_height if y - tag_height >= 0 else y
        draw.rectangle((tag_x, tag_y, tag_x + tag_width, tag_y + tag_height), fill=colour)
        ink = (30, 32, 38) if colour == PENDING_COLOUR else (255, 255, 255)
        draw.text((tag_x + line - left, tag_y + line - top), text, font=font, fill=ink)
    return np.asarray(picture)


def caption(face: dict) -> str:
    """A face's tag: its name and probability, ``unknown``, or ``…`` while the live view names it."""
    if face["label"] is None:
        return "…"
    if face["label"] == UNKNOWN:
        return UNKNOWN
    return f"{face['label']} {face['probability']:.0%}"


def describe_face(face: dict, *, threshold: float, distance_threshold: float | None = None, strong=str) -> str:
    """A face in words; an unknown one says which known person it is closest to, and why it is not them.

    Args:
        threshold, distance_threshold: the rules it was judged by (see :meth:`Classifier.recognize`).
        strong: how to set the name apart (``lambda text: f"**{text}**"`` for Markdown).
    """
    if face["label"] != UNKNOWN:
        return f"{strong(face['label'])} ({face['probability']:.0%})"
    closest = max(face["probabilities"], key=face["probabilities"].get)
    distance = face.get("distance")
    if distance is not None and distance_threshold is not None and distance > distance_threshold:
        why = f"farther than {distance_threshold:.2f} from their photos: {distance:.2f}"
    else:
        why = f"only {face['probability']:.0%} sure, under {threshold:.0%}"
    return f"{strong(UNKNOWN)} (closest: {closest}, {why})"


def label_colour(label: str | None, labels: Sequence[str]) -> tuple[int, int, int]:
    """The colour a label is drawn in (the same in every image)."""
    if label is None:
        return PENDING_COLOUR
    if label == UNKNOWN:
        return UNKNOWN_COLOUR
    index = list(labels).index(label) if label in labels else sum(map(ord, label))
    return PALETTE[index % len(PALETTE)]


@functools.cache
def _font(size: int) -> ImageFont.ImageFont:
    for name in FONT_FILES:
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default(size)
