"""`prodspec review`: the page in a real headless Chromium against the real server (a `prodspec review` process),
the corrections file it writes, what it refuses, and training on the corrections."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pandas as pd
import pytest
from starlette.testclient import TestClient

from prodspec.candidates.cache import OcrCache
from prodspec.dataset.errors import UserError
from prodspec.ranker.artifacts import load_model
from prodspec.review.app import MAX_BODY, Review, make_app
from prodspec.review.corrections import COLUMNS, Corrections, changed_shares
from prodspec.review.queue import Overlays, ReviewQueue, typed_value
from prodspec.review.serve import serve
from prodspec.serving.predict import load_ranker, predict
from prodspec.training.train import train
from tests.browser import free_port, headless_chromium
from tests.synthetic import make_image_set

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def answered(tmp_path):
    """A labelled set of 12 photos (their OCR in a cache), its input file, and the shipped model's answers with
    details; one row's link points outside the images folder, and the folder holds a link to a file outside it."""
    cache = OcrCache(tmp_path / "cache", shipped_dir=None)
    labels = make_image_set(tmp_path / "images", cache, 12, seed=3, prefix="p")
    cache.close()
    (tmp_path / "secret.png").write_bytes(b"not for the page")
    (tmp_path / "images" / "linked.png").symlink_to(tmp_path / "secret.png")
    outside = pd.DataFrame([{"index": "x1", "image_link": "https://x/../../secret.png", "group_id": "7",
                             "entity_name": "item_weight"},
                            {"index": "x2", "image_link": "https://x/linked.png", "group_id": "7",
                             "entity_name": "item_weight"}])
    rows = pd.concat([labels.drop(columns=["entity_value"]), outside], ignore_index=True)
    rows.to_csv(tmp_path / "in.csv", index=False)
    labels.to_csv(tmp_path / "labels.csv", index=False)
    predict(tmp_path / "in.csv", str(tmp_path / "images"), tmp_path / "answers.csv", cache_dir=tmp_path / "cache",
            progress=False, details=True)
    return tmp_path


def _review(folder: Path) -> Review:
    queue = ReviewQueue(folder / "in.csv", folder / "answers.csv", folder / "images")
    return Review(queue, Overlays(queue, load_ranker(), folder / "drawings", folder / "cache"),
                  Corrections(folder / "corrections.csv"), "tester")


def test_the_server_refuses_what_it_must_and_serves_no_photo_outside_the_folder(answered):
    review = _review(answered)
    client = TestClient(make_app(review))
    assert client.get("/api/queue", params={"reviewed": "no", "attribute": "item_weight"}).json()["matching"] == 14
    queue = client.get("/api/queue", params={"reviewed": "all", "limit": 500}).json()
    assert queue["total"] == 14 and queue["to_review"] == 14 and len(queue["items"]) == 14
    confidences = [item["confidence"] for item in queue["items"]]
    assert confidences == sorted(confidences)  # least confident first
    for index in ("x1", "x2"):  # a link climbing out of the folder, and a symlink to a file outside it
        row = review.queue.position[index]
        assert client.get(f"/api/row/{row}/picture").status_code == 404
        assert "not in the images folder" in client.get(f"/api/row/{row}").json()["note"]
    assert client.get("/static/..%2f..%2fsecret.png").status_code == 404
    assert client.get("/api/row/99999").status_code == 404
    row = review.queue.position["p0"]
    assert client.post("/api/action", content=b"{not json").status_code == 400
    assert client.post("/api/action", json={"tab": "t", "row": row, "action": "burn"}).status_code == 400
    assert client.post("/api/action", content=b"x" * (MAX_BODY + 1)).status_code == 413
    refused = client.post("/api/action", json={"tab": "t", "row": row, "action": "type", "value": "12 volt"})
    assert refused.status_code == 422 and "not a unit of item_weight" in refused.json()["reason"]
    refused = client.post("/api/action", json={"tab": "t", "row": row, "action": "type", "value": "twelve grams"})
    assert refused.status_code == 422 and "type one number and a unit" in refused.json()["reason"]
    assert typed_value("250 g", "item_weight") == "250.0 gram"  # read as a print is read
    assert typed_value("500 gram", "item_weight") == "500 gram"  # the official form, kept as typed
    # every text is the page's to set as text: the server sends JSON, and the page sets no markup from it
    script = (ROOT / "prodspec/review/static/review.js").read_text()
    assert "innerHTML" not in script and "insertAdjacentHTML" not in script
    assert not (answered / "corrections.csv").exists()  # nothing refused was written
    with socket.socket() as taken:  # a port in use: one line
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(UserError, match="choose another --port"):
            serve(answered / "in.csv", answered / "images", answered / "answers.csv", answered / "corrections.csv",
                  port=taken.getsockname()[1])


def test_two_writers_keep_each_others_rows_and_undo_restores(answered):
    first, second = _review(answered), _review(answered)  # two servers (or tabs) on one file
    one, two = TestClient(make_app(first)), TestClient(make_app(second))
    rows = first.queue.position
    assert one.post("/api/action", json={"tab": "a", "row": rows["p0"], "action": "accept"}).json()["ok"]
    assert two.post("/api/action", json={"tab": "b", "row": rows["p1"], "action": "type",
                                         "value": "250 g"}).json()["ok"]
    assert one.post("/api/action", json={"tab": "a", "row": rows["p2"], "action": "empty"}).json()["ok"]
    saved = pd.read_csv(answered / "corrections.csv", dtype=str, keep_default_na=False).set_index("index")
    assert list(saved.columns) == COLUMNS[1:] and set(saved.index) == {"p0", "p1", "p2"}
    assert saved.at["p1", "entity_value"] == "250.0 gram" and saved.at["p2", "entity_value"] == ""
    assert one.post("/api/undo", json={"tab": "a"}).json()["ok"]  # tab a's last action: p2
    saved = pd.read_csv(answered / "corrections.csv", dtype=str, keep_default_na=False)
    assert set(saved["index"]) == {"p0", "p1"}
    shares = changed_shares(saved).set_index("group")
    assert shares.at["all", "reviewed"] == 2


def _serve(folder: Path, port: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-m", "prodspec", "review", "--input", str(folder / "in.csv"), "--images",
         str(folder / "images"), "--predictions", str(folder / "answers.csv"), "--labels",
         str(folder / "corrections.csv"), "--port", str(port), "--cache-dir", str(folder / "cache")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT)
    line = process.stdout.readline()
    assert f"http://127.0.0.1:{port}/" in line, line
    for _ in range(100):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/queue") as response:
                if response.status == 200:
                    return process
        except OSError:
            time.sleep(0.1)
    raise AssertionError("the review server did not answer")


def test_a_reviewer_accepts_corrects_is_refused_restarts_and_trains_on_the_corrections(answered):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select, WebDriverWait

    port = free_port()
    server = _serve(answered, port)
    browser = headless_chromium()
    wait = WebDriverWait(browser, 20)
    try:
        browser.get(f"http://127.0.0.1:{port}/")
        wait.until(lambda b: "0 reviewed · 14 to review" in b.find_element(By.ID, "progress").text)
        # the two rows whose photo is not there come first (confidence 0): the reviewer filters to answers read off
        # a photo
        wait.until(lambda b: len(b.find_elements(By.CSS_SELECTOR, "#f-source option")) > 1)
        Select(browser.find_element(By.ID, "f-source")).select_by_value("photo")
        wait.until(lambda b: "12 match the filters" in b.find_element(By.ID, "progress").text)
        # the first answer of a photo shown
        wait.until(lambda b: b.find_element(By.ID, "title").text.rsplit(" ", 1)[-1].startswith("p"))
        first = browser.find_element(By.ID, "title").text.rsplit(" ", 1)[-1]
        browser.find_element(By.TAG_NAME, "body").send_keys("a")  # accept, by its key
        wait.until(lambda b: "1 reviewed" in b.find_element(By.ID, "progress").text)
        wait.until(lambda b: b.find_element(By.ID, "title").text.rsplit(" ", 1)[-1] != first)
        second = browser.find_element(By.ID, "title").text.rsplit(" ", 1)[-1]
        wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, "#candidates button:not(.chosen):enabled"))
        other = browser.find_element(By.CSS_SELECTOR, "#candidates button:not(.chosen):enabled")
        picked = other.text.split(": ", 1)[1].split(" (")[0]  # "500.0 gram"
        other.click()  # correct it: one click on another candidate
        wait.until(lambda b: "2 reviewed" in b.find_element(By.ID, "progress").text)
        wait.until(lambda b: b.find_element(By.ID, "title").text.rsplit(" ", 1)[-1] not in (first, second))
        wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, "#candidates button"))  # the next answer shown
        typed = browser.find_element(By.ID, "typed")
        typed.send_keys("12 parsecs", Keys.ENTER)  # refused, with the reason shown
        wait.until(lambda b: "is not an allowed unit" in b.find_element(By.ID, "reason").text)
        assert browser.find_element(By.ID, "picture").get_attribute("naturalWidth") != "0"

        server.send_signal(signal.SIGKILL)  # killed: nothing acknowledged is lost
        server.wait()
        server = _serve(answered, port)
        browser.refresh()
        wait.until(lambda b: "2 reviewed · 12 to review" in b.find_element(By.ID, "progress").text)
    finally:
        browser.quit()
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)
    saved = pd.read_csv(answered / "corrections.csv", dtype=str, keep_default_na=False).set_index("index")
    assert list(saved.index) == [first, second]
    assert saved.at[first, "action"] == "accept" and saved.at[first, "entity_value"] == saved.at[first, "machine_answer"]
    value, unit = picked.split()
    assert saved.at[second, "action"] == "pick" and saved.at[second, "entity_value"].split()[1] == unit
    assert float(saved.at[second, "entity_value"].split()[0]) == float(value)

    # the rest reviewed as the labels say (as a reviewer would type them), then a model trained on the corrections
    review = _review(answered)
    client = TestClient(make_app(review))
    truth = pd.read_csv(answered / "labels.csv", dtype=str).set_index("index")["entity_value"]
    for index in truth.index.difference([first, second]):
        assert client.post("/api/action", json={"tab": "t", "row": review.queue.position[index], "action": "type",
                                                "value": truth[index]}).json()["ok"]
    report = train([answered / "corrections.csv"], [answered / "images"], model_dir=answered / "model", trials=2,
                   cache_dir=answered / "cache", progress=False, k_folds=3, text_corpus=None)
    assert report["rows"] == 12 and load_model(answered / "model").features
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    scored = subprocess.run([sys.executable, "-m", "prodspec", "evaluate", "--labels",
                             str(answered / "corrections.csv"), "--predictions", str(answered / "answers.csv")],
                            capture_output=True, text=True, env=env, cwd=ROOT, check=False)
    assert scored.returncode == 0 and "reviewer changed" in scored.stdout, scored.stderr
