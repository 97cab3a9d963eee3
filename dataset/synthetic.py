"""Synthetic dimension drawings, made by the project: product outlines with dimension lines and printed lengths.

The real labelled photos hold 80 height, width and depth rows: too few to learn which printed length measures which
axis. These drawings follow the catalogue's axis convention (a vertical line is the height, a horizontal one the
width, a receding one the depth), in the styles of product listings: a box in three-quarter view, a flat panel, a
cylinder; end ticks or arrows; labels beside the line or in a gap of it, upright or turned; one unit or two
(`80 cm / 31.5 in`, or stacked); and numbers that are not the answer (a detail's spacing, a model code, a weight).
Each drawing gives a labelled row per axis it draws. `make_drawings(folder, n, seed)` is deterministic for a seed.
"""

from __future__ import annotations

import csv
import math
import random
from dataclasses import dataclass
from pathlib import Path

import matplotlib
from PIL import Image, ImageDraw, ImageFont

from prodspec.dataset.labels import format_prediction

FONTS = [Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name for name in
         ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSerif.ttf", "DejaVuSansMono.ttf", "DejaVuSansCondensed.ttf")]
GROUP = "synthetic"  # the rows' group_id: no catalogue group, so no group priors
INCH = 2.54


@dataclass
class Length:
    axis: str  # "H", "W", "D"
    cm: float


def _number(value: float, rng: random.Random) -> str:
    if value >= 100 or rng.random() < 0.45:
        return f"{round(value):d}" if abs(value - round(value)) < 0.05 else f"{value:.1f}"
    return f"{value:.1f}".rstrip("0").rstrip(".") if rng.random() < 0.5 else f"{value:.1f}"


def _label(length: Length, style: dict, rng: random.Random) -> tuple[list[str], str]:
    """The printed lines for a length, and the label the catalogue gives it (`80.0 centimetre`)."""
    units = style["units"]
    words = {"cm": "centimetre", "mm": "millimetre", "in": "inch"}
    values = {"cm": length.cm, "mm": length.cm * 10, "in": length.cm / INCH}
    printed = {u: _number(values[u], rng) for u in units}
    marks = {"cm": rng.choice(["cm", " cm", " CM", "cm"]), "mm": rng.choice(["mm", " mm"]),
             "in": rng.choice([" in", "in", '"', " inch", " In"])}
    texts = [f"{printed[u]}{marks[u]}" for u in units]
    if style["prefix"]:
        texts[0] = f"{length.axis}: {texts[0]}" if rng.random() < 0.6 else f"{length.axis} {texts[0]}"
    lines = texts if style["stacked"] or len(texts) == 1 else [f" {style['joint']} ".join(texts)]
    chosen = units[0] if len(units) == 1 or rng.random() < 0.62 else units[1]  # printed first is usual
    return lines, format_prediction(float(printed[chosen]), words[chosen])


def _text_image(lines: list[str], font: ImageFont.FreeTypeFont, colour: tuple[int, int, int]) -> Image.Image:
    probe = ImageDraw.Draw(Image.new("L", (1, 1)))
    boxes = [probe.textbbox((0, 0), line, font=font) for line in lines]
    width = max(b[2] - b[0] for b in boxes) + 6
    step = max(b[3] - b[1] for b in boxes) + max(2, font.size // 5)
    image = Image.new("RGBA", (width, step * len(lines) + 4), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    for k, (line, box) in enumerate(zip(lines, boxes)):
        draw.text(((width - (box[2] - box[0])) / 2 - box[0], 2 + k * step - box[1]), line, font=font, fill=colour)
    return image


def _dimension_line(draw: ImageDraw.ImageDraw, a: tuple[float, float], b: tuple[float, float], style: dict,
                    gap: float) -> None:
    """A line from a to b with end ticks or arrows; with `gap` > 0 it is broken in the middle for the label."""
    colour, width = style["line_colour"], style["line_width"]
    (x1, y1), (x2, y2) = a, b
    length = math.hypot(x2 - x1, y2 - y1) or 1.0
    ux, uy = (x2 - x1) / length, (y2 - y1) / length
    mx, my = (x1 + x2) / 2, (y1 + y2) / 2
    if gap > 0:
        draw.line((x1, y1, mx - ux * gap / 2, my - uy * gap / 2), fill=colour, width=width)
        draw.line((mx + ux * gap / 2, my + uy * gap / 2, x2, y2), fill=colour, width=width)
    else:
        draw.line((x1, y1, x2, y2), fill=colour, width=width)
    size = max(6, width * 4)
    for (px, py), sign in (((x1, y1), 1), ((x2, y2), -1)):
        if style["ends"] == "ticks":
            draw.line((px - uy * size, py + ux * size, px + uy * size, py - ux * size), fill=colour, width=width)
        else:
            tip = (px, py)
            back = (px + sign * ux * size * 1.6, py + sign * uy * size * 1.6)
            draw.polygon([tip, (back[0] - uy * size * 0.6, back[1] + ux * size * 0.6),
                          (back[0] + uy * size * 0.6, back[1] - ux * size * 0.6)], fill=colour)


def _product(draw: ImageDraw.ImageDraw, kind: str, front: tuple[float, float, float, float], recede: tuple[float, float],
             rng: random.Random) -> None:
    x0, y0, x1, y1 = front
    dx, dy = recede
    fill = tuple(rng.randint(190, 245) for _ in range(3))
    side = tuple(max(0, c - rng.randint(15, 45)) for c in fill)
    edge = tuple(rng.randint(60, 150) for _ in range(3))
    if kind == "box":
        draw.polygon([(x1, y0), (x1 + dx, y0 - dy), (x1 + dx, y1 - dy), (x1, y1)], fill=side, outline=edge)
        draw.polygon([(x0, y0), (x0 + dx, y0 - dy), (x1 + dx, y0 - dy), (x1, y0)], fill=fill, outline=edge)
    if kind == "cylinder":
        rim = (y1 - y0) * 0.08
        draw.rectangle((x0, y0 + rim, x1, y1 - rim), fill=fill)
        draw.ellipse((x0, y1 - 2 * rim, x1, y1), fill=side, outline=edge)
        draw.ellipse((x0, y0, x1, y0 + 2 * rim), fill=fill, outline=edge)
        draw.line((x0, y0 + rim, x0, y1 - rim), fill=edge)
        draw.line((x1, y0 + rim, x1, y1 - rim), fill=edge)
        return
    draw.rectangle(front, fill=fill, outline=edge, width=rng.choice((1, 2)))
    if rng.random() < 0.5:  # a detail on the front: a drawer, a panel, a handle
        inset = min(x1 - x0, y1 - y0) * rng.uniform(0.1, 0.3)
        draw.rectangle((x0 + inset, y0 + inset, x1 - inset, y0 + (y1 - y0) / 2), outline=edge)


def _style(rng: random.Random) -> dict:
    units = rng.choice([["cm"], ["in"], ["cm", "in"], ["in", "cm"], ["mm"], ["cm", "in"], ["in", "cm"]])
    grey = rng.randint(0, 90)
    return {"units": units, "stacked": rng.random() < 0.5, "joint": rng.choice(["/", "|", "-"]),
            "prefix": rng.random() < 0.15, "ends": rng.choice(["ticks", "arrows"]),
            "line_colour": (grey, grey, grey), "line_width": rng.choice((1, 2, 2, 3)),
            "text_colour": (grey, grey, grey), "in_gap": rng.random() < 0.35, "turned": rng.random() < 0.4,
            "font": rng.choice(FONTS)}


# How a drawing's lengths are named. "axes" (the default): by the line's direction, the vertical one the height, the
# horizontal one the width, the receding edge the depth. "catalogue": as the catalogue's labels seem to name them
# (train.csv: of the photos labelled with a depth and a width, the depth is the larger in 63%, equal in 30%, smaller
# in 7%): the height the vertical length, the depth the longer of the horizontal ones (the front's width or the
# receding edge), the width the shorter, a cylinder's depth its diameter. Out of fold the "catalogue" drawings read
# the real height, width and depth rows worse, whichever rows the drawing ranker served (docs/experiments.md).
CONVENTIONS = ("axes", "catalogue")
ATTRIBUTE_OF_AXIS = {"H": "height", "W": "width", "D": "depth"}


def named(lengths: dict[str, tuple[str, float]], kind: str, convention: str = "axes") -> dict[str, str]:
    """The labels by attribute, from each drawn axis's (label, length in cm)."""
    if convention not in CONVENTIONS:
        raise ValueError(f"unknown convention {convention!r}; one of {', '.join(CONVENTIONS)}")
    if convention == "axes":
        return {ATTRIBUTE_OF_AXIS[axis]: label for axis, (label, _) in lengths.items()}
    flat = sorted((cm, label) for axis, (label, cm) in lengths.items() if axis in ("W", "D"))
    out = {"height": lengths["H"][0], "width": flat[0][1]}
    if len(flat) > 1 or kind == "cylinder":
        out["depth"] = flat[-1][1]
    return out


def draw_one(rng: random.Random, convention: str = "axes") -> tuple[Image.Image, dict[str, str]]:
    """One drawing and its labels, by attribute (named by `convention`); the picture is the same for either."""
    width, height = rng.randint(700, 1500), rng.randint(600, 1400)
    canvas = Image.new("RGB", (width, height), tuple([rng.randint(238, 255)] * 3))
    draw = ImageDraw.Draw(canvas)
    kind = rng.choice(["box", "box", "panel", "cylinder"])
    style = _style(rng)
    font = ImageFont.truetype(str(style["font"]), rng.randint(max(14, height // 55), max(18, height // 22)))
    h_cm, w_cm = rng.uniform(5, 200), rng.uniform(5, 200)
    d_cm = rng.uniform(0.5, 60) if kind == "panel" else rng.uniform(5, 150)
    scale = min(width * 0.5 / w_cm, height * 0.55 / h_cm)
    fw, fh = w_cm * scale, h_cm * scale
    depth_px = min(d_cm * scale * 0.5, width * 0.2) if kind == "box" else 0
    angle = math.radians(rng.uniform(25, 40))
    dx, dy = depth_px * math.cos(angle), depth_px * math.sin(angle)
    x0 = rng.uniform(width * 0.15, max(width * 0.16, width - fw - dx - width * 0.15))
    y0 = rng.uniform(height * 0.12 + dy, max(height * 0.13 + dy, height - fh - height * 0.15))
    front = (x0, y0, x0 + fw, y0 + fh)
    _product(draw, kind, front, (dx, dy), rng)
    drawn: dict[str, tuple[str, float]] = {}
    offset = rng.uniform(0.04, 0.09) * min(width, height)
    lengths = [Length("H", h_cm), Length("W", w_cm)] + ([Length("D", d_cm)] if kind == "box" else [])
    centre = (x0 + (fw + dx) / 2, y0 + (fh - dy) / 2)
    for length in lengths:
        lines, label = _label(length, style, rng)
        if length.axis == "H":
            x = x0 - offset if rng.random() < 0.5 else x0 + fw + dx + offset
            a, b, turn = (x, y0), (x, y0 + fh), 90 if style["turned"] else 0
        elif length.axis == "W":
            a, b, turn = (x0, y0 + fh + offset), (x0 + fw, y0 + fh + offset), 0
        else:
            shift = offset * 0.7
            a, b = (x0 + fw + shift, y0 + fh + shift), (x0 + fw + dx + shift, y0 + fh - dy + shift)
            turn = math.degrees(angle) if rng.random() < 0.5 else 0
        text = _text_image(lines, font, style["text_colour"])
        text = text.rotate(turn, expand=True, resample=Image.Resampling.BICUBIC) if turn else text
        span = math.hypot(b[0] - a[0], b[1] - a[1]) or 1.0
        ux, uy = (b[0] - a[0]) / span, (b[1] - a[1]) / span
        along = abs(ux) * text.width + abs(uy) * text.height  # the text's extent along the line
        across = abs(uy) * text.width + abs(ux) * text.height
        _dimension_line(draw, a, b, style, along + 12 if style["in_gap"] else 0)
        mx, my = (a[0] + b[0]) / 2, (a[1] + b[1]) / 2
        if not style["in_gap"]:  # beside the line, on the side away from the product
            nx, ny = -uy, ux
            if (mx - centre[0]) * nx + (my - centre[1]) * ny < 0:
                nx, ny = -nx, -ny
            mx, my = mx + nx * (across / 2 + 8), my + ny * (across / 2 + 8)
        mx = min(max(mx, text.width / 2 + 4), width - text.width / 2 - 4)  # the whole label on the canvas
        my = min(max(my, text.height / 2 + 4), height - text.height / 2 - 4)
        canvas.paste(text, (round(mx - text.width / 2), round(my - text.height / 2)), text)
        drawn[length.axis] = (label, length.cm)
    _distractors(canvas, draw, style, rng, (x0, y0, x0 + fw, y0 + fh))
    return canvas, named(drawn, kind, convention)


def _distractors(canvas: Image.Image, draw: ImageDraw.ImageDraw, style: dict, rng: random.Random,
                 front: tuple[float, float, float, float]) -> None:
    """Numbers that are not the answer: a detail's short dimension, a model code, a pack count, a weight."""
    font = ImageFont.truetype(str(rng.choice(FONTS)), rng.randint(14, 30))
    x0, y0, x1, y1 = front
    if rng.random() < 0.4:  # a short detail dimension inside the front
        span = (x1 - x0) * rng.uniform(0.15, 0.35)
        sx, sy = rng.uniform(x0 + 5, max(x0 + 6, x1 - span - 5)), rng.uniform(y0 + 10, max(y0 + 11, y1 - 10))
        _dimension_line(draw, (sx, sy), (sx + span, sy), style | {"line_width": 1}, 0)
        unit = style["units"][0]
        draw.text((sx + span / 2 - 20, sy - 28), f"{rng.uniform(1, 20):.1f}{unit}", font=font, fill=style["text_colour"])
    extras = [f"Model: {rng.choice('ABCDKMX')}{rng.choice('ABCDKMX')}-{rng.randint(100, 9999)}",
              f"{rng.randint(2, 12)} PCS", f"{rng.uniform(0.5, 25):.1f} kg", f"Max load {rng.randint(5, 150)} kg",
              f"{rng.randint(1, 3)}-pack"]
    for text in rng.sample(extras, rng.randint(0, 2)):
        where = (rng.uniform(10, canvas.width * 0.6), rng.choice([rng.uniform(5, 40), canvas.height - 40]))
        draw.text(where, text, font=font, fill=tuple([rng.randint(20, 120)] * 3))


def make_drawings(folder: Path, n: int, seed: int = 0, convention: str = "axes") -> Path:
    """`n` drawings as JPEGs in `folder/images`, their rows in `folder/labels.csv`; the same bytes for the same seed
    (the pictures the same for every `convention`: it names the lengths, it does not draw them)."""
    images = Path(folder) / "images"
    images.mkdir(parents=True, exist_ok=True)
    rows = []
    for k in range(n):
        rng = random.Random(seed * 1_000_003 + k)
        canvas, labels = draw_one(rng, convention)
        name = f"syn-{seed}-{k:05d}.jpg"
        canvas.save(images / name, quality=rng.randint(80, 95))
        rows += [{"image_link": f"https://synthetic/{name}", "group_id": GROUP, "entity_name": entity,
                  "entity_value": label} for entity, label in labels.items()]
    with open(Path(folder) / "labels.csv", "w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=["image_link", "group_id", "entity_name", "entity_value"])
        writer.writeheader()
        writer.writerows(rows)
    return Path(folder) / "labels.csv"


def main() -> None:
    import argparse

    cli = argparse.ArgumentParser(description="Make N synthetic dimension drawings and their labels.")
    cli.add_argument("--n", type=int, default=600)
    cli.add_argument("--seed", type=int, default=0)
    cli.add_argument("--out", type=Path, default=Path("out/synthetic"))
    cli.add_argument("--convention", choices=CONVENTIONS, default="axes",
                     help="how the lengths are named: by the lines' axes, or as the catalogue seems to name them")
    args = cli.parse_args()
    print(make_drawings(args.out, args.n, args.seed, args.convention))


if __name__ == "__main__":
    main()
