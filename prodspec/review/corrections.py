"""The reviewer's corrections file: labels prodspec trains from, one line per reviewed row, written at once.

Columns: `index,image_link,group_id,entity_name,entity_value` (the labels format `prodspec train --labels` reads),
then who and when (`reviewer`, `reviewed_at`), what was done (`action`: accept, pick, type, empty) and what the
machine had answered (`machine_answer`, `machine_confidence`), so that `prodspec evaluate` can say how often a
reviewer changed the machine's answer.

Every write takes a lock on a file beside it, reads the file again, changes its row and replaces the file whole
(a temporary file and a rename): a killed server leaves the last acknowledged file, and two tabs (or two servers)
on one file keep each other's rows.
"""

from __future__ import annotations

import fcntl
import itertools
import math
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from prodspec.dataset.rows import read_csv_text, write_atomically

LABEL_COLUMNS = ["index", "image_link", "group_id", "entity_name", "entity_value"]
COLUMNS = LABEL_COLUMNS + ["reviewer", "reviewed_at", "action", "machine_answer", "machine_confidence"]
ACTIONS = ("accept", "pick", "type", "empty")
# confidence bands for the share of answers a reviewer changed
BANDS = (0.0, 0.5, 0.8, 0.9, 1.0)


class Corrections:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.lock = self.path.with_name(f".{self.path.name}.lock")
        self._seen: tuple[tuple[int, int, int], dict[str, dict]] | None = None  # the file as last read, by its stat
        if self.path.exists():  # refused at start, in one line, rather than at the first action
            self.read()

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.lock, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def read(self) -> dict[str, dict]:
        """The reviewed rows by index (read again only when the file was replaced since: every page asks for it)."""
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return {}
        key = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        if self._seen is None or self._seen[0] != key:
            frame = read_csv_text(self.path)
            self._seen = (key, {r["index"]: {c: r.get(c, "") for c in COLUMNS} for r in frame.to_dict("records")})
        return dict(self._seen[1])

    def put(self, record: dict) -> dict | None:
        """Write one row's record (replacing its earlier one); the earlier one, for an undo."""
        return self._change(record["index"], {c: _text(record.get(c, "")) for c in COLUMNS})

    def remove(self, index: str) -> dict | None:
        return self._change(index, None)

    def _change(self, index: str, record: dict | None) -> dict | None:
        with self._locked():
            rows = self.read()
            before = rows.pop(index, None) if record is None else rows.get(index)
            if record is not None:
                rows[index] = record
            write_atomically(pd.DataFrame(list(rows.values()), columns=COLUMNS), self.path)
        return before


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def changed_shares(corrections: pd.DataFrame) -> pd.DataFrame:
    """Of the reviewed rows: how many, and the share whose label differs from the machine's answer, by attribute and
    by confidence band (and all together)."""
    if corrections.empty or "machine_answer" not in corrections:
        return pd.DataFrame(columns=["group", "reviewed", "changed"])
    frame = corrections.assign(changed=corrections["entity_value"] != corrections["machine_answer"],
                               confidence=pd.to_numeric(corrections["machine_confidence"], errors="coerce"))
    frame["band"] = pd.cut(frame["confidence"].fillna(0.0), BANDS, include_lowest=True,
                           labels=[f"confidence {a:.1f}-{b:.1f}" for a, b in itertools.pairwise(BANDS)])
    parts = [("all", frame)] + list(frame.groupby("entity_name")) + [
        (str(band), part) for band, part in frame.groupby("band", observed=True)]
    return pd.DataFrame([{"group": name, "reviewed": len(part), "changed": round(float(part["changed"].mean()), 4)}
                         for name, part in parts])
