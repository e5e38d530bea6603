"""Instructions -> prosody cues, and text -> speakable chunks (pure logic, no models)."""

from __future__ import annotations

import pytest

from playground.backend.style import PAUSE_MAX_MS, Prosody, parse_instructions
from playground.backend.text import split_for_speech, split_sentences
from playground.core.catalog import get_catalog
from playground.core.vibes import builtin_vibes_dir, load_vibes


def test_neutral_text_changes_nothing():
    assert parse_instructions("") == Prosody()
    assert parse_instructions("Sound like a friendly pirate.").describe() == "none"


@pytest.mark.parametrize(
    ("text", "field", "direction"),
    [
        ("Speak slowly.", "rate", -1),
        ("Talk fast, keep it brisk.", "rate", +1),
        ("A deep, gravelly voice.", "pitch", -1),
        ("High-pitched and squeaky.", "pitch", +1),
        ("Whisper everything.", "gain_db", -1),
        ("Loud and booming!", "gain_db", +1),
        ("Dramatic pauses between lines.", "pause_ms", +1),
    ],
)
def test_cues_move_the_right_setting(text, field, direction):
    value = getattr(parse_instructions(text), field)
    neutral = getattr(Prosody(), field)
    assert (value - neutral) * direction > 0, (text, value)


def test_negated_cues_are_ignored():
    assert parse_instructions("Not too fast, and never whisper.").describe() == "none"
    assert parse_instructions("Don't be slow.").rate == 1.0


def test_section_labels_are_not_cues_and_short_pauses_add_none():
    text = "Tone: even.\n\nPauses: Short, clean pauses between facts, a brief pause at the end."
    assert parse_instructions(text).pause_ms == 0
    assert parse_instructions("Pauses: long dramatic pauses.").pause_ms > 0


def test_settings_are_clamped_and_reported():
    p = parse_instructions(
        "very slow slow slowly unhurried leisurely deep gravelly baritone whisper hushed "
        "dramatic pause deliberate take your time"
    )
    assert p.rate >= 0.7 and p.pitch >= -4 and p.gain_db >= -12 and p.pause_ms <= PAUSE_MAX_MS
    described = p.describe()
    assert described.startswith("pace=") and "(from: very slow" in described


def test_every_builtin_vibe_parses():
    for vibe in load_vibes(builtin_vibes_dir(), voices=get_catalog().voice_ids):
        p = parse_instructions(vibe.instructions_text)
        assert 0.7 <= p.rate <= 1.4 and p.pause_ms <= PAUSE_MAX_MS


def test_chunks_keep_every_word_in_order():
    text = (
        "Welcome to the playground, where every voice you hear is made right here on this laptop. "
        "Try a vibe! Or two?\n\nA new paragraph without an ending"
    )
    chunks = split_for_speech(text)
    assert " ".join(chunks).split() == text.split()
    assert chunks[0] == "Welcome to the playground,"  # a short first clause for fast first audio
    assert chunks[-1] == "A new paragraph without an ending"


def test_long_sentences_are_cut_under_the_limit():
    sentence = " ".join(["word"] * 200) + "."
    chunks = split_for_speech(sentence, max_chars=120)
    assert all(len(c) <= 120 for c in chunks) and " ".join(chunks).split() == sentence.split()


def test_empty_and_whitespace_text():
    assert split_for_speech("") == [] and split_for_speech("   \n ") == []


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        ("Dr. Smith met Mr. Jones at 3 p.m. They talked.", ["Dr. Smith met Mr. Jones at 3 p.m.", "They talked."]),
        ("Pi is roughly 3.14 today. It was 2.5 yesterday.", ["Pi is roughly 3.14 today.", "It was 2.5 yesterday."]),
        ("J. K. Rowling wrote it. E. B. White too.", ["J. K. Rowling wrote it.", "E. B. White too."]),
        ('"Stop!" she said. "Why?" He left.', ['"Stop!" she said.', '"Why?"', "He left."]),
        ("See e.g. the U.S. rules. Then rest.", ["See e.g. the U.S. rules.", "Then rest."]),
    ],
)
def test_sentences_respect_abbreviations_decimals_initials_and_quotes(text, sentences):
    assert split_sentences(text) == sentences
    assert " ".join(split_for_speech(text)).split() == text.split()
