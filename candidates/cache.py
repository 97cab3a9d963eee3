"""The OCR cache: rows keyed by (image bytes' hash, engine settings' fingerprint).

The drawing found in the same pass (`candidates.lines`: drawn lines, size, product) lives in the same table, under a
settings key of its own (`candidates.lines.cache_key`), so one snapshot ships both.

Live rows go to SQLite (each image committed as it finishes, so a killed run loses nothing). Read-only
Parquet snapshots under `dataset/ocr_cache/` ship the dev images' OCR with the repository, so training
reproduces without hours of OCR on a new machine.
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

import pandas as pd

from prodspec.candidates.lines import drawing_from_json, drawing_to_json
from prodspec.candidates.ocr import boxes_from_json, boxes_to_json
from prodspec.candidates.records import Drawing, TextBox
from prodspec.dataset.errors import UserError

SHIPPED_DIR = Path(__file__).resolve().parent.parent / "dataset" / "ocr_cache"


def default_cache_dir() -> Path:
    return Path(os.environ.get("PRODSPEC_CACHE_DIR") or Path.home() / ".cache" / "prodspec")


class OcrCache:
    def __init__(self, cache_dir: str | os.PathLike | None = None, shipped_dir: Path | None = SHIPPED_DIR,
                 any_thread: bool = False):
        """`any_thread`: the cache may be used from another thread than the one that opened it, one at a time (a
        Ray actor opens it in its constructor and reads in the threads that serve its calls)."""
        self.path = Path(cache_dir or default_cache_dir()) / "ocr.sqlite"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=60, check_same_thread=not any_thread)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS ocr (digest TEXT, settings TEXT, boxes TEXT, seconds REAL, "
                "created REAL, PRIMARY KEY (digest, settings))"
            )
        except (OSError, sqlite3.Error) as error:  # a file in its place, no rights there, a damaged database
            reason = getattr(error, "strerror", None) or str(error)
            raise UserError(f"{self.path.parent}: the OCR cache cannot be kept there ({reason}); name another folder "
                            "with --cache-dir or $PRODSPEC_CACHE_DIR") from None
        self._shipped: dict[tuple[str, str], tuple[str, float]] = {}
        if shipped_dir and shipped_dir.is_dir():
            for file in sorted(shipped_dir.glob("*.parquet")):
                table = pd.read_parquet(file)
                for digest, settings, boxes, seconds in table[["digest", "settings", "boxes", "seconds"]].itertuples(
                    index=False
                ):
                    self._shipped[(digest, settings)] = (boxes, float(seconds))

    def get(self, digest: str, settings: str) -> tuple[list[TextBox], float] | None:
        """(boxes, OCR seconds) for an image already read with these settings, else None."""
        row = self._raw(digest, settings)
        return (boxes_from_json(row[0]), row[1]) if row else None

    def put(self, digest: str, settings: str, boxes: list[TextBox], seconds: float) -> None:
        self._put_raw(digest, settings, boxes_to_json(boxes), seconds)

    def _raw(self, digest: str, settings: str) -> tuple[str, float] | None:
        row = self._db.execute(
            "SELECT boxes, seconds FROM ocr WHERE digest=? AND settings=?", (digest, settings)
        ).fetchone()
        return (row[0], float(row[1])) if row else self._shipped.get((digest, settings))

    def get_drawing(self, digest: str, key: str) -> Drawing | None:
        hit = self._raw(digest, key)
        return drawing_from_json(hit[0]) if hit else None

    def put_drawing(self, digest: str, key: str, drawing: Drawing) -> None:
        self._put_raw(digest, key, drawing_to_json(drawing), 0.0)

    def _put_raw(self, digest: str, settings: str, payload: str, seconds: float) -> None:
        with self._db:
            self._db.execute("INSERT OR REPLACE INTO ocr VALUES (?, ?, ?, ?, ?)",
                             (digest, settings, payload, seconds, time.time()))

    def export(self, digests: set[str], settings: str, path: Path, drawing_key: str | None = None) -> int:
        """Write the rows of these images as a compact Parquet snapshot (what the repository ships).

        With `drawing_key`, the images' drawings go in too. Returns the number of images with boxes.
        """
        rows = []
        for digest in sorted(digests):
            # the stored JSON is copied as it is: both payloads were written by their own *_to_json
            if (hit := self._raw(digest, settings)) is not None:
                rows.append((digest, settings, hit[0], round(hit[1], 3)))
            if drawing_key and (drawing := self._raw(digest, drawing_key)) is not None:
                rows.append((digest, drawing_key, drawing[0], 0.0))
        frame = pd.DataFrame(rows, columns=["digest", "settings", "boxes", "seconds"])
        path.parent.mkdir(parents=True, exist_ok=True)
        frame.to_parquet(path, compression="zstd", index=False)
        return int((frame["settings"] == settings).sum())

    def close(self) -> None:
        self._db.close()
