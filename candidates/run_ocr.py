"""Fill the OCR cache for many photos: all cores, a progress bar, resumable (done photos are skipped).

Each worker also finds the photo's drawing (`candidates.lines`: drawn lines, size, product) while the image is
decoded; a photo whose boxes are cached but whose drawing is not (a cache from before it) is decoded for it only.
Photos are read by name from a `dataset.photos.PhotoFolder`: a local folder, or object storage.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import closing
from pathlib import Path

import numpy as np
from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

from prodspec.candidates.cache import OcrCache
from prodspec.candidates.engines import make_engine
from prodspec.candidates.lines import cache_key, find_drawing
from prodspec.candidates.ocr import OcrSettings
from prodspec.candidates.records import NO_DRAWING, Drawing, ImageReading, TextBox
from prodspec.candidates.workers import default_workers, exit_with, worker_failure
from prodspec.dataset.errors import UserError
from prodspec.dataset.images import UnreadableImage, decode_photo
from prodspec.dataset.photos import PhotoFolder

log = logging.getLogger(__name__)

_engine = None
_engine_settings: OcrSettings | None = None  # what `_engine` was made with
_settings: OcrSettings | None = None
_folder: PhotoFolder | None = None
# photos named one by one when missing or unreadable; past that they are counted in one line (a wrong --images
# folder for the 130,787-row test file would otherwise print a warning per photo)
NAMED_PROBLEMS = 10


def _init_worker(settings: OcrSettings, read_text: bool = True, compiled_dir: Path | None = None,
                 parent: int | None = None, folder: PhotoFolder | None = None) -> None:
    """Make this process's engine, or keep the one it has for the same settings (a caller reading one photo at a
    time, as the Python API does, pays for the models once). `parent`: the pid a pool worker must not outlive."""
    global _engine, _engine_settings, _settings, _folder
    if parent is not None:
        threading.Thread(target=exit_with, args=(parent,), daemon=True, name="exit-with-parent").start()
    if read_text and not (_engine is not None and _engine_settings == settings):
        _engine, _engine_settings = make_engine(settings, compiled_dir), settings
    _settings, _folder = settings, folder


def read_array(image: np.ndarray, settings: OcrSettings, compiled_dir: Path | None = None) -> ImageReading:
    """One decoded photo (RGB, already shrunk to the settings' max_side) read in this process, its lines found."""
    _init_worker(settings, True, compiled_dir)
    started = time.perf_counter()
    boxes = _engine.read(image)
    return ImageReading(boxes, time.perf_counter() - started, drawing=find_drawing(image))


def _read_one(name: str, read_text: bool) -> tuple[str, list[TextBox] | None, float, Drawing | str]:
    """(name, boxes or None when only the drawing was asked for, OCR seconds, drawing), or, for a photo that does
    not decode, why in place of the drawing: the parent shows it above its progress bar."""
    started = time.perf_counter()
    try:
        image = decode_photo(_folder.read(name), _folder.where(name), max_side=_settings.max_side or None)
    except UnreadableImage as error:
        return name, [], time.perf_counter() - started, str(error)
    boxes = _engine.read(image) if read_text else None
    seconds = time.perf_counter() - started
    return name, boxes, seconds, find_drawing(image)


def read_photos(folder: PhotoFolder, names: Iterable[str], settings: OcrSettings, cache: OcrCache,
                workers: int | None = None, progress: bool = True) -> dict[str, ImageReading]:
    """Each distinct photo read once, by name; a missing or unreadable one gives no boxes (and a warning)."""
    results: dict[str, ImageReading] = {}
    unread = _Unread(results)
    digests: dict[str, str | None] = {}
    for name in dict.fromkeys(names):
        try:
            digests[name] = folder.digest(name)
        except UnreadableImage as error:  # missing, or not a regular file of a photo's size: never opened for OCR
            digests[name] = None
            unread(name, str(error))
    fingerprint = settings.fingerprint()
    lines_key = cache_key(settings.max_side)
    todo: list[tuple[str, bool]] = []  # (photo, read its text too)
    for name, digest in digests.items():
        if digest is None:
            continue
        hit = cache.get(digest, fingerprint)
        drawing = cache.get_drawing(digest, lines_key)
        if hit is not None:
            results[name] = ImageReading(hit[0], hit[1], cached=True, drawing=drawing or NO_DRAWING)
        if hit is None or drawing is None:
            todo.append((name, hit is None))
    if todo:
        _read_todo(folder, todo, digests, results, unread, settings, cache, workers, progress)
    unread.close()
    return results


def ocr_images(paths: list[Path], settings: OcrSettings, cache: OcrCache, workers: int | None = None,
               progress: bool = True) -> dict[Path, ImageReading]:
    """`read_photos` for photos given by path, wherever they lie."""
    by_folder: dict[Path, list[str]] = {}
    for path in dict.fromkeys(Path(p) for p in paths):
        by_folder.setdefault(path.parent, []).append(path.name)
    out = {}
    for parent, names in by_folder.items():
        readings = read_photos(PhotoFolder(parent), names, settings, cache, workers, progress)
        out |= {parent / name: reading for name, reading in readings.items()}
    return out


def read_folder(names: Iterable[str], images: str | os.PathLike | PhotoFolder, settings: OcrSettings,
                cache: OcrCache, workers: int | None = None,
                progress: bool = True) -> tuple[dict[str, ImageReading], dict]:
    """Each named photo's reading (OCR only what the cache lacks), by name, and what it took: how many photos,
    how many read now, each one's OCR seconds, and which were missing or unreadable."""
    folder = images if isinstance(images, PhotoFolder) else PhotoFolder(images)
    names = [name for name in dict.fromkeys(names) if name]  # "": a link with no file name
    readings = read_photos(folder, names, settings, cache, workers=workers, progress=progress)
    read = [r for r in readings.values() if not r.missing]
    stats = {"images": len(names), "ocr_fresh": sum(1 for r in read if not r.cached),
             "ocr_seconds": [r.seconds for r in read], "missing": sorted(n for n, r in readings.items() if r.missing)}
    return readings, stats


class _Unread:
    """Marks a photo that could not be read, and names it in a warning if few were named before."""

    def __init__(self, results: dict[str, ImageReading]):
        self.results, self.count = results, 0

    def __call__(self, name: str, why: str) -> None:
        self.count += 1
        if self.count <= NAMED_PROBLEMS:
            log.warning("%s", why)
        self.results[name] = ImageReading([], missing=True)

    def close(self) -> None:
        if self.count > NAMED_PROBLEMS:
            log.warning("... and %d more images missing or unreadable", self.count - NAMED_PROBLEMS)


def _read_todo(folder: PhotoFolder, todo: list[tuple[str, bool]], digests: dict[str, str | None],
               results: dict[str, ImageReading], unread: _Unread, settings: OcrSettings, cache: OcrCache,
               workers: int | None, progress: bool) -> None:
    """OCR (or only find the drawn lines of) the photos the cache lacks, into `results` and the cache."""
    fingerprint = settings.fingerprint()
    lines_key = cache_key(settings.max_side)
    workers = max(1, min(workers or default_workers(settings), len(todo)))
    threads = settings.threads or max(1, (os.cpu_count() or 1) // workers)
    settings = settings.with_changes(threads=threads)
    reading = sum(1 for _, read_text in todo if read_text)
    compiled_dir = cache.path.parent / "openvino"  # compiled OCR models, beside the readings
    bar = tqdm(total=len(todo), desc=f"OCR ({settings.engine})" if reading else "drawn lines", unit="img",
               disable=not progress)

    done = 0  # photos cached, for an error's message: a disabled bar counts nothing, and counts unread files

    def store(name: str, boxes: list[TextBox] | None, seconds: float, drawing: Drawing | str) -> None:
        nonlocal done
        digest = digests[name]
        bar.update()
        if isinstance(drawing, str):
            # not cached: a file that does not decode is named again next run, for a few ms of work
            unread(name, drawing)
            return
        try:
            cache.put_drawing(digest, lines_key, drawing)
            if boxes is not None:
                cache.put(digest, fingerprint, boxes, seconds)
        except sqlite3.Error as error:  # a full disk, a read-only or locked cache: not the OCR's fault
            raise UserError(f"cannot write the OCR cache {cache.path}: {error}; the {done} images read "
                            "before this one are cached") from error
        done += 1
        if boxes is None:
            results[name].drawing = drawing
        else:
            results[name] = ImageReading(boxes, seconds, cached=False, drawing=drawing)

    with logging_redirect_tqdm():  # warnings on lines of their own, not glued to the bar
        try:
            with closing(_explained(_reads(folder, todo, workers, settings, reading > 0, compiled_dir),
                                    workers, lambda: done)) as reads:
                for read in reads:
                    store(*read)
        finally:
            bar.close()  # an error's message on a line of its own, not glued to the bar


def _explained(reads: Iterator[tuple], workers: int, done: Callable[[], int]) -> Iterator[tuple]:
    """The readings, with a failed read raised as `worker_failure` says; the caller's own errors (storing a
    reading) pass as they are, so a full cache disk is not reported as OCR running out of memory."""
    try:
        yield from reads
    except Exception as error:
        raise worker_failure(error, workers, done()) from error


def _reads(folder: PhotoFolder, todo: list[tuple[str, bool]], workers: int, settings: OcrSettings, read_text: bool,
           compiled_dir: Path) -> Iterator[tuple]:
    """Each photo's reading as it finishes, in this process or in a pool of `workers`."""
    if workers == 1:
        _init_worker(settings, read_text, compiled_dir, folder=folder)
        for name, text in todo:
            yield _read_one(name, text)
        return
    # forkserver, not fork: this process may already run OpenCV's or OpenVINO's thread pools (one-worker
    # reads, line finding), and a forked child that inherits them half-made hangs on its first call
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("forkserver"), initializer=_init_worker,
                             initargs=(settings, read_text, compiled_dir, os.getpid(), folder)) as pool:
        futures = [pool.submit(_read_one, name, text) for name, text in todo]
        try:
            for future in as_completed(futures):
                yield future.result()
        except BaseException:
            # stop at once (a worker's error, or the caller's): leaving the pool otherwise reads every queued image
            pool.shutdown(wait=False, cancel_futures=True)
            raise
