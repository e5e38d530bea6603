"""The growing text of a live transcription turn: what each agreement policy sends, and when."""

from __future__ import annotations

import pytest

from playground.backend.realtime import config as cfg
from playground.backend.realtime.live import LiveText

#: successive interim decodes of one turn, as Whisper revises the end of what it has heard
DECODES = [
    "And so my",
    "And so my fellow",
    "And so my fellow Americans ask",
    "And so my fellow Americans, ask not what",
    "And so my fellow Americans, ask not what your country",
]


def _run(agree: int) -> list[tuple[int, str]]:
    live = LiveText("item_1", agree=agree)
    return [(i, d) for i, text in enumerate(DECODES) if (d := live.interim(text)) is not None]


def test_one_decode_sends_all_but_its_last_word_at_once():
    sent = _run(1)
    assert sent[0] == (0, "And so")
    assert [i for i, _ in sent] == [0, 1, 2, 3, 4]
    # "Americans" went out before a later decode added its comma: a word, once sent, stays
    assert "".join(d for _, d in sent) == "And so my fellow Americans ask not what your"


def test_more_agreement_sends_later_and_never_takes_a_word_back():
    first = {agree: _run(agree)[0][0] for agree in (1, 2, 3)}
    assert first[1] < first[2] < first[3]
    for agree in (1, 2, 3):
        live = LiveText("item_1", agree=agree)
        sent: list[str] = []
        for text in DECODES:
            delta = live.interim(text)
            if delta:
                sent += delta.split()
        assert sent == live.sent  # the deltas add up to what was sent
        tail, final = live.final("And so my fellow Americans, ask not what your country can do for you.")
        assert final.startswith(" ".join(sent)) and final.endswith("for you.")
        assert (tail or "").split() == final.split()[len(sent) :]  # the last delta is the rest


def test_two_decodes_agree_on_their_common_start():
    # two decodes agree on a word whatever its case and punctuation
    assert _run(2) == [(1, "And so my"), (2, " fellow"), (3, " Americans, ask"), (4, " not what")]


@pytest.mark.parametrize(("delay", "agree"), [("minimal", 1), ("low", 2), ("medium", 2), ("high", 3), ("xhigh", 3)])
def test_the_delay_picks_the_agreement_policy(delay, agree):
    assert cfg.agreement({"model": "gpt-realtime-whisper", "delay": delay}) == agree


def test_without_a_delay_two_decodes_must_agree():
    assert cfg.agreement({"model": "gpt-live-transcribe"}) == 2
    assert cfg.agreement(None) == 2


@pytest.mark.parametrize(
    ("interims", "final", "transcript"),
    [
        # an interim decode cut "your country" short and heard "you are": the final decode's
        # words after the point they stand for are kept, not those after its next "you"
        (
            ["And so my fellow Americans ask not what you are c"],
            "And so my fellow Americans, ask not what your country can do for you, ask what you can do for "
            "your country.",
            "And so my fellow Americans ask not what you are your country can do for you, ask what you can do for "
            "your country.",
        ),
        # the last sent words were misheard ("fell on"): the final decode's "fellow America." is kept
        (["And so am I fell on a"], "And so am I fellow America.", "And so am I fell on fellow America."),
        # a word the final decode adds inside the sent ones is not sent again after them
        (["And so my fellow Ameri"], "And so, my dear fellow Americans.", "And so my fellow Americans."),
        # a final decode that heard less than was sent adds nothing
        (["And so my fellow Americans ask"], "And so my fellow", "And so my fellow Americans"),
    ],
    ids=["misheard-tail", "misheard-last-words", "word-added-inside", "final-shorter"],
)
def test_the_final_decode_never_loses_a_word_the_interim_ones_did_not_cover(interims, final, transcript):
    live = LiveText("item_1", agree=1)
    for text in interims:
        live.interim(text)
    sent = list(live.sent)
    tail, completed = live.final(final)
    assert completed == transcript
    assert completed.split()[: len(sent)] == sent  # nothing sent is taken back
    assert (tail or "").split() == completed.split()[len(sent) :]
