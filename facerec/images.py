"""Turn whatever a user hands over into an upright RGB image, or refuse it with the reason.

Every entry point of facerec (dataset, training, prediction, CLI, app) reads images through
:func:`load_image`, so every one of them accepts the same inputs and refuses bad ones with the
same clear message.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Union

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

ImageSource = Union[str, os.PathLike, bytes, Image.Image, np.ndarray]

# A decompression bomb declares a huge size in a tiny file. 50 megapixels is above any phone
# photo worth training on and far below what would exhaust memory (50 MP RGB is 150 MB).
MAX_PIXELS = 50_000_000
# The side length images are stored at: enough for several faces in a group photo, and it keeps
# detection time and disk use bounded.
MAX_STORED_SIDE = 1600
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".pgm", ".ppm")


class ImageError(ValueError):
    """An input that cannot be used as an image. The message names the input and the reason."""

    def __init__(self, source_name: str, reason: str):
        super().__init__(f"{source_name}: {reason}")
        self.source_name = source_name
        self.reason = reason


def load_image(source: ImageSource, *, name: str | None = None) -> np.ndarray:
    """Read an image as an upright ``(height, width, 3)`` RGB ``uint8`` array.

    Args:
        source: a file path, the file's bytes, a PIL image, or a numpy array (grayscale,
            RGB or RGBA; ``uint8``, ``uint16`` or floats in ``[0, 1]``).
        name: what to call the input in error messages (defaults to the path).

    Raises:
        ImageError: the input is not a usable image (missing, empty, not an image, truncated,
            too large, or an array of the wrong shape); the message says which.
    """
    if isinstance(source, np.ndarray):
        return _array_to_rgb(source, name or "array")
    if isinstance(source, Image.Image):
        return _pil_to_rgb(source, name or "image")
    if isinstance(source, (bytes, bytearray, memoryview)):
        return _decode(bytes(source), name or "image bytes")
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        return _decode(_read_file(path, name or str(path)), name or str(path))
    raise ImageError(name or type(source).__name__, f"unsupported image type {type(source).__name__}")


def encode_jpeg(image: np.ndarray, *, quality: int = 95, max_side: int | None = MAX_STORED_SIDE) -> bytes:
    """Encode an RGB array as JPEG bytes, shrunk to ``max_side`` if larger.

    Re-encoding also drops EXIF and other metadata, such as a photo's GPS position.
    """
    picture = Image.fromarray(image)
    if max_side is not None and max(picture.size) > max_side:
        picture.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def is_image_name(name: str) -> bool:
    """Whether a file name has an image suffix (the test for what an import picks up)."""
    return Path(name).suffix.lower() in IMAGE_SUFFIXES and not Path(name).name.startswith(".")


def _read_file(path: Path, name: str) -> bytes:
    if not path.exists():
        raise ImageError(name, "file not found")
    if not path.is_file():
        raise ImageError(name, "not a file")
    data = path.read_bytes()
    if not data:
        raise ImageError(name, "empty file (0 bytes)")
    return data


def _decode(data: bytes, name: str) -> np.ndarray:
    if not data:
        raise ImageError(name, "empty file (0 bytes)")
    try:
        picture = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise ImageError(name, "not an image (unrecognised file format)") from None
    except Image.DecompressionBombError:
        raise ImageError(name, f"image too large (over {MAX_PIXELS:,} pixels)") from None
    width, height = picture.size
    if width * height > MAX_PIXELS:
        raise ImageError(name, f"image too large ({width}x{height}, over {MAX_PIXELS:,} pixels)")
    try:
        picture.load()
    except (OSError, SyntaxError, ValueError) as error:
        raise ImageError(name, f"truncated or corrupt image ({error})") from None
    return _pil_to_rgb(picture, name)


def _pil_to_rgb(picture: Image.Image, name: str) -> np.ndarray:
    width, height = picture.size
    if width * height > MAX_PIXELS:
        raise ImageError(name, f"image too large ({width}x{height}, over {MAX_PIXELS:,} pixels)")
    if width == 0 or height == 0:
        raise ImageError(name, "image has no pixels")
    if getattr(picture, "n_frames", 1) > 1:
        picture.seek(0)  # An animated GIF or multi-page TIFF: its first frame is the image.
    try:
        picture = ImageOps.exif_transpose(picture)
    except (OSError, SyntaxError, ValueError):
        pass  # Unreadable EXIF is not a reason to refuse the pixels.
    if picture.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        return _array_to_rgb(np.asarray(picture), name, sixteen_bit=picture.mode != "F")
    if picture.mode in ("RGBA", "LA", "PA") or (picture.mode == "P" and "transparency" in picture.info):
        return _flatten_alpha(picture.convert("RGBA"))
    return np.ascontiguousarray(np.asarray(picture.convert("RGB"), dtype=np.uint8))


def _flatten_alpha(picture: Image.Image) -> np.ndarray:
    """Composite on white: transparent areas of logos and cut-out portraits read as background."""
    background = Image.new("RGBA", picture.size, (255, 255, 255, 255))
    return np.asarray(Image.alpha_composite(background, picture).convert("RGB"), dtype=np.uint8)


def _array_to_rgb(array: np.ndarray, name: str, *, sixteen_bit: bool = False) -> np.ndarray:
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)):
        raise ImageError(name, f"array of shape {array.shape} is not an image (expected HxW, HxWx3 or HxWx4)")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ImageError(name, "image has no pixels")
    if array.shape[0] * array.shape[1] > MAX_PIXELS:
        raise ImageError(name, f"image too large (over {MAX_PIXELS:,} pixels)")
    array = _to_uint8(array, name, sixteen_bit=sixteen_bit)
    if array.ndim == 2:
        array = np.stack([array] * 3, axis=-1)
    elif array.shape[2] == 4:
        array = _flatten_alpha(Image.fromarray(array, mode="RGBA"))
    return np.ascontiguousarray(array)


def _to_uint8(array: np.ndarray, name: str, *, sixteen_bit: bool) -> np.ndarray:
    if array.dtype == np.uint8:
        return array
    if array.dtype == np.bool_:
        return array.astype(np.uint8) * 255
    if np.issubdtype(array.dtype, np.floating):
        if not np.all(np.isfinite(array)):
            raise ImageError(name, "array holds NaN or infinite values")
        scale = 255.0 if array.max(initial=0.0) <= 1.0 else 1.0
        return np.clip(np.rint(array * scale), 0, 255).astype(np.uint8)
    if np.issubdtype(array.dtype, np.integer):
        if sixteen_bit or array.dtype == np.uint16 or array.max(initial=0) > 255:
            return np.clip(np.rint(array.astype(np.float64) / 257.0), 0, 255).astype(np.uint8)
        return np.clip(array, 0, 255).astype(np.uint8)
    raise ImageError(name, f"array of dtype {array.dtype} is not an image")
