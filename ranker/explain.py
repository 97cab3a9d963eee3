"""`prodspec explain`: one image with its OCR boxes, candidates and their scores, and the answer."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import pandas as pd
from PIL import Image, ImageDraw, ImageFont

from candidates.cache import OcrCache
from candidates.ocr import OcrSettings
from dataset.errors import UserError
from dataset.images import UnreadableImage, decode_rgb
from dataset.rows import check_output
from dataset.units import allowed_units
from features.build import KINDS
from ranker.answers import fallback_answer
from ranker.artifacts import load_model
from ranker.pipeline import predict_rows, read_images
from ranker.selection import value_mass

MIN_SIDE = 1000
FONT = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"


def explain(image: Path, entity: str, group: str = "0", output: Path = Path("out/explain.png"),
            model_dir: Path | None = None, cache_dir: Path | None = None, top: int = 8) -> str:
    check_output(output, "PNG file")
    if output.suffix.lower() not in (".png", ".jpg", ".jpeg"):
        raise UserError(f"{output}: name a .png (or .jpg) file to draw into")
    if entity not in allowed_units():
        raise UserError(f"unknown attribute {entity!r}; one of {', '.join(sorted(allowed_units()))}")
    try:
        pixels = decode_rgb(image)
    except UnreadableImage as error:
        raise UserError(str(error)) from None
    model = load_model(model_dir)
    rows = pd.DataFrame([{"index": "0", "image_link": image.name, "group_id": str(group), "entity_name": entity,
                          "image_name": image.name}])
    cache = OcrCache(cache_dir)
    boxes, segments, _ = read_images(rows, image.parent, OcrSettings.from_meta(model.meta["ocr_settings"]), cache,
                                     workers=1, progress=False)
    cache.close()
    answers, tops, confidence, table = predict_rows(rows, boxes, model, segments)
    image_boxes = boxes[image.name]
    # the order the answer is picked in: allowed units by their value's share of the score, then by score
    allowed = table["unit_allowed"] > 0
    table = table.assign(share=value_mass(table[allowed]).reindex(table.index)).sort_values(
        ["share", "score"], ascending=False, na_position="last")
    chosen = int(tops["cand_pos"].iloc[0])
    threshold = model.meta["thresholds"].get(entity, 0.0)
    if chosen >= 0:
        answer = answers[0] or f"abstained (confidence {confidence[0]:.2f} < threshold {threshold:.2f})"
    else:  # no confidence to speak of: say why there is no candidate, and what answered instead
        why = "no candidate of an allowed unit" if image_boxes else "OCR found no text"
        source = (fallback_answer(str(group), entity, image_boxes, model.priors)[1] if model.meta["fallback"]
                  else "this model does not fall back")
        answer = f"{answers[0]} ({why}: {source})" if answers[0] else f"no answer ({why}: {source})"

    canvas = Image.fromarray(pixels)
    scale = max(1.0, MIN_SIDE / min(canvas.size))
    canvas = canvas.resize((round(canvas.width * scale), round(canvas.height * scale)))
    draw = ImageDraw.Draw(canvas, "RGBA")
    font = ImageFont.truetype(str(FONT), 16)
    for b in image_boxes:
        draw.polygon([(x * scale, y * scale) for x, y in b.points], outline=(120, 120, 120, 200), width=1)
    ranked = table.head(top).reset_index(drop=True)
    best_per_box = ranked.groupby("box_index", sort=False).head(1)
    # chosen last, so it is drawn on top
    best_per_box = best_per_box.assign(is_chosen=best_per_box["cand_pos"] == chosen).sort_values("is_chosen")
    for rank, line in zip(best_per_box.index, best_per_box.itertuples()):
        box = image_boxes[int(line.box_index)]
        colour = (30, 160, 60, 255) if line.is_chosen else (220, 120, 20, 255)
        draw.polygon([(x * scale, y * scale) for x, y in box.points], outline=colour, width=3)
        label = f"#{rank + 1} {line.value:g} {line.unit_name} ({line.score:.2f})"
        x, y = box.left * scale, max(box.top * scale - 20, 0)
        draw.rectangle(draw.textbbox((x, y), label, font=font), fill=(255, 255, 255, 220))
        draw.text((x, y), label, fill=colour, font=font)
    legend_lines = [f"{entity} (group {group}): {answer}", f"confidence {confidence[0]:.2f}, threshold {threshold:.2f}",
                    "green: chosen   orange: best other candidate in a box (#rank value unit (score))   grey: OCR boxes"]
    legend = Image.new("RGB", (canvas.width, 24 * len(legend_lines) + 10), "white")
    ldraw = ImageDraw.Draw(legend)
    for i, text in enumerate(legend_lines):
        ldraw.text((8, 5 + 24 * i), text, fill="black", font=font)
    sheet = Image.new("RGB", (canvas.width, canvas.height + legend.height), "white")
    sheet.paste(canvas, (0, 0))
    sheet.paste(legend, (0, canvas.height))
    output.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(output)

    listing = table.head(top)[["share", "score", "value", "unit_name", "unit_allowed", "kind", "confidence"]].copy()
    listing[["share", "score"]] = listing[["share", "score"]].round(3)
    listing.insert(0, "rank", range(1, len(listing) + 1))
    listing["kind"] = listing["kind"].map(lambda k: KINDS[int(k)])
    return f"answer: {answer}\n" + (listing.to_string(index=False) if len(listing) else "no candidates")
