"""Model lifecycle from the catalog's dates and an injected clock: statuses, notes, pickers, defaults."""

from __future__ import annotations

import datetime as dt

import pytest

from playground.core import lifecycle as lc
from playground.core.catalog import get_catalog

DEC_7 = dt.date(2026, 12, 7)
AFTER_ALL = dt.date(2027, 3, 1)  # past every date the SDK announces for the audio surfaces


@pytest.mark.parametrize(
    ("model", "on", "status"),
    [
        ("gpt-realtime", DEC_7, "deprecated"),
        ("gpt-realtime", dt.date(2027, 1, 19), "deprecated"),
        ("gpt-realtime", dt.date(2027, 1, 20), "retired"),  # gone on the shutdown day itself
        ("gpt-realtime-2025-08-28", DEC_7, "deprecated"),  # a snapshot shares its model's date
        ("gpt-realtime-mini-2025-10-06", AFTER_ALL, "current"),  # ... unless it has its own (none, per SDK)
        ("gpt-4o-audio-preview-2024-10-01", dt.date(2025, 10, 10), "retired"),  # its own, earlier date
        ("gpt-4o-audio-preview", DEC_7, "retired"),
        ("gpt-4o-mini-tts", DEC_7, "deprecated"),
        ("gpt-4o-mini-tts", AFTER_ALL, "retired"),
        ("whisper-1", AFTER_ALL, "retired"),
        ("gpt-realtime-2.1-mini", AFTER_ALL, "current"),
        ("gpt-transcribe", AFTER_ALL, "current"),
    ],
)
def test_status_follows_the_date_and_the_clock(model, on, status):
    life = lc.lifecycle(model, on=on)
    assert life is not None and life.status == status


def test_unknown_names_have_no_lifecycle():
    assert lc.lifecycle("my-fine-tune") is None
    assert lc.describe("my-fine-tune") == "" and lc.code_warning("my-fine-tune") == ""


def test_notes_say_when_and_what_instead():
    assert lc.describe("gpt-realtime", on=DEC_7) == "shuts down 2027-01-20, in 44 days → gpt-realtime-2.1"
    assert lc.describe("gpt-realtime", on=dt.date(2027, 1, 19)) == "shuts down 2027-01-20, tomorrow → gpt-realtime-2.1"
    assert lc.describe("gpt-4o-audio-preview", on=DEC_7) == "shut down 2026-05-07 → gpt-audio-1.5"
    assert lc.describe("gpt-realtime-2.1", on=DEC_7) == ""
    assert lc.code_warning("gpt-4o-mini-tts", on=DEC_7) == (
        "gpt-4o-mini-tts shuts down on 2027-01-06; move to gpt-realtime-2.1-mini."
    )
    assert lc.code_warning("gpt-transcribe", on=DEC_7) == ""


def test_the_clock_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("PLAYGROUND_TODAY", "2027-03-01")
    assert lc.today() == AFTER_ALL
    assert lc.lifecycle("whisper-1").status == "retired"
    monkeypatch.setenv("PLAYGROUND_TODAY", "next tuesday")
    with pytest.raises(ValueError, match="PLAYGROUND_TODAY must be a date"):
        lc.today()
    monkeypatch.delenv("PLAYGROUND_TODAY")
    assert lc.today() == dt.datetime.now(dt.UTC).date()


def test_pickers_drop_retired_and_hidden_names(monkeypatch):
    monkeypatch.delenv("PLAYGROUND_SERVE_RETIRED", raising=False)
    cat = get_catalog()
    choices = dict((mid, label) for label, mid in lc.picker_choices(list(cat.chat_audio_models), on=DEC_7))
    assert "gpt-4o-audio-preview" not in choices and "gpt-4o-mini-audio-preview" not in choices
    assert choices["gpt-audio-1.5"] == "gpt-audio-1.5"
    assert choices["gpt-audio-mini"] == "gpt-audio-mini — shuts down 2027-01-20, in 44 days → gpt-audio-1.5"
    realtime = lc.offered(list(cat.realtime_models), on=DEC_7)
    assert "gpt-4o-realtime-preview" not in realtime  # offer: false
    assert realtime[0] == "gpt-realtime-2.1-mini"


def test_serve_retired_keeps_them_offered_and_a_picker_is_never_empty(monkeypatch):
    cat = get_catalog()
    monkeypatch.setenv("PLAYGROUND_SERVE_RETIRED", "1")
    assert "gpt-4o-audio-preview" in lc.offered(list(cat.chat_audio_models), on=DEC_7)
    monkeypatch.delenv("PLAYGROUND_SERVE_RETIRED")
    speech = list(cat.speech_models)
    assert lc.offered(speech, on=AFTER_ALL) == speech  # all retired: shown (with their notes) rather than nothing
    assert all("shut down 2027-01-06" in label for label, _ in lc.picker_choices(speech, on=AFTER_ALL))


def test_every_default_is_a_model_with_no_shutdown_date():
    """The defaults are current whatever the day, except the speech endpoint, all of which shuts down."""
    cat = get_catalog()
    defaults = {
        "realtime": cat.realtime.default_model,
        "live transcription": cat.realtime.default_transcription_model,
        "file transcription": cat.transcription_default_model,
        "round trip": cat.round_trip_model,
        "audio chat": cat.chat_audio.default_model,
        "chained chat": cat.chat.default_model,
        "local realtime hearing": cat.local.realtime.hearing,
        "local chat hearing": cat.local.hearing,
    }
    dated = {k: m for k, m in defaults.items() if lc.lifecycle(m, on=DEC_7).shutdown is not None}
    assert dated == {}
    speech = lc.lifecycle(cat.speech_defaults["model"], on=DEC_7)
    assert speech.shutdown == dt.date(2027, 1, 6) and speech.replacement == "gpt-realtime-2.1-mini"


def test_every_replacement_is_current():
    cat = get_catalog()
    for surface, table in cat.model_tables().items():
        for entry in table.values():
            if entry.replacement:
                life = lc.lifecycle(entry.replacement, on=AFTER_ALL)
                assert life.status == "current", f"{surface}.{entry.id} → {entry.replacement} is not current"
