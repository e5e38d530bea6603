"""Word error rate and word-level diff between a reference text and a transcript.

Both sides are normalised the way Whisper's evaluations do (``whisper_normalizer``'s
English normaliser: case, punctuation, spelled-out numbers to digits, British to
American spelling, "Mr." to "mister", contractions), plus one step of ours: ordinal
suffixes on digits go ("March 12th" and "March 12" are the same date, and a voice reads
both alike). The alignment itself is jiwer's.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Literal

import jiwer

__all__ = ["WordDiff", "literal_words", "normalise", "normalise_words", "word_diff", "word_error_rate"]

_ORDINAL = re.compile(r"\b(\d+)(?:st|nd|rd|th)\b")

Op = Literal["equal", "substitute", "delete", "insert"]


@functools.cache
def _normaliser():
    from whisper_normalizer.english import EnglishTextNormalizer

    return EnglishTextNormalizer()


def normalise(text: str) -> str:
    """The text as it is scored: Whisper's English normalisation, ordinals as plain numbers
    (and no token without a letter or digit: the normaliser leaves "..." as ".")."""
    words = _ORDINAL.sub(r"\1", _normaliser()(text or "")).split()
    return " ".join(w for w in words if any(ch.isalnum() for ch in w))


def normalise_words(text: str) -> list[str]:
    return normalise(text).split()


@functools.cache
def _literal():
    return jiwer.Compose([jiwer.ToLowerCase(), jiwer.RemovePunctuation(), jiwer.RemoveMultipleSpaces(), jiwer.Strip()])


def literal_words(text: str) -> list[str]:
    """The words as written: case and punctuation aside, nothing expanded or spelled out, so
    "I'm" against "I am" and "9" against "nine" count as rewording (a reading check)."""
    return str(_literal()(text or "")).split()


@dataclass(frozen=True)
class WordDiff:
    #: (operation, reference words, transcript words) in order
    chunks: tuple[tuple[Op, tuple[str, ...], tuple[str, ...]], ...]
    substitutions: int
    deletions: int
    insertions: int
    reference_words: int

    @property
    def wer(self) -> float:
        """Errors over reference words; 0 for two empty texts, 1 for words against nothing."""
        errors = self.substitutions + self.deletions + self.insertions
        if not self.reference_words:
            return 0.0 if not errors else 1.0
        return errors / self.reference_words


def word_diff(reference: str, hypothesis: str, *, literal: bool = False) -> WordDiff:
    """The alignment after :func:`normalise` (how transcripts are scored), or after
    :func:`literal_words` with ``literal`` (whether a text was read as written)."""
    words = literal_words if literal else normalise_words
    ref, hyp = words(reference), words(hypothesis)
    if not ref or not hyp:
        chunks: tuple = ()
        if ref:
            chunks = (("delete", tuple(ref), ()),)
        elif hyp:
            chunks = (("insert", (), tuple(hyp)),)
        return WordDiff(chunks, 0, len(ref), 0 if ref else len(hyp), len(ref))
    out = jiwer.process_words(" ".join(ref), " ".join(hyp))
    chunks = tuple(
        (c.type, tuple(ref[c.ref_start_idx : c.ref_end_idx]), tuple(hyp[c.hyp_start_idx : c.hyp_end_idx]))
        for c in out.alignments[0]
    )
    return WordDiff(chunks, out.substitutions, out.deletions, out.insertions, len(ref))


def word_error_rate(reference: str, hypothesis: str) -> float:
    """(substitutions + deletions + insertions) / reference words, after :func:`normalise`.

    It can exceed 1.0 when the transcript has many extra words.
    """
    return word_diff(reference, hypothesis).wer
