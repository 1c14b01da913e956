"""Draw what :meth:`Classifier.recognize` found: every face boxed and named, on the image itself.

    found = classifier.recognize(photo)
    picture = facerec.drawing.draw_faces(load_image(photo), found, labels=classifier.labels)

Each label keeps one colour (its place in ``labels``), so a live video does not flicker between
colours; ``"unknown"`` is grey. Names are drawn with DejaVu Sans when the system has it (most
Linux systems, and any script it covers), else with Pillow's built-in font.
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
FONT_FILES = ("DejaVuSans-Bold.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")


def draw_faces(image: np.ndarray, faces: list[dict], *, labels: Sequence[str] = ()) -> np.ndarray:
    """A copy of an RGB ``uint8`` image with each face boxed and named (with its probability).

    Args:
        faces: what :meth:`~facerec.classifier.Classifier.recognize` returned for the image.
        labels: the classifier's labels, which fix each label's colour.
    """
    picture = Image.fromarray(image).convert("RGB")
    draw = ImageDraw.Draw(picture)
    side = max(picture.size)
    line = max(2, round(side / 250))
    font = _font(max(12, round(side / 32)))
    for face in faces:
        x, y, width, height = face["box"]
        colour = _colour(face["label"], labels)
        draw.rectangle((x, y, x + width, y + height), outline=colour, width=line)
        text = f"{face['label']} {face['probability']:.0%}"
        left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
        text_height = bottom - top + 2 * line
        # The name sits above the box, or inside its top edge when the box touches the image's top.
        text_y = y - text_height if y - text_height >= 0 else y
        draw.rectangle((x, text_y, x + right - left + 2 * line, text_y + text_height), fill=colour)
        draw.text((x + line - left, text_y + line - top), text, font=font, fill=(255, 255, 255))
    return np.asarray(picture)


def _colour(label: str, labels: Sequence[str]) -> tuple[int, int, int]:
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
