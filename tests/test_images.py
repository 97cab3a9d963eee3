"""Image loading never crashes: corrupt, truncated, empty and odd-mode files, made here."""

import io

import numpy as np
import pytest
from PIL import Image

from prodspec.dataset.images import UnreadableImage, decode_rgb, load_rgb


def save(image: Image.Image, path, **options):
    image.save(path, **options)
    return path


def test_missing_and_broken_files_give_none(tmp_path, caplog):
    zero = tmp_path / "zero.jpg"
    zero.write_bytes(b"")
    junk = tmp_path / "junk.jpg"
    junk.write_bytes(b"this is not an image at all")
    good = io.BytesIO()
    Image.new("RGB", (200, 100), "white").save(good, format="JPEG")
    truncated = tmp_path / "truncated.jpg"
    truncated.write_bytes(good.getvalue()[: len(good.getvalue()) // 3])
    for path in (tmp_path / "missing.jpg", zero, junk, truncated):
        assert load_rgb(path) is None
    assert "image missing" in caplog.text and "image unreadable" in caplog.text
    with pytest.raises(UnreadableImage, match=r"image unreadable: .*junk\.jpg \(cannot identify"):
        decode_rgb(junk)


@pytest.mark.parametrize("mode", ["CMYK", "P", "RGBA", "LA", "L", "1", "I;16"])
def test_every_mode_becomes_rgb(tmp_path, mode):
    image = Image.new("RGB", (40, 30), (200, 30, 30))
    image = image.convert("L").convert(mode) if mode in ("I;16", "1", "L", "LA") else image.convert(mode)
    fmt = "TIFF" if mode == "CMYK" else "PNG"
    path = save(image, tmp_path / f"x.{fmt.lower()}", format=fmt)
    array = load_rgb(path)
    assert array.shape == (30, 40, 3) and array.dtype == np.uint8


def test_transparent_pixels_become_white(tmp_path):
    path = save(Image.new("RGBA", (10, 10), (0, 0, 0, 0)), tmp_path / "clear.png")
    assert load_rgb(path).min() == 255


def test_exif_orientation_is_applied(tmp_path):
    image = Image.new("RGB", (60, 20), "white")
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise on display
    path = save(image, tmp_path / "rotated.jpg", exif=exif.tobytes())
    assert load_rgb(path).shape[:2] == (60, 20)


def test_pixel_cap_refuses_decompression_bombs(tmp_path, monkeypatch):
    from prodspec.dataset import images

    path = save(Image.new("RGB", (300, 300)), tmp_path / "big.png")
    monkeypatch.setattr(images, "MAX_PIXELS", 10_000)
    assert images.load_rgb(path) is None


def test_reduced_decoding_keeps_aspect(tmp_path):
    path = save(Image.new("RGB", (2000, 1000), "white"), tmp_path / "wide.jpg")
    assert load_rgb(path, max_side=500).shape == (250, 500, 3)
