"""Words around a candidate: its own box and the nearest boxes, as a compact keyword vocabulary.

The vocabulary is a hand-written core (cues any packaging reader knows) plus the context words that
separate right candidates from wrong ones in the training data (`learn_vocabulary`), stored with the model.
"""

from __future__ import annotations

import math
import re
from collections import Counter

from prodspec.candidates.records import Candidate, TextBox

CORE_KEYWORDS = [
    "net", "wt", "weight", "netwt", "capacity", "max", "load", "volts", "voltage", "power", "input", "output",
    "rated", "height", "width", "depth", "length", "thickness", "dia", "diameter", "size", "h", "w", "d", "l",
    "serving", "per", "each", "total", "contents", "vol", "watts", "battery", "mah", "ac", "dc", "supports",
    "holds", "up", "to", "bearing",
]

_WORD = re.compile(r"[a-z]+")
WORD_PREFIX = "word_"  # a vocabulary word's feature column: word_net, word_wt, ...


def word_feature(word: str) -> str:
    return f"{WORD_PREFIX}{word}"


def word_value(word: str, own: set[str], near: set[str]) -> float:
    """A word feature's value: 2 in the candidate's own box, 1 in a box near it, else 0."""
    return 2.0 if word in own else 1.0 if word in near else 0.0


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


# in a flat text, the words just before a candidate stand in for its own box (`Height: 30 cm`), and a few words
# either side for its neighbours
OWN_WORDS = (2, 0)
NEAR_WORDS = (8, 8)


def _around(text: str, start: int, end: int, before: int, after: int) -> str:
    """The span with `before` whole words ahead of it and `after` behind it."""
    return " ".join(text[:start].split()[-before:] + [text[start:end]] + text[end:].split()[:after])


def flat_context(candidate: Candidate) -> tuple[set[str], set[str]]:
    """A candidate's context words in a flat text with no boxes: (own, near) as for a box."""
    start, end = candidate.span
    return (set(words(_around(candidate.source, start, end, *OWN_WORDS))),
            set(words(_around(candidate.source, start, end, *NEAR_WORDS))))


def nearest_boxes(boxes: list[TextBox], index: int, k: int = 3) -> list[int]:
    """The k boxes whose centres are closest to box `index`, in letter heights."""
    me = boxes[index]
    h = max(me.text_height, 1.0)
    scored = []
    for j, b in enumerate(boxes):
        if j == index:
            continue
        dx = max(b.left - me.right, me.left - b.right, 0.0)
        dy = max(b.top - me.bottom, me.top - b.bottom, 0.0)
        scored.append((math.hypot(dx, dy) / h, j))
    return [j for d, j in sorted(scored)[:k] if d < 6]


def learn_vocabulary(contexts: list[tuple[set[str], int]], size: int = 40, min_count: int = 8) -> list[str]:
    """Context words with the largest lift in the share of right candidates (label 1) among those seen."""
    seen, right = Counter(), Counter()
    base = sum(label for _, label in contexts) / max(len(contexts), 1)
    for context, label in contexts:
        for word in context:
            seen[word] += 1
            right[word] += label
    lifts = {
        w: abs((right[w] + base) / (seen[w] + 1) - base) * math.sqrt(seen[w])
        for w in seen
        if seen[w] >= min_count and len(w) > 1
    }
    # ties broken by the word: the order the contexts came in (OCR workers finish in any order) must not matter
    learned = [w for w, _ in sorted(lifts.items(), key=lambda kv: (-kv[1], kv[0])) if w not in CORE_KEYWORDS]
    return CORE_KEYWORDS + learned[:size]
