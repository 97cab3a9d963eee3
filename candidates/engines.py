"""One small OCR interface (RGB image → TextBoxes) with two engines behind it: RapidOCR and EasyOCR."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from prodspec.candidates.ocr import ENGINES, OcrSettings, uses_cuda
from prodspec.candidates.records import TextBox
from prodspec.candidates.runtimes import load_models, recogniser_characters


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
