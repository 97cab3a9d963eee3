"""Fetch images by link: concurrent, resumable, size-capped, verified to decode, failures reported."""

from __future__ import annotations

import csv
import io
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from urllib.parse import urlparse

from PIL import Image
from tqdm import tqdm

from dataset.errors import UserError
from dataset.rows import image_basename

MAX_BYTES = 20 * 1024 * 1024


def is_decodable(path: Path) -> bool:
    try:
        with Image.open(path) as image:
            image.verify()
        return True
    except Exception:  # noqa: BLE001 - any decoder failure means "not an image"
        return False


def fetch(link: str, target: Path, timeout: float = 20.0, retries: int = 3, max_bytes: int = MAX_BYTES) -> str | None:
    """Download one image to `target`; None on success, else the reason it failed."""
    if urlparse(link).scheme not in ("http", "https"):
        return "only http and https links are fetched"
    reason = "unknown"
    for attempt in range(retries):
        try:
            request = urllib.request.Request(link, headers={"User-Agent": "prodspec/0.1"})
            with urllib.request.urlopen(request, timeout=timeout) as response:
                data = response.read(max_bytes + 1)
            if len(data) > max_bytes:
                return f"larger than {max_bytes} bytes"
            try:
                with Image.open(io.BytesIO(data)) as image:
                    image.verify()
            except Exception as error:  # noqa: BLE001
                return f"not a decodable image ({error})"
            partial = target.with_suffix(target.suffix + ".part")
            partial.write_bytes(data)
            partial.replace(target)
            return None
        except urllib.error.HTTPError as error:
            reason = f"HTTP {error.code}"
            if 400 <= error.code < 500 and error.code != 429:
                return reason
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            reason = str(getattr(error, "reason", error))
        time.sleep(min(2**attempt, 8))
    return reason


def download_images(links: list[str], images_dir: Path, workers: int = 16, report: Path | None = None, **options) -> dict:
    images_dir.mkdir(parents=True, exist_ok=True)
    unique = list(dict.fromkeys(links))
    failures: list[tuple[str, str]] = []
    todo = []
    queued: set[Path] = set()
    skipped = 0
    for link in unique:
        try:
            target = images_dir / image_basename(link)
        except UserError as error:
            failures.append((link, str(error)))
            continue
        if target.exists() and is_decodable(target):
            skipped += 1
        elif target not in queued:  # two links with one basename are one local image
            queued.add(target)
            todo.append((link, target))
    fetched = 0
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(fetch, link, target, **options): link for link, target in todo}
        for future in tqdm(as_completed(futures), total=len(futures), desc="download", unit="img"):
            if (reason := future.result()) is not None:
                failures.append((futures[future], reason))
            else:
                fetched += 1
    report = report or images_dir / "download_failures.csv"
    with open(report, "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["image_link", "reason"])
        writer.writerows(failures)
    return {"links": len(unique), "already_present": skipped, "fetched": fetched, "failed": len(failures),
            "report": str(report)}
