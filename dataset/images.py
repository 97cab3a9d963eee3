"""Loading product photos safely: any mode to RGB, EXIF orientation, a pixel cap, and no crash on bad files."""

from __future__ import annotations

import hashlib
import io
import logging
import os
import stat
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

log = logging.getLogger(__name__)

# Larger than any product photo (the challenge's are at most ~2,500 px a side); stops decompression bombs.
MAX_PIXELS = 40_000_000
# Bytes read of one photo at most (the largest of the 1,252 labelled photos is 1 MB): more is refused, unread.
MAX_BYTES = 50 * 1024 * 1024
Image.MAX_IMAGE_PIXELS = MAX_PIXELS


class UnreadableImage(Exception):
    """A missing file, or one that does not decode as an image; the message names the file and why."""


def read_photo(path: str | Path) -> bytes:
    """A photo file's bytes, read only from a regular file of at most MAX_BYTES.

    Anything else (a named pipe, a device, a folder; a symlink to one) is refused before a byte is read: opened
    without waiting (O_NONBLOCK), so a pipe with no writer cannot hang the run, and its kind checked on the open file,
    so a file swapped after a check cannot slip through. Raises UnreadableImage naming the file and why.
    """
    path = Path(path)
    try:
        handle = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise UnreadableImage(f"image missing: {path}") from None
    except OSError as error:
        raise UnreadableImage(f"image unreadable: {path} ({error.strerror})") from None
    with os.fdopen(handle, "rb") as file:
        status = os.fstat(file.fileno())
        if not stat.S_ISREG(status.st_mode):
            raise UnreadableImage(f"image unreadable: {path} (not a regular file)")
        if status.st_size > MAX_BYTES:
            raise UnreadableImage(f"image unreadable: {path} ({status.st_size} bytes, over the cap of {MAX_BYTES})")
        try:
            data = file.read(MAX_BYTES + 1)  # a file that grows while it is read is still cut at the cap
        except OSError as error:
            raise UnreadableImage(f"image unreadable: {path} ({error.strerror})") from None
    if len(data) > MAX_BYTES:
        raise UnreadableImage(f"image unreadable: {path} (over the cap of {MAX_BYTES} bytes)")
    return data


def photo_digest(path: str | Path) -> str:
    """Hash of the photo's bytes (the OCR cache key's first half); raises UnreadableImage as `read_photo` does."""
    return hashlib.sha1(read_photo(path)).hexdigest()


def file_digest(path: str | Path) -> str | None:
    """`photo_digest`, or None when the file cannot be read."""
    try:
        return photo_digest(path)
    except UnreadableImage:
        return None


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
    return decode_photo(read_photo(path), path, max_side)


def decode_photo(data: bytes, where: str | Path, max_side: int | None = None) -> np.ndarray:
    """`decode_rgb` of a photo's bytes read already; `where` names it in the error."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.width * image.height > MAX_PIXELS:
                    raise Image.DecompressionBombError(f"{image.width}x{image.height} is over the pixel cap")
                if max_side and image.format == "JPEG":
                    image.draft("RGB", (max_side, max_side))
                return pil_to_rgb(image, max_side)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise UnreadableImage(f"image unreadable: {where} ({error})") from None


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
