"""Normalisation (Whisper's English normaliser, ordinals as numbers), word error rate and
the word diff, cross-checked against jiwer on the normalised text."""

from __future__ import annotations

import jiwer
import pytest

from playground.core.textmetrics import normalise, normalise_words, word_diff, word_error_rate


@pytest.mark.parametrize(
    ("reference", "heard"),
    [
        ("On March 12 we fly.", "On March 12th, we fly"),  # the ordinal a voice adds costs nothing
        ("Gate twenty-two", "gate 22"),
        ("The colour of the harbour", "the color of the harbor"),
        ("Mr. Smith is here", "Mister Smith is here."),
        ("It's well-known", "it is well known"),
        ("Hello, World!", "hello world"),
    ],
)
def test_what_whisper_normalises_is_not_an_error(reference: str, heard: str) -> None:
    assert word_error_rate(reference, heard) == 0.0, (normalise(reference), normalise(heard))


def test_normalise_words() -> None:
    assert normalise_words("  ") == [] and normalise_words("?!") == []
    assert normalise_words("The 3rd time, at 4:30!") == ["the", "3", "time", "at", "4", "30"]


def test_wer_basics() -> None:
    assert word_error_rate("the cat sat", "the cat sat") == 0.0
    assert word_error_rate("the cat sat", "the dog sat") == pytest.approx(1 / 3)
    assert word_error_rate("the cat sat", "the sat") == pytest.approx(1 / 3)
    assert word_error_rate("the cat sat", "the cat sat down") == pytest.approx(1 / 3)
    assert word_error_rate("the cat sat", "") == 1.0
    assert word_error_rate("a b", "c d e f g") == pytest.approx(5 / 2)  # insertions can exceed 1


def test_wer_empty_reference() -> None:
    assert word_error_rate("", "") == 0.0
    assert word_error_rate("...", "  ") == 0.0
    assert word_error_rate("", "hello") == 1.0


def test_the_diff_says_which_words_changed() -> None:
    diff = word_diff("the black cat sat on the mat", "the cat sat in the mat today")
    assert (diff.substitutions, diff.deletions, diff.insertions) == (1, 1, 1)
    ops = [(op, " ".join(r), " ".join(h)) for op, r, h in diff.chunks]
    assert ("delete", "black", "") in ops and ("substitute", "on", "in") in ops and ("insert", "", "today") in ops
    # equal chunks rebuild both texts
    assert " ".join(" ".join(r) for _, r, _ in diff.chunks if r) == normalise("the black cat sat on the mat")
    assert word_diff("", "hello").chunks == (("insert", (), ("hello",)),)
    assert word_diff("hello", "").chunks == (("delete", ("hello",), ()),)


PAIRS = [
    ("the quick brown fox jumps over the lazy dog", "the quick brown fox jumped over a lazy dog"),
    ("boarding will now take place from gate twenty-two", "boarding will take place from gate twenty two please"),
    ("I'm sorry the sync stopped working", "im sorry this sink stopped working at all"),
    ("one two three four five", "five four three two one"),
    ("hello", "hello hello hello"),
    ("please have your ticket and identification ready", "have ticket identification"),
    ("a b c d e f g h", "x a b c y e f h z"),
    ("Attention, please. This is a boarding update.", "attention please this is the boarding update"),
]


@pytest.mark.parametrize(("reference", "hypothesis"), PAIRS)
def test_wer_matches_jiwer(reference: str, hypothesis: str) -> None:
    assert word_error_rate(reference, hypothesis) == pytest.approx(
        jiwer.wer(normalise(reference), normalise(hypothesis))
    )
