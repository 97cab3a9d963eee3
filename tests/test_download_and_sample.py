"""Downloads against a local HTTP server (loopback only), and sampling / image-grouped splits."""

import io
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pandas as pd
import pytest
from PIL import Image

from dataset.download import download_images, fetch
from dataset.splits import image_folds, stratified_sample


@pytest.fixture
def server(tmp_path):
    root = tmp_path / "site"
    root.mkdir()
    Image.new("RGB", (30, 20), "red").save(root / "good.jpg")
    (root / "fake.jpg").write_bytes(b"<html>not an image</html>")
    big = io.BytesIO()
    Image.effect_noise((900, 900), 64).convert("RGB").save(big, format="PNG")
    (root / "big.png").write_bytes(big.getvalue())
    handler = partial(SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a: None
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_download_fetches_verifies_caps_and_reports(server, tmp_path):
    images = tmp_path / "images"
    links = [f"{server}/good.jpg", f"{server}/fake.jpg", f"{server}/missing.jpg", "ftp://x/a.jpg",
             f"{server}/../../good.jpg", f"{server}/big.png"]
    result = download_images(links, images, workers=4, retries=1, timeout=5, max_bytes=200_000)
    assert result["fetched"] == 1 and result["failed"] == 4  # `../../good.jpg` is the same local file
    assert (images / "good.jpg").is_file() and not (images / "fake.jpg").exists()
    report = pd.read_csv(result["report"])
    reasons = dict(zip(report["image_link"], report["reason"]))
    assert "not a decodable image" in reasons[f"{server}/fake.jpg"]
    assert reasons[f"{server}/missing.jpg"] == "HTTP 404"
    assert "only http and https" in reasons["ftp://x/a.jpg"]
    assert "larger than" in reasons[f"{server}/big.png"]
    assert sorted(p.name for p in images.iterdir()) == ["download_failures.csv", "good.jpg"]
    # resume: a second run skips what is present and decodable
    again = download_images([f"{server}/good.jpg"], images, workers=2, retries=1, timeout=5)
    assert again["already_present"] == 1 and again["failed"] == 0


def test_fetch_gives_up_on_an_unreachable_host(tmp_path):
    reason = fetch("http://127.0.0.1:9/x.jpg", tmp_path / "x.jpg", timeout=1, retries=1)
    assert reason and not (tmp_path / "x.jpg").exists()


def test_stratified_sample_keeps_the_mix():
    rows = pd.DataFrame({"entity_name": ["item_weight"] * 80 + ["voltage"] * 15 + ["wattage"] * 5})
    picked = stratified_sample(rows, 20)
    assert picked["entity_name"].value_counts().to_dict() == {"item_weight": 16, "voltage": 3, "wattage": 1}


def test_folds_never_split_an_image():
    names = pd.Series([f"img{i // 3}.jpg" for i in range(60)])
    folds = image_folds(names, k=5)
    assert set(folds) == set(range(5))
    assert all(len(set(folds[names == n])) == 1 for n in names.unique())
