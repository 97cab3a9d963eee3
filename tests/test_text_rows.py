"""Text rows with no boxes (the OCR text corpus) as extra training data for the dimension ranker."""

import math
import random
from pathlib import Path

import optuna
import pandas as pd
import pytest
from optuna.distributions import IntDistribution

from prodspec.candidates.cache import OcrCache
from prodspec.candidates.image import text_candidates
from prodspec.candidates.ocr import OcrSettings
from prodspec.dataset.errors import UserError
from prodspec.dataset.evaluate import score_rows
from prodspec.dataset.rows import TextCorpus, read_text_corpus
from prodspec.features.columns import NEEDS_BOXES
from prodspec.features.priors import Priors, build_priors
from prodspec.features.text_rows import text_table
from prodspec.ranker.artifacts import load_model
from prodspec.ranker.blend import OTHER_TEXT, dimension_text, text_for
from prodspec.serving.predict import predict
from prodspec.training.crossval import rows_with_a_right_candidate
from prodspec.training.data import (
    other_text_table,
    photo_half,
    text_rows_of,
    training_data,
)
from prodspec.training.study import pick_on_other_splits
from prodspec.training.train import train
from tests.synthetic import make_dimension_set, make_image_set

CORPUS_COLUMNS = ["image_link", "group_id", "entity_name", "entity_value", "ocr_text"]


def _corpus(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=CORPUS_COLUMNS)


DIMENSIONS = ["width", "height", "depth"]


def _write_dimension_corpus(path, n: int, entities: list[str]) -> None:
    """`n` text rows that print a width, a height and a depth in any order, labelled in turn with `entities`."""
    rng = random.Random(4)
    corpus = []
    for k in range(n):
        sizes = rng.sample(range(5, 90), 3)
        parts = [f"Width {sizes[0]} cm", f"Height {sizes[1]} cm", f"Depth {sizes[2]} cm"]
        rng.shuffle(parts)
        entity = entities[k % len(entities)]
        label = f"{sizes[DIMENSIONS.index(entity)]}.0 centimetre"
        corpus.append((f"https://x/c{k}.jpg", "7", entity, label, " ".join(parts)))
    _corpus(corpus).to_csv(path, index=False)


def test_corpus_rows_of_scored_photos_unknown_attributes_or_no_label_are_left_out(tmp_path):
    _corpus([
        ("https://x/a.jpg", "1", "height", "30.0 centimetre", "Height 30 cm"),
        ("https://x/b.jpg", "1", "height", "30.0 centimetre", "Height 30 cm"),
        ("https://x/c.jpg", "1", "colour", "red", "red"),
        ("https://x/d.jpg", "1", "width", "", "Width 5 cm"),
    ]).to_csv(tmp_path / "corpus.csv", index=False)
    corpus = read_text_corpus(tmp_path / "corpus.csv", exclude_images={"a.jpg"})
    assert list(corpus["image_name"]) == ["b.jpg"]
    _corpus([]).drop(columns=["ocr_text"]).to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(UserError, match="missing column"):
        read_text_corpus(tmp_path / "bad.csv")


def test_a_corpus_can_be_kept_to_some_attributes_and_a_photo_two_corpora_read_counts_once(tmp_path):
    _corpus([
        ("https://x/a.jpg", "1", "height", "30.0 centimetre", "Height 30 cm"),
        ("https://x/b.jpg", "1", "item_weight", "5.0 gram", "5 g"),
        ("https://x/c.jpg", "1", "width", "7.0 centimetre", "Width 7 cm"),
    ]).to_csv(tmp_path / "big.csv.gz", index=False)
    _corpus([("https://x/c.jpg", "1", "depth", "2.0 centimetre", "Depth 2 cm")]).to_csv(tmp_path / "c.csv", index=False)
    dims = TextCorpus.parse(f"{tmp_path / 'big.csv.gz'}:height,width")
    assert dims == TextCorpus(tmp_path / "big.csv.gz", ("height", "width")) and str(dims).endswith(".csv.gz:height,width")
    assert list(dims.read(exclude_images=set())["image_name"]) == ["a.jpg", "c.jpg"]
    # a colon that does not end in attribute names is part of the path
    assert TextCorpus.parse("s3:/x/y.csv") == TextCorpus(Path("s3:/x/y.csv"))
    both = text_rows_of([TextCorpus.parse(tmp_path / "c.csv").read(set()), dims.read(set())])
    assert list(zip(both["image_name"], both["entity_name"])) == [("c.jpg", "depth"), ("a.jpg", "height")]


def test_text_rows_have_no_geometry_and_take_context_from_nearby_words(tmp_path):
    _corpus([("https://x/p.jpg", "1", "height", "9.0 centimetre", "")]).to_csv(tmp_path / "train.csv", index=False)
    priors = Priors(build_priors(tmp_path / "train.csv"))
    filler = " ".join(["lorem"] * 20)
    corpus = _corpus([
        ("https://x/a.jpg", "1", "height", "30.0 centimetre", f"Width 20 cm {filler} Height 30 cm"),
        ("https://x/a.jpg", "1", "width", "20.0 centimetre", f"Width 20 cm {filler} Height 30 cm"),
    ])
    table = text_table(corpus, [text_candidates(t) for t in corpus["ocr_text"]], priors, ["width", "height"],
                       row_offset=100).lines
    assert sorted(table["row_pos"].unique()) == [100, 101]
    assert table[NEEDS_BOXES].isna().all().all()
    height_row = table[table["row_pos"] == 100].set_index("value")
    # each value sees the word written beside it, not the one twenty words away
    assert height_row.loc[30.0, "word_height"] == 2.0 and height_row.loc[30.0, "word_width"] == 0.0
    assert height_row.loc[20.0, "word_width"] == 2.0 and height_row.loc[20.0, "word_height"] == 0.0
    assert list(height_row["label"]) == [0, 1]  # the photo's second row is about the width: its label differs
    assert table.loc[table["row_pos"] == 101].set_index("value").loc[20.0, "label"] == 1
    assert not math.isnan(table["log_value"].iloc[0])


def _trained_strict_f1(tmp_path, name: str, test: pd.DataFrame, **options) -> float:
    """Train a model `name` on tmp_path's labels.csv and images/ with these options, answer test.csv, score it."""
    model_dir = tmp_path / name
    train(tmp_path / "labels.csv", tmp_path / "images", model_dir=model_dir, trials=2, train_csv=tmp_path / "train.csv",
          cache_dir=tmp_path / "cache", progress=False, k_folds=3, **options)
    predict(tmp_path / "test.csv", tmp_path / "images", tmp_path / f"{name}.csv", model_dir=model_dir,
            cache_dir=tmp_path / "cache", progress=False)
    answers = pd.read_csv(tmp_path / f"{name}.csv", dtype=str, keep_default_na=False)["prediction"]
    return score_rows(list(test["entity_value"]), list(answers)).strict_f1


def _photos_and_test(tmp_path, photos, test) -> pd.DataFrame:
    """tmp_path's images/ (their OCR in its cache), labels.csv and train.csv of the `photos` rows, test.csv of the
    `test` rows without their labels; each made by `(images, cache)` → labelled rows. The test rows, labelled."""
    cache = OcrCache(tmp_path / "cache", shipped_dir=None)
    images = tmp_path / "images"
    labels = photos(images, cache)
    labels.to_csv(tmp_path / "labels.csv", index=False)
    labels.drop(columns=["index"]).to_csv(tmp_path / "train.csv", index=False)
    rows = test(images, cache)
    rows.drop(columns=["entity_value"]).to_csv(tmp_path / "test.csv", index=False)
    cache.close()
    return rows


def test_text_corpus_teaches_the_dimension_ranker_what_the_photos_do_not_show(tmp_path):
    # the photos teach weights only; the text rows, two hundred dimension rows, teach which size is the height
    test = _photos_and_test(tmp_path, lambda images, cache: make_image_set(images, cache, 40, seed=1, prefix="w"),
                            lambda images, cache: make_dimension_set(images, cache, 30, seed=3, prefix="t"))
    _write_dimension_corpus(tmp_path / "corpus.csv", 200, DIMENSIONS)

    scores = {name: _trained_strict_f1(tmp_path, name, test, text_corpus=text_corpus)
              for name, text_corpus in (("photos", None), ("photos+text", tmp_path / "corpus.csv"))}
    assert load_model(tmp_path / "photos").rankers.dimension is None
    assert load_model(tmp_path / "photos").rankers.height_width is None
    model = load_model(tmp_path / "photos+text")
    assert model.rankers.dimension is not None and model.meta["text_rows"] == 200
    assert model.rankers.height_width is not None
    assert scores["photos+text"] > 0.9 and scores["photos"] < 0.6, scores
    (tmp_path / "photos+text" / "ranker_dimensions.txt").unlink()
    with pytest.raises(UserError, match="missing"):
        load_model(tmp_path / "photos+text")


def test_parameter_finalists_are_scored_with_the_text_rows_as_the_model_ships(tmp_path):
    # the photos hold few height rows; the text rows teach which size is the height. The finalists' round must
    # score dimension rows as the shipped model does (blended with the text rows' ranker), or it cannot see
    # what helps them
    cache = OcrCache(tmp_path / "cache", shipped_dir=None)
    images = tmp_path / "images"
    weights = make_image_set(images, cache, 30, seed=1, prefix="w")
    heights = make_dimension_set(images, cache, 9, seed=3, prefix="h")
    labels = pd.concat([weights, heights], ignore_index=True)
    labels.to_csv(tmp_path / "labels.csv", index=False)
    weights.drop(columns=["index"]).to_csv(tmp_path / "train.csv", index=False)
    cache.close()
    _write_dimension_corpus(tmp_path / "corpus.csv", 150, ["height"])
    data = training_data(tmp_path / "labels.csv", images, OcrSettings(), OcrCache(tmp_path / "cache", shipped_dir=None),
                         progress=False, text_corpus=tmp_path / "corpus.csv", train_csv=tmp_path / "train.csv")
    # a leaf needs 60 lines: too many for what the photos' rows give a fold (0.08 top-1 there), while the text
    # rows' 450 lines teach which size is the height (every height row right)
    study = optuna.create_study(direction="maximize")
    study.add_trial(optuna.trial.create_trial(
        params={"min_data_in_leaf": 60}, distributions={"min_data_in_leaf": IntDistribution(3, 60)}, value=0.5))
    n_rows = len(data.rows)
    lines = data.table.lines
    args = (study, lines, data.table_features, n_rows, rows_with_a_right_candidate(lines, n_rows),
            data.rows["image_name"], 3)
    photos_only = pick_on_other_splits(*args, words=data.words)[1]["finalists"][0]["selection_top1"]
    as_shipped = pick_on_other_splits(*args, words=data.words, text=data.text)[1]["finalists"][0]["selection_top1"]
    assert as_shipped > photos_only + 0.05, (as_shipped, photos_only)


def _write_weight_corpus(path, n: int, label: str = "net") -> None:
    """`n` text rows of item weights, each printing a serving size and a protein weight, then the net weight;
    labelled with the net weight, or with the serving size (`label="serving"`)."""
    rng = random.Random(5)
    rows = []
    for k in range(n):
        net, serving = rng.choice([100, 150, 200, 250, 340, 400, 500, 750, 1000]), rng.choice([5, 10, 15, 20, 30])
        printed = [f"Serving size {serving}g", f"Protein {rng.randint(1, 9)}g"]
        rng.shuffle(printed)
        rows.append((f"https://x/o{k}.jpg", "7", "item_weight", f"{serving if label == 'serving' else net}.0 gram",
                     f"Nutrition facts {printed[0]} {printed[1]} NET WT {net}g"))
    _corpus(rows).to_csv(path, index=False)


def test_a_corpus_read_as_a_sample_keeps_the_same_rows_in_their_order(tmp_path):
    _write_weight_corpus(tmp_path / "weights.csv", 50)
    corpus = TextCorpus(tmp_path / "weights.csv", ("item_weight",), rows=20)
    sample = corpus.read(exclude_images={"o3.jpg"})
    assert len(sample) == 20 and sample.equals(corpus.read(exclude_images={"o3.jpg"}))
    assert "o3.jpg" not in set(sample["image_name"])
    positions = [int(name[1:-4]) for name in sample["image_name"]]
    assert positions == sorted(positions)
    assert len(TextCorpus(tmp_path / "weights.csv").read(set())) == 50


def test_the_other_attributes_text_rows_teach_their_ranker_and_only_theirs(tmp_path):
    # the photos teach heights only; 150 weight text rows teach a catalogue whose item weight is the serving size
    # (small print, beside a protein weight), which no photo ranker would pick over the net weight in large type
    test = _photos_and_test(
        tmp_path, lambda images, cache: make_dimension_set(images, cache, 24, seed=1, prefix="h"),
        lambda images, cache: make_image_set(images, cache, 20, seed=3, prefix="t", label="serving"))
    _write_dimension_corpus(tmp_path / "corpus.csv", 60, DIMENSIONS)
    _write_weight_corpus(tmp_path / "weights.csv", 150, label="serving")

    scores = {name: _trained_strict_f1(tmp_path, name, test, text_corpus=tmp_path / "corpus.csv",
                                       other_text=other_text)
              for name, other_text in (("photos", None), ("photos+text", TextCorpus(tmp_path / "weights.csv")))}
    assert load_model(tmp_path / "photos+text").meta["other_text_rows"] == 150
    assert scores["photos+text"] > 0.8 and scores["photos"] < 0.3, scores
    # the dimension rankers and the photos ranker learned exactly as before; the other ranker did not
    for ranker in ("ranker", "ranker_dimensions", "ranker_height_width"):
        assert (tmp_path / "photos" / f"{ranker}.txt").read_text() == (tmp_path / "photos+text" / f"{ranker}.txt").read_text()
    assert (tmp_path / "photos" / "ranker_others.txt").read_text() != (tmp_path / "photos+text" / "ranker_others.txt").read_text()


def test_each_half_of_the_other_text_rows_takes_priors_without_its_own_labels(tmp_path):
    # train.csv holds the text rows' own labels, each half of the photos a group of its own: priors with them would
    # tell each row its group's unit from its own half's labels; priors by halves have never seen the group
    _write_weight_corpus(tmp_path / "weights.csv", 40)
    corpus = read_text_corpus(tmp_path / "weights.csv")
    corpus["group_id"] = [f"g{photo_half(name)}" for name in corpus["image_name"]]
    assert corpus["group_id"].value_counts().min() >= 10
    corpus.drop(columns=["ocr_text", "image_name"]).to_csv(tmp_path / "train.csv", index=False)
    table = other_text_table(corpus, tmp_path / "train.csv", set(), row_offset=1000)
    leaky = Priors(build_priors(tmp_path / "train.csv"))
    own = text_table(corpus, [text_candidates(t) for t in corpus["ocr_text"]], leaky, [], row_offset=1000)
    assert sorted(table.lines["row_pos"].unique()) == list(range(1000, 1040))
    assert len(table.line_words) == len(table.lines) and len(table.rows) == 40
    assert (own.lines["group_unit_share"] == 1.0).all()  # each gram candidate's group: all its labels in grams
    assert table.lines["group_unit_share"].isna().all()


def test_text_lines_of_the_other_attributes_never_make_a_dimension_ranker():
    lines = pd.DataFrame({"row_pos": [5, 5, 6, 7], OTHER_TEXT: [0, 0, 1, 1]})
    assert list(dimension_text(lines)["row_pos"]) == [5, 5]
    assert dimension_text(lines[lines[OTHER_TEXT] == 1]) is None  # only the other ranker's rows: no dimension ranker
    assert list(text_for(lines, other=True)["row_pos"]) == [6, 7]
    # a text table without the column (a corpus for the dimension rankers alone) is theirs whole
    assert dimension_text(lines.drop(columns=[OTHER_TEXT])) is not None and dimension_text(None) is None
