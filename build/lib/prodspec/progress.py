"""Telling a person where a long job stands: numbered stages on stderr, kept clear of the progress bars."""

from __future__ import annotations

import sys
import time

from tqdm import tqdm


class Stages:
    """`next("what")` prints `[2/6] what` with the seconds the last stage took; silent when `progress` is off."""

    def __init__(self, total: int, progress: bool = True):
        self.total, self.progress, self.done = total, progress, 0
        self.started = time.perf_counter()

    def next(self, what: str) -> None:
        self.done += 1
        if self.progress:
            took = time.perf_counter() - self.started
            after = f" ({took:.0f} s since the last stage)" if self.done > 1 else ""
            tqdm.write(f"[{self.done}/{self.total}] {what}{after}", file=sys.stderr)
        self.started = time.perf_counter()
