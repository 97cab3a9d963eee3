"""The context vocabulary relearned inside each cross-validation fold.

The vocabulary's learned words (`features.context.learn_vocabulary`) are picked for how well they tell right
candidates from wrong ones, so they are learned from labels. Learned once from every labelled row, as the shipped
model learns them, they would let out-of-fold scores rest on words picked with the held-out rows' own labels: over
fold splits 1-20 that read top-1 0.8443 where a vocabulary learned on each fold's training rows gives 0.8405
(docs/experiments.md). So cross-validation lays each fold's own word columns over the feature tables.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd

from prodspec.features.context import (
    WORD_PREFIX,
    learn_vocabulary,
    word_feature,
    word_value,
)


class _LineWords:
    """Each feature line's context words (own box, nearby boxes), and word columns built from them on demand."""

    def __init__(self, words: list[tuple[set[str], set[str]]]):
        self.words = words
        self._columns: dict[str, np.ndarray] = {}

    def column(self, word: str) -> np.ndarray:
        if word not in self._columns:
            self._columns[word] = np.fromiter((word_value(word, own, near) for own, near in self.words),
                                              dtype=float, count=len(self.words))
        return self._columns[word]

    def laid_over(self, table: pd.DataFrame, vocabulary: list[str]) -> pd.DataFrame:
        if len(table) != len(self.words):
            raise ValueError(f"a table of {len(table)} lines, words for {len(self.words)}: not the table they came from")
        kept = table.drop(columns=[c for c in table.columns if c.startswith(WORD_PREFIX)])
        columns = pd.DataFrame({word_feature(w): self.column(w) for w in vocabulary}, index=table.index)
        return pd.concat([kept, columns], axis=1)


class FoldWords:
    """The photos' and text rows' line words, for one training table (`ranker.pipeline.TrainingData`)."""

    def __init__(self, table: pd.DataFrame, photo_words: list[tuple[set[str], set[str]]],
                 text_words: list[tuple[set[str], set[str]]] | None = None):
        self._photo = _LineWords(photo_words)
        self._text = _LineWords(text_words) if text_words is not None else None
        # the lines learn_vocabulary counts: allowed-unit candidates of the photos' rows, with their truth
        self._allowed = table["unit_allowed"].to_numpy() > 0
        self._label = table["label"].to_numpy()
        self._row_pos = table["row_pos"].to_numpy()
        self._vocabularies: dict[bytes, list[str]] = {}

    def vocabulary(self, training_rows: np.ndarray) -> list[str]:
        """The vocabulary learned from these rows alone (`training_rows`: a mask over the photos' rows)."""
        training_rows = np.asarray(training_rows, dtype=bool)
        key = training_rows.tobytes()
        if key not in self._vocabularies:
            lines = np.flatnonzero(self._allowed & training_rows[self._row_pos])
            contexts = [(own | near, int(self._label[i])) for i in lines for own, near in [self._photo.words[i]]]
            self._vocabularies[key] = learn_vocabulary(contexts)
        return self._vocabularies[key]

    def laid_over(self, table: pd.DataFrame, text: pd.DataFrame | None,
                  vocabulary: list[str]) -> tuple[pd.DataFrame, pd.DataFrame | None]:
        """The table and text table with this vocabulary's word columns in place of theirs."""
        if text is not None:
            if self._text is None:
                raise ValueError("a text table, but no line words were kept for it")
            text = self._text.laid_over(text, vocabulary)
        return self._photo.laid_over(table, vocabulary), text

    def for_fold(self, table: pd.DataFrame, text: pd.DataFrame | None, features: list[str],
                 training_rows: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame | None, list[str]]:
        """The table, text table and feature list with the word columns of the vocabulary these rows learn."""
        vocabulary = self.vocabulary(training_rows)
        features = [f for f in features if not f.startswith(WORD_PREFIX)] + [word_feature(w) for w in vocabulary]
        return *self.laid_over(table, text, vocabulary), features

    def with_text_lines(self, keep: np.ndarray) -> FoldWords:
        """The same words for a text table of these of its lines alone (`keep`: a mask over the text lines)."""
        if self._text is None:
            return self
        words = copy.copy(self)  # shares the photos' words and the vocabularies learned from them
        words._text = _LineWords([w for w, k in zip(self._text.words, keep, strict=True) if k])
        return words
