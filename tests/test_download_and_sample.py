"""Downloads against a local HTTP server (loopback only), and sampling / image-grouped splits."""

import io
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pandas as pd
import pytest
from PIL import Image

from prodspec.dataset.download import download_images, fetch
from prodspec.dataset.errors import UserError
from prodspec.dataset.splits import image_folds, stratified_sample


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


class _Redirecting(SimpleHTTPRequestHandler):
    """`/to-ftp.jpg` redirects to an ftp link, `/to-good.jpg` to the same server's good.jpg."""

    def do_GET(self):
        targets = {"/to-ftp.jpg": "ftp://127.0.0.1/good.jpg", "/to-good.jpg": "/good.jpg"}
        if self.path in targets:
            self.send_response(302)
            self.send_header("Location", targets[self.path])
            self.end_headers()
            return
        super().do_GET()

    def log_message(self, *args):
        pass


def test_redirects_stay_on_http_and_the_counts_add_up(tmp_path):
    root = tmp_path / "site"
    (root / "a").mkdir(parents=True)
    Image.new("RGB", (30, 20), "red").save(root / "good.jpg")
    Image.new("RGB", (30, 20), "blue").save(root / "a" / "good.jpg")
    Image.new("RGB", (30, 20), "green").save(root / "download_failures.csv", format="PNG")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Redirecting, directory=str(root)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    site = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        images = tmp_path / "images"
        links = [f"{site}/to-ftp.jpg", f"{site}/to-good.jpg", f"{site}/good.jpg", f"{site}/a/good.jpg",
                 f"{site}/download_failures.csv", f"{site}/", f"{site}/good.jpg"]
        result = download_images(links, images, workers=2, retries=1, timeout=5)
    finally:
        httpd.shutdown()
    reasons = dict(pd.read_csv(result["report"]).itertuples(index=False))
    assert "redirected to a ftp link, not followed" in reasons[f"{site}/to-ftp.jpg"]
    assert "failure report" in reasons[f"{site}/download_failures.csv"]
    assert "no file name" in reasons[f"{site}/"]
    # six distinct links: one fetched (to-good.jpg, kept as to-good.jpg), good.jpg fetched, a/good.jpg the same
    # local file as good.jpg, three failed
    assert result["links"] == 6 and result["fetched"] == 2 and result["failed"] == 3
    assert result["same_file_as_another_link"] == 1
    assert sum(result[k] for k in ("already_present", "fetched", "failed", "same_file_as_another_link")) == 6
    assert sorted(p.name for p in images.iterdir()) == ["download_failures.csv", "good.jpg", "to-good.jpg"]
    with pytest.raises(UserError, match="at least one download"):
        download_images(links, images, workers=0)
