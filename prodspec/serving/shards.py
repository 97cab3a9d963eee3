"""Finished answers kept beside the output while a long run works, so that a run killed midway and started again
does only what is left: `.<output name>.parts/`, one Parquet shard per finished block of rows and a manifest that
says which run they belong to. A run of other input, photos, model or options finds the manifest differ and starts
afresh; a finished run removes the folder."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from prodspec.ranker.answers import Answer

log = logging.getLogger(__name__)
SHARD_COLUMNS = ["row_pos", "prediction", "value", "unit", "confidence", "source", "evidence"]


def shard_frame(row_pos: Iterable[int], answers: list[Answer]) -> pd.DataFrame:
    """Answers as shard lines: every field kept as computed (the confidence unrounded), so they come back equal."""
    return pd.DataFrame({"row_pos": np.asarray(list(row_pos), dtype=np.int64),
                         "prediction": [a.text for a in answers],
                         "value": [np.nan if a.value is None else float(a.value) for a in answers],
                         "unit": [a.unit for a in answers], "confidence": [float(a.confidence) for a in answers],
                         "source": [a.source for a in answers], "evidence": [a.evidence for a in answers]})


def answers_of(lines: pd.DataFrame) -> list[Answer]:
    return [Answer(text, None if np.isnan(value) else float(value), unit, float(confidence), source, evidence)
            for text, value, unit, confidence, source, evidence in
            lines[SHARD_COLUMNS[1:]].itertuples(index=False)]


def _file_sha1(path: Path) -> str:
    digest = hashlib.sha1()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class ShardStore:
    def __init__(self, output: Path, run: list):
        """`run`: what makes two runs the same (the input file, hashed by its bytes, then anything JSON can hold)."""
        self.folder = Path(output).parent / f".{Path(output).name}.parts"
        key = hashlib.sha1(json.dumps([_file_sha1(Path(run[0])), *run[1:]], sort_keys=True,
                                      default=str).encode()).hexdigest()
        manifest = self.folder / "manifest.json"
        if self.folder.is_dir() and (not manifest.is_file() or json.loads(manifest.read_text()).get("run") != key):
            log.warning("%s: shards of another run (other input, photos, model or options): starting afresh",
                        self.folder)
            shutil.rmtree(self.folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        manifest.write_text(json.dumps({"run": key}))
        self._done: set[int] = set()
        for shard in self._shards():
            self._done.update(pd.read_parquet(shard, columns=["row_pos"])["row_pos"].tolist())

    def _shards(self) -> list[Path]:
        return sorted(self.folder.glob("block-*.parquet"))

    def done(self, row_pos: Iterable[int]) -> bool:
        """Whether every one of these rows has its answer in a shard."""
        return {int(p) for p in row_pos} <= self._done

    def put(self, block: int, lines: pd.DataFrame) -> None:
        """A finished block's lines, written under a temporary name and renamed: a kill never leaves half a shard."""
        path = self.folder / f"block-{block:07d}.parquet"
        partial = path.with_suffix(".partial")
        lines[SHARD_COLUMNS].to_parquet(partial, index=False)
        os.replace(partial, path)
        self._done.update(int(p) for p in lines["row_pos"])

    def answers(self, n_rows: int) -> list[Answer]:
        """Every row's answer, in input order."""
        lines = pd.concat([pd.read_parquet(s) for s in self._shards()], ignore_index=True)
        lines = lines.drop_duplicates("row_pos").sort_values("row_pos")
        if lines["row_pos"].tolist() != list(range(n_rows)):
            raise RuntimeError(f"{self.folder}: the shards hold {len(lines)} of {n_rows} rows")
        return answers_of(lines)

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
