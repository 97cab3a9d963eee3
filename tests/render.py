"""Rendered product-label images for tests: real text drawn with the font matplotlib ships."""

from __future__ import annotations

from pathlib import Path

import matplotlib
from PIL import Image, ImageDraw, ImageFont

FONT = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans-Bold.ttf"


def render_label(path: Path, lines: list[str], size: tuple[int, int] = (640, 360), font_size: int = 40,
                 vertical: str | None = None) -> Path:
    """Lines of dark text on a light background; `vertical` adds a 90°-turned label at the left edge."""
    image = Image.new("RGB", size, (245, 242, 235))
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(str(FONT), font_size)
    left = 30 + (font_size + 40 if vertical else 0)
    for i, line in enumerate(lines):
        draw.text((left, 30 + i * int(font_size * 1.6)), line, fill=(20, 20, 20), font=font)
    if vertical:
        strip = Image.new("RGB", (size[1] - 40, font_size + 20), (245, 242, 235))
        ImageDraw.Draw(strip).text((10, 5), vertical, fill=(20, 20, 20), font=font)
        image.paste(strip.rotate(90, expand=True), (10, 20))
    image.save(path, quality=92)
    return path
