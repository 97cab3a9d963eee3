"""The Python API and the command line give the same answers; a built wheel works on its own, in a new environment."""

import argparse
import json
import os
import re
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

import prodspec
from prodspec.dataset.labels import parse_label
from prodspec.dataset.rows import read_rows
from tests.conftest import ROOT, SAMPLE


def _cli(*args, **options) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "prodspec", *map(str, args)], check=False, capture_output=True,
                          text=True, timeout=600, **options)


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory):
    """The CLI's answers for the bundled sample, with the details."""
    out = tmp_path_factory.mktemp("cli") / "answers.csv"
    done = _cli("predict", "--input", SAMPLE / "sample.csv", "--images", SAMPLE / "images", "--output", out,
                "--details", "--workers", "1")
    assert done.returncode == 0, done.stderr
    return pd.read_csv(out, dtype=str, keep_default_na=False), done.stdout


def test_the_api_answers_every_sample_row_as_the_cli_does(sample_run):
    cli, _ = sample_run
    model = prodspec.load()
    rows = read_rows(SAMPLE / "sample.csv")
    for row, line in zip(rows.to_dict("records"), cli.to_dict("records"), strict=True):
        answer = model.predict(SAMPLE / "images" / row["image_name"], row["entity_name"], group_id=row["group_id"])
        assert (answer.text, answer.source, answer.evidence) == (line["prediction"], line["source"], line["evidence"])
        assert f"{answer.confidence:.4f}" == f"{float(line['confidence']):.4f}"
        assert answer.source in ("photo", "prior") and 0.0 <= answer.confidence <= 1.0
        assert parse_label(answer.text).matches(answer.value, answer.unit)


def test_photos_named_by_a_file_uri_are_answered_as_from_the_folder(sample_run, tmp_path):
    """A URI goes through pyarrow's filesystems (as s3:// or gs:// would), a path through the local reader."""
    cli, _ = sample_run
    out = tmp_path / "uri.csv"
    prodspec.load().predict_csv(SAMPLE / "sample.csv", images=(SAMPLE / "images").resolve().as_uri(), output=out,
                                details=True, workers=1, progress=False)
    assert pd.read_csv(out, dtype=str, keep_default_na=False).equals(cli)
    with pytest.raises(prodspec.UserError, match="no such folder of photos"):
        prodspec.load().predict_csv(SAMPLE / "sample.csv", images=(tmp_path / "none").as_uri(), output=out)


def test_a_pil_image_is_answered_as_its_file(tmp_path):
    model = prodspec.load(cache_dir=tmp_path)
    photo = SAMPLE / "images" / "21jlhugQNHL.jpg"
    from_file = model.predict(photo, "height", group_id=524117)
    with Image.open(photo) as image:
        from_pixels = model.predict(image, "height", group_id=524117)
    assert from_pixels == from_file and from_file.text == "21.0 inch" and from_file.source == "photo"
    with pytest.raises(prodspec.UserError, match="unknown attribute 'colour'; one of depth, height"):
        model.predict(photo, "colour")
    with pytest.raises(prodspec.UserError, match="no such image file"):
        model.predict(tmp_path / "nothing.jpg", "height")


def test_details_say_where_each_answer_came_from_and_no_prior_answers_only_from_photos(sample_run, tmp_path):
    details, stdout = sample_run
    assert list(details.columns) == ["index", "prediction", "confidence", "source", "evidence"]
    counts = details["source"].value_counts().to_dict()
    assert counts.get("prior", 0) > 0 and counts.get("photo", 0) > 0  # the sample has photos that print no value
    assert (details.loc[details["source"] == "none", "prediction"] == "").all()
    assert f"{counts['photo']} read off the photo, {counts['prior']} from the group's usual label (prior)" in stdout
    # only the photo: the rows the prior answered are left empty, the others keep their answers
    plain = tmp_path / "plain.jsonl"
    done = _cli("predict", "--input", SAMPLE / "sample.csv", "--images", SAMPLE / "images", "--output", plain,
                "--no-prior", "--workers", "1")
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in plain.read_text().splitlines()]
    assert [line["index"] for line in lines] == list(details["index"])  # as written in the input
    assert {line["source"] for line in lines} <= {"photo", "none"}
    for line, detail in zip(lines, details.to_dict("records")):
        assert line["prediction"] == (detail["prediction"] if detail["source"] == "photo" else "")
    assert set(lines[0]) == {"index", "prediction", "confidence", "source", "evidence"}
    assert "0 from the group's usual label (prior)" in done.stdout


def test_every_verb_shows_its_defaults_and_an_example_and_the_version():
    done = _cli("--version")
    assert done.returncode == 0 and done.stdout.strip() == f"prodspec {prodspec.__version__}"
    from prodspec.cli.parser import build_parser, shown_default

    [verbs] = [a.choices for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    overview = _cli("--help").stdout
    for verb, parser in verbs.items():
        assert re.search(rf"^    {verb} +\w", overview, re.MULTILINE), verb
        text = " ".join(_cli(verb, "--help").stdout.split())
        assert f"example: prodspec {verb}" in text, verb
        for action in parser._actions:
            if shown_default(action):
                assert f"(default: {action.default})" in text, (verb, action.dest)
            elif action.option_strings and action.default is None and not action.required:
                assert "(default" in action.help, (verb, action.dest)  # the help says what an unset option means
    assert "--workers WORKERS OCR processes (default: one per core" in " ".join(_cli("ocr", "--help").stdout.split())
    done = _cli("explain", "--image", "x.jpg", "--entity", "colour")
    assert done.returncode == 2 and "choose from 'depth', 'height'" in done.stderr


def test_an_input_with_an_unknown_attribute_names_the_valid_ones(tmp_path):
    (tmp_path / "in.csv").write_text("index,image_link,group_id,entity_name\n1,http://x/a.jpg,1,colour\n")
    done = _cli("predict", "--input", tmp_path / "in.csv", "--images", tmp_path, "--output", tmp_path / "o.csv")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "unknown entity_name 'colour' on line 2; one of depth, height, item_volume" in done.stderr


def test_the_wheel_installs_alone_and_answers_a_real_photo_as_the_cli_does(tmp_path, sample_run):
    """`pip wheel .`, then the wheel and its dependencies into a new environment beside the registry's `dataset`: no
    file of the checkout is reachable there (it runs from another folder), the model comes from the package, and the
    wheel writes one top-level package, `prodspec`, so that it collides with no other distribution's names."""
    wheel_dir, env = tmp_path / "wheel", tmp_path / "env"
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheel_dir), str(ROOT)],
                           check=False, capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    [wheel] = wheel_dir.glob("prodspec-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    assert {name.split("/")[0] for name in names} == {"prodspec", f"prodspec-{prodspec.__version__}.dist-info"}
    assert {"prodspec/models/meta.json", "prodspec/models/ranker.txt", "prodspec/dataset/allowed_units.json",
            "prodspec/candidates/parse.py", "prodspec/serving/api.py"} <= set(names)
    venv.create(env, with_pip=True)
    python = env / "bin" / "python"
    # the dependencies as CI tested them (the constraints file); the registry's `dataset` beside them
    installed = subprocess.run([str(python), "-m", "pip", "install", "-q", "-c", str(ROOT / "constraints.txt"),
                                str(wheel), "dataset"], check=False, capture_output=True, text=True, timeout=900)
    assert installed.returncode == 0, installed.stderr[-2000:]
    script = ("import dataset, prodspec, sys; a = prodspec.load().predict(sys.argv[1], 'height', group_id='524117'); "
              "print(prodspec.__file__); print(a.text); print(a.source); print(dataset.__file__)")
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"PRODSPEC_CACHE_DIR": str(tmp_path / "c")}
    done = subprocess.run([str(python), "-c", script, str(SAMPLE / "images" / "21jlhugQNHL.jpg")], cwd=tmp_path, check=False,
                          capture_output=True, text=True, timeout=300, env=environment)
    assert done.returncode == 0, done.stderr[-2000:]
    where, text, source, other = done.stdout.split("\n")[:4]
    assert Path(where).is_relative_to(env) and (text, source) == ("21.0 inch", "photo")
    assert Path(other).is_relative_to(env) and "prodspec" not in Path(other).parts
    cli, _ = sample_run
    assert cli.loc[cli["index"] == "228335", "prediction"].item() == text
    # the installed command answers the sample as the checkout does, byte for byte
    answers = tmp_path / "answers.csv"
    done = subprocess.run([str(env / "bin" / "prodspec"), "predict", "--input", str(SAMPLE / "sample.csv"), "--images",
                           str(SAMPLE / "images"), "--output", str(answers), "--details", "--workers", "1"],
                          cwd=tmp_path, check=False, capture_output=True, text=True, timeout=600, env=environment)
    assert done.returncode == 0, done.stderr[-2000:]
    assert pd.read_csv(answers, dtype=str, keep_default_na=False).equals(cli)
    # the plain install leaves the optional OCR engine's 5 GB out
    listed = subprocess.run([str(python), "-m", "pip", "list"], check=False, capture_output=True, text=True).stdout
    assert "torch " not in listed and "easyocr" not in listed
