"""The OCR settings and the boxes' storage form; the two engines that read by them are in `candidates.engines`.

Settings are plain values; their fingerprint is half of the OCR cache key, so changing any of them
(or OCR_VERSION, bumped when box post-processing changes) makes old cache rows stale, never wrong.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from functools import cache

from prodspec.candidates.records import TextBox
from prodspec.candidates.runtimes import native_bf16

# 2: the detector honours det_limit_side (1.4.4 ignored it in "max" mode);
# 3: a tall box calls for the turned pass whatever its reading scored (text_score filters afterwards)
OCR_VERSION = 3
ENGINES = ("rapidocr", "easyocr")


@dataclass(frozen=True)
class OcrSettings:
    engine: str = "rapidocr"
    max_side: int = 1600  # longest side the image is shrunk to before detection (0 = as is)
    # a photo whose longest side is below this is enlarged to it first: the detector misses print a few
    # pixels high, and thumbnails (200-500 px) print their values that small (0 = never enlarge)
    upscale_to: int = 1000
    det_limit_side: int = 1440  # the detector's input size (RapidOCR: see det_limit_type; EasyOCR: canvas_size)
    det_limit_type: str = "max"  # RapidOCR: "max" shrinks the longest side to det_limit_side, "min" enlarges the shortest
    # recognition still reads its crops from the max_side image, so small print keeps its pixels
    box_thresh: float = 0.5
    text_score: float = 0.3  # keep low-confidence readings: the ranker sees the confidence as a feature
    # RapidOCR: the 180° classifier on the main pass. Off: upside-down text is rare on product photos, and
    # over the 600 dev photos off with a 1440 px detector recalled 0.741 against 0.734 on at 1600, faster
    # (bench/out/runtime_600.json). The turned pass always uses it.
    use_angle_cls: bool = False
    # RapidOCR: when a tall box hints at vertical text, read the strip around it turned 90° as well;
    # EasyOCR: its rotation_info=[90, 270] (each box also read turned both ways). On by default: FAST turns
    # it off and loses vertical labels (2 of 21 heights over the 600 dev photos; README, "Throughput").
    rotation_pass: bool = True
    rec_min_width: int = 320  # RapidOCR pads every crop to at least this width (its default: 320, for 48 px high)
    mag_ratio: float = 1.0  # EasyOCR only
    threads: int = 0  # 0 = let the runtime choose
    device: str = "auto"  # auto | cpu | cuda
    rec_batch: int = 0  # crops per recognition call; 0 = 3 on CPU (bigger batches pad more), 32 on CUDA
    # RapidOCR: where its models run on CPU (candidates/runtimes.py); CUDA always runs in ONNX Runtime
    runtime: str = "openvino"
    precision: str = "bf16"  # OpenVINO only, and only where the CPU computes bf16 natively (else f32)
    memory_arena: bool = True  # ONNX Runtime only; False is rapidocr's own setting (arena off, slower)
    # RapidOCR: which recogniser reads the boxes (candidates.runtimes.RECOGNISERS). PP-OCRv6's small one
    # found more labels over the 600 dev photos than rapidocr's PP-OCRv4 (0.792 against 0.767)
    recogniser: str = "ppocrv6-small"

    def fingerprint(self) -> str:
        """The half of the cache key that says what produced the boxes (as run here); speed-only knobs stay out.

        rec_batch can change a reading in rare cases (a batch's crops are padded to its widest), too
        little to make every cached image stale when only the batch size differs.
        """
        speed_only = ("threads", "device", "rec_batch", "memory_arena")
        stable = {k: v for k, v in asdict(self.as_run()).items() if k not in speed_only}
        if stable["recogniser"] == "ppocrv4" or self.engine != "rapidocr":
            del stable["recogniser"]  # keys from before the setting existed stay valid
        stable["ocr_version"] = OCR_VERSION
        if self.engine == "rapidocr" and uses_cuda(self):
            # CUDA pads the models' inputs to fixed shapes (candidates.runtimes.BucketedCudaModel), which shifts
            # the readings a little: they must not pass for the CPU's
            stable["cuda"] = "shape-buckets-1"
        return hashlib.sha1(json.dumps(stable, sort_keys=True).encode()).hexdigest()[:12]

    def with_changes(self, **changes) -> OcrSettings:
        return OcrSettings(**{**asdict(self), **changes})

    @classmethod
    def from_meta(cls, saved: dict) -> OcrSettings:
        """The settings a model was trained with; a setting its meta.json predates takes the value it had then."""
        return cls(**{**BEFORE_SETTING_EXISTED, **saved})

    def as_run(self) -> OcrSettings:
        """The settings as they will run here: on CUDA RapidOCR's models run in ONNX Runtime, in f32,
        and OpenVINO runs bf16 only where the CPU computes it natively.

        The cache key is taken from these, so it names the runtime that produced the boxes.
        """
        run = self
        if self.engine == "rapidocr" and self.runtime != "onnxruntime" and uses_cuda(self):
            run = run.with_changes(runtime="onnxruntime")
        if self.engine == "rapidocr" and run.precision != "f32" and (run.runtime == "onnxruntime" or not native_bf16()):
            run = run.with_changes(precision="f32")
        return run


# what a model trained before a setting existed read its photos with
BEFORE_SETTING_EXISTED = {"recogniser": "ppocrv4"}

# `prodspec predict --fast`: skip the turned pass for vertical text (and the 180° classifier, off by default)
FAST = {"use_angle_cls": False, "rotation_pass": False}


@cache
def cuda_available(engine: str = "rapidocr") -> bool:
    """Whether the engine's own runtime sees a GPU: ONNX Runtime's CUDA provider for RapidOCR, torch for EasyOCR.

    Asked once a process: every cache key (`OcrSettings.fingerprint`) depends on it.
    """
    try:
        if engine == "rapidocr":
            import onnxruntime

            return "CUDAExecutionProvider" in onnxruntime.get_available_providers()
        import torch

        return torch.cuda.is_available()
    except ImportError:
        return False


def uses_cuda(settings: OcrSettings) -> bool:
    return settings.device == "cuda" or (settings.device == "auto" and cuda_available(settings.engine))


def boxes_to_json(boxes: list[TextBox]) -> str:
    return json.dumps([[b.text, [list(p) for p in b.points], round(b.confidence, 4)] for b in boxes])


def boxes_from_json(text: str) -> list[TextBox]:
    return [TextBox(t, tuple((float(x), float(y)) for x, y in pts), float(c)) for t, pts, c in json.loads(text)]


__all__ = ["ENGINES", "FAST", "OcrSettings", "boxes_from_json", "boxes_to_json", "cuda_available", "uses_cuda"]
