"""`prodspec explain`: one image with its OCR boxes, drawn lines, candidates and their scores, and the answer."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import pandas as pd
from PIL import Image, ImageDraw, ImageFont

from prodspec.candidates.cache import OcrCache
from prodspec.candidates.image import image_candidates
from prodspec.candidates.run_ocr import read_folder
from prodspec.dataset.errors import UserError
from prodspec.dataset.images import UnreadableImage, decode_rgb
from prodspec.dataset.rows import check_output
from prodspec.dataset.units import allowed_units, entity_names
from prodspec.features.columns import KINDS
from prodspec.ranker.answers import answer_text
from prodspec.ranker.artifacts import RankerModel
from prodspec.ranker.selection import value_mass
from prodspec.serving.predict import load_ranker, ocr_settings, rank_candidates

MIN_SIDE = 1000  # a small photo is drawn enlarged to this shortest side, so its labels stay legible
FONT = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
CHOSEN, OTHER, BOX, LINE = (30, 160, 60, 255), (220, 120, 20, 255), (90, 90, 90, 220), (40, 110, 220, 200)


@dataclass
class Explanation:
    """One row's answer as `explain` draws it: what was said, and the candidates in the order the answer is picked
    in (`rank` from 1; `answer`: the string each would be answered as, empty for a unit the attribute refuses)."""
    said: str
    answer: str
    confidence: float
    source: str
    candidates: pd.DataFrame  # rank, share, score, value, unit_name, unit_allowed, kind, confidence, axis, answer


def explain(image: Path, entity: str, group: str = "", output: Path = Path("out/explain.png"),
            model_dir: Path | None = None, cache_dir: Path | None = None, top: int = 8) -> str:
    check_output(output, "PNG file")
    if output.suffix.lower() not in (".png", ".jpg", ".jpeg"):
        raise UserError(f"{output}: name a .png (or .jpg) file to draw into")
    if entity not in allowed_units():
        raise UserError(f"unknown attribute {entity!r}; one of {', '.join(entity_names())}")
    cache = OcrCache(cache_dir)
    try:
        found = explanation(image, entity, group, output, load_ranker(model_dir), cache, top)
    finally:
        cache.close()
    listing = found.candidates.drop(columns=["answer"])
    return f"answer: {found.said}\n" + (listing.to_string(index=False) if len(listing) else "no candidates")


def explanation(image: Path, entity: str, group: str, output: Path, model: RankerModel, cache: OcrCache,
                top: int = 8) -> Explanation:
    """Read `image` (through `cache`), answer its `entity` row with `model`, and draw why into `output`."""
    settings = ocr_settings(model)
    try:  # the picture the OCR read: the boxes are in its pixels
        pixels = decode_rgb(image, max_side=settings.max_side or None)
    except UnreadableImage as error:
        raise UserError(str(error)) from None
    rows = pd.DataFrame([{"index": "0", "image_link": image.name, "group_id": str(group), "entity_name": entity,
                          "image_name": image.name}])
    readings, _ = read_folder(rows["image_name"], image.parent, settings, cache, workers=1, progress=False)
    reading = readings[image.name]
    candidates = image_candidates(reading)
    table, ranked = rank_candidates(rows, {image.name: candidates}, model)
    axes = candidates.axes  # which axis each length was read as, and the line it labels
    answer, tops, confidence = ranked.answers[0], ranked.tops, ranked.confidence
    lines = table.lines.assign(score=ranked.scores)
    # the order the answer is picked in: allowed units by their value's share of the score, then by score
    allowed = lines["unit_allowed"] > 0
    lines = lines.assign(share=value_mass(lines[allowed]).reindex(lines.index)).sort_values(
        ["share", "score"], ascending=False, na_position="last")
    chosen = int(tops["cand_pos"].iloc[0])
    threshold = model.meta["thresholds"].get(entity, 0.0)
    said = _said(answer, chosen, confidence[0], threshold, bool(reading.boxes))
    _draw(pixels, reading, axes, lines.head(top).reset_index(drop=True), chosen,
          [f"{entity} (group {group or 'unknown'}): {said}",
           (f"confidence {answer.confidence:.2f} that the answer is exactly right; ranker confidence "
            f"{confidence[0]:.2f}, threshold {threshold:.2f}"),
           "green: chosen   orange: best other candidate in a box (#rank value unit (score) [axis read])",
           ("grey: OCR boxes   blue: drawn lines   thick: the line a length labels (purple H, teal W, brown D)   "
            "dashed red: the product")], output)
    listing = lines.head(top)[["share", "score", "value", "unit_name", "unit_allowed", "kind", "confidence"]].copy()
    listing["axis"] = [(axes[int(k)].axis or "-") if axes else "-" for k in lines.head(top)["cand_pos"]]
    listing[["share", "score"]] = listing[["share", "score"]].round(3)
    listing.insert(0, "rank", range(1, len(listing) + 1))
    listing["kind"] = listing["kind"].map(lambda k: KINDS[int(k)])
    listing["answer"] = [answer_text(v, u, str(group), entity, model.priors) if ok > 0 else ""
                         for v, u, ok in zip(listing["value"], listing["unit_name"], listing["unit_allowed"])]
    return Explanation(said, answer.text, float(answer.confidence), answer.source, listing.reset_index(drop=True))


def _said(answer, chosen: int, confidence: float, threshold: float, read_text: bool) -> str:
    if chosen >= 0:
        return answer.text or f"abstained (confidence {confidence:.2f} < threshold {threshold:.2f})"
    why = "no candidate of an allowed unit" if read_text else "OCR found no text"
    if answer.source == "prior":
        return f"{answer.text} ({why}: {answer.evidence})"
    return f"no answer ({why})"


AXIS_COLOURS = {"H": (150, 50, 200, 255), "W": (0, 150, 150, 255), "D": (150, 90, 30, 255)}


def _draw(pixels, reading, axes, ranked: pd.DataFrame, chosen: int, legend_lines: list[str], output: Path) -> None:
    canvas = Image.fromarray(pixels)
    scale = max(1.0, MIN_SIDE / min(canvas.size))
    canvas = canvas.resize((round(canvas.width * scale), round(canvas.height * scale)))
    draw = ImageDraw.Draw(canvas, "RGBA")
    # strokes and labels grow with the picture, so they stay visible on a 1,600 px photo as on a thumbnail
    stroke = max(2, round(max(canvas.size) / 500))
    font = ImageFont.truetype(str(FONT), max(16, round(max(canvas.size) / 60)))
    for x1, y1, x2, y2 in reading.segments:
        draw.line([(x1 * scale, y1 * scale), (x2 * scale, y2 * scale)], fill=LINE, width=stroke)
    if reading.drawing.product:
        x0, y0, x1, y1 = (v * scale for v in reading.drawing.product)
        for a, b in (((x0, y0), (x1, y0)), ((x1, y0), (x1, y1)), ((x1, y1), (x0, y1)), ((x0, y1), (x0, y0))):
            steps = max(int(math.hypot(b[0] - a[0], b[1] - a[1]) // (6 * stroke)), 1)
            for j in range(0, steps, 2):
                draw.line([(a[0] + (b[0] - a[0]) * j / steps, a[1] + (b[1] - a[1]) * j / steps),
                           (a[0] + (b[0] - a[0]) * (j + 1) / steps, a[1] + (b[1] - a[1]) * (j + 1) / steps)],
                          fill=(200, 0, 0, 160), width=stroke)
    for b in reading.boxes:
        draw.polygon([(x * scale, y * scale) for x, y in b.points], outline=BOX, width=max(1, stroke // 2))
    best_per_box = ranked.groupby("box_index", sort=False).head(1)
    # chosen last, so it is drawn on top
    best_per_box = best_per_box.assign(is_chosen=best_per_box["cand_pos"] == chosen).sort_values("is_chosen")
    for rank, line in zip(best_per_box.index, best_per_box.itertuples()):
        box = reading.boxes[int(line.box_index)]
        colour = CHOSEN if line.is_chosen else OTHER
        draw.polygon([(x * scale, y * scale) for x, y in box.points], outline=colour, width=stroke + 1)
        axis = axes[int(line.cand_pos)] if axes else None
        if axis is not None and axis.segment is not None:
            x1, y1, x2, y2 = (v * scale for v in axis.segment)
            draw.line([(x1, y1), (x2, y2)], fill=AXIS_COLOURS[axis.axis], width=3 * stroke)
        label = (f"#{rank + 1} {line.value:g} {line.unit_name} ({line.score:.2f})"
                 + (f" [{axis.axis}]" if axis is not None and axis.axis else ""))
        x, y = box.left * scale, max(box.top * scale - font.size - 6, 0)
        draw.rectangle(draw.textbbox((x, y), label, font=font), fill=(255, 255, 255, 220))
        draw.text((x, y), label, fill=colour, font=font)
    size = max(16, round(max(canvas.width, 900) / 90))
    legend_font = ImageFont.truetype(str(FONT), size)
    legend = Image.new("RGB", (max(canvas.width, 900), round(1.5 * size) * len(legend_lines) + 10), "white")
    ldraw = ImageDraw.Draw(legend)
    for i, text in enumerate(legend_lines):
        ldraw.text((8, 5 + round(1.5 * size) * i), text, fill="black", font=legend_font)
    sheet = Image.new("RGB", (legend.width, canvas.height + legend.height), "white")
    sheet.paste(canvas, (0, 0))
    sheet.paste(legend, (0, canvas.height))
    output.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(output)
