"""Bad input, as a careless user or a hostile file brings it: never a hang, a traceback, or a lost file."""

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from prodspec.dataset.check import check_files
from prodspec.dataset.images import UnreadableImage, decode_rgb, file_digest
from prodspec.paths import SHIPPED_MODEL_DIR
from tests.conftest import SAMPLE, write
from tests.render import render_label


def _cli(*args, timeout=300, **options) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "prodspec", *map(str, args)], check=False, capture_output=True,
                          text=True, timeout=timeout, **options)


def _one_line_error(done: subprocess.CompletedProcess, words: str) -> None:
    assert done.returncode != 0 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.strip().count("\n") == 0 and words in done.stderr, done.stderr


def _sample(tmp_path: Path, rows: int = 3) -> Path:
    """The first rows of the bundled sample, their photos in a folder of their own."""
    frame = pd.read_csv(SAMPLE / "sample.csv", dtype=str).iloc[:rows]
    (tmp_path / "images").mkdir(exist_ok=True)
    for link in frame["image_link"]:
        shutil.copy(SAMPLE / "images" / link.rsplit("/", 1)[-1], tmp_path / "images")
    frame.to_csv(tmp_path / "in.csv", index=False)
    return tmp_path / "in.csv"


# --- nothing lost ---------------------------------------------------------------------------------------------

def test_predict_never_writes_over_its_input(tmp_path):
    source = _sample(tmp_path)
    before = source.read_bytes()
    _one_line_error(_cli("predict", "--input", source, "--images", tmp_path / "images", "--output", source),
                    "that is the input file")
    (tmp_path / "link.csv").symlink_to(source)  # the same file by another name
    _one_line_error(_cli("predict", "--input", source, "--images", tmp_path / "images", "--output", tmp_path / "link.csv"),
                    "that is the input file")
    assert source.read_bytes() == before


# --- special files among the photos ---------------------------------------------------------------------------

def test_a_pipe_or_a_device_among_the_photos_is_one_more_unreadable_photo(tmp_path):
    source = _sample(tmp_path)
    names = [link.rsplit("/", 1)[-1] for link in pd.read_csv(source, dtype=str)["image_link"]]
    os.remove(tmp_path / "images" / names[0])
    os.mkfifo(tmp_path / "images" / names[0])  # a named pipe with no writer: reading it would wait forever
    os.remove(tmp_path / "images" / names[1])
    (tmp_path / "images" / names[1]).symlink_to("/dev/zero")  # endless bytes
    done = _cli("predict", "--input", source, "--images", tmp_path / "images", "--output", tmp_path / "out.csv",
                "--details", "--workers", "1", timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("not a regular file") == 2
    out = pd.read_csv(tmp_path / "out.csv", dtype=str, keep_default_na=False)
    assert len(out) == 3 and out["source"].iloc[2] == "photo" and set(out["source"].iloc[:2]) <= {"prior", "none"}
    assert "2 photo(s) missing or unreadable" in done.stdout
    for path in (tmp_path / "images" / names[0], tmp_path / "images" / names[1]):
        assert file_digest(path) is None
        with pytest.raises(UnreadableImage, match="not a regular file"):
            decode_rgb(path)
    _one_line_error(_cli("explain", "--image", tmp_path / "images" / names[0], "--entity", "height",
                         "--output", tmp_path / "e.png", timeout=60), "not a regular file")


def test_a_photo_over_the_byte_cap_is_not_read(tmp_path, monkeypatch):
    monkeypatch.setattr("prodspec.dataset.images.MAX_BYTES", 1000)
    big = tmp_path / "big.jpg"
    big.write_bytes(b"\xff" * 5000)
    with pytest.raises(UnreadableImage, match="over the cap of 1000"):
        decode_rgb(big)


# --- workers die with their parent ----------------------------------------------------------------------------

def _descendants(root: int) -> set[int]:
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, grew = {root}, True
    while grew:
        more = {pid for pid, parent in parents.items() if parent in found} - found
        found |= more
        grew = bool(more)
    return found - {root}


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_a_killed_run_leaves_no_ocr_worker_behind(tmp_path):
    (tmp_path / "images").mkdir()
    lines = ["index,image_link,group_id,entity_name"]
    for k in range(40):
        render_label(tmp_path / "images" / f"p{k}.jpg", [f"NET WT {100 + k}g", f"{k} x 230V"])
        lines.append(f"{k},http://x/p{k}.jpg,1,item_weight")
    write(tmp_path / "in.csv", "\n".join(lines) + "\n")
    run = subprocess.Popen([sys.executable, "-m", "prodspec", "ocr", "--input", str(tmp_path / "in.csv"),
                            "--images", str(tmp_path / "images"), "--cache-dir", str(tmp_path / "cache"),
                            "--workers", "2"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while len(_descendants(run.pid)) < 3 and time.monotonic() < deadline:  # the forkserver and two workers
            time.sleep(0.2)
        time.sleep(2)  # the workers are loading their models or reading
        workers = _descendants(run.pid)
        assert len(workers) >= 3 and run.poll() is None
        run.send_signal(signal.SIGKILL)
        run.wait()
        deadline = time.monotonic() + 10
        while any(_running(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not [pid for pid in workers if _running(pid)]
    finally:
        if run.poll() is None:
            run.kill()


# --- check agrees with the official checker -------------------------------------------------------------------

ACCEPTED = [" 10.0 gram", "10.0 gram ", "10\tgram", "10  gram", "10 centimeter", "10 feet", "NA", "nan", "null", "",
            "-5 volt", "10 fluid ounce"]
REFUSED = ["10 fluid  ounce", "10 Gram", "10 gms", "1e3 gram", "1,000 gram", "10 millimeters", "[1, 2] volt",
           "ten gram", "10 feets"]


@pytest.mark.parametrize("prediction", ACCEPTED)
def test_check_accepts_what_the_official_checker_accepts(tmp_path, prediction, test_csv):
    predictions = write(tmp_path / "p.csv", f'index,prediction\n1,"{prediction}"\n2,\n3,\n')
    report = check_files(test_csv, predictions)
    assert report.ok, report.errors


@pytest.mark.parametrize("prediction", REFUSED)
def test_check_refuses_what_the_official_checker_refuses(tmp_path, prediction, test_csv):
    predictions = write(tmp_path / "p.csv", f'index,prediction\n1,"{prediction}"\n2,\n3,\n')
    report = check_files(test_csv, predictions)
    assert not report.ok and "line 2 (index 1)" in report.errors[0]


def test_check_follows_the_official_file_rules(tmp_path, test_csv):
    # indices missing or extra are printed by the checker, not refused: warnings here
    predictions = write(tmp_path / "p.csv", "index,prediction\n1,5.0 gram\n9,\n")
    report = check_files(test_csv, predictions)
    assert report.ok and len(report.warnings) == 2
    assert not check_files(test_csv, write(tmp_path / "p.txt", "index,prediction\n1,5.0 gram\n")).ok
    assert not check_files(test_csv, write(tmp_path / "q.csv", "index,answer\n1,5.0 gram\n")).ok
    numbers = write(tmp_path / "n.csv", "index,prediction\n1,5\n2,6\n3,7\n")  # read as numbers: the checker fails
    assert not check_files(test_csv, numbers).ok
    done = _cli("check", "--input", test_csv, "--predictions", write(tmp_path / "ok.csv", "index,prediction\n1, 5 gram\n2,NA\n3,\n"))
    assert done.returncode == 0 and done.stdout.strip().endswith("0 error(s), 0 warning(s)") and "OK" in done.stdout


# --- malformed rows -------------------------------------------------------------------------------------------

def test_a_row_with_a_field_too_many_refuses_the_file_naming_its_line(tmp_path):
    source = _sample(tmp_path)
    text = source.read_text().splitlines()
    text[2] += ",extra"
    write(source, "\n".join(text) + "\n")
    _one_line_error(_cli("predict", "--input", source, "--images", tmp_path / "images", "--output", tmp_path / "o.csv"),
                    "line 3 has 5 fields where the header has 4")


def test_odd_bytes_or_a_link_with_no_file_name_answer_that_row_and_warn(tmp_path):
    source = _sample(tmp_path)
    text = source.read_bytes().splitlines()
    text[2] = text[2].replace(b"https://", b"https://\xff\xfe")  # not UTF-8
    text[3] = b"999,https://m.media-amazon.com/images/I/,1,height"  # links that name no file
    text.append(b"998,,1,height")
    source.write_bytes(b"\n".join(text) + b"\n")
    done = _cli("predict", "--input", source, "--images", tmp_path / "images", "--output", tmp_path / "o.csv",
                "--details", "--workers", "1")
    assert done.returncode == 0, done.stderr
    assert "1 line(s) hold bytes that are not UTF-8" in done.stderr and "(first: line 3)" in done.stderr
    assert "2 row(s) whose image_link names no file, answered as rows with no photo (line 4, 5)" in done.stderr
    out = pd.read_csv(tmp_path / "o.csv", dtype=str, keep_default_na=False)
    assert len(out) == 4 and out["source"].iloc[0] == "photo" and (out["source"].iloc[2:] != "photo").all()


# --- one line, not a traceback --------------------------------------------------------------------------------

@pytest.fixture
def model(tmp_path):
    shutil.copytree(SHIPPED_MODEL_DIR, tmp_path / "model")
    return tmp_path / "model"


def _predict_with(model: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    source = _sample(tmp_path)
    return _cli("predict", "--input", source, "--images", tmp_path / "images", "--output", tmp_path / "o.csv",
                "--model", model, "--cache-dir", tmp_path / "cache", "--workers", "1")


def test_a_broken_model_is_named_in_one_line_before_any_photo_is_read(model, tmp_path):
    meta = (model / "meta.json").read_text()
    (model / "meta.json").write_text(meta[: len(meta) // 2])  # truncated
    _one_line_error(_predict_with(model, tmp_path), "meta.json: not a model's meta.json")
    (model / "meta.json").write_text(json.dumps({k: v for k, v in json.loads(meta).items() if k != "thresholds"}))
    _one_line_error(_predict_with(model, tmp_path), "'thresholds' is missing")
    # a ranker file LightGBM cannot read, its hash made to match so that only the parse can tell
    (model / "meta.json").write_text(meta)
    garbled = json.loads(meta)
    (model / "ranker.1.txt").write_text("tree\nversion=v4\nnot a model\n")
    garbled["file_sha1"]["ranker.1.txt"] = hashlib.sha1((model / "ranker.1.txt").read_bytes()).hexdigest()
    (model / "meta.json").write_text(json.dumps(garbled))
    _one_line_error(_predict_with(model, tmp_path), "ranker.1.txt: LightGBM cannot read it")
    # priors of the wrong shape: refused before the OCR, so the cache stays empty
    shutil.copy(SHIPPED_MODEL_DIR / "ranker.1.txt", model / "ranker.1.txt")
    priors = json.loads((model / "priors.json").read_text())
    priors["unit_share"] = ["not", "a", "table"]
    (model / "priors.json").write_text(json.dumps(priors))
    garbled = json.loads(meta)
    garbled["file_sha1"]["priors.json"] = hashlib.sha1((model / "priors.json").read_bytes()).hexdigest()
    (model / "meta.json").write_text(json.dumps(garbled))
    _one_line_error(_predict_with(model, tmp_path), "the table 'unit_share' is missing or not a mapping")
    assert not (tmp_path / "cache").exists()


def test_a_cache_folder_that_cannot_be_used_is_one_line(tmp_path):
    source = _sample(tmp_path)
    write(tmp_path / "a_file", "not a folder")
    for cache in (tmp_path / "a_file", tmp_path / "a_file" / "below", Path("/proc/self/cache")):
        done = _cli("predict", "--input", source, "--images", tmp_path / "images", "--output", tmp_path / "o.csv",
                    "--cache-dir", cache)
        _one_line_error(done, "the OCR cache cannot be kept there")


def test_download_with_no_workers_is_a_usage_error(tmp_path, test_csv):
    done = _cli("download", "--input", test_csv, "--images", tmp_path / "images", "--workers", "0")
    assert done.returncode == 2 and "--workers: 0: at least 1" in done.stderr and "Traceback" not in done.stderr
