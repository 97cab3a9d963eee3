"""A fresh clone predicts the bundled sample with the shipped model and the shipped OCR snapshot."""

import re
import subprocess
import sys

import pandas as pd

from prodspec.dataset.check import check_predictions
from prodspec.dataset.evaluate import score_rows
from prodspec.dataset.rows import read_rows
from tests.conftest import SAMPLE


def test_shipped_model_answers_the_bundled_sample(tmp_path):
    output = tmp_path / "predictions.csv"
    done = subprocess.run(
        [sys.executable, "-m", "prodspec", "predict", "--input", str(SAMPLE / "sample.csv"),
         "--images", str(SAMPLE / "images"), "--output", str(output), "--workers", "1"],
        check=False, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == str(output)
    assert re.search(r"\b0 newly OCRed\)", done.stdout), done.stdout  # every sample image is in the shipped snapshot
    rows = read_rows(SAMPLE / "sample.csv")
    predictions = pd.read_csv(output, dtype=str, keep_default_na=False)
    assert check_predictions(rows, predictions).ok
    labels = pd.read_csv(SAMPLE / "sample_labels.csv", dtype=str)
    # the sample's images were in the training data, so this is a smoke check, not a quality claim
    assert score_rows(list(labels["entity_value"]), list(predictions["prediction"])).numeric_f1 > 0.3


def test_missing_images_folder_is_one_clear_line(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "prodspec", "predict", "--input", str(SAMPLE / "sample.csv"),
         "--images", str(tmp_path / "nope"), "--output", str(tmp_path / "p.csv")],
        check=False, capture_output=True, text=True,
    )
    assert done.returncode == 2 and "no such folder of images" in done.stderr and "Traceback" not in done.stderr


def test_fast_mode_reads_the_images_with_its_own_settings(tmp_path):
    """No snapshot ships for the fast settings, so a cold cache OCRs every sample image."""
    output = tmp_path / "fast.csv"
    done = subprocess.run(
        [sys.executable, "-m", "prodspec", "predict", "--fast", "--input", str(SAMPLE / "sample.csv"),
         "--images", str(SAMPLE / "images"), "--output", str(output), "--workers", "1"],
        check=False, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert re.search(r"\b20 newly OCRed\)", done.stdout), done.stdout
    assert check_predictions(read_rows(SAMPLE / "sample.csv"), pd.read_csv(output, dtype=str, keep_default_na=False)).ok
