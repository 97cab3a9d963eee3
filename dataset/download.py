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

from prodspec.dataset.errors import UserError
from prodspec.dataset.images import read_photo
from prodspec.dataset.rows import atomic_output, image_basename

MAX_BYTES = 20 * 1024 * 1024


def is_decodable(path: Path) -> bool:
    """A regular file of a photo's size that decodes (`dataset.images.read_photo`: a pipe or device is not read)."""
    try:
        with Image.open(io.BytesIO(read_photo(path))) as image:
            image.verify()
        return True
    except Exception:  # noqa: BLE001 - any decoder failure means "not an image"
        return False


SCHEMES = ("http", "https")


class _HttpOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follows a redirect only to another http or https link: never to `ftp:`, `file:` or any other scheme."""

    def redirect_request(self, request, fp, code, msg, headers, newurl):
        if urlparse(newurl).scheme not in SCHEMES:
            raise urllib.error.HTTPError(newurl, code, f"redirected to a {urlparse(newurl).scheme or 'relative'} "
                                                       "link, not followed", headers, fp)
        return super().redirect_request(request, fp, code, msg, headers, newurl)


_OPENER = urllib.request.build_opener(_HttpOnlyRedirects)


def fetch(link: str, target: Path, timeout: float = 20.0, retries: int = 3, max_bytes: int = MAX_BYTES) -> str | None:
    """Download one image to `target`; None on success, else the reason it failed."""
    if urlparse(link).scheme not in SCHEMES:
        return "only http and https links are fetched"
    reason = "unknown"
    for attempt in range(retries):
        try:
            request = urllib.request.Request(link, headers={"User-Agent": "prodspec/0.1"})
            with _OPENER.open(request, timeout=timeout) as response:
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
            if 300 <= error.code < 400:  # a redirect refused by _HttpOnlyRedirects
                return f"HTTP {error.code} {error.msg}"
            reason = f"HTTP {error.code}"
            if 400 <= error.code < 500 and error.code != 429:
                return reason
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            reason = str(getattr(error, "reason", error))
        time.sleep(min(2**attempt, 8))
    return reason


def download_images(links: list[str], images_dir: Path, workers: int = 16, report: Path | None = None, **options) -> dict:
    """Fetch each distinct link's photo into `images_dir` under its file name; the counts add up to the links:
    already there, fetched, failed (each with its reason in the report), or the same file as another link."""
    if workers < 1:
        raise UserError(f"--workers {workers}: at least one download at a time")
    try:
        images_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(f"{images_dir}: cannot be made a folder of photos ({error.strerror})") from None
    report = report or images_dir / "download_failures.csv"
    unique = list(dict.fromkeys(links))
    failures: list[tuple[str, str]] = []
    todo = []
    queued: set[Path] = set()
    skipped = shared = 0
    for link in unique:
        try:
            target = images_dir / image_basename(link)
        except UserError as error:
            failures.append((link, str(error)))
            continue
        if target == report:
            failures.append((link, f"its file name is the failure report's ({report.name})"))
        elif target in queued:  # two links with one file name are one local photo: the first is fetched
            shared += 1
        elif target.exists() and is_decodable(target):
            skipped += 1
            queued.add(target)
        else:
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
    with atomic_output(report, newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["image_link", "reason"])
        writer.writerows(failures)
    return {"links": len(unique), "already_present": skipped, "fetched": fetched, "failed": len(failures),
            "same_file_as_another_link": shared, "report": str(report)}
