"""Loading product photos safely: any mode to RGB, EXIF orientation, a pixel cap, and no crash on bad files."""

from __future__ import annotations

import hashlib
import logging
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

log = logging.getLogger(__name__)

# Larger than any product photo (the challenge's are at most ~2,500 px a side); stops decompression bombs.
MAX_PIXELS = 40_000_000
Image.MAX_IMAGE_PIXELS = MAX_PIXELS


def file_digest(path: str | Path) -> str | None:
    """Hash of the image's bytes (the OCR cache key's first half); None when the file cannot be read."""
    try:
        return hashlib.sha1(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


class UnreadableImage(Exception):
    """A missing file, or one that does not decode as an image; the message names the file and why."""


def load_rgb(path: str | Path, max_side: int | None = None) -> np.ndarray | None:
    """The image as an RGB uint8 array, or None (with a warning) when it is missing or unreadable."""
    try:
        return decode_rgb(path, max_side)
    except UnreadableImage as error:
        log.warning("%s", error)
        return None


def decode_rgb(path: str | Path, max_side: int | None = None) -> np.ndarray:
    """The image as an RGB uint8 array; raises UnreadableImage, so that an OCR worker can hand the reason
    back to the process that shows the progress bar.

    `max_side` lets JPEG decode at a reduced scale (`draft`) and then shrinks to that longest side.
    """
    path = Path(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                if image.width * image.height > MAX_PIXELS:
                    raise Image.DecompressionBombError(f"{image.width}x{image.height} is over the pixel cap")
                if max_side and image.format == "JPEG":
                    image.draft("RGB", (max_side, max_side))
                return pil_to_rgb(image, max_side)
    except FileNotFoundError:
        raise UnreadableImage(f"image missing: {path}") from None
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise UnreadableImage(f"image unreadable: {path} ({error})") from None


def pil_to_rgb(image: Image.Image, max_side: int | None = None) -> np.ndarray:
    """An opened image as an RGB uint8 array: EXIF orientation applied, any mode made RGB, shrunk to `max_side`."""
    image = _to_rgb(ImageOps.exif_transpose(image))  # a copy: thumbnail below never shrinks the caller's image
    if max_side and max(image.size) > max_side:
        image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return np.asarray(image, dtype=np.uint8).copy()


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode == "RGB":
        return image
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        array = np.asarray(image, dtype=np.float64)
        top = array.max() or 1.0
        return Image.fromarray((array / top * 255).astype(np.uint8)).convert("RGB")
    if image.mode == "P":
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA"):
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        background.alpha_composite(image.convert("RGBA"))
        return background.convert("RGB")
    return image.convert("RGB")
