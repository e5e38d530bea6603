"""The Studio's two workflows, handlers called directly against the real embedded backend:
Realtime (the default) and the speech endpoint, their voices, formats and speed ranges,
a realtime run heard, measured, checked against the script and kept in the history."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from playground.core import audio, workflows
from playground.core.catalog import get_catalog
from playground.ui import history as history_tab
from playground.ui import share, studio
from tests.support.streaming import heard

pytestmark = pytest.mark.models

TEXT = "Today is a wonderful day to build something people love."


def play(ctx, *settings):
    """Play then collect, as the page does: (pcm the page heard, metrics, download, figure, token)."""
    token, note = studio.start_speech(*settings, "")
    assert token, note
    pcm = heard(ctx.streams, token)
    metrics, download, figure = studio.finish_speech(token, None)
    return pcm, metrics, download, figure, token


def test_realtime_is_the_default_and_each_workflow_has_its_own_choices(ctx):
    assert workflows.DEFAULT == "realtime"
    model, fmt, voices, speed, speed_note, note = studio.workflow_changed("realtime", "fable", "tts-1", "mp3", 2.0)
    realtime = get_catalog().realtime
    assert next(m for _, m in model["choices"]) == model["value"] == realtime.default_model
    assert all(m in get_catalog().realtime_models for _, m in model["choices"])
    assert [f for _, f in fmt["choices"]] == list(realtime.audio_formats) and fmt["value"] == "audio/pcm"
    only = {v for label, v in voices["choices"] if "endpoint only" in label}
    assert only == {"fable", "nova", "onyx"}  # the grid shows which voices each workflow has
    assert speed == 1.5 and "0.25–1.5" in speed_note and "**1.5**" in speed_note  # clamped with a note
    assert "fable" in note and "marin" in note  # the voice is kept, and Play's refusal is announced
    model, fmt, voices, speed, speed_note, note = studio.workflow_changed("speech", "fable", model["value"], "x", 2.0)
    assert model["value"] == get_catalog().speech_defaults["model"] and fmt["value"] == "mp3"
    assert not any("endpoint only" in label for label, _ in voices["choices"])
    assert (speed, speed_note, note) == (2.0, "", "")


def test_a_realtime_run_streams_to_the_player_and_is_measured_and_checked(ctx):
    settings = (TEXT, "marin", "gpt-realtime-2.1-mini", "In a cheerful tone.", 1.0, "audio/pcm", "realtime")
    py, js, curl, *_ = studio.update_code(*settings)
    assert "client.realtime.connect" in py and "Fix before running" not in py
    assert "realtime" in js.lower() and "client_secrets" in curl
    pcm, metrics, download, figure, _token = play(ctx, *settings)
    path = Path(download["value"])
    sound = audio.decode(path.read_bytes())
    assert path.suffix == ".wav" and sound.sample_rate == 24_000
    # the page heard exactly the file's samples, and it is a plausible reading of one sentence
    assert abs(len(pcm) / 2 / 24_000 - sound.duration) < 0.05 and 2.0 < sound.duration < 9.0
    assert "First audio heard" in metrics and "server first audio" in metrics and "connect" in metrics
    assert "audio tokens" in metrics and "/min" in metrics and figure is not None
    assert "Read as written" in metrics  # the transcript came back equal to the script
    run = ctx.history.list(kind="speech")[0]
    assert run.workflow == "realtime" and run.spec["kind"] == "realtime_speech" and run.spec["input"] == TEXT
    assert "server_first_audio_ms" in run.timings and run.cost and run.cost > 0
    summary, played, _trace, code = history_tab.run_details(run.id)
    assert "Realtime API" in summary and played and "client.realtime.connect" in code
    assert history_tab._row(run)[1] == "speech · realtime"
    # reopening the run restores the workflow with its settings
    tab, values = share._from_run(run)
    assert tab == "studio" and values["workflow"] == "realtime" and values["format"] == "audio/pcm"


def test_a_telephony_format_plays_at_the_page_rate_and_downloads_at_8_khz(ctx):
    settings = ("Hello from the phone line.", "coral", "gpt-realtime-2.1-mini", "", 1.0, "audio/pcmu", "realtime")
    pcm, _metrics, download, _figure, _token = play(ctx, *settings)
    sound = audio.decode(Path(download["value"]).read_bytes())
    assert sound.sample_rate == 8_000 and sound.duration > 0.5
    assert abs(len(pcm) / 2 / 24_000 - sound.duration) < 0.05  # resampled for the page, same length


def test_the_realtime_workflow_refuses_what_it_cannot_take_in_words(ctx):
    base = ["Hi.", "marin", "gpt-realtime-2.1-mini", "", 1.0, "audio/pcm", "realtime"]
    token, note = studio.start_speech(*[*base[:1], "fable", *base[2:]], "")
    assert token == "" and "not a Realtime voice" in note and "marin" in note
    token, note = studio.start_speech("", *base[1:], "")
    assert token == "" and "must not be empty" in note
    limit = get_catalog().limits.speech_input_max_chars
    token, note = studio.start_speech("x" * (limit + 1), *base[1:], "")
    assert token == "" and str(limit) in note
    # a speed beyond the Realtime range is clamped (the note comes from the speed box)
    token, note = studio.start_speech(*[*base[:4], 3.0, *base[5:]], "")
    assert token and ctx.streams.get(token).spec.speed == 1.5
    ctx.streams.get(token).wait()
    py, *_ = studio.update_code(*[*base[:4], 3.0, *base[5:]])
    assert '"speed": 1.5' in py or "'speed': 1.5" in py


def test_the_same_text_through_both_workflows(ctx):
    """The speech endpoint stays one click away, with its own voices and formats."""
    _, metrics, download, _figure, _ = play(ctx, "Hello there.", "fable", "gpt-4o-mini-tts", "", 2.0, "mp3", "speech")
    assert Path(download["value"]).suffix == ".mp3" and "server first byte" in metrics
    assert "Read as written" not in metrics  # the endpoint returns no transcript to check
    run = ctx.history.list(kind="speech")[0]
    assert run.workflow == "speech" and run.spec["speed"] == 2.0


def test_a_reworded_reading_is_shown_as_a_word_diff():
    view = studio.transcript_check("I am here at nine.", "I'm here at nine.")
    assert view.startswith("⚠️ **Reworded**") and "WER" in view and "pg-diff" in view
    assert studio.transcript_check("Hello there.", "hello there").startswith("✓")
    assert "could not be checked" in studio.transcript_check("Hello.", "")


def test_a_share_link_carries_the_workflow(ctx):
    values = (TEXT, "ash", "gpt-realtime-2.1-mini", "", 1.25, "audio/pcm", "realtime")
    query = share.share_query("studio", *values)
    filled = share.apply_shared(
        *("x", "coral", "tts-1", "", 1.0, "mp3", "speech"),
        request=SimpleNamespace(query_params={"share": query.removeprefix("?share=")}),
    )
    assert filled[7] == "realtime" and filled[3]["value"] == "gpt-realtime-2.1-mini"
