"""Fill the OCR cache for many images: all cores, a progress bar, resumable (done images are skipped)."""

from __future__ import annotations

import logging
import os
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from candidates.cache import OcrCache
from candidates.ocr import OcrSettings, make_engine
from candidates.records import TextBox
from dataset.images import file_digest, load_rgb

log = logging.getLogger(__name__)

_engine = None
_settings: OcrSettings | None = None


def _init_worker(settings: OcrSettings) -> None:
    global _engine, _settings
    _settings = settings
    _engine = make_engine(settings)


def _read_one(path: str) -> tuple[str, list[TextBox], float]:
    started = time.perf_counter()
    image = load_rgb(path, max_side=_settings.max_side or None)
    boxes = _engine.read(image) if image is not None else []
    return path, boxes, time.perf_counter() - started


@dataclass
class OcrResult:
    boxes: list[TextBox]
    seconds: float
    cached: bool


def ocr_images(
    paths: list[Path],
    settings: OcrSettings,
    cache: OcrCache,
    workers: int | None = None,
    progress: bool = True,
) -> dict[Path, OcrResult]:
    """OCR each distinct image once; a missing or unreadable image gives no boxes (and a warning)."""
    results: dict[Path, OcrResult] = {}
    digests: dict[Path, str | None] = {p: file_digest(p) for p in dict.fromkeys(paths)}
    fingerprint = settings.fingerprint()
    todo = []
    for path, digest in digests.items():
        if digest is None:
            log.warning("image missing or unreadable: %s", path)
            results[path] = OcrResult([], 0.0, cached=False)
            continue
        hit = cache.get(digest, fingerprint)
        if hit is not None:
            results[path] = OcrResult(hit[0], hit[1], cached=True)
        else:
            todo.append(path)
    if not todo:
        return results
    workers = max(1, min(workers or os.cpu_count() or 1, len(todo)))
    threads = settings.threads or max(1, (os.cpu_count() or 1) // workers)
    settings = settings.with_changes(threads=threads)
    bar = tqdm(total=len(todo), desc=f"OCR ({settings.engine})", unit="img", disable=not progress)
    if workers == 1:
        _init_worker(settings)
        for path in todo:
            _, boxes, seconds = _read_one(str(path))
            _store(cache, digests[path], fingerprint, path, boxes, seconds, results)
            bar.update()
    else:
        with ProcessPoolExecutor(workers, initializer=_init_worker, initargs=(settings,)) as pool:
            futures = [pool.submit(_read_one, str(p)) for p in todo]
            for future in as_completed(futures):
                name, boxes, seconds = future.result()
                path = Path(name)
                _store(cache, digests[path], fingerprint, path, boxes, seconds, results)
                bar.update()
    bar.close()
    return results


def _store(cache, digest, fingerprint, path, boxes, seconds, results) -> None:
    cache.put(digest, fingerprint, boxes, seconds)
    results[path] = OcrResult(boxes, seconds, cached=False)
