"""`predict --ray` on a real local Ray cluster (2 CPUs): the same bytes as the single-machine path, resumed after a
kill without reading a photo twice, not undone by an unreadable photo or a dying actor, and ended, naming the photo,
by any other fault."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from prodspec.dataset.errors import UserError
from prodspec.serving.distributed import photo_blocks, predict_on_ray
from prodspec.serving.predict import predict
from tests import faults
from tests.conftest import ROOT, write
from tests.render import render_label

pytest.importorskip("ray")
DEV = ROOT.parent / "shared" / "data" / "dev"
TWO_CPUS = {"num_cpus": 2}


def _rendered(tmp_path: Path, n: int = 40) -> Path:
    """`n` rendered labels no OCR snapshot holds: every one must be read."""
    (tmp_path / "images").mkdir()
    lines = ["index,image_link,group_id,entity_name"]
    for k in range(n):
        render_label(tmp_path / "images" / f"p{k}.jpg", [f"NET WT {100 + k}g", f"{k} x 230V"])
        lines.append(f"{k},https://x/p{k}.jpg,1,item_weight")
    return write(tmp_path / "in.csv", "\n".join(lines) + "\n")


def _cli(*args) -> list[str]:
    return [sys.executable, "-m", "prodspec", *map(str, args)]


def test_blocks_keep_a_photos_rows_together():
    rows = pd.DataFrame({"image_name": ["a", "b", "a", "", "c", "d", "c"]})
    assert photo_blocks(rows, photos=2).tolist() == [0, 0, 0, 0, 1, 1, 1]


@pytest.mark.skipif(not (DEV / "labels.csv").is_file(), reason="the dev photos are in ../shared/data/dev")
def test_ray_answers_real_photos_byte_for_byte_as_the_plain_path_and_a_bad_photo_fails_nothing(tmp_path):
    rows = pd.read_csv(DEV / "labels.csv", dtype=str).iloc[:60].drop(columns=["entity_value"])
    images = tmp_path / "images"
    images.mkdir()
    for link in rows["image_link"]:
        name = link.rsplit("/", 1)[-1]
        if not (images / name).exists():
            os.symlink(DEV / "images" / name, images / name)
    # one photo that does not decode, one named pipe that would hang a reader, one link that names no file
    bad = pd.DataFrame({"index": ["b1", "b2", "b3"], "image_link": ["https://x/corrupt.jpg", "https://x/pipe.jpg",
                        "https://x/"], "group_id": "524117", "entity_name": "height"})
    (images / "corrupt.jpg").write_bytes(b"\xff\xd8 not a jpeg")
    os.mkfifo(images / "pipe.jpg")
    pd.concat([rows, bad]).to_csv(tmp_path / "in.csv", index=False)
    plain = predict(tmp_path / "in.csv", str(images), tmp_path / "plain.csv", cache_dir=tmp_path / "cache",
                    details=True, progress=False)
    spread = predict_on_ray(tmp_path / "in.csv", str(images), tmp_path / "ray.csv", cache_dir=tmp_path / "cache",
                            details=True, progress=False, ray_options=TWO_CPUS)
    assert (tmp_path / "ray.csv").read_bytes() == (tmp_path / "plain.csv").read_bytes()
    assert spread["actors"] == 2 and spread["missing_images"] == plain["missing_images"] == 2
    assert spread["rows"] == 63 and not (tmp_path / ".ray.csv.parts").exists()  # the shards go once written


def _cached_photos(cache: Path) -> int:
    with sqlite3.connect(cache / "ocr.sqlite") as db:
        return db.execute("SELECT count(*) FROM ocr WHERE settings NOT LIKE 'lines-%'").fetchone()[0]


def test_a_killed_run_resumes_without_reading_a_photo_twice(tmp_path):
    source = _rendered(tmp_path)
    output, cache = tmp_path / "out.csv", tmp_path / "cache"
    errors = tmp_path / "first_run.stderr"
    with errors.open("w") as stderr:
        run = subprocess.Popen(_cli("predict", "--ray", "--input", source, "--images", tmp_path / "images",
                                    "--output", output, "--cache-dir", cache),
                               stdout=subprocess.DEVNULL, stderr=stderr)
    parts = tmp_path / ".out.csv.parts"
    deadline = time.monotonic() + 180
    while not list(parts.glob("block-*.parquet")) and time.monotonic() < deadline and run.poll() is None:
        time.sleep(0.2)
    assert run.poll() is None, f"the run ended before it could be killed: {errors.read_text()[-3000:]}"
    run.send_signal(signal.SIGKILL)
    run.wait()
    time.sleep(3)  # what the killed run's actors finished before they went
    read_before = _cached_photos(cache)
    assert list(parts.glob("block-*.parquet")) and not output.exists()
    done = subprocess.run(_cli("predict", "--ray", "--input", source, "--images", tmp_path / "images",
                               "--output", output, "--cache-dir", cache),
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    resumed = int(done.stdout.split(" finished block(s)")[0].rsplit(", ", 1)[1])
    fresh = int(done.stdout.split(" newly OCRed")[0].rsplit("(", 1)[1].split(", ")[-1])
    assert resumed >= 1 and fresh + read_before == 40, done.stdout  # no photo read twice
    predict(source, str(tmp_path / "images"), tmp_path / "plain.csv", cache_dir=cache, progress=False)
    assert output.read_bytes() == (tmp_path / "plain.csv").read_bytes()


def _actor_processes() -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and b"ray::MapWorker" in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def test_a_dying_actor_is_replaced_and_its_block_read_again(tmp_path):
    source = _rendered(tmp_path)
    run = subprocess.Popen(_cli("predict", "--ray", "--input", source, "--images", tmp_path / "images",
                                "--output", tmp_path / "out.csv", "--cache-dir", tmp_path / "cache"),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not _actor_processes() and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(3)  # the actor has its model and is reading
    for pid in _actor_processes()[:1]:
        os.kill(pid, signal.SIGKILL)
    stdout, stderr = run.communicate(timeout=600)
    assert run.returncode == 0, stderr[-3000:]
    assert "0 photo(s) missing or unreadable" in stdout
    predict(source, str(tmp_path / "images"), tmp_path / "plain.csv", cache_dir=tmp_path / "cache", progress=False)
    assert (tmp_path / "out.csv").read_bytes() == (tmp_path / "plain.csv").read_bytes()


@pytest.mark.parametrize(("fault", "why"), [(faults.memory_error_on_one_photo, "out of memory"),
                                            (faults.read_only_cache, "cannot write the OCR cache")])
def test_a_fault_that_is_no_unreadable_photo_ends_the_run_naming_it_and_a_rerun_finishes(tmp_path, fault, why):
    source = _rendered(tmp_path, 12)
    render_label(tmp_path / "images" / faults.FAULTY_PHOTO, ["NET WT 999g"])
    with open(source, "a") as rows:
        rows.write(f"boom,https://x/{faults.FAULTY_PHOTO},1,item_weight\n")
    output, cache = tmp_path / "out.csv", tmp_path / "cache"
    # the fault is met by the cluster's own actors: injected into each worker process as it starts
    faulty = TWO_CPUS | {"runtime_env": {"worker_process_setup_hook": fault, "env_vars": {"PYTHONPATH": str(ROOT)}}}
    if fault is faults.read_only_cache:  # every photo but the faulty one read before, so the faulty one meets it
        predict(source, str(tmp_path / "images"), tmp_path / "warm.csv", cache_dir=cache, progress=False)
        render_label(tmp_path / "images" / faults.FAULTY_PHOTO, ["NET WT 998g"])
    with pytest.raises(UserError) as failed:
        predict_on_ray(source, str(tmp_path / "images"), output, cache_dir=cache, progress=False, block_photos=4,
                       ray_options=faulty)
    message = str(failed.value)
    assert f"{faults.FAULTY_PHOTO} failed: {why}" in message and "\n" not in message and "run resumes" in message
    assert not output.exists() and (tmp_path / ".out.csv.parts").is_dir()
    # the blocks finished before the fault are kept (how many depends on which actor met it first), and reused
    kept = len(list((tmp_path / ".out.csv.parts").glob("block-*.parquet")))
    assert kept < 4  # the faulty photo's block is not among them
    finished = predict_on_ray(source, str(tmp_path / "images"), output, cache_dir=cache, progress=False,
                              block_photos=4, ray_options=TWO_CPUS)
    assert finished["resumed_blocks"] == kept and finished["missing_images"] == 0
    predict(source, str(tmp_path / "images"), tmp_path / "plain.csv", cache_dir=cache, progress=False)
    assert output.read_bytes() == (tmp_path / "plain.csv").read_bytes()
