"""The rows to review: the input joined with the machine's answers (`predict --details`), least confident first,
and what each row's review page shows (the photo drawn as `explain` draws it, its candidates), kept once drawn."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from prodspec.candidates.cache import OcrCache
from prodspec.candidates.image import text_candidates
from prodspec.dataset.check import Refused, read_prediction
from prodspec.dataset.errors import UserError
from prodspec.dataset.rows import read_predictions, read_rows
from prodspec.dataset.units import allowed_units
from prodspec.ranker.artifacts import RankerModel
from prodspec.serving.explain import explanation

PAGE = 50  # queue rows a page asks for at once


@dataclass
class Filters:
    attribute: str = ""
    source: str = ""
    min_confidence: float = 0.0
    max_confidence: float = 1.0
    reviewed: str = "all"  # all, yes, no


class ReviewQueue:
    def __init__(self, input_csv: Path, predictions_csv: Path, images: Path):
        rows = read_rows(input_csv)
        answers = read_predictions(predictions_csv)
        if answers["index"].duplicated().any():
            raise UserError(f"{predictions_csv}: an index is answered twice")
        for column, default in (("confidence", ""), ("source", ""), ("evidence", "")):
            if column not in answers:
                answers[column] = default
        rows = rows.merge(answers[["index", "prediction", "confidence", "source", "evidence"]], on="index",
                          how="left").fillna({"prediction": "", "source": "", "evidence": ""})
        if (rows["source"] == "").all() and (rows["prediction"] == "").all():
            raise UserError(f"{predictions_csv} answers none of the rows of {input_csv}: are they of the same file?")
        rows["confidence"] = pd.to_numeric(rows["confidence"], errors="coerce").fillna(0.0)
        # least confident first; the input's order among equals
        self.rows = rows.iloc[np.argsort(rows["confidence"].to_numpy(), kind="stable")].reset_index(drop=True)
        self.position = {index: k for k, index in enumerate(self.rows["index"])}
        self.images = Path(images).resolve()

    def page(self, filters: Filters, reviewed: set[str], offset: int = 0, limit: int = PAGE) -> dict:
        """One page of the queue under `filters`, with the counts the page keeps in view."""
        rows = self.rows
        keep = rows["confidence"].between(filters.min_confidence, filters.max_confidence).to_numpy().copy()
        if filters.attribute:
            keep &= (rows["entity_name"] == filters.attribute).to_numpy()
        if filters.source:
            keep &= (rows["source"] == filters.source).to_numpy()
        done = rows["index"].isin(reviewed).to_numpy()
        if filters.reviewed in ("yes", "no"):
            keep &= done if filters.reviewed == "yes" else ~done
        chosen = rows[keep].iloc[offset:offset + limit]
        return {"total": len(rows), "matching": int(keep.sum()), "reviewed": int(done.sum()),
                "to_review": int((~done).sum()), "offset": offset,
                "items": [{"row": self.position[r["index"]], "index": r["index"], "entity_name": r["entity_name"],
                           "prediction": r["prediction"], "confidence": round(float(r["confidence"]), 4),
                           "source": r["source"], "reviewed": r["index"] in reviewed}
                          for r in chosen.to_dict("records")]}

    def photo(self, row: int) -> Path | None:
        """The row's photo in the images folder; None where it is not there, or would lie outside it."""
        path = (self.images / self.rows.at[row, "image_name"]).resolve()
        if not path.is_relative_to(self.images) or not path.is_file():
            return None
        return path


class Overlays:
    """Each row's drawing and candidates, made once (`explain`'s drawing) and kept in `folder`."""

    def __init__(self, queue: ReviewQueue, model: RankerModel, folder: Path, cache_dir: Path | None):
        self.queue, self.model, self.folder = queue, model, Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.cache_dir = cache_dir
        # drawings of another model, or of another queue, are not this one's
        self.key = hashlib.sha1(json.dumps([model.meta, list(queue.rows["index"])], sort_keys=True,
                                           default=str).encode()).hexdigest()[:10]

    def files(self, row: int) -> tuple[Path, Path]:
        stem = f"{self.key}-{row:07d}"
        return self.folder / f"{stem}.png", self.folder / f"{stem}.json"

    def details(self, row: int) -> dict:
        """The row, its answer and its candidates; the drawing made (and kept) on the first call."""
        r = self.queue.rows.loc[row]
        info = {"row": row, "index": r["index"], "entity_name": r["entity_name"], "group_id": r["group_id"],
                "prediction": r["prediction"], "confidence": float(r["confidence"]), "source": r["source"],
                "evidence": r["evidence"], "units": sorted(allowed_units()[r["entity_name"]]), "picture": False,
                "candidates": [], "note": ""}
        picture, listing = self.files(row)
        if listing.exists():
            return info | json.loads(listing.read_text())
        photo = self.queue.photo(row)
        if photo is None:
            return info | {"note": "the photo is not in the images folder"}
        cache = OcrCache(self.cache_dir)
        try:
            found = explanation(photo, r["entity_name"], str(r["group_id"]), picture, self.model, cache)
        except UserError as error:
            return info | {"note": str(error)}
        finally:
            cache.close()
        candidates = [{"rank": int(c["rank"]), "answer": c["answer"], "value": float(c["value"]),
                       "unit": c["unit_name"], "score": _number(c["score"]), "share": _number(c["share"])}
                      for c in found.candidates.to_dict("records")]
        kept = {"picture": True, "candidates": candidates, "note": found.said}
        temporary = listing.with_suffix(".tmp")
        temporary.write_text(json.dumps(kept))
        temporary.replace(listing)  # written last: its presence says the drawing is whole
        return info | kept


def _number(value: float) -> float | None:
    return None if value is None or math.isnan(value) else round(float(value), 3)


def typed_value(text: str, entity: str) -> str:
    """A value a reviewer typed, in the labels' official form (`12.5 centimetre`): as the official checker reads it,
    or else as the parser reads a print (`250 g`, `12.5cm`, `3 lbs`); refused, with the reason, where neither reads
    one number and unit, or the attribute does not allow the unit."""
    try:
        read = read_prediction(text.strip())
        number = text.split()[0] if read else ""  # as typed: 500 or 500.0 (a group's habit)
    except Refused as refused:
        printed = text_candidates(text.strip()).candidates
        if len(printed) != 1:
            raise ValueError(f"{refused}; type one number and a unit, such as 12.5 centimetre") from None
        read, number = (printed[0].value, printed[0].unit), f"{float(printed[0].value)}"
    if read is None:
        raise ValueError("type a number and a unit, such as 12.5 centimetre (or use 'not on the photo')")
    unit = read[1]
    if unit not in allowed_units()[entity]:
        raise ValueError(f"{unit} is not a unit of {entity}: one of {', '.join(sorted(allowed_units()[entity]))}")
    return f"{number} {unit}"
