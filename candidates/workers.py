"""The OCR worker processes: how many a machine runs, how a worker ends with the run that started it, and what a
failed worker's error says to the user."""

from __future__ import annotations

import os
import subprocess
import time
from concurrent.futures.process import BrokenProcessPool

from prodspec.candidates.ocr import OcrSettings, uses_cuda
from prodspec.dataset.errors import UserError

# Each worker holds its own CUDA sessions. On an H100 (80 GB, 16 cores) 8 workers read the 600 dev photos at
# 9.0 a second and 16 at 10.2, from one run each (README, "GPU"): unasked, CUDA runs 8 at most, and fewer where
# the GPU lacks CUDA_WORKER_MIB free for each (8 workers peaked at 28 GB together, 31 GB with a 1920 px detector)
CUDA_WORKERS = 8
CUDA_WORKER_MIB = 4096

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


def exit_with(parent: int, every: float = 0.5) -> None:
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
