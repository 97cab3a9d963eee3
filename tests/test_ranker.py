"""Features and the LightGBM ranker end to end on OCR fixtures made here, and the model's load checks."""

import errno
import json
import logging
import math
import shutil
from dataclasses import replace

import numpy as np
import optuna
import pandas as pd
import pytest
from optuna.distributions import FloatDistribution, IntDistribution

from prodspec.candidates.cache import OcrCache
from prodspec.candidates.run_ocr import NAMED_PROBLEMS
from prodspec.dataset.check import check_predictions
from prodspec.dataset.errors import UserError
from prodspec.dataset.evaluate import score_rows
from prodspec.dataset.rows import read_rows
from prodspec.dataset.splits import image_folds
from prodspec.dataset.units import entity_names
from prodspec.features.columns import (
    PLACE_AND_ORDER,
    for_other_attributes,
    without_gaps,
)
from prodspec.features.context import learn_vocabulary
from prodspec.paths import SHIPPED_MODEL_DIR
from prodspec.ranker.artifacts import load_model, save_model
from prodspec.ranker.blend import (
    DIMENSION_BLEND,
    dimension_rows,
    fit_dimension_ranker,
    fit_height_width_ranker,
    score_candidates,
    standardized_within_rows,
)
from prodspec.ranker.lambdarank import ENSEMBLE_SIZE, RankerParams, SeedEnsemble, score
from prodspec.serving.predict import predict
from prodspec.training.crossval import rows_with_a_right_candidate
from prodspec.training.study import pick_on_other_splits, tune_ranker
from prodspec.training.train import train
from tests.synthetic import make_image_set


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("ranker")
    cache = OcrCache(root / "cache", shipped_dir=None)
    labels = make_image_set(root / "images", cache, 60, seed=1, prefix="t")
    labels.to_csv(root / "labels.csv", index=False)
    priors_csv = root / "train.csv"
    labels.drop(columns=["index"]).to_csv(priors_csv, index=False)
    test = make_image_set(root / "images", cache, 30, seed=2, prefix="u")
    test.to_csv(root / "test_labels.csv", index=False)
    test.drop(columns=["entity_value"]).to_csv(root / "test.csv", index=False)
    cache.close()
    report = train(root / "labels.csv", root / "images", model_dir=root / "model", trials=2,
                   train_csv=priors_csv, cache_dir=root / "cache", progress=False)
    return root, report


def test_ranker_beats_the_rule_baseline_out_of_fold(trained):
    _, report = trained
    assert report["baseline"]["overall"]["strict_f1"] < 0.2
    assert report["ranker"]["overall"]["strict_f1"] > 0.8
    assert report["top1_accuracy_where_possible"] > 0.8
    assert report["oracle"]["overall"]["strict_f1"] == 1.0


def test_model_files_are_text_and_json(trained):
    root, _ = trained
    meta = json.loads((root / "model" / "meta.json").read_text())
    assert (root / "model" / "ranker.txt").read_text().startswith("tree")
    assert set(meta["thresholds"]) == {"item_weight"} and meta["features"][0] == "entity"
    assert not list((root / "model").glob("*.pkl"))


def test_the_ranker_ships_as_a_seed_ensemble(trained, tmp_path):
    # one LightGBM text file per seed; the model loads them all and refuses to load with one gone
    root, _ = trained
    meta = json.loads((root / "model" / "meta.json").read_text())
    assert meta["ranker_files"] == ["ranker.txt"] + [f"ranker.{k}.txt" for k in range(1, ENSEMBLE_SIZE)]
    model = load_model(root / "model")
    assert isinstance(model.rankers.photos, SeedEnsemble) and len(model.rankers.photos.boosters) == ENSEMBLE_SIZE
    # four seeds, four different boosters
    assert len({b.model_to_string() for b in model.rankers.photos.boosters}) == ENSEMBLE_SIZE
    copy = tmp_path / "model"
    shutil.copytree(root / "model", copy)
    (copy / "ranker.2.txt").unlink()
    with pytest.raises(UserError, match="ranker.2.txt"):
        load_model(copy)


def test_a_save_cut_short_leaves_the_old_model_whole(trained, tmp_path, monkeypatch):
    # a full disk while saving: the model there before still loads, file for file, and no partial file stays
    root, _ = trained
    model, kept = load_model(root / "model"), tmp_path / "model"
    shutil.copytree(root / "model", kept)
    before = {f.name: f.read_bytes() for f in kept.iterdir()}

    def disk_full(path):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(model.priors, "save", disk_full)
    with pytest.raises(UserError, match="could not be saved .*No space left on device.*before is unchanged"):
        save_model(kept, model.rankers, model.confidence, model.priors, model.meta)
    assert {f.name: f.read_bytes() for f in kept.iterdir()} == before
    assert load_model(kept).meta["file_sha1"] == model.meta["file_sha1"]


def test_a_model_file_that_is_not_the_one_saved_is_refused(trained, tmp_path):
    # a kill among the moves into place, or a file replaced by hand, mixes two models: meta.json's hashes tell
    root, _ = trained
    mixed = tmp_path / "model"
    shutil.copytree(root / "model", mixed)
    (mixed / "ranker.1.txt").write_bytes((mixed / "ranker.2.txt").read_bytes())
    with pytest.raises(UserError, match=r"ranker\.1\.txt: does not match the hash in meta\.json"):
        load_model(mixed)


def test_a_confidence_model_left_from_an_older_model_is_not_used(tmp_path):
    # a new model without a confidence model, saved over one with it (the shipped one): the old file goes, and
    # were it left (a kill before the clean-up) the new meta.json, which does not name it, keeps it out
    model, folder = load_model(SHIPPED_MODEL_DIR), tmp_path / "model"
    shutil.copytree(SHIPPED_MODEL_DIR, folder)
    left = (folder / "confidence.txt").read_bytes()
    assert load_model(folder).confidence is not None
    save_model(folder, model.rankers, None, model.priors, model.meta)
    assert not (folder / "confidence.txt").exists() and load_model(folder).confidence is None
    (folder / "confidence.txt").write_bytes(left)
    assert load_model(folder).confidence is None


def test_predict_end_to_end_on_new_images(trained):
    root, _ = trained
    result = predict(root / "test.csv", root / "images", root / "out.csv", model_dir=root / "model",
                     cache_dir=root / "cache", progress=False)
    out = pd.read_csv(root / "out.csv", dtype=str, keep_default_na=False)
    assert len(out) == 30 and result["ocr_fresh"] == 0
    assert check_predictions(read_rows(root / "test.csv"), out).ok
    truth = pd.read_csv(root / "test_labels.csv", dtype=str)["entity_value"]
    assert score_rows(list(truth), list(out["prediction"])).strict_f1 > 0.8


def test_predict_counts_a_missing_image_apart_from_the_ocr_it_ran(trained, tmp_path):
    root, _ = trained
    rows = pd.read_csv(root / "test.csv", dtype=str)
    gone = rows.iloc[:1].assign(index="gone-1", image_link="http://x/not_there.jpg")
    pd.concat([rows, gone]).to_csv(tmp_path / "in.csv", index=False)
    result = predict(tmp_path / "in.csv", root / "images", tmp_path / "out.csv", model_dir=root / "model",
                     cache_dir=root / "cache", progress=False)
    assert result["rows"] == 31 and result["missing_images"] == 1 and result["ocr_fresh"] == 0


def test_predict_into_a_wrong_folder_names_a_few_images_and_says_why(trained, tmp_path, caplog):
    # a wrong --images folder: ten photos named, the rest counted, and one line that says what to do
    root, _ = trained
    rows = pd.read_csv(root / "test.csv", dtype=str).iloc[:12]
    rows.to_csv(tmp_path / "in.csv", index=False)
    (tmp_path / "empty").mkdir()
    with caplog.at_level(logging.WARNING):
        result = predict(tmp_path / "in.csv", tmp_path / "empty", tmp_path / "out.csv", model_dir=root / "model",
                         cache_dir=root / "cache", progress=False)
    images = rows["image_link"].nunique()
    assert result["missing_images"] == images > NAMED_PROBLEMS
    assert caplog.text.count("image missing:") == NAMED_PROBLEMS
    assert f"and {images - NAMED_PROBLEMS} more images missing or unreadable" in caplog.text
    assert "none of the input's images is in" in caplog.text and "prodspec download" in caplog.text
    assert len(pd.read_csv(tmp_path / "out.csv")) == 12


def test_predict_on_unreadable_photos_does_not_say_they_are_absent(trained, tmp_path, caplog):
    # photos that are there but corrupt are named as unreadable; the hint to download them would mislead
    root, _ = trained
    rows = pd.read_csv(root / "test.csv", dtype=str).iloc[:3]
    rows.to_csv(tmp_path / "in.csv", index=False)
    (tmp_path / "images").mkdir()
    for link in rows["image_link"]:
        (tmp_path / "images" / link.rsplit("/", 1)[-1]).write_bytes(b"not a photo")
    with caplog.at_level(logging.WARNING):
        result = predict(tmp_path / "in.csv", tmp_path / "images", tmp_path / "out.csv", model_dir=root / "model",
                         cache_dir=tmp_path / "cache", progress=False)
    assert result["missing_images"] == rows["image_link"].nunique()
    assert "image unreadable:" in caplog.text
    assert "none of the input's images is in" not in caplog.text


def test_predict_in_chunks_answers_as_all_at_once(trained):
    # a long input goes through a few thousand rows at a time; the chunks must not change any answer
    root, _ = trained
    whole = predict(root / "test.csv", root / "images", root / "whole.csv", model_dir=root / "model",
                    cache_dir=root / "cache", progress=False)
    chunked = predict(root / "test.csv", root / "images", root / "chunked.csv", model_dir=root / "model",
                      cache_dir=root / "cache", progress=False, chunk_rows=7)
    assert (root / "whole.csv").read_text() == (root / "chunked.csv").read_text()
    assert chunked["rows"] == whole["rows"] == 30 and chunked["images"] == whole["images"]


def test_a_retrain_with_the_same_data_seed_and_trials_writes_the_same_files(trained, tmp_path):
    """The trial count decides the study, not a clock; no earlier study or model is read unless asked."""
    root, report = trained
    again = train(root / "labels.csv", root / "images", model_dir=tmp_path / "again", trials=2,
                  train_csv=root / "train.csv", cache_dir=root / "cache", progress=False)
    files = sorted(p.name for p in (root / "model").iterdir())
    assert files == sorted(p.name for p in (tmp_path / "again").iterdir())
    assert all((root / "model" / name).read_bytes() == (tmp_path / "again" / name).read_bytes() for name in files)
    assert report["study"] == again["study"] == {"trials": 2, "trials_run": 2, "seed": 0, "resumed": False,
                                                 "warm_start": None}
    # a warm start is read only when named, and said; another seed is another model
    warm = train(root / "labels.csv", root / "images", model_dir=tmp_path / "warm", trials=2,
                 train_csv=root / "train.csv", cache_dir=root / "cache", progress=False, warm_start=root / "model",
                 seed=1)
    assert warm["study"]["warm_start"] == str(root / "model") and warm["study"]["seed"] == 1
    assert (tmp_path / "warm" / "ranker.txt").read_bytes() != (root / "model" / "ranker.txt").read_bytes()
    with pytest.raises(UserError, match="no model's parameters"):
        train(root / "labels.csv", root / "images", model_dir=tmp_path / "none", trials=2,
              train_csv=root / "train.csv", cache_dir=root / "cache", progress=False, warm_start=tmp_path / "empty")


def test_precision_objective_ranks_without_the_gaps(trained, tmp_path):
    # the rel_* gaps pick more right answers but order the confidences worse: only the f1 model uses them
    root, _ = trained
    train(root / "labels.csv", root / "images", model_dir=tmp_path / "catalogue", objective="precision", trials=2,
          train_csv=root / "train.csv", cache_dir=root / "cache", work_dir=tmp_path, progress=False)
    f1_model, catalogue = load_model(root / "model"), load_model(tmp_path / "catalogue")
    assert any(f.startswith("rel_") for f in f1_model.features)
    assert not any(f.startswith("rel_") for f in catalogue.features)
    assert catalogue.meta["features"] == f1_model.meta["features"]  # the same table either way
    predict(root / "test.csv", root / "images", tmp_path / "out.csv", model_dir=tmp_path / "catalogue",
            cache_dir=root / "cache", progress=False)
    assert check_predictions(read_rows(root / "test.csv"), pd.read_csv(tmp_path / "out.csv", dtype=str,
                                                                       keep_default_na=False)).ok
    # a meta.json that names other inputs than its ranker file holds is refused
    meta = json.loads((tmp_path / "catalogue" / "meta.json").read_text())
    (tmp_path / "catalogue" / "meta.json").write_text(json.dumps(meta | {"ranker_features": meta["features"]}))
    with pytest.raises(UserError, match="ranker.txt"):
        load_model(tmp_path / "catalogue")


def test_model_with_an_unknown_feature_or_wrong_version_is_refused(trained, tmp_path):
    root, _ = trained
    broken = tmp_path / "model"
    shutil.copytree(root / "model", broken)
    meta = json.loads((broken / "meta.json").read_text())
    (broken / "meta.json").write_text(json.dumps(meta | {"features": [*meta["features"], "word_of_a_future"]}))
    with pytest.raises(UserError, match="reads features this code does not make \\(word_of_a_future\\)"):
        load_model(broken)
    (broken / "meta.json").write_text(json.dumps(meta | {"feature_version": 0}))
    with pytest.raises(UserError, match="features of version 0"):
        load_model(broken)
    meta = json.loads((root / "model" / "meta.json").read_text()) | {"model_version": 0}
    (broken / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(UserError, match="version 0"):
        load_model(broken)
    with pytest.raises(UserError, match="no trained model"):
        load_model(tmp_path / "nothing")


def test_precision_objective_answers_only_confident_rows(trained):
    from prodspec.ranker.thresholds import tune_thresholds

    rng = np.random.default_rng(0)
    confidence = rng.uniform(size=400)
    correct = rng.uniform(size=400) < confidence  # right more often when confident
    entities = np.array(["item_weight"] * 300 + ["voltage"] * 100)
    thresholds, _ = tune_thresholds(confidence, correct, entities, np.zeros(400, bool), "precision", 0.9, trials=60)
    assert thresholds["item_weight"] == thresholds["voltage"]  # one threshold: per attribute they overfit
    answered = confidence >= thresholds["item_weight"]
    assert correct[answered].mean() >= 0.9 and 0.05 < answered.mean() < 0.6
    f1_thresholds, _ = tune_thresholds(confidence, correct, entities, np.zeros(400, bool), "f1", trials=30)
    # with no empty labels no cut beats answering everything, and ties go to the cuts that answer most
    assert set(f1_thresholds.values()) == {0.0}


def test_stored_threshold_study_never_serves_other_confidences(tmp_path):
    from prodspec.ranker.thresholds import tune_thresholds

    rng = np.random.default_rng(1)
    confidence = rng.uniform(size=200)
    entities = np.array(["item_weight"] * 200)
    correct = confidence > 0.5
    storage = f"sqlite:///{tmp_path / 'study.sqlite3'}"
    # first model: the unsure rows have empty labels, so a cut that drops them wins
    empty = confidence < 0.3
    first, _ = tune_thresholds(confidence, correct & ~empty, entities, empty, "f1", trials=40, storage=storage)
    assert first["item_weight"] > 0.1
    # retrained: no empty label any more; the stored trials scored the old data and must not win
    second, _ = tune_thresholds(confidence, correct, entities, np.zeros(200, bool), "f1", trials=40, storage=storage)
    assert second["item_weight"] == 0.0


def test_held_out_precision_cuts_each_fold_at_a_threshold_found_without_it():
    from prodspec.ranker.thresholds import global_floor, held_out_precision

    # fold 0: confident rows are right; fold 1: its confident rows are wrong. On all rows the floor climbs
    # above fold 1's confident rows and meets 0.9 by construction; held out, fold 1 is cut at fold 0's
    # floor and its wrong rows get answered, so the estimate shows the precision a new fold would see
    confidence = np.tile(np.linspace(0.0, 1.0, 50), 2)
    correct = np.concatenate([confidence[:50] > 0.5, confidence[50:] < 0.1])
    correct[50 + 49] = True  # fold 1's most confident row is right
    folds = np.repeat([0, 1], 50)
    cut = global_floor(confidence, correct, 0.9)
    assert correct[confidence >= cut].mean() >= 0.9
    [(answered, precision)] = held_out_precision(confidence, correct, [folds], 0.9)
    assert precision < 0.2 and answered > 0.25  # 27 of fold 1's rows, one of them right, and fold 0's top row


def test_vocabulary_does_not_depend_on_the_order_contexts_come_in():
    # twenty words, each seen ten times and right five times: all share one lift, and the cut at `size`
    # and the order must still be the same whatever order the contexts come in
    contexts = [({f"w{i}"}, k % 2) for i in range(20) for k in range(10)]
    first = learn_vocabulary(contexts, size=10)
    for seed in range(3):
        shuffled = [contexts[i] for i in np.random.default_rng(seed).permutation(len(contexts))]
        assert learn_vocabulary(shuffled, size=10) == first


def test_each_fold_learns_its_vocabulary_from_its_training_rows_alone():
    from prodspec.features.fold_words import FoldWords

    # 20 rows of two candidates each, right then wrong; "secret" stands beside the right candidate of rows 0-9
    # only, "often" beside every candidate: learned from all rows "secret" separates them, learned without rows
    # 0-9 it was never seen, so a fold that holds those rows out must not have it
    table = pd.DataFrame({"row_pos": np.repeat(np.arange(20), 2), "label": np.tile([1, 0], 20),
                          "unit_allowed": 1.0, "word_secret": 0.0, "log_value": np.arange(40.0)})
    words = [({"often", "secret"} if row < 10 and right else {"often"}, set()) for row in range(20) for right in (1, 0)]
    fold = FoldWords(table, words)
    every_row = np.ones(20, dtype=bool)
    assert "secret" in fold.vocabulary(every_row)
    training = np.arange(20) >= 10
    assert "secret" not in fold.vocabulary(training)
    laid, text, features = fold.for_fold(table, None, ["log_value", "word_secret"], training)
    assert "word_secret" not in laid.columns and "word_secret" not in features and text is None
    assert features[0] == "log_value" and laid["log_value"].equals(table["log_value"])
    laid, _, features = fold.for_fold(table, None, ["log_value"], every_row)
    assert laid["word_secret"].tolist() == [2.0, 0.0] * 10 + [0.0] * 20 and "word_secret" in features


def test_fold_words_for_some_text_lines_keep_those_lines_words_and_the_photos_vocabulary():
    from prodspec.features.fold_words import FoldWords

    table = pd.DataFrame({"row_pos": np.repeat(np.arange(20), 2), "label": np.tile([1, 0], 20),
                          "unit_allowed": 1.0, "log_value": np.arange(40.0)})
    words = [({"often", "secret"} if right else {"often"}, set()) for _ in range(20) for right in (1, 0)]
    text = pd.DataFrame({"row_pos": [20, 20, 21, 21], "log_value": [1.0, 2.0, 3.0, 4.0]})
    text_words = [({"secret"}, set()), ({"often"}, set()), ({"often"}, set()), ({"secret"}, set())]
    fold = FoldWords(table, words, text_words)
    every_row = np.ones(20, dtype=bool)
    keep = np.array([False, False, True, True])
    some = fold.with_text_lines(keep)
    _, laid_text, _ = some.for_fold(table, text[keep], ["log_value"], every_row)
    assert laid_text["word_secret"].tolist() == [0.0, 2.0]  # the kept lines' own words
    assert some.vocabulary(every_row) is fold.vocabulary(every_row)  # learned once, from the photos alone
    _, all_text, _ = fold.for_fold(table, text, ["log_value"], every_row)  # the original keeps every line
    assert all_text["word_secret"].tolist() == [2.0, 0.0, 0.0, 2.0]
    photos_only = FoldWords(table, words)
    assert photos_only.with_text_lines(keep) is photos_only  # no text lines to choose among


def test_fold_words_learned_from_every_row_are_the_shipped_vocabulary(trained):
    # the words kept while the table was built give back the model's vocabulary and the table's own columns
    root, report = trained
    data = report["oof"]["data"]
    meta = json.loads((root / "model" / "meta.json").read_text())
    every_row = np.ones(len(data.rows), dtype=bool)
    assert data.words.vocabulary(every_row) == meta["vocabulary"]
    laid, _, features = data.words.for_fold(data.table.lines, None, meta["features"], every_row)
    assert features == meta["features"] and laid[features].equals(data.table.lines[features])


def test_precision_floor_is_never_a_cut_inside_a_run_of_equal_confidences():
    from prodspec.ranker.thresholds import global_floor

    # at 0.9 the first row alone is right (precision 1.0), but a cut at 0.9 answers all three rows at 0.9,
    # of which two are wrong: the lowest cut that keeps precision >= 0.9 is above them
    confidence = np.array([0.95, 0.95, 0.9, 0.9, 0.9, 0.5])
    correct = np.array([True, True, True, False, False, False])
    floor = global_floor(confidence, correct, 0.9)
    assert floor == 0.95
    assert correct[confidence >= floor].mean() >= 0.9


def test_parameters_are_picked_on_other_fold_splits(trained, monkeypatch):
    # the study's best on the tuning split loses to a runner-up that ranks better on fold splits it never saw
    root, report = trained
    oof = report["oof"]
    features = json.loads((root / "model" / "meta.json").read_text())["features"]
    # no leaf may hold fewer lines than the table has: no split, every candidate scores alike
    crippled = {"num_leaves": 4, "learning_rate": 0.01, "num_rounds": 1, "min_data_in_leaf": 100_000,
                "feature_fraction": 0.4, "lambda_l2": 30.0}
    sound = {"num_leaves": 15, "learning_rate": 0.05, "num_rounds": 300, "min_data_in_leaf": 3,
             "feature_fraction": 0.8, "lambda_l2": 1.0}
    study = optuna.create_study(direction="maximize")
    distributions = {"num_leaves": IntDistribution(4, 63), "learning_rate": FloatDistribution(0.01, 0.2),
                     "num_rounds": IntDistribution(1, 600), "min_data_in_leaf": IntDistribution(3, 100_000),
                     "feature_fraction": FloatDistribution(0.4, 1.0), "lambda_l2": FloatDistribution(1e-3, 30.0)}
    study.add_trial(optuna.trial.create_trial(params=crippled, distributions=distributions, value=0.99))
    study.add_trial(optuna.trial.create_trial(params=sound, distributions=distributions, value=0.90))
    rows, table = oof["data"].rows, oof["data"].table.lines
    params, tuning = pick_on_other_splits(study, table, features, len(rows),
                                          rows_with_a_right_candidate(table, len(rows)), rows["image_name"], 5)
    assert params == RankerParams(**sound) and tuning["tuned_top1"] == 0.9
    assert tuning["finalists"][1]["selection_top1"] > tuning["finalists"][0]["selection_top1"]
    assert [f["shipped"] for f in tuning["finalists"]] == [False, True]

    # the current model's parameters reach the final round even when the study ranks them low, and stay
    # unless a finalist beats them there by INCUMBENT_MARGIN: `sound` does, by far
    incumbent = crippled | {"lambda_l2": 20.0}
    args = (study, table, features, len(rows), rows_with_a_right_candidate(table, len(rows)), rows["image_name"], 5)
    params, tuning = pick_on_other_splits(*args, incumbent=incumbent)
    assert params == RankerParams(**sound) and len(tuning["finalists"]) == 3
    assert tuning["finalists"][2]["current"] and math.isnan(tuning["finalists"][2]["tuned_top1"])
    monkeypatch.setattr("prodspec.training.study.INCUMBENT_MARGIN", float("inf"))
    params, tuning = pick_on_other_splits(*args, incumbent=incumbent)
    assert params == RankerParams(**incumbent) and tuning["finalists"][2]["shipped"]


def test_a_resumed_study_scores_a_new_warm_start(trained, tmp_path):
    # the study already holds its trials; the current model's parameters, new to it, still get their
    # tuning-split score rather than reaching the final round with none (NaN in the bench's table)
    root, report = trained
    oof = report["oof"]
    features = json.loads((root / "model" / "meta.json").read_text())["features"]
    rows, table = oof["data"].rows, oof["data"].table.lines
    folds = image_folds(rows["image_name"], k=5)
    args = (table, folds, features, len(rows), rows_with_a_right_candidate(table, len(rows)), 1,
            f"sqlite:///{tmp_path / 'study.db'}", rows["image_name"])
    tune_ranker(*args)
    incumbent = {"num_leaves": 7, "learning_rate": 0.1, "num_rounds": 60, "min_data_in_leaf": 5,
                 "feature_fraction": 0.9, "lambda_l2": 2.0}
    _, tuning = tune_ranker(*args, warm_start=incumbent)
    current = [f for f in tuning["finalists"] if f.get("current")]
    assert len(current) == 1 and 0.0 <= current[0]["tuned_top1"] <= 1.0


def test_dimension_blend_standardizes_within_each_row():
    from prodspec.ranker.blend import standardized_within_rows

    # a row of one candidate (no spread) and rows on very different scales both come out comparable
    rows = pd.Series([0, 1, 1, 1, 2, 2])
    z = standardized_within_rows(np.array([7.0, 1.0, 2.0, 3.0, 100.0, 300.0]), rows)
    assert np.isfinite(z).all() and z[0] == 0.0
    assert np.allclose(z[1:4], [-1.0, 0.0, 1.0]) and np.allclose(z[4:], [-0.7071, 0.7071], atol=1e-4)


def test_dimension_top1_counts_only_dimension_rows_with_a_right_candidate():
    from prodspec.training.crossval import dimension_top1

    rows = pd.DataFrame({"entity_name": ["height", "item_weight", "width", "depth"]})
    tops = pd.DataFrame({"label": [1, 0, 1, 0]})
    # the weight row is wrong but not a dimension; the width row has no right candidate to pick
    assert dimension_top1(tops, rows, np.array([True, True, False, True])) == 0.5
    assert dimension_top1(tops, rows.assign(entity_name="voltage"), np.ones(4, dtype=bool)) is None


def test_split_means_skip_splits_without_a_measure():
    from prodspec.training.crossval import split_means

    splits = [{"top1": 0.5, "dimension_top1": None}, {"top1": 0.7, "dimension_top1": 0.4}]
    assert split_means(splits) == {"top1": 0.6, "dimension_top1": 0.4}
    assert split_means(splits[:1]) == {"top1": 0.5, "dimension_top1": None}


def test_the_answer_is_the_value_with_the_most_score_not_the_single_best_box():
    from prodspec.ranker.selection import top_candidates

    # row 0: 12 g read twice (scores 1, 1) outweighs 30 g read once (1.5); row 1: 30 g at 2.0 outweighs both;
    # row 2: a candidate of a unit the attribute does not allow is never the answer
    table = pd.DataFrame({
        "row_pos": [0, 0, 0, 1, 1, 1, 2, 2], "cand_pos": range(8),
        "value": [12.0, 30.0, 12.0, 12.0, 30.0, 12.0, 5.0, 9.0],
        "unit_name": ["gram"] * 6 + ["volt", "gram"], "unit_allowed": [1] * 6 + [0, 1],
        "label": [1, 0, 1, 0, 1, 0, 0, 1],
    })
    for column in ("candidates_in_image", "allowed_in_image", "entity", "unit_share", "value_percentile",
                   "value_share", "confidence", "same_value_count", "text_height_vs_max", "kind", "is_largest"):
        table[column] = 0
    tops = top_candidates(table, np.array([1.0, 1.5, 0.9, 1.0, 2.0, 1.0, 9.0, 0.0]), 3)
    assert tops["cand_pos"].tolist() == [0, 4, 7] and tops["label"].tolist() == [1, 1, 1]
    # the confidence input is the value's share: (1 + e^-0.1) / (1 + e^-0.1 + e^0.5) for row 0
    share = (1 + math.exp(-0.1)) / (1 + math.exp(-0.1) + math.exp(0.5))
    assert tops["softmax_top"].iloc[0] == pytest.approx(share) and tops["softmax_top"].iloc[2] == pytest.approx(1.0)


def test_rows_but_dimensions_are_scored_by_a_ranker_without_the_place_cues(trained):
    root, report = trained
    model = load_model(root / "model")
    other = model.rankers.other
    assert isinstance(other, SeedEnsemble) and len(other.boosters) == ENSEMBLE_SIZE
    assert set(PLACE_AND_ORDER) <= set(model.features)
    assert not set(PLACE_AND_ORDER) & set(other.boosters[0].feature_name())
    # half the rows read as heights: those keep the photos ranker's scores, the rest take the other ranker's,
    # which do not move when the place cues do
    table = report["oof"]["data"].table.lines.copy()
    table["entity"] = np.where(table["row_pos"] % 2 == 0, entity_names().index("height"), table["entity"])
    dims = dimension_rows(table)
    assert dims.any() and (~dims).any()
    main = score_candidates(replace(model.rankers, other=None), table, model.features)
    split = score_candidates(model.rankers, table, model.features)
    assert np.array_equal(split[dims], main[dims])
    assert np.allclose(split[~dims], score(other, table[~dims], for_other_attributes(model.features)))
    shuffled = table.assign(**{f: table[f].sample(frac=1.0, random_state=0).to_numpy() for f in PLACE_AND_ORDER})
    moved = score_candidates(model.rankers, shuffled, model.features)
    assert np.array_equal(moved[~dims], split[~dims])


def test_a_dimension_rows_score_adds_the_photos_rankers_at_the_models_weight(trained, tmp_path):
    root, report = trained
    model = load_model(root / "model")
    assert model.rankers.dimension_blend == DIMENSION_BLEND == json.loads((root / "model" / "meta.json").read_text())[
        "dimension_blend"]
    # a model trained before its meta.json named the weight was trained at 0.5
    shutil.copytree(root / "model", tmp_path / "before")
    meta = json.loads((tmp_path / "before" / "meta.json").read_text())
    del meta["dimension_blend"]
    (tmp_path / "before" / "meta.json").write_text(json.dumps(meta))
    assert load_model(tmp_path / "before").rankers.dimension_blend == 0.5
    table = report["oof"]["data"].table.lines.copy()
    table["entity"] = np.where(table["row_pos"] % 2 == 0, entity_names().index("depth"), table["entity"])
    dims = dimension_rows(table)
    dimension_ranker = fit_dimension_ranker(table, table.iloc[:0], model.features, RankerParams(num_rounds=20))
    at = {w: score_candidates(replace(model.rankers, dimension=dimension_ranker, dimension_blend=w), table,
                              model.features)[dims] for w in (0.0, 0.25, 1.0)}
    part = table[dims]
    # at 0 the dimension ranker alone; each unit of weight adds the photos ranker's standardized score
    assert np.allclose(at[0.0], standardized_within_rows(score(dimension_ranker, part, without_gaps(model.features)),
                                                         part["row_pos"]))
    assert np.allclose(at[1.0] - at[0.0], standardized_within_rows(score(model.rankers.photos, part, model.features),
                                                                   part["row_pos"]))
    assert np.allclose(at[0.25], at[0.0] + 0.25 * (at[1.0] - at[0.0])) and not np.allclose(at[0.0], at[1.0])


def test_height_and_width_rows_lead_with_a_ranker_that_learned_from_the_dimension_rows_alone(trained, tmp_path):
    root, report = trained
    model = load_model(root / "model")
    assert model.rankers.height_width is None  # trained without text rows: no dimension ranker of either kind
    table = report["oof"]["data"].table.lines.copy()
    names = entity_names()
    table["entity"] = np.select([table["row_pos"] % 3 == 0, table["row_pos"] % 3 == 1],
                                [names.index("height"), names.index("depth")], table["entity"])
    params = RankerParams(num_rounds=20)
    dimension_ranker = fit_dimension_ranker(table, table.iloc[:0], model.features, params)
    height_width = fit_height_width_ranker(table, table.iloc[:0], model.features, params)
    # it learned from the height and width rows and the depth rows, not the weights
    dims = dimension_rows(table)
    assert height_width.model_to_string() == fit_dimension_ranker(table[dims], table.iloc[:0], model.features,
                                                                  params).model_to_string()
    assert height_width.model_to_string() != dimension_ranker.model_to_string()
    # in the blend: one that picks each row's first candidate, so that which ranker scored a row shows
    first = table.assign(label=(table.groupby("row_pos").cumcount() == 0).astype(int))
    contrary = fit_height_width_ranker(first, first.iloc[:0], model.features, params)
    with_dimension = replace(model.rankers, dimension=dimension_ranker, dimension_blend=0.0)
    one = score_candidates(with_dimension, table, model.features)
    two = score_candidates(replace(with_dimension, height_width=contrary), table, model.features)
    depth, height = (table["entity"] == names.index("depth")).to_numpy(), (table["row_pos"] % 3 == 0).to_numpy()
    assert np.array_equal(two[~height], one[~height]) and depth.any()  # depth and weight rows as before
    part = table[height]
    assert np.allclose(two[height], standardized_within_rows(score(contrary, part, without_gaps(model.features)),
                                                             part["row_pos"]))
    assert not np.allclose(two[height], one[height])
    # saved with the model and loaded back, it scores as it did; a model saved without it has none
    rankers = replace(model.rankers, dimension=dimension_ranker, height_width=height_width)
    save_model(tmp_path / "model", rankers, model.confidence, model.priors, model.meta)
    loaded = load_model(tmp_path / "model")
    assert loaded.meta["height_width_ranker_files"] == ["ranker_height_width.txt"]
    assert (loaded.rankers.dimension_blend, loaded.rankers.drawing_weight) == (rankers.dimension_blend,
                                                                              rankers.drawing_weight)
    assert np.allclose(loaded.scores(table), score_candidates(rankers, table, model.features))
    (tmp_path / "model" / "ranker_height_width.txt").unlink()
    with pytest.raises(UserError, match="ranker_height_width.txt"):
        load_model(tmp_path / "model")
    # nor does a model load whose meta.json names it without the dimension ranker it leads beside
    save_model(tmp_path / "model", rankers, model.confidence, model.priors, model.meta)
    meta = json.loads((tmp_path / "model" / "meta.json").read_text())
    (tmp_path / "model" / "meta.json").write_text(json.dumps(meta | {"dimension_ranker_files": None}))
    with pytest.raises(UserError, match="height-and-width ranker without the dimension ranker"):
        load_model(tmp_path / "model")


def test_calibration_maps_confidence_to_the_share_exactly_right():
    from prodspec.ranker.calibration import (
        calibrated,
        cross_fitted,
        expected_calibration_error,
        fit_calibration,
        reliability,
    )

    # the confidence model is over-sure: rows it gives 0.9 are right half the time, rows it gives 0.3 never
    rng = np.random.default_rng(0)
    raw = np.repeat([0.3, 0.9], 400)
    exact = np.concatenate([np.zeros(400), rng.uniform(size=400) < 0.5]).astype(float)
    knots = fit_calibration(raw, exact)
    mapped = calibrated(np.array([0.3, 0.9]), knots)
    assert mapped[0] == pytest.approx(0.0, abs=1e-6) and mapped[1] == pytest.approx(exact[400:].mean(), abs=1e-6)
    assert expected_calibration_error(reliability(raw, exact)) > 0.3  # the raw confidence is far off
    folds = np.tile(np.arange(5), 160)
    fixed = reliability(cross_fitted(raw, exact, folds), exact)
    assert expected_calibration_error(fixed) < 0.05 and all(b["calibrated"] for b in fixed)
    assert calibrated(raw, None) is raw and fit_calibration(raw, np.ones(800)) is None


def test_the_training_report_names_each_precision_and_says_when_the_floor_is_missed():
    from prodspec.training.summary import precision_line

    def report(numeric: float, objective: str = "precision") -> dict:
        return {"objective": objective, "min_precision": 0.95,
                "ranker": {"overall": {"answered_rate": 0.541, "numeric_precision": numeric, "strict_precision": 0.863}}}

    reached = precision_line(report(0.951))
    assert "value and unit (numeric) 0.951" in reached and "exact string (strict) 0.863" in reached
    assert "floor 0.95 (numeric) is reached" in reached
    assert "is NOT reached: 0.930" in precision_line(report(0.93))
    assert "floor" not in precision_line(report(0.93, "f1"))
