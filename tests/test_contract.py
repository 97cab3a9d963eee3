"""The task contract: reading inputs, writing and checking predictions, and the official scoring."""

import errno
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from prodspec.dataset import rows as rows_module
from prodspec.dataset.check import check_prediction, check_predictions
from prodspec.dataset.errors import UserError
from prodspec.dataset.evaluate import reweighted, score_rows, score_table
from prodspec.dataset.labels import format_number, parse_label
from prodspec.dataset.rows import (
    check_output,
    image_basename,
    read_rows,
    write_predictions,
)
from prodspec.dataset.units import allowed_units, fix_unit_spelling
from tests.conftest import write


def test_allowed_units_table_matches_the_task():
    table = allowed_units()
    assert set(table) == {"width", "depth", "height", "item_weight", "maximum_weight_recommendation", "voltage",
                          "wattage", "item_volume"}
    assert "imperial gallon" in table["item_volume"] and "ton" in table["item_weight"]
    assert table["voltage"] == {"kilovolt", "millivolt", "volt"}


@pytest.mark.parametrize(
    "content, message",
    [
        ("", "empty"),
        ("index,image_link,group_id,entity_name\n", "no rows"),
        ("index,image_link,entity_name\n1,http://x/a.jpg,width\n", "missing column(s) group_id"),
        ("index,image_link,group_id,entity_name\n1,http://x/a.jpg,1,colour\n", "unknown entity_name 'colour' on line 2"),
        ("index,image_link,group_id,entity_name\n1,http://x/a.jpg,1,width\n1,http://x/b.jpg,1,depth\n", "duplicate index '1'"),
        ("index,image_link,group_id,entity_name\n1,http://x/a.jpg,1,width\n2,http://x/b.jpg,1,width,5\n",
         "line 3 has 5 fields where the header has 4"),
    ],
)
def test_bad_input_csv_stops_with_one_clear_line(tmp_path, content, message):
    path = write(tmp_path / "bad.csv", content)
    with pytest.raises(UserError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_rows(path)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(UserError, match="no such file"):
        read_rows(tmp_path / "nope.csv")
    with pytest.raises(UserError, match="a folder, not a CSV file"):
        read_rows(tmp_path)


def test_an_output_that_cannot_be_written_is_refused_before_any_work(tmp_path, test_csv):
    # predict checks its --output first: a folder, or a path under a file, would fail only after all the OCR
    # /proc: a folder that `os.access` calls writable for root, as CI runs, where no file can be made
    for output, message in ((tmp_path, "a folder; name the CSV file"), (test_csv / "p.csv", "not a writable folder"),
                            (Path("/proc/p.csv"), "/proc is not a writable folder")):
        done = run_cli("predict", "--input", str(test_csv), "--images", str(tmp_path), "--output", str(output))
        assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr
    assert check_output(tmp_path / "new" / "deeper" / "p.csv") == tmp_path / "new" / "deeper" / "p.csv"
    # train writes a model folder: a file there would fail only after the training
    with pytest.raises(UserError, match="a file; name the folder to write the model into"):
        check_output(test_csv, "model", folder=True)
    assert check_output(tmp_path / "models", "model", folder=True) == tmp_path / "models"


def test_a_write_that_fails_midway_ends_in_one_line_and_leaves_the_old_file(tmp_path, monkeypatch):
    target = write(tmp_path / "p.csv", "index,prediction\n1,old\n")

    def disk_full(source, destination):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(rows_module.os, "replace", disk_full)
    with pytest.raises(UserError, match=r"p\.csv: cannot be written \(No space left on device\)"):
        write_predictions(pd.DataFrame({"index": ["1"]}), ["5.0 gram"], target)
    assert target.read_text() == "index,prediction\n1,old\n" and [p.name for p in tmp_path.iterdir()] == ["p.csv"]


def test_train_format_gets_row_numbers_and_requires_labels(tmp_path):
    path = write(tmp_path / "train.csv", "image_link,group_id,entity_name,entity_value\nhttp://x/a.jpg,1,width,1.0 inch\n")
    rows = read_rows(path, labelled=True)
    assert list(rows["index"]) == ["0"] and list(rows["image_name"]) == ["a.jpg"]
    with pytest.raises(UserError, match="missing column"):
        read_rows(write(tmp_path / "t.csv", "index,image_link,group_id,entity_name\n1,http://x/a.jpg,1,width\n"),
                  labelled=True)


def test_image_basename_never_leaves_the_folder():
    assert image_basename("https://m.media-amazon.com/images/I/71XfHPR36-L.jpg") == "71XfHPR36-L.jpg"
    assert image_basename("https://x.com/a/../../x.jpg") == "x.jpg"
    assert image_basename("https://x.com/img/a%2F..%2Fb.jpg?size=2") == "a%2F..%2Fb.jpg"
    with pytest.raises(UserError):
        image_basename("https://x.com/")


def test_predictions_written_in_input_order_one_per_row(tmp_path, test_csv):
    rows = read_rows(test_csv)
    out = write_predictions(rows, ["500.0 gram", "", "12.5 centimetre"], tmp_path / "out" / "p.csv")
    frame = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(frame.columns) == ["index", "prediction"]
    assert list(frame["index"]) == ["1", "2", "3"] and list(frame["prediction"]) == ["500.0 gram", "", "12.5 centimetre"]
    assert [p.name for p in out.parent.iterdir()] == ["p.csv"]  # no temporary file left behind
    with pytest.raises(ValueError):
        write_predictions(rows, ["1.0 gram"], tmp_path / "short.csv")


@pytest.mark.parametrize(
    "value, style, text",
    [(500, "decimal", "500.0"), (500, "plain", "500"), (12.5, "decimal", "12.5"), (1e-7, "decimal", "0.0"),
     (2.2e5, "decimal", "220000.0"), (1234567.25, "plain", "1234567.25"), (0.000123, "decimal", "0.000123")],
)
def test_number_format_has_no_exponent_or_separator(value, style, text):
    assert format_number(value, style) == text


def test_labels_parse_single_and_both_range_forms():
    assert parse_label("34.0 gram").values == (34.0,)
    assert parse_label("[100.0, 240.0] volt").values == (100.0, 240.0)
    label = parse_label("5 kilogram to 15 kilogram")
    assert label.values == (5.0, 15.0) and label.unit == "kilogram"
    assert parse_label("10 meter").unit == "metre" and parse_label("2 feet").unit == "foot"
    assert parse_label("") is None and parse_label("abc") is None
    assert fix_unit_spelling("centimeter") == "centimetre"


def test_check_rules():
    assert check_prediction("", "width") == (None, None)
    assert check_prediction("12.5 centimetre", "width") == (None, None)
    assert check_prediction("12.5 centimeter", "width") == (None, None)
    assert check_prediction("2.2e2 gram", "item_weight")[0]
    assert check_prediction("1,000 gram", "item_weight")[0]
    assert check_prediction("500 gms", "item_weight")[0]
    assert check_prediction("[1, 2] volt", "voltage")[0]
    error, warning = check_prediction("5 gram", "width")
    assert error is None and "not allowed for width" in warning


def test_check_reports_missing_and_extra_indices(test_csv):
    # the official checker only prints them: the file is accepted, with warnings
    rows = read_rows(test_csv)
    report = check_predictions(rows, pd.DataFrame({"index": ["1", "9"], "prediction": ["5 gram", ""]}))
    assert report.ok
    assert any("missing" in w for w in report.warnings) and any("not in the input" in w for w in report.warnings)


def test_f1_by_hand():
    # 4 rows: right, wrong, abstained, right -> TP=2 FP=1 FN=1 -> F1 = 4/(4+1+1) = 2/3
    truths = ["500.0 gram", "12.0 volt", "3.0 inch", "10.0 watt"]
    score = score_rows(truths, ["500.0 gram", "13.0 volt", "", "10.0 watt"])
    assert (score.strict_tp, score.strict_fp, score.fn) == (2, 1, 1)
    assert score.strict_f1 == pytest.approx(2 / 3)
    assert score.answered_rate == pytest.approx(0.75)


def test_f1_strict_versus_numeric_and_empty_ground_truth():
    # "500 gram" vs GT "500.0 gram": numeric right, strict wrong; answer on empty GT is a false positive;
    # abstaining on empty GT is a true negative (counts nowhere).
    truths = ["500.0 gram", "", "", "[100.0, 240.0] volt"]
    predictions = ["500 gram", "1.0 gram", "", "240.0 volt"]
    score = score_rows(truths, predictions)
    assert (score.strict_tp, score.strict_fp, score.fn) == (0, 3, 0)
    assert (score.numeric_tp, score.numeric_fp) == (2, 1)
    assert score.strict_f1 == 0.0
    assert score.numeric_f1 == pytest.approx(2 * 2 / (2 * 2 + 1 + 0))


def test_score_table_per_attribute(test_csv):
    labels = read_rows(test_csv).assign(entity_value=["5.0 gram", "12.0 volt", "3.0 inch"])
    table = score_table(labels, pd.DataFrame({"index": ["1", "2"], "prediction": ["5.0 gram", "13.0 volt"]}))
    assert table["item_weight"].strict_f1 == 1.0 and table["voltage"].strict_f1 == 0.0
    assert table["height"].fn == 1 and table["overall"].strict_tp == 1


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "prodspec", *args], check=False, capture_output=True, text=True)


def test_cli_check_and_evaluate(tmp_path, test_csv):
    predictions = write(tmp_path / "p.csv", "index,prediction\n1,5.0 gram\n2,12 volts\n3,\n")
    done = run_cli("check", "--input", str(test_csv), "--predictions", str(predictions))
    assert done.returncode == 1 and "unit 'volts' is not an allowed unit" in done.stdout
    good = write(tmp_path / "g.csv", "index,prediction\n1,5.0 gram\n2,12.0 volt\n3,\n")
    assert run_cli("check", "--input", str(test_csv), "--predictions", str(good)).returncode == 0
    labels = write(tmp_path / "l.csv", "index,image_link,group_id,entity_name,entity_value\n"
                   "1,http://x/a.jpg,1,item_weight,5.0 gram\n2,http://x/b.jpg,1,voltage,12.0 volt\n")
    done = run_cli("evaluate", "--labels", str(labels), "--predictions", str(good), "--json")
    assert done.returncode == 0 and '"strict_f1": 1.0' in done.stdout


def test_evaluate_says_when_labels_and_predictions_do_not_line_up(tmp_path):
    labels = write(tmp_path / "l.csv", "index,image_link,group_id,entity_name,entity_value\n"
                   "1,http://x/a.jpg,1,item_weight,5.0 gram\n2,http://x/b.jpg,1,voltage,twelve volt\n")
    partial = write(tmp_path / "p.csv", "index,prediction\n1,5.0 gram\n9,1.0 gram\n")
    done = run_cli("evaluate", "--labels", str(labels), "--predictions", str(partial))
    assert done.returncode == 0
    assert "1 label(s) not a number and a unit" in done.stderr and "line 3, 'twelve volt'" in done.stderr
    assert "1 labelled row(s) have no line" in done.stderr and "1 line(s) of" in done.stderr
    other = write(tmp_path / "o.csv", "index,prediction\n7,5.0 gram\n")
    done = run_cli("evaluate", "--labels", str(labels), "--predictions", str(other))
    assert done.returncode == 2 and "shares no index with" in done.stderr


def test_cli_user_error_is_one_line(tmp_path):
    done = run_cli("check", "--input", str(tmp_path / "missing.csv"), "--predictions", str(tmp_path / "p.csv"))
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "no such file" in done.stderr and "Traceback" not in done.stderr


def test_reweighting_to_another_attribute_mix():
    perfect = score_rows(["5.0 centimetre"] * 10, ["5.0 centimetre"] * 10).as_dict()
    wrong = score_rows(["5.0 gram"] * 90, ["6.0 gram"] * 90).as_dict()
    table = {"height": perfect, "item_weight": wrong}
    assert score_rows(["5.0 centimetre"] * 10 + ["5.0 gram"] * 90, ["5.0 centimetre"] * 10 + ["6.0 gram"] * 90).strict_f1 < 0.2
    even = reweighted(table, {"height": 0.5, "item_weight": 0.5})
    assert even.strict_f1 == pytest.approx(2 / 3, abs=1e-3)
    # an attribute with no rows here is left out, and the others share its weight
    assert reweighted(table, {"height": 0.25, "item_weight": 0.25, "voltage": 0.5}).strict_f1 == pytest.approx(even.strict_f1)
