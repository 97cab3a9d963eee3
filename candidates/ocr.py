"""One small OCR interface (RGB image → TextBoxes) with two engines behind it: RapidOCR and EasyOCR.

Settings are plain values; their fingerprint is half of the OCR cache key, so changing any of them
(or OCR_VERSION, bumped when box post-processing changes) makes old cache rows stale, never wrong.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path

import numpy as np

from candidates.records import TextBox
from candidates.runtimes import load_models, native_bf16, recogniser_characters

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


def _is_tall(box: TextBox) -> bool:
    """A box taller than wide: a fragment of vertical text, or a vertical line read by the turned pass."""
    return box.height > 1.3 * box.width


def enlarge_small(image: np.ndarray, target: int) -> tuple[np.ndarray, float]:
    """The image enlarged so its longest side is `target` (when it is shorter), and the factor used."""
    longest = max(image.shape[:2])
    if not target or longest >= target or longest == 0:
        return image, 1.0
    import cv2

    scale = target / longest
    return cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC), scale


def in_original_pixels(box: TextBox, scale: float) -> TextBox:
    """A box read on an image resized by `scale`, in the original image's pixels."""
    if scale == 1.0:
        return box
    return TextBox(box.text, tuple((x / scale, y / scale) for x, y in box.points), box.confidence)


class _Engine:
    """What both engines share: small photos are enlarged before reading, and boxes come back in the
    photo's own pixels."""

    settings: OcrSettings

    def read(self, image: np.ndarray) -> list[TextBox]:
        image, scale = enlarge_small(image, self.settings.upscale_to)
        return [in_original_pixels(b, scale) for b in self._read(image)]

    def _read(self, image: np.ndarray) -> list[TextBox]:
        raise NotImplementedError


class RapidOcrEngine(_Engine):
    """rapidocr's pipeline: its PP-OCRv4 detector, and a recogniser of the settings' choice (PP-OCRv6 small
    by default), run in OpenVINO or ONNX Runtime (`candidates.runtimes`)."""

    def __init__(self, settings: OcrSettings, compiled_dir: Path | None = None):
        from rapidocr_onnxruntime import RapidOCR
        from rapidocr_onnxruntime.ch_ppocr_rec.utils import CTCLabelDecode

        self.settings = settings
        cuda = uses_cuda(settings)
        threads = settings.threads or -1
        self._ocr = RapidOCR(
            text_score=0.0,  # filtered in read(): a tall box read badly still calls for the turned pass
            max_side_len=max(settings.max_side, 32) if settings.max_side else 10_000,
            det_limit_side_len=settings.det_limit_side,
            det_limit_type=settings.det_limit_type,
            det_box_thresh=settings.box_thresh,
            det_use_cuda=cuda,
            cls_use_cuda=cuda,
            rec_use_cuda=cuda,
            rec_batch_num=settings.rec_batch or (32 if cuda else 3),
            rec_img_shape=[3, 48, settings.rec_min_width],
            intra_op_num_threads=threads,
            inter_op_num_threads=1 if threads > 0 else -1,
        )
        self._honour_det_limit()
        rec_batch = self._ocr.text_rec.rec_batch_num
        # on CUDA, pad inputs to a few shapes: the detector's to its square canvas, batches to full
        steps = {"Det": (1, 1, settings.det_limit_side, settings.det_limit_side),
                 "Cls": (self._ocr.text_cls.cls_batch_num, 1, 1, 1),
                 "Rec": (rec_batch, 1, 1, settings.rec_min_width)}
        models = load_models(settings.runtime, settings.precision, threads, cuda, steps,
                             recogniser=settings.recogniser, memory_arena=settings.memory_arena,
                             compiled_dir=compiled_dir)
        self._ocr.text_det.infer = models["Det"]
        self._ocr.text_cls.infer = models["Cls"]
        self._ocr.text_rec.session = models["Rec"]
        if characters := recogniser_characters(settings.recogniser):
            self._ocr.text_rec.postprocess_op = CTCLabelDecode(character_path=characters)

    def _honour_det_limit(self) -> None:
        """rapidocr-onnxruntime 1.4.4 swaps det_limit_side for 960/1500/2000 by image size in "max" mode.

        So a 1600 px photo was detected at 1600 px (1.6 s on one core against 0.25 s at 960): pin the size asked for.
        """
        from rapidocr_onnxruntime.ch_ppocr_det.utils import DetPreProcess

        det = self._ocr.text_det
        pinned = DetPreProcess(self.settings.det_limit_side, self.settings.det_limit_type, det.mean, det.std)
        det.get_preprocess = lambda _longest_side: pinned

    def _read(self, image: np.ndarray) -> list[TextBox]:
        bgr = np.ascontiguousarray(image[:, :, ::-1])
        result, _ = self._ocr(bgr, use_cls=self.settings.use_angle_cls)
        read = [
            TextBox(str(text), tuple((float(x), float(y)) for x, y in points), float(score))
            for points, text, score in (result or [])
        ]
        boxes = [b for b in read if b.confidence >= self.settings.text_score and b.text.strip()]
        tall = [b for b in read if _is_tall(b)] if self.settings.rotation_pass else []
        if tall:
            boxes += self._turned_pass(bgr, tall)
        return boxes

    def _turned_pass(self, bgr: np.ndarray, tall: list[TextBox]) -> list[TextBox]:
        """Read the strip around the tall boxes turned 90° clockwise; keep the vertical lines with a digit.

        The detector cuts vertical text into fragments, so re-reading tall boxes alone does not recover it.
        Reading only the strip that holds them, not the whole image, costs a fraction of a second pass.
        Text that ran top-to-bottom comes out upside down and is flipped back by the angle classifier.
        """
        pad = max(b.width for b in tall)
        x0 = max(int(min(b.left for b in tall) - pad), 0)
        x1 = min(int(max(b.right for b in tall) + pad) + 1, bgr.shape[1])
        y0 = max(int(min(b.top for b in tall) - pad), 0)
        y1 = min(int(max(b.bottom for b in tall) + pad) + 1, bgr.shape[0])
        strip = bgr[y0:y1, x0:x1]
        turned = np.ascontiguousarray(np.rot90(strip, k=-1))
        result, _ = self._ocr(turned, use_cls=True)
        out = []
        for points, text, score in result or []:
            text = str(text)
            if float(score) < self.settings.text_score or not any(ch.isdigit() for ch in text):
                continue
            original = tuple((x0 + float(y), y0 + float(strip.shape[0] - 1 - x)) for x, y in points)
            # the turned box's top-left corner is the original's bottom-left: start the polygon there
            original = original[1:] + original[:1]
            box = TextBox(text, original, float(score))
            if _is_tall(box):
                out.append(box)
        return out


class EasyOcrEngine(_Engine):
    """EasyOCR (CRAFT + CRNN) with the offline English weights; torch picks the GPU when there is one."""

    def __init__(self, settings: OcrSettings):
        import easyocr
        import easyocr_en_models

        if settings.threads:
            import torch

            torch.set_num_threads(settings.threads)
        self.settings = settings
        self._reader = easyocr.Reader(
            ["en"],
            gpu=uses_cuda(settings),
            download_enabled=False,
            model_storage_directory=easyocr_en_models.model_dir(),
            verbose=False,
        )

    def _read(self, image: np.ndarray) -> list[TextBox]:
        s = self.settings
        scale = 1.0
        # the OCR runner decodes at max_side already; this keeps the setting true for any other caller, as
        # rapidocr's own max_side_len does for RapidOcrEngine
        if s.max_side and max(image.shape[:2]) > s.max_side:
            import cv2

            scale = s.max_side / max(image.shape[:2])
            image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        results = self._reader.readtext(
            image,
            canvas_size=s.det_limit_side,
            mag_ratio=s.mag_ratio,
            text_threshold=0.7,
            low_text=0.4,
            rotation_info=[90, 270] if s.rotation_pass else None,
        )
        return [
            in_original_pixels(TextBox(str(text), tuple((float(x), float(y)) for x, y in points), float(score)), scale)
            for points, text, score in results
            if float(score) >= s.text_score and str(text).strip()
        ]


def make_engine(settings: OcrSettings, compiled_dir: Path | None = None):
    """`compiled_dir`: where RapidOCR's OpenVINO models are kept compiled between runs (`candidates.runtimes`)."""
    settings = settings.as_run()
    if settings.engine == "rapidocr":
        return RapidOcrEngine(settings, compiled_dir)
    if settings.engine == "easyocr":
        return EasyOcrEngine(settings)
    raise ValueError(f"unknown OCR engine {settings.engine!r}; choose one of {', '.join(ENGINES)}")


def boxes_to_json(boxes: list[TextBox]) -> str:
    return json.dumps([[b.text, [list(p) for p in b.points], round(b.confidence, 4)] for b in boxes])


def boxes_from_json(text: str) -> list[TextBox]:
    return [TextBox(t, tuple((float(x), float(y)) for x, y in pts), float(c)) for t, pts, c in json.loads(text)]


__all__ = ["ENGINES", "OcrSettings", "boxes_from_json", "boxes_to_json", "make_engine"]
