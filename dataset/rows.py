"""Reading the challenge's CSVs (train format without `index`, test format with it) and writing answers."""

from __future__ import annotations

import logging
import os
import re
import tempfile
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TextIO
from urllib.parse import urlparse

import pandas as pd

from prodspec.dataset.errors import UserError
from prodspec.dataset.labels import parse_label
from prodspec.dataset.units import allowed_units

log = logging.getLogger(__name__)

TEST_COLUMNS = ("index", "image_link", "group_id", "entity_name")
TRAIN_COLUMNS = ("image_link", "group_id", "entity_name", "entity_value")


def image_basename(link: str) -> str:
    """The file name a link's image is stored under: the URL path's last part, never a path of its own; a link
    whose path ends in `/` names no file."""
    path = urlparse(str(link)).path
    name = "" if path.endswith("/") else PurePosixPath(path).name.replace("\\", "_")
    if name in ("", ".", ".."):
        raise UserError(f"image link has no file name: {link!r}")
    return name


_FIELDS = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")


def read_csv_text(path: Path) -> pd.DataFrame:
    """A CSV as strings (empty cells stay ""), with one clear line for a missing, empty or broken file.

    A line with more fields than the header refuses the file, naming the line: its columns cannot be trusted.
    Bytes that are not UTF-8 are read as U+FFFD with a warning naming their lines: such a row's link then names
    no photo in the folder, and the row is answered as one whose photo is missing.
    """
    if path.is_dir():
        raise UserError(f"{path}: a folder, not a CSV file")
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    try:
        try:
            return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        except UnicodeDecodeError:
            lines = _undecodable_lines(path)
            log.warning("%s: %d line(s) hold bytes that are not UTF-8, read as \ufffd (first: line %s)",
                        path, len(lines), ", ".join(map(str, lines[:5])))
            return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig", encoding_errors="replace")
    except pd.errors.EmptyDataError:
        raise UserError(f"{path}: the file is empty") from None
    except pd.errors.ParserError as error:
        if found := _FIELDS.search(str(error)):
            header, line, saw = found.groups()
            raise UserError(f"{path}: line {line} has {saw} fields where the header has {header} (a comma inside "
                            "a value must be quoted)") from None
        raise UserError(f"{path}: not a readable CSV ({str(error).splitlines()[0]})") from None


def _undecodable_lines(path: Path) -> list[int]:
    with open(path, "rb") as file:
        return [number for number, line in enumerate(file, 1) if not _decodes(line)]


def _decodes(line: bytes) -> bool:
    try:
        line.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def read_rows(path: str | os.PathLike, *, labelled: bool | None = None) -> pd.DataFrame:
    """Read an input CSV and validate it; adds `index` (row number) to train-format files.

    `labelled=True` demands `entity_value`, `False` demands `index`, `None` accepts either format.
    """
    path = Path(path)
    rows = read_csv_text(path)
    if rows.empty:
        raise UserError(f"{path}: the file has a header but no rows")
    wanted = ["image_link", "group_id", "entity_name"]
    if labelled is True:
        wanted.append("entity_value")
    if labelled is False or (labelled is None and "entity_value" not in rows.columns):
        wanted.append("index")
    missing = [c for c in wanted if c not in rows.columns]
    if missing:
        raise UserError(f"{path}: missing column(s) {', '.join(missing)}")
    if "index" not in rows.columns:
        rows.insert(0, "index", [str(i) for i in range(len(rows))])
    duplicated = rows["index"][rows["index"].duplicated()]
    if len(duplicated):
        raise UserError(f"{path}: duplicate index {duplicated.iloc[0]!r} ({len(duplicated)} duplicate(s))")
    unknown = sorted(set(rows["entity_name"]) - set(allowed_units()))
    if unknown:
        line = rows.index[rows["entity_name"] == unknown[0]][0] + 2
        raise UserError(f"{path}: unknown entity_name {unknown[0]!r} on line {line}; "
                        f"one of {', '.join(sorted(allowed_units()))}")
    if "entity_value" in rows.columns:
        _warn_unreadable_labels(rows, path)
    rows["image_name"] = _image_names(rows["image_link"], path)
    return rows


def _image_names(links: pd.Series, path: Path) -> list[str]:
    """Each row's photo file name; "" for a link that names no file (empty, or ending in `/`), with one warning
    naming the first lines: those rows are answered as rows whose photo is missing, the others as usual."""
    names, nameless = [], []
    for line, link in enumerate(links, 2):
        try:
            names.append(image_basename(link))
        except UserError:
            names.append("")
            nameless.append(line)
    if nameless:
        log.warning("%s: %d row(s) whose image_link names no file, answered as rows with no photo (line %s)",
                    path, len(nameless), ", ".join(map(str, nameless[:5])) + (", ..." if len(nameless) > 5 else ""))
    return names


def _warn_unreadable_labels(rows: pd.DataFrame, path: Path) -> None:
    """A label that is not a number and a unit can never be matched: say so, but go on (train.csv has 19 such,
    `2.2223333344444455e+20 gram`, `0 kilogram to 2kilogram`), as no answer could be right for them anyway."""
    labels = rows["entity_value"]
    bad = labels[(labels.str.strip() != "") & labels.map(parse_label).isna()]
    if len(bad):
        log.warning("%s: %d label(s) not a number and a unit, scored as wrong whatever the answer (first: line %d, %r)",
                    path, len(bad), bad.index[0] + 2, bad.iloc[0])


def read_text_corpus(path: str | os.PathLike, exclude_images: set[str] = frozenset(),
                     entities: Collection[str] | None = None) -> pd.DataFrame:
    """Labelled rows with another system's flat OCR text (`image_link,group_id,entity_name,entity_value,ocr_text`).

    Rows of an unknown attribute, an empty label or a photo in `exclude_images` (the rows being scored) are
    left out, so the text rows only ever add training data; so are rows of attributes not in `entities`, if given.
    """
    path = Path(path)
    corpus = read_csv_text(path)
    missing = [c for c in (*TRAIN_COLUMNS, "ocr_text") if c not in corpus.columns]
    if missing:
        raise UserError(f"{path}: missing column(s) {', '.join(missing)}")
    corpus["image_name"] = [image_basename(link) for link in corpus["image_link"]]
    keep = (corpus["entity_name"].isin(allowed_units()) & (corpus["entity_value"].str.strip() != "")
            & ~corpus["image_name"].isin(exclude_images))
    if entities is not None:
        keep &= corpus["entity_name"].isin(entities)
    return corpus[keep].reset_index(drop=True)


@dataclass(frozen=True)
class TextCorpus:
    """A labelled flat-text file, all its rows or only those of some attributes: written `PATH` or
    `PATH:height,width,depth` on the command line."""

    path: Path
    entities: tuple[str, ...] | None = None
    rows: int | None = None  # at most this many of its rows, a seeded sample (the rows a user names are all read)

    @classmethod
    def parse(cls, text: str | Path) -> TextCorpus:
        if isinstance(text, TextCorpus):
            return text
        head, _, tail = str(text).rpartition(":")
        names = tuple(name.strip() for name in tail.split(","))
        if not head or not all(name in allowed_units() for name in names):
            return cls(Path(text))
        return cls(Path(head), names)

    def read(self, exclude_images: set[str]) -> pd.DataFrame:
        corpus = read_text_corpus(self.path, exclude_images, self.entities)
        if self.rows is not None and len(corpus) > self.rows:
            corpus = corpus.sample(n=self.rows, random_state=0).sort_index().reset_index(drop=True)
        return corpus

    def __str__(self) -> str:
        return (str(self.path) + (":" + ",".join(self.entities) if self.entities else "")
                + (f" ({self.rows} rows at most)" if self.rows is not None else ""))


def check_output(path: str | os.PathLike, what: str = "CSV file", folder: bool = False,
                 input_csv: str | os.PathLike | None = None) -> Path:
    """Refuse, before any work is done, an output that could not be written: a file (`what`) or a `folder`, or
    one that would overwrite `input_csv`."""
    path = Path(path)
    if input_csv is not None and path.exists() and Path(input_csv).exists() and path.samefile(input_csv):
        raise UserError(f"{path}: that is the input file; name another file for the output")
    if folder and path.exists() and not path.is_dir():
        raise UserError(f"{path}: a file; name the folder to write the {what} into")
    if not folder and path.is_dir():
        raise UserError(f"{path}: a folder; name the {what} to write")
    start = path if folder else path.parent
    existing = next(p for p in (start, *start.parents) if p.exists())
    if not existing.is_dir() or not _can_create_in(existing):
        raise UserError(f"{path}: cannot be written ({existing} is not a writable folder)")
    return path


def _can_create_in(folder: Path) -> bool:
    """Whether a file can be made there: `os.access` says yes to root on a read-only mount or in /proc."""
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".prodspec-probe."):
            return True
    except OSError:
        return False


@contextmanager
def atomic_output(path: str | os.PathLike, newline: str | None = None) -> Iterator[TextIO]:
    """A text file written under a temporary name and renamed into place when the block ends without error,
    so a kill never leaves half a file; one clear line when it cannot be written."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as error:
        raise UserError(f"{path}: cannot be written ({error.strerror})") from error
    try:
        with os.fdopen(handle, "w", newline=newline) as out:
            yield out
        os.replace(temporary, path)
    except BaseException as error:
        Path(temporary).unlink(missing_ok=True)
        if isinstance(error, OSError):  # a full disk: one line, and the OCR readings stay in their cache
            raise UserError(f"{path}: cannot be written ({error.strerror or error})") from error
        raise


def write_atomically(frame: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write a CSV through a temporary file and a rename, so a kill never leaves half a file."""
    with atomic_output(path, newline="") as out:
        frame.to_csv(out, index=False)
    return Path(path)


def write_predictions(rows: pd.DataFrame, predictions: list[str], path: str | os.PathLike) -> Path:
    """`index,prediction`, one row per input row, in input order."""
    if len(predictions) != len(rows):
        raise ValueError(f"{len(predictions)} predictions for {len(rows)} rows")
    frame = pd.DataFrame({"index": rows["index"].to_numpy(), "prediction": [p or "" for p in predictions]})
    return write_atomically(frame, path)


def write_answers(frame: pd.DataFrame, path: str | os.PathLike) -> Path:
    """An answers table as CSV, or as JSON Lines where the name ends in `.jsonl`; atomically either way."""
    if Path(path).suffix.lower() != ".jsonl":
        return write_atomically(frame, path)
    with atomic_output(path) as out:
        frame.to_json(out, orient="records", lines=True, force_ascii=False)
    return Path(path)


def read_predictions(path: str | os.PathLike) -> pd.DataFrame:
    path = Path(path)
    frame = read_csv_text(path)
    missing = [c for c in ("index", "prediction") if c not in frame.columns]
    if missing:
        raise UserError(f"{path}: missing column(s) {', '.join(missing)}")
    return frame
