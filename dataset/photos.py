"""Where the photos are: a local folder (a shared filesystem's mount is one), or object storage through pyarrow's
filesystems (`s3://bucket/images`, `gs://...`, `file:///...`). Photos are found by file name in it."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from prodspec.dataset.errors import UserError
from prodspec.dataset.images import MAX_BYTES, UnreadableImage, read_photo


def is_uri(location: str | os.PathLike) -> bool:
    return "://" in str(location)


class PhotoFolder:
    """Reads a photo's bytes by name, capped at MAX_BYTES; picklable, so an OCR worker or a Ray actor reads for itself.

    A local folder is read by `dataset.images.read_photo` (regular files only); a URI through the pyarrow
    filesystem it names, whose credentials come from the environment as pyarrow finds them.
    """

    def __init__(self, location: str | os.PathLike):
        self.location = str(location)
        if is_uri(location):
            from pyarrow import fs

            try:
                self._fs, self._base = fs.FileSystem.from_uri(self.location)
                kind = self._fs.get_file_info(self._base).type
            except (OSError, ValueError) as error:  # an unknown scheme, unreachable storage, no credentials
                raise UserError(f"{location}: cannot be read as a folder of photos ({error})") from None
            if kind != fs.FileType.Directory:
                raise UserError(f"{location}: no such folder of photos")
        elif not Path(location).is_dir():
            raise UserError(f"{location}: no such folder of images")

    def __str__(self) -> str:
        return self.location

    def __getstate__(self) -> dict:
        return {"location": self.location}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["location"])

    def where(self, name: str) -> str:
        """How a photo is named in messages: its path or URI."""
        return f"{self.location.rstrip('/')}/{name}" if is_uri(self.location) else str(Path(self.location) / name)

    def exists(self, name: str) -> bool:
        if not is_uri(self.location):
            return (Path(self.location) / name).exists()
        from pyarrow import fs

        return self._fs.get_file_info(f"{self._base}/{name}").type != fs.FileType.NotFound

    def read(self, name: str) -> bytes:
        """The photo's bytes; raises UnreadableImage naming it and why."""
        if not is_uri(self.location):
            return read_photo(Path(self.location) / name)
        from pyarrow import fs

        where = self.where(name)
        try:
            info = self._fs.get_file_info(f"{self._base}/{name}")
            if info.type == fs.FileType.NotFound:
                raise UnreadableImage(f"image missing: {where}")
            if info.type != fs.FileType.File:
                raise UnreadableImage(f"image unreadable: {where} (not a file)")
            if info.size is not None and info.size > MAX_BYTES:
                raise UnreadableImage(f"image unreadable: {where} ({info.size} bytes, over the cap of {MAX_BYTES})")
            with self._fs.open_input_stream(f"{self._base}/{name}") as stream:
                data = stream.read(MAX_BYTES + 1)
        except OSError as error:
            raise UnreadableImage(f"image unreadable: {where} ({error})") from None
        if len(data) > MAX_BYTES:
            raise UnreadableImage(f"image unreadable: {where} (over the cap of {MAX_BYTES} bytes)")
        return data

    def digest(self, name: str) -> str:
        """Hash of the photo's bytes: the OCR cache key's first half."""
        return hashlib.sha1(self.read(name)).hexdigest()
