"""Word normalisation and word error rate, cross-checked against jiwer."""

from __future__ import annotations

import jiwer
import pytest

from playground.core.textmetrics import normalise_words, word_error_rate


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Hello, World!", ["hello", "world"]),
        ("Don't stop — it's well-known.", ["don't", "stop", "it's", "well", "known"]),
        ("'Quoted' words' end", ["quoted", "words", "end"]),
        ("It\u2019s  six-thirty\n\tnow...", ["it's", "six", "thirty", "now"]),
        ("gate 22, not 14!", ["gate", "22", "not", "14"]),
        ("Ça va? Très bien.", ["ça", "va", "très", "bien"]),
        ("snake_case -- and --- dashes", ["snakecase", "and", "dashes"]),
        ("  ", []),
        ("?!", []),
    ],
)
def test_normalise_words(text: str, words: list[str]) -> None:
    assert normalise_words(text) == words


def test_wer_basics() -> None:
    assert word_error_rate("the cat sat", "the cat sat") == 0.0
    assert word_error_rate("The cat, sat!", "the CAT sat") == 0.0
    assert word_error_rate("the cat sat", "the dog sat") == pytest.approx(1 / 3)
    assert word_error_rate("the cat sat", "the sat") == pytest.approx(1 / 3)
    assert word_error_rate("the cat sat", "the cat sat down") == pytest.approx(1 / 3)
    assert word_error_rate("the cat sat", "") == 1.0
    assert word_error_rate("a b", "c d e f g") == pytest.approx(5 / 2)  # insertions can exceed 1


def test_wer_empty_reference() -> None:
    assert word_error_rate("", "") == 0.0
    assert word_error_rate("...", "  ") == 0.0
    assert word_error_rate("", "hello") == 1.0


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
    ref, hyp = " ".join(normalise_words(reference)), " ".join(normalise_words(hypothesis))
    assert word_error_rate(reference, hypothesis) == pytest.approx(jiwer.wer(ref, hyp))
