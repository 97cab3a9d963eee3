"""Where RapidOCR's three ONNX models run: ONNX Runtime or OpenVINO, swapped in under rapidocr's own code.

rapidocr keeps its pre- and post-processing and calls each model as `model(batch)[0]`; these callables
take that place. ONNX Runtime runs with its CPU memory arena on (rapidocr turns it off: about 1.6x slower,
bench/out/ocr_levers.json) and serves CUDA. OpenVINO runs on CPU only, in bf16 where the CPU computes
bf16 natively (AVX-512 BF16, AMX) and in f32 elsewhere (emulated bf16 would be slower than f32).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

RUNTIMES = ("onnxruntime", "openvino")
PRECISIONS = ("f32", "bf16")
PARTS = ("Det", "Cls", "Rec")


def model_paths() -> dict[str, Path]:
    """The wheel's detector, angle classifier and recogniser, as rapidocr's own config names them."""
    from rapidocr_onnxruntime.main import DEFAULT_CFG_PATH
    from rapidocr_onnxruntime.utils import read_yaml

    config = read_yaml(DEFAULT_CFG_PATH)
    return {part: DEFAULT_CFG_PATH.parent / config[part]["model_path"] for part in PARTS}


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
    def __init__(self, path: Path, threads: int, cuda: bool):
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.enable_cpu_mem_arena = True
        if threads > 0:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        providers = ["CPUExecutionProvider"]
        if cuda:
            providers.insert(0, "CUDAExecutionProvider")
        self.session = onnxruntime.InferenceSession(str(path), options, providers=providers)
        self.input_name = self.session.get_inputs()[0].name

    def __call__(self, batch: np.ndarray) -> list[np.ndarray]:
        return self.session.run(None, {self.input_name: batch})


class OpenVinoModel:
    """One compiled model and its infer request, set for one worker process among several.

    OpenVINO pins its threads to cores by default: two worker processes then share one core (1.2 cores
    busy of 2, measured), so pinning is off. Every new input shape adds to its shape cache (crops come in
    any width): unbounded, a worker grew past 2.5 GB over 300 photos; capped at 50, it stays under 0.9 GB
    at the same speed.
    """

    def __init__(self, path: Path, threads: int, precision: str):
        import openvino

        config = {"PERFORMANCE_HINT": "LATENCY", "NUM_STREAMS": 1, "INFERENCE_PRECISION_HINT": precision,
                  "ENABLE_CPU_PINNING": False, "CPU_RUNTIME_CACHE_CAPACITY": 50}
        if threads > 0:
            config["INFERENCE_NUM_THREADS"] = threads
        compiled = openvino.Core().compile_model(str(path), "CPU", config)
        self.request = compiled.create_infer_request()

    def __call__(self, batch: np.ndarray) -> list[np.ndarray]:
        # the request reuses its output buffer on the next call: hand rapidocr a copy
        return [self.request.infer({0: batch})[0].copy()]


def load_models(runtime: str, precision: str, threads: int, cuda: bool) -> dict[str, object]:
    """One callable per part; CUDA always runs in ONNX Runtime (OpenVINO here is the CPU path)."""
    if runtime not in RUNTIMES:
        raise ValueError(f"unknown OCR runtime {runtime!r}; choose one of {', '.join(RUNTIMES)}")
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; choose one of {', '.join(PRECISIONS)}")
    paths = model_paths()
    if runtime == "openvino" and not cuda:
        return {part: OpenVinoModel(path, threads, precision) for part, path in paths.items()}
    return {part: OnnxRuntimeModel(path, threads, cuda) for part, path in paths.items()}


__all__ = ["PRECISIONS", "RUNTIMES", "load_models", "native_bf16"]
