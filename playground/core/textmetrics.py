"""Word error rate for comparing a transcript against the text that was spoken.

Written here (a dozen lines of Levenshtein) so the app does not need jiwer at runtime; the
tests cross-check it against jiwer. Text is normalised first so that case, punctuation and
hyphenation ("well-known" vs "well known") do not count as errors.
"""

from __future__ import annotations

import re

__all__ = ["normalise_words", "word_error_rate"]

_SPLIT = re.compile(r"[\s\-\u2010-\u2015]+")  # whitespace, hyphen and the unicode dashes
_NOT_WORD = re.compile(r"[^\w']|_")
_EDGE_APOSTROPHE = re.compile(r"(?<!\w)'|'(?!\w)")


def normalise_words(text: str) -> list[str]:
    """Lowercase words without punctuation; apostrophes survive only inside words ("don't")."""
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    words = []
    for token in _SPLIT.split(text):
        word = _EDGE_APOSTROPHE.sub("", _NOT_WORD.sub("", token))
        if word:
            words.append(word)
    return words


def word_error_rate(reference: str, hypothesis: str) -> float:
    """(substitutions + deletions + insertions) / reference words, after :func:`normalise_words`.

    An empty reference gives 0.0 when the hypothesis is empty too, else 1.0. The rate can exceed
    1.0 when the hypothesis has many extra words.
    """
    ref, hyp = normalise_words(reference), normalise_words(hypothesis)
    if not ref:
        return 0.0 if not hyp else 1.0
    # one row of the edit-distance table at a time: previous[j] = distance(ref[:i-1], hyp[:j])
    previous = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, start=1):
        current = [i]
        for j, h in enumerate(hyp, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (r != h)))
        previous = current
    return previous[-1] / len(ref)
