"""Every kind of image a user hands over is read upright as RGB, or refused with its name and why."""

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from facerec import Dataset, ImageError, load_image


def _png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _jpeg_bytes(image: Image.Image, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", **options)
    return buffer.getvalue()


def _declared_size_png(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares ``width`` x ``height`` pixels (a decompression bomb)."""
    data = bytearray(_png_bytes(Image.new("L", (1, 1))))
    header = struct.pack(">II", width, height) + data[24:29]
    data[16:29] = header
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + bytes(header)))
    return bytes(data)


def test_non_image_with_an_image_name_is_refused_by_name(tmp_path):
    path = tmp_path / "holiday.jpg"
    path.write_text("this is not a picture")
    with pytest.raises(ImageError, match=r"holiday\.jpg: not an image"):
        load_image(path)


def test_empty_file_is_refused(tmp_path):
    path = tmp_path / "empty.png"
    path.write_bytes(b"")
    with pytest.raises(ImageError, match=r"empty\.png: empty file"):
        load_image(path)


def test_missing_file_is_refused(tmp_path):
    with pytest.raises(ImageError, match="file not found"):
        load_image(tmp_path / "nowhere.jpg")


def test_truncated_jpeg_is_refused(tmp_path):
    data = _jpeg_bytes(Image.fromarray(np.random.default_rng(0).integers(0, 255, (200, 200, 3), dtype=np.uint8)))
    path = tmp_path / "cut.jpg"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageError, match=r"cut\.jpg: truncated or corrupt"):
        load_image(path)


def test_decompression_bomb_is_refused_before_decoding():
    with pytest.raises(ImageError, match="too large"):
        load_image(_declared_size_png(60_000, 60_000), name="bomb.png")
    with pytest.raises(ImageError, match="too large"):
        load_image(_declared_size_png(10_000, 6_000), name="big.png")  # Above our limit, below Pillow's.


def test_animated_gif_gives_its_first_frame():
    frames = [Image.new("RGB", (20, 20), colour) for colour in ((255, 0, 0), (0, 0, 255))]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    image = load_image(buffer.getvalue())
    assert image.shape == (20, 20, 3)
    assert image[10, 10, 0] > 200 and image[10, 10, 2] < 50


def test_sixteen_bit_png_is_scaled_not_clipped():
    values = np.array([[0, 32768], [65535, 257 * 100]], dtype=np.uint16)
    image = load_image(_png_bytes(Image.fromarray(values)))
    assert image.dtype == np.uint8 and image.shape == (2, 2, 3)
    assert image[:, :, 0].tolist() == [[0, 128], [255, 100]]


def test_cmyk_jpeg_is_converted_to_rgb():
    image = load_image(_jpeg_bytes(Image.new("CMYK", (16, 16), (0, 255, 255, 0))))
    red, green, blue = image[8, 8].astype(int)
    assert red > 200 and green < 60 and blue < 60


def test_exif_rotated_photo_is_upright():
    # Stored landscape, red on the left; EXIF orientation 6 means "rotate 90 degrees clockwise
    # to display", so upright it is portrait with red on top.
    stored = np.zeros((20, 40, 3), dtype=np.uint8)
    stored[:, :20] = (255, 0, 0)
    stored[:, 20:] = (0, 0, 255)
    exif = Image.Exif()
    exif[0x0112] = 6
    image = load_image(_jpeg_bytes(Image.fromarray(stored), exif=exif.tobytes()))
    assert image.shape == (40, 20, 3)
    assert image[5, 10, 0] > 200 and image[35, 10, 2] > 200


def test_grayscale_becomes_three_equal_channels():
    image = load_image(_png_bytes(Image.new("L", (8, 8), 77)))
    assert image.shape == (8, 8, 3) and (image == 77).all()


def test_transparent_pixels_become_white():
    rgba = np.zeros((4, 4, 4), dtype=np.uint8)
    rgba[:2] = (255, 0, 0, 255)  # Opaque red top half, fully transparent bottom half.
    image = load_image(_png_bytes(Image.fromarray(rgba, mode="RGBA")))
    assert image[0, 0].tolist() == [255, 0, 0]
    assert image[3, 3].tolist() == [255, 255, 255]


def test_numpy_frames_and_pil_images_are_accepted():
    assert load_image(np.full((5, 6), 0.5)).tolist() == np.full((5, 6, 3), 128, dtype=np.uint8).tolist()
    assert load_image(np.zeros((5, 6, 4), dtype=np.uint8)).shape == (5, 6, 3)
    assert load_image(Image.new("RGB", (6, 5))).shape == (5, 6, 3)
    with pytest.raises(ImageError, match="shape"):
        load_image(np.zeros((5, 6, 2)))


def test_a_batch_keeps_the_good_images_and_names_each_bad_one(tmp_path):
    good = tmp_path / "good.png"
    Image.new("RGB", (10, 10), (10, 200, 10)).save(good)
    fake = tmp_path / "fake.jpg"
    fake.write_text("no")
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    report = Dataset(tmp_path / "data").add_many("alice", [good, fake, empty])
    assert len(report.added) == 1
    assert [name for name, _ in report.refused] == ["fake.jpg", "empty.jpg"]
    assert "not an image" in report.refused[0][1] and "empty" in report.refused[1][1]
    assert Dataset(tmp_path / "data").labels() == {"alice": 1}


def test_stored_images_drop_metadata(tmp_path):
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Camera maker; GPS tags travel the same way.
    path = Dataset(tmp_path).add("alice", _jpeg_bytes(Image.new("RGB", (10, 10)), exif=exif.tobytes()))
    assert not Image.open(path).getexif()
