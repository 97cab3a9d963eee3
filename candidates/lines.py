"""Straight drawn lines in a photo: the arrows and rulers of dimension drawings, found cheaply with OpenCV.

A measure printed beside a long vertical line is likely a height, beside a horizontal one a width, beside
a slanted one (the receding edge of a drawing in perspective) a depth. The OCR workers find the segments
while the image is decoded anyway (a few milliseconds a photo) and the OCR cache keeps them next to the
boxes, in the coordinates the boxes use.
"""

from __future__ import annotations

import json

import cv2
import numpy as np

from prodspec.candidates.records import Drawing, TextBox

LINES_VERSION = 3  # 2: slanted segments kept too; 3: with the image's size and the product's outline (`Drawing`)
WORK_SIDE = 1000  # the photo is searched at this longest side at most
MIN_LENGTH = 0.08  # of the longest side: shorter segments are letter strokes, not drawn lines
STRAIGHT = 0.1  # a horizontal segment rises at most this much per unit of run (about 6 degrees)


def cache_key(max_side: int) -> str:
    """The OCR cache's settings column for the drawing found on a photo shrunk to `max_side`."""
    return f"lines-v{LINES_VERSION}-{max_side}"


def find_drawing(image: np.ndarray) -> Drawing:
    height, width = image.shape[:2]
    return Drawing(find_segments(image), (float(width), float(height)), find_product(image))


PRODUCT_SIDE = 400  # the product is looked for on the photo shrunk to this longest side
BACKGROUND_GAP = 14  # a pixel this far (0-255, any channel) from the background's colour belongs to something


def find_product(image: np.ndarray) -> tuple[float, float, float, float] | None:
    """The bounding box of the largest thing on the photo's background: the product, as a drawing frames it.

    Something is what differs from the border's median colour, or an edge (a white product drawn in grey lines).
    Whatever a closed outline encloses counts as filled, then thin strokes (drawn lines, letters) are opened away,
    so that a dimension line or a caption does not stretch the box; a band across the whole width (a floor, a
    shelf) is not the product.
    """
    height, width = image.shape[:2]
    scale = min(1.0, PRODUCT_SIDE / max(height, width, 1))
    small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1.0 else image
    border = np.concatenate([small[0], small[-1], small[:, 0], small[:, -1]]).astype(int)
    background = np.median(border, axis=0)
    mask = np.abs(small.astype(int) - background).max(axis=2) > BACKGROUND_GAP
    mask = (mask | (cv2.Canny(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY), 30, 90) > 0)).astype(np.uint8)
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))
    outside = np.pad(1 - mask, 1, constant_values=1)
    cv2.floodFill(outside, None, (0, 0), 2)  # the background reachable from the border
    mask = (outside[1:-1, 1:-1] != 2).astype(np.uint8)  # the rest: strokes, and what closed strokes enclose
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))
    count, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    w = mask.shape[1]
    found = [k for k in range(1, count)
             if not (stats[k, cv2.CC_STAT_LEFT] == 0 and stats[k, cv2.CC_STAT_WIDTH] >= w - 1)]  # not a band
    if not found:
        return None
    biggest = max(found, key=lambda k: stats[k, cv2.CC_STAT_AREA])
    x, y, bw, bh = (float(v) / scale for v in stats[biggest, :4])
    return (x, y, x + bw, y + bh)


def find_segments(image: np.ndarray) -> np.ndarray:
    """(n, 4) float32 array of x1, y1, x2, y2 in the image's own pixels."""
    height, width = image.shape[:2]
    scale = min(1.0, WORK_SIDE / max(height, width, 1))
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    if scale < 1.0:
        gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    edges = cv2.Canny(gray, 50, 150)
    found = cv2.HoughLinesP(edges, 1, np.pi / 180, threshold=60,
                            minLineLength=max(int(MIN_LENGTH * max(gray.shape)), 8), maxLineGap=6)
    if found is None:
        return np.zeros((0, 4), np.float32)
    return found.reshape(-1, 4).astype(np.float32) / scale


def _orientation(segments: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Run, rise, and which segments count as horizontal and as vertical."""
    run = np.abs(segments[:, 2] - segments[:, 0])
    rise = np.abs(segments[:, 3] - segments[:, 1])
    return run, rise, rise < STRAIGHT * run, run < STRAIGHT * rise


def line_cues(box: TextBox, segments: np.ndarray, width: float, height: float) -> tuple[float, float, float]:
    """Longest horizontal, vertical and slanted segment beside the box, as shares of the image's width,
    height and diagonal.

    Beside: within two and a half text heights of the box's edge, and spanning the box's centre along the
    line (give or take the box's own size).
    """
    if len(segments) == 0:
        return 0.0, 0.0, 0.0
    x1, y1, x2, y2 = segments.T
    run, rise, horizontal, vertical = _orientation(segments)
    slanted = ~(horizontal | vertical)
    cx, cy = (box.left + box.right) / 2, (box.top + box.bottom) / 2
    reach = 2.5 * max(min(box.width, box.height), 1.0)
    horizontal &= np.abs((y1 + y2) / 2 - cy) < box.height / 2 + reach
    horizontal &= (np.minimum(x1, x2) - box.width < cx) & (cx < np.maximum(x1, x2) + box.width)
    vertical &= np.abs((x1 + x2) / 2 - cx) < box.width / 2 + reach
    vertical &= (np.minimum(y1, y2) - box.height < cy) & (cy < np.maximum(y1, y2) + box.height)
    length = np.hypot(run, rise)
    span = np.maximum(length, 1.0)
    # the slanted line's distance from the box centre, and where along it the centre falls (0..1 = on it)
    along = ((cx - x1) * (x2 - x1) + (cy - y1) * (y2 - y1)) / span**2
    apart = np.abs((cx - x1) * (y2 - y1) - (cy - y1) * (x2 - x1)) / span
    margin = max(box.width, box.height) / span
    slanted &= (apart < max(box.width, box.height) / 2 + reach) & (along > -margin) & (along < 1 + margin)
    across = float(run[horizontal].max() / width) if horizontal.any() else 0.0
    down = float(rise[vertical].max() / height) if vertical.any() else 0.0
    slant = float(length[slanted].max() / np.hypot(width, height)) if slanted.any() else 0.0
    return across, down, slant


def drawing_to_json(drawing: Drawing) -> str:
    return json.dumps({"segments": np.rint(drawing.segments).astype(int).tolist(), "size": drawing.size,
                       "product": None if drawing.product is None else [round(v, 1) for v in drawing.product]},
                      separators=(",", ":"))


def drawing_from_json(text: str) -> Drawing:
    stored = json.loads(text)
    return Drawing(np.asarray(stored["segments"], dtype=np.float32).reshape(-1, 4),
                   tuple(stored["size"]) if stored["size"] else None,
                   tuple(stored["product"]) if stored["product"] else None)


__all__ = ["Drawing", "cache_key", "drawing_from_json", "drawing_to_json", "find_drawing", "line_cues"]
