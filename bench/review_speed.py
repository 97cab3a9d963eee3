"""How fast the review page answers, with a queue as large as the challenge's test file.

    python -m bench.review_speed [--rows 130000] [--screenshot docs/review.png]

The sample's 21 rows (and its 20 photos) repeated, each copy with its own index, to `--rows` rows, answered once by
the shipped model (`predict --details`, the sample's OCR ships with the repository) and the answers copied to every
copy. Then, in one process, the server's handlers as the page calls them: the queue loaded, its first page asked
(50 rows of `--rows`, least confident first), each photo's row drawn the first time (OCR from the cache, the model,
the drawing) and then again, drawn and kept, with its picture. With `--screenshot`, the page in a headless Chromium
(a real server) after one correction, for the README.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from starlette.testclient import TestClient

from prodspec.paths import SAMPLE
from prodspec.review.app import Review, make_app
from prodspec.review.corrections import Corrections
from prodspec.review.queue import Overlays, ReviewQueue
from prodspec.serving.predict import load_ranker, predict


def make_queue(folder: Path, rows: int) -> tuple[Path, Path]:
    sample = pd.read_csv(SAMPLE / "sample.csv", dtype=str)
    predict(SAMPLE / "sample.csv", str(SAMPLE / "images"), folder / "sample_answers.csv", progress=False,
            details=True)
    answers = pd.read_csv(folder / "sample_answers.csv", dtype=str, keep_default_na=False)
    copies = -(-rows // len(sample))
    big = pd.concat([sample.assign(index=sample["index"] + f"-{k}") for k in range(copies)]).head(rows)
    big_answers = pd.concat([answers.assign(index=answers["index"] + f"-{k}") for k in range(copies)]).head(rows)
    big.to_csv(folder / "in.csv", index=False)
    big_answers.to_csv(folder / "answers.csv", index=False)
    return folder / "in.csv", folder / "answers.csv"


def timed(call) -> tuple[float, object]:
    start = time.perf_counter()
    out = call()
    return (time.perf_counter() - start) * 1000, out


def measure(folder: Path, rows: int) -> dict:
    inputs, answers = make_queue(folder, rows)
    load_ms, queue = timed(lambda: ReviewQueue(inputs, answers, SAMPLE / "images"))
    model = load_ranker()
    review = Review(queue, Overlays(queue, model, folder / "drawings", None), Corrections(folder / "labels.csv"))
    client = TestClient(make_app(review))
    page_ms, listing = timed(lambda: client.get("/api/queue", params={"reviewed": "no"}).json())
    # one row of each photo (the first copy's rows)
    first_rows = [queue.position[i] for i in queue.rows["index"] if i.endswith("-0")]
    first, again, picture = [], [], []
    for row in first_rows:
        first.append(timed(lambda row=row: client.get(f"/api/row/{row}"))[0])
        again.append(timed(lambda row=row: client.get(f"/api/row/{row}"))[0])
        picture.append(timed(lambda row=row: client.get(f"/api/row/{row}/picture"))[0])
    return {"rows": len(queue.rows), "queue_load_ms": round(load_ms), "first_page_ms": round(page_ms, 1),
            "first_page_items": len(listing["items"]), "rows_drawn": len(first_rows),
            "first_view_ms_median": round(statistics.median(first), 1),
            "cached_view_ms_median": round(statistics.median(again), 1),
            "cached_view_ms_max": round(max(again), 1),
            "cached_picture_ms_median": round(statistics.median(picture), 1),
            "cached_page_ms_median": round(statistics.median(a + p for a, p in zip(again, picture, strict=True)), 1)}


def screenshot(folder: Path, out: Path) -> None:
    """The page after one correction, in a headless Chromium against a real server."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    from tests.browser import free_port, headless_chromium

    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "prodspec", "review", "--input", str(SAMPLE / "sample.csv"),
                               "--images", str(SAMPLE / "images"), "--predictions", str(folder / "sample_answers.csv"),
                               "--labels", str(folder / "shot.csv"), "--port", str(port), "--reviewer", "reviewer"],
                              stdout=subprocess.PIPE, text=True)
    server.stdout.readline()
    browser = headless_chromium()
    try:
        time.sleep(1)
        browser.get(f"http://127.0.0.1:{port}/")
        wait = WebDriverWait(browser, 30)
        wait.until(lambda b: len(b.find_elements(By.CSS_SELECTOR, "#f-source option")) > 1)
        Select(browser.find_element(By.ID, "f-source")).select_by_value("photo")
        wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, "#candidates button"))
        browser.find_element(By.TAG_NAME, "body").send_keys("a")
        wait.until(lambda b: "1 reviewed" in b.find_element(By.ID, "progress").text)
        wait.until(lambda b: b.find_element(By.ID, "picture").get_attribute("naturalWidth") not in (None, "0"))
        time.sleep(0.5)
        out.parent.mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(out))
    finally:
        browser.quit()
        server.terminate()
        server.wait(timeout=20)


def main() -> None:
    cli = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    cli.add_argument("--rows", type=int, default=130_000)
    cli.add_argument("--screenshot", type=Path, default=None, help="a PNG of the page, taken in headless Chromium")
    args = cli.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for key, value in measure(Path(tmp), args.rows).items():
            print(f"{key:28} {value}")
        if args.screenshot:
            screenshot(Path(tmp), args.screenshot)
            print(f"screenshot: {args.screenshot}")


if __name__ == "__main__":
    main()
