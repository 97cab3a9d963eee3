"""Fill the OCR cache for many images: all cores, a progress bar, resumable (done images are skipped).

Each worker also finds the photo's drawn lines (`candidates.lines`) while the image is decoded; an image
whose boxes are cached but whose lines are not (a cache from before lines) is decoded for its lines only.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from contextlib import closing
from pathlib import Path

import numpy as np
from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

from candidates.cache import OcrCache
from candidates.engines import make_engine
from candidates.lines import cache_key, find_segments
from candidates.ocr import OcrSettings, uses_cuda
from candidates.records import NO_SEGMENTS, ImageReading, TextBox
from dataset.errors import UserError
from dataset.images import UnreadableImage, decode_rgb, photo_digest

log = logging.getLogger(__name__)

_engine = None
_engine_settings: OcrSettings | None = None  # what `_engine` was made with
_settings: OcrSettings | None = None
# Each worker holds its own CUDA sessions. On an H100 (80 GB, 16 cores) 8 workers read the 600 dev photos at
# 9.0 a second and 16 at 10.2, from one run each (README, "GPU"): unasked, CUDA runs 8 at most, and fewer where
# the GPU lacks CUDA_WORKER_MIB free for each (8 workers peaked at 28 GB together, 31 GB with a 1920 px detector)
CUDA_WORKERS = 8
CUDA_WORKER_MIB = 4096
# images named one by one when missing or unreadable; past that they are counted in one line (a wrong --images
# folder for the 130,787-row test file would otherwise print a warning per photo)
NAMED_PROBLEMS = 10


def _init_worker(settings: OcrSettings, read_text: bool = True, compiled_dir: Path | None = None,
                 parent: int | None = None) -> None:
    """Make this process's engine, or keep the one it has for the same settings (a caller reading one photo at a
    time, as the Python API does, pays for the models once). `parent`: the pid a pool worker must not outlive."""
    global _engine, _engine_settings, _settings
    if parent is not None:
        threading.Thread(target=_exit_with, args=(parent,), daemon=True, name="exit-with-parent").start()
    if read_text and not (_engine is not None and _engine_settings == settings):
        _engine, _engine_settings = make_engine(settings, compiled_dir), settings
    _settings = settings


def _exit_with(parent: int, every: float = 0.5) -> None:
    """End this worker once `parent` is gone. A worker's own parent is the forkserver, which outlives a killed
    run, so the worker watches the run itself: killed with `kill -9`, it leaves no 1 GB worker reading on."""
    while _alive(parent):
        time.sleep(every)
    os._exit(1)


def _alive(pid: int) -> bool:
    """Whether the process runs: not gone, and not a zombie waiting for its own parent to reap it."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False
    except OSError:  # no /proc: ask the kernel whether the pid exists
        try:
            os.kill(pid, 0)
            return True
        except ProcessLookupError:
            return False
        except PermissionError:
            return True


def read_array(image: np.ndarray, settings: OcrSettings, compiled_dir: Path | None = None) -> ImageReading:
    """One decoded photo (RGB, already shrunk to the settings' max_side) read in this process, its lines found."""
    _init_worker(settings, True, compiled_dir)
    started = time.perf_counter()
    boxes = _engine.read(image)
    return ImageReading(boxes, time.perf_counter() - started, segments=find_segments(image))


def _read_one(path: str, read_text: bool) -> tuple[str, list[TextBox] | None, float, np.ndarray | str]:
    """(path, boxes or None when only the lines were asked for, OCR seconds, line segments), or, for a file
    that does not decode, why in place of the segments: the parent shows it above its progress bar."""
    started = time.perf_counter()
    try:
        image = decode_rgb(path, max_side=_settings.max_side or None)
    except UnreadableImage as error:
        return path, [], time.perf_counter() - started, str(error)
    boxes = _engine.read(image) if read_text else None
    seconds = time.perf_counter() - started
    return path, boxes, seconds, find_segments(image)


def default_workers(settings: OcrSettings) -> int:
    """One per core; on CUDA no more than CUDA_WORKERS, nor than the GPU's free memory holds."""
    cores = os.cpu_count() or 1
    return min(cores, cuda_workers(gpu_free_mib())) if uses_cuda(settings) else cores


def cuda_workers(free_mib: int | None) -> int:
    """CUDA_WORKERS, or fewer where the GPU has not CUDA_WORKER_MIB free for each (a 24 GB card: 6)."""
    return CUDA_WORKERS if free_mib is None else max(1, min(CUDA_WORKERS, free_mib // CUDA_WORKER_MIB))


def gpu_free_mib() -> int | None:
    """Free memory of the GPU that CUDA counts first, as nvidia-smi reports it; None where it cannot be asked."""
    first = os.environ.get("CUDA_VISIBLE_DEVICES", "0").split(",")[0].strip() or "0"
    try:
        out = subprocess.run(["nvidia-smi", "-i", first, "--query-gpu=memory.free", "--format=csv,noheader,nounits"],
                             capture_output=True, text=True, timeout=10, check=True).stdout
        return int(out.split()[0])
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return None


def ocr_images(
    paths: list[Path],
    settings: OcrSettings,
    cache: OcrCache,
    workers: int | None = None,
    progress: bool = True,
) -> dict[Path, ImageReading]:
    """OCR each distinct image once; a missing or unreadable image gives no boxes (and a warning)."""
    results: dict[Path, ImageReading] = {}
    unread = _Unread(results)
    digests: dict[Path, str | None] = {}
    for path in dict.fromkeys(paths):
        try:
            digests[path] = photo_digest(path)
        except UnreadableImage as error:  # missing, or not a regular file of a photo's size: never opened for OCR
            digests[path] = None
            unread(path, str(error))
    fingerprint = settings.fingerprint()
    lines_key = cache_key(settings.max_side)
    todo: list[tuple[Path, bool]] = []  # (image, read its text too)
    for path, digest in digests.items():
        if digest is None:
            continue
        hit = cache.get(digest, fingerprint)
        segments = cache.get_segments(digest, lines_key)
        if hit is not None:
            results[path] = ImageReading(hit[0], hit[1], cached=True, segments=NO_SEGMENTS if segments is None else segments)
        if hit is None or segments is None:
            todo.append((path, hit is None))
    if todo:
        _read_todo(todo, digests, results, unread, settings, cache, workers, progress)
    unread.close()
    return results


def read_folder(names: Iterable[str], images_dir: Path, settings: OcrSettings, cache: OcrCache,
                workers: int | None = None, progress: bool = True) -> tuple[dict[str, ImageReading], dict]:
    """Each named photo's reading (OCR only what the cache lacks), by name, and what it took: how many photos,
    how many read now, each one's OCR seconds, and which were missing or unreadable."""
    paths = [Path(images_dir) / name for name in dict.fromkeys(names) if name]  # "": a link with no file name
    results = ocr_images(paths, settings, cache, workers=workers, progress=progress)
    readings = {p.name: r for p, r in results.items()}
    read = [r for r in readings.values() if not r.missing]
    stats = {"images": len(paths), "ocr_fresh": sum(1 for r in read if not r.cached),
             "ocr_seconds": [r.seconds for r in read], "missing": sorted(n for n, r in readings.items() if r.missing)}
    return readings, stats


class _Unread:
    """Marks an image that could not be read, and names it in a warning if few were named before."""

    def __init__(self, results: dict[Path, ImageReading]):
        self.results, self.count = results, 0

    def __call__(self, path: Path, why: str) -> None:
        self.count += 1
        if self.count <= NAMED_PROBLEMS:
            log.warning("%s", why)
        self.results[path] = ImageReading([], missing=True)

    def close(self) -> None:
        if self.count > NAMED_PROBLEMS:
            log.warning("... and %d more images missing or unreadable", self.count - NAMED_PROBLEMS)


def _read_todo(todo: list[tuple[Path, bool]], digests: dict[Path, str | None], results: dict[Path, ImageReading],
               unread: _Unread, settings: OcrSettings, cache: OcrCache, workers: int | None, progress: bool) -> None:
    """OCR (or only find the drawn lines of) the images the cache lacks, into `results` and the cache."""
    fingerprint = settings.fingerprint()
    lines_key = cache_key(settings.max_side)
    workers = max(1, min(workers or default_workers(settings), len(todo)))
    threads = settings.threads or max(1, (os.cpu_count() or 1) // workers)
    settings = settings.with_changes(threads=threads)
    reading = sum(1 for _, read_text in todo if read_text)
    compiled_dir = cache.path.parent / "openvino"  # compiled OCR models, beside the readings
    bar = tqdm(total=len(todo), desc=f"OCR ({settings.engine})" if reading else "drawn lines", unit="img",
               disable=not progress)

    done = 0  # images cached, for an error's message: a disabled bar counts nothing, and counts unread files

    def store(name: str, boxes: list[TextBox] | None, seconds: float, segments: np.ndarray | str) -> None:
        nonlocal done
        path = Path(name)
        digest = digests[path]
        bar.update()
        if isinstance(segments, str):
            # not cached: a file that does not decode is named again next run, for a few ms of work
            unread(path, segments)
            return
        try:
            cache.put_segments(digest, lines_key, segments)
            if boxes is not None:
                cache.put(digest, fingerprint, boxes, seconds)
        except sqlite3.Error as error:  # a full disk, a read-only or locked cache: not the OCR's fault
            raise UserError(f"cannot write the OCR cache {cache.path}: {error}; the {done} images read "
                            "before this one are cached") from error
        done += 1
        if boxes is None:
            results[path].segments = segments
        else:
            results[path] = ImageReading(boxes, seconds, cached=False, segments=segments)

    with logging_redirect_tqdm():  # warnings on lines of their own, not glued to the bar
        try:
            with closing(_explained(_reads(todo, workers, settings, reading > 0, compiled_dir),
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


def _reads(todo: list[tuple[Path, bool]], workers: int, settings: OcrSettings, read_text: bool,
           compiled_dir: Path) -> Iterator[tuple]:
    """Each image's reading as it finishes, in this process or in a pool of `workers`."""
    if workers == 1:
        _init_worker(settings, read_text, compiled_dir)
        for path, text in todo:
            yield _read_one(str(path), text)
        return
    # forkserver, not fork: this process may already run OpenCV's or OpenVINO's thread pools (one-worker
    # reads, line finding), and a forked child that inherits them half-made hangs on its first call
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("forkserver"),
                             initializer=_init_worker, initargs=(settings, read_text, compiled_dir, os.getpid())) as pool:
        futures = [pool.submit(_read_one, str(path), text) for path, text in todo]
        try:
            for future in as_completed(futures):
                yield future.result()
        except BaseException:
            # stop at once (a worker's error, or the caller's): leaving the pool otherwise reads every queued image
            pool.shutdown(wait=False, cancel_futures=True)
            raise


# how ONNX Runtime (its arena, cuBLAS) and torch say that the GPU's memory ran out
_OUT_OF_MEMORY = ("failed to allocate memory", "out of memory", "resource allocation failed")


def worker_failure(error: Exception, workers: int, done: int) -> Exception:
    """The error to raise when an OCR worker failed: one line and what to do where memory ran out (each worker
    holds its own models and buffers) or a worker was killed (the kernel's out-of-memory killer picks the
    biggest), else the worker's own error."""
    cached = f"the {done} images read so far are cached"
    if isinstance(error, BrokenProcessPool):
        # a worker that could not start (its models would not load) breaks the pool the same way; Python logs
        # its error above this line, so the message names both causes
        return UserError(f"an OCR worker died ({workers} workers; killed for want of memory, or its error is "
                         f"logged above); {cached}: run again with fewer --workers")
    if any(words in str(error).lower() for words in _OUT_OF_MEMORY):
        if workers == 1:  # fewer workers cannot help: one image's models and buffers do not fit
            return UserError(f"OCR ran out of memory reading one image at a time ({type(error).__name__}); {cached}")
        return UserError(f"OCR ran out of memory with {workers} workers ({type(error).__name__}); {cached}: "
                         "run again with fewer --workers")
    return error
