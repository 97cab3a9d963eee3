"""One small OCR interface (RGB image → TextBoxes) with two engines behind it: RapidOCR and EasyOCR.

Settings are plain values; their fingerprint is half of the OCR cache key, so changing any of them
(or OCR_VERSION, bumped when box post-processing changes) makes old cache rows stale, never wrong.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

import numpy as np

from candidates.records import TextBox

OCR_VERSION = 1
ENGINES = ("rapidocr", "easyocr")


@dataclass(frozen=True)
class OcrSettings:
    engine: str = "rapidocr"
    max_side: int = 1600  # longest side the image is shrunk to before detection (0 = as is)
    det_limit_side: int = 960  # the detector's input size (RapidOCR: see det_limit_type; EasyOCR: canvas_size)
    det_limit_type: str = "max"  # RapidOCR: "max" shrinks the longest side to det_limit_side, "min" enlarges the shortest
    box_thresh: float = 0.5
    text_score: float = 0.3  # keep low-confidence readings: the ranker sees the confidence as a feature
    # Both on by default: turning them off (FAST) is 1.7x faster on 40 dev photos, but over all 600 it
    # loses 2 of 21 height labels and 2 of 33 voltage labels (README, "Throughput").
    use_angle_cls: bool = True
    rotate_tall_boxes: bool = False
    rotation_pass: bool = True  # when a tall box hints at vertical text, read the image turned 90° as well
    mag_ratio: float = 1.0  # EasyOCR only
    threads: int = 0  # 0 = let the runtime choose
    device: str = "auto"  # auto | cpu | cuda

    def fingerprint(self) -> str:
        stable = {k: v for k, v in asdict(self).items() if k not in ("threads", "device")}
        stable["ocr_version"] = OCR_VERSION
        return hashlib.sha1(json.dumps(stable, sort_keys=True).encode()).hexdigest()[:12]

    def with_changes(self, **changes) -> "OcrSettings":
        return OcrSettings(**{**asdict(self), **changes})


# `prodspec predict --fast`: skip the 180° classifier and the turned pass for vertical text
FAST = {"use_angle_cls": False, "rotation_pass": False}


def cuda_available() -> bool:
    try:
        import onnxruntime

        if "CUDAExecutionProvider" in onnxruntime.get_available_providers():
            return True
    except ImportError:
        pass
    try:
        import torch

        return torch.cuda.is_available()
    except ImportError:
        return False


def _use_cuda(settings: OcrSettings) -> bool:
    return settings.device == "cuda" or (settings.device == "auto" and cuda_available())


class RapidOcrEngine:
    """PP-OCRv4 detector and recogniser in ONNX Runtime; the models ship inside the wheel."""

    def __init__(self, settings: OcrSettings):
        from rapidocr_onnxruntime import RapidOCR

        self.settings = settings
        cuda = _use_cuda(settings)
        threads = settings.threads or -1
        self._ocr = RapidOCR(
            text_score=settings.text_score,
            max_side_len=max(settings.max_side, 32) if settings.max_side else 10_000,
            det_limit_side_len=settings.det_limit_side,
            det_limit_type=settings.det_limit_type,
            det_box_thresh=settings.box_thresh,
            det_use_cuda=cuda,
            cls_use_cuda=cuda,
            rec_use_cuda=cuda,
            rec_batch_num=16,
            intra_op_num_threads=threads,
            inter_op_num_threads=1 if threads > 0 else -1,
        )

    def read(self, image: np.ndarray) -> list[TextBox]:
        bgr = np.ascontiguousarray(image[:, :, ::-1])
        result, _ = self._ocr(bgr, use_cls=self.settings.use_angle_cls)
        boxes = [
            TextBox(str(text), tuple((float(x), float(y)) for x, y in points), float(score))
            for points, text, score in (result or [])
            if str(text).strip()
        ]
        if self.settings.rotate_tall_boxes:
            boxes = self._reread_tall_boxes(bgr, boxes)
        if self.settings.rotation_pass and any(b.height > 1.3 * b.width for b in boxes):
            boxes += self._turned_pass(bgr)
        return boxes

    def _turned_pass(self, bgr: np.ndarray) -> list[TextBox]:
        """Read the image turned 90° clockwise; keep the lines with a digit that were vertical in the original.

        The detector cuts vertical text into fragments, so re-reading tall boxes alone does not recover it.
        Text that ran top-to-bottom comes out upside down and is flipped back by the angle classifier.
        """
        height = bgr.shape[0]
        turned = np.ascontiguousarray(np.rot90(bgr, k=-1))
        result, _ = self._ocr(turned, use_cls=True)
        out = []
        for points, text, score in result or []:
            text = str(text)
            if not any(ch.isdigit() for ch in text):
                continue
            original = tuple((float(y), float(height - 1 - x)) for x, y in points)
            # the turned box's top-left corner is the original's bottom-left: start the polygon there
            original = original[1:] + original[:1]
            box = TextBox(text, original, float(score))
            if box.height > 1.3 * box.width:
                out.append(box)
        return out

    def _reread_tall_boxes(self, bgr: np.ndarray, boxes: list[TextBox]) -> list[TextBox]:
        """Vertical labels (a drawing's height) come out as tall boxes: read them turned the other way too.

        PP-OCR already turns a tall crop by 90° one way; the other way is read here and the more
        confident reading kept.
        """
        out = []
        for box in boxes:
            if box.height > 1.5 * box.width and box.height > 20:
                x0, y0 = max(int(box.left), 0), max(int(box.top), 0)
                crop = bgr[y0 : int(box.bottom) + 1, x0 : int(box.right) + 1]
                if crop.size:
                    turned = np.ascontiguousarray(np.rot90(crop, k=1))
                    result, _ = self._ocr(turned, use_det=False, use_cls=False)
                    if result:
                        text, score = result[0][0], float(result[0][1])
                        if score > box.confidence and str(text).strip():
                            box = TextBox(str(text), box.points, score)
            out.append(box)
        return out


class EasyOcrEngine:
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
            gpu=_use_cuda(settings),
            download_enabled=False,
            model_storage_directory=easyocr_en_models.model_dir(),
            verbose=False,
        )

    def read(self, image: np.ndarray) -> list[TextBox]:
        s = self.settings
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
            rotation_info=[90, 270] if s.rotate_tall_boxes else None,
        )
        return [
            TextBox(str(text), tuple((float(x), float(y)) for x, y in points), float(score))
            for points, text, score in results
            if float(score) >= s.text_score and str(text).strip()
        ]


def make_engine(settings: OcrSettings):
    if settings.engine == "rapidocr":
        return RapidOcrEngine(settings)
    if settings.engine == "easyocr":
        return EasyOcrEngine(settings)
    raise ValueError(f"unknown OCR engine {settings.engine!r}; choose one of {', '.join(ENGINES)}")


def boxes_to_json(boxes: list[TextBox]) -> str:
    return json.dumps([[b.text, [list(p) for p in b.points], round(b.confidence, 4)] for b in boxes])


def boxes_from_json(text: str) -> list[TextBox]:
    return [TextBox(t, tuple((float(x), float(y)) for x, y in pts), float(c)) for t, pts, c in json.loads(text)]


__all__ = ["OcrSettings", "make_engine", "boxes_to_json", "boxes_from_json", "ENGINES"]
