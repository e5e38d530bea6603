"""Model lifecycle in the app: pickers, history, the provider's model list, the about panel.

The clock is fixed with ``PLAYGROUND_TODAY``; tests about real retirement also unset
``PLAYGROUND_SERVE_RETIRED`` (the suite sets it so retired names stay answered).
"""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from playground.core.catalog import get_catalog
from playground.serving import BackgroundServer
from playground.ui import app as shell
from playground.ui import compare_stt, history, settings, transcribe, voicechat
from playground.ui.widgets import model_choices


@pytest.fixture
def december_2026(monkeypatch):
    monkeypatch.setenv("PLAYGROUND_TODAY", "2026-12-07")
    monkeypatch.delenv("PLAYGROUND_SERVE_RETIRED", raising=False)


@pytest.fixture
def march_2027(monkeypatch):
    monkeypatch.setenv("PLAYGROUND_TODAY", "2027-03-01")
    monkeypatch.delenv("PLAYGROUND_SERVE_RETIRED", raising=False)


# ------------------------------------------------------------------------ pickers


def test_pickers_label_deprecated_models_and_leave_out_retired_and_hidden_ones(december_2026):
    cat = get_catalog()
    choices, value = model_choices(cat.chat_models, cat.chat.default_model)
    labels = dict((mid, label) for label, mid in choices)
    assert value == "gpt-5.4-mini" and labels["gpt-5.4-mini"] == "gpt-5.4-mini"
    assert labels["gpt-4o-mini"] == "gpt-4o-mini — shuts down 2027-01-14, in 38 days → gpt-5.4-mini"
    assert "gpt-4.1-nano" not in labels  # retired on 2026-10-23
    realtime = dict((mid, label) for label, mid in model_choices(cat.realtime_models)[0])
    assert "gpt-4o-realtime-preview" not in realtime  # offer: false
    assert realtime["gpt-realtime"].startswith("gpt-realtime — shuts down 2027-01-20")
    audio = [mid for _, mid in model_choices(cat.chat_audio_models)[0]]
    assert audio[0] == "gpt-audio-1.5" and "gpt-4o-audio-preview" not in audio  # ids, not labels


def test_after_the_shutdowns_only_current_models_are_offered(march_2027):
    cat = get_catalog()
    files = [mid for _, mid in model_choices(cat.file_transcription_models)[0]]
    assert files == ["gpt-transcribe"]
    assert compare_stt.default_models() == ["gpt-transcribe"] * compare_stt.MAX_COLUMNS
    # a default no longer offered gives way to the first offered model
    assert model_choices(cat.realtime_models, "gpt-realtime")[1] == "gpt-realtime-2.1-mini"
    # every speech model is retired: the picker keeps them all rather than being empty
    speech = model_choices(cat.speech_models, "gpt-4o-mini-tts")
    assert speech[1] == "gpt-4o-mini-tts" and "shut down 2027-01-06" in speech[0][0][0]


def test_file_transcription_pickers_list_only_file_models(december_2026):
    cat = get_catalog()
    defaults = compare_stt.default_models()
    assert defaults[0] == cat.transcription_default_model
    assert set(defaults) <= set(cat.file_transcription_models)
    assert "gpt-live-transcribe" not in defaults and "gpt-realtime-whisper" not in defaults


# ----------------------------------------------------------- 2026 fields in the UI


def test_transcribe_shows_keywords_and_languages_only_for_models_that_take_them(offline_ctx, tmp_path):
    keywords, languages = transcribe.hint_options("gpt-transcribe", "transcribe")
    assert keywords["visible"] is True and languages["visible"] is True
    keywords, languages = transcribe.hint_options("whisper-1", "transcribe")
    assert keywords["visible"] is False and languages["visible"] is False
    path = str(tmp_path / "call.m4a")
    py, js, curl = transcribe.transcription_code(
        path, "transcribe", "gpt-transcribe", "", "", None, "json", [], False, False, "Acme, Zyx", ["en", "de"]
    )
    assert 'keywords=["Acme", "Zyx"]' in py and 'languages=["en", "de"]' in py
    assert "keywords: [" in js and "'keywords[]=Acme'" in curl and "'languages[]=de'" in curl
    # a model that takes none: the boxes' values are not sent
    py, *_ = transcribe.transcription_code(
        path, "transcribe", "whisper-1", "", "", None, "json", [], False, False, "Acme", ["en"]
    )
    assert "keywords" not in py and "languages" not in py


def test_live_transcription_delay_only_for_the_model_that_takes_it(offline_ctx):
    args = ("en", "", "", "server_vad", 0.5, 500, 300, "auto")
    spec = transcribe.live_spec("gpt-realtime-whisper", *args, "high")
    assert spec.to_session()["audio"]["input"]["transcription"]["delay"] == "high"
    assert (
        "delay"
        not in transcribe.live_spec("gpt-live-transcribe", *args, "high").to_session()["audio"]["input"][
            "transcription"
        ]
    )
    py, js = transcribe.live_code("gpt-realtime-whisper", *args, "minimal")
    assert '"delay": "minimal"' in py and 'delay: "minimal"' in js


def _voice_values(**over):
    values = dict(
        model="gpt-realtime-2.1-mini", voice="marin", instructions="", speed=1.0, turn="server_vad", threshold=0.5,
        silence_ms=500, prefix_ms=300, eagerness="auto", transcription="gpt-live-transcribe", noise="near_field",
        output="audio", interrupt=True, demo=[], custom="", mcp_url="", mcp_label="",
        effort="high", parallel="off", noise_strength=0.4, truncation="retention_ratio", retention=0.6,
    )  # fmt: skip
    values.update(over)
    return list(values.values())


def test_voice_chat_settings_reach_the_session(offline_ctx):
    spec, _ = voicechat.session_spec(*_voice_values())
    session = spec.to_session()
    assert session["reasoning"] == {"effort": "high"} and session["parallel_tool_calls"] is False
    assert session["truncation"] == {"type": "retention_ratio", "retention_ratio": 0.6}
    assert session["audio"]["input"]["noise_reduction"] == {"type": "near_field", "strength": 0.4}
    # a model without reasoning: effort and parallel tool calls are not sent (the panel hides them)
    plain, _ = voicechat.session_spec(*_voice_values(model="gpt-realtime-1.5", noise_strength=1.0, truncation=""))
    session = plain.to_session()
    assert "reasoning" not in session and "parallel_tool_calls" not in session and "truncation" not in session
    assert session["audio"]["input"]["noise_reduction"] == {"type": "near_field"}  # 1.0: the API's default
    effort, parallel = voicechat.reasoning_options("gpt-realtime-1.5")
    assert effort["visible"] is False and parallel["visible"] is False
    assert voicechat.reasoning_options("gpt-realtime-2.1")[0]["visible"] is True


def test_voice_chat_code_warns_about_a_deprecated_chained_chat_model(offline_ctx, december_2026):
    values = _voice_values()
    code = voicechat.realtime_code("Chained pipeline (STT → chat → TTS)", "gpt-4o-mini", *values)
    assert code.startswith("# gpt-4o-mini shuts down on 2027-01-14; move to gpt-5.4-mini.\n")
    assert not voicechat.realtime_code("Speech to speech", "gpt-4o-mini", *values).startswith("#")


# ------------------------------------------------------------------------ history


def test_history_marks_runs_of_deprecated_and_retired_models_at_display_time(offline_ctx, monkeypatch):
    store = offline_ctx.history
    old = store.add("speech", {"input": "hi", "model": "tts-1"}, model="tts-1", voice="alloy")
    new = store.add("transcription", {"file": "a.wav", "model": "gpt-transcribe"}, model="gpt-transcribe")
    monkeypatch.setenv("PLAYGROUND_TODAY", "2026-12-07")
    rows = {r[-1]: r for r in history.list_runs("", "", "", "")[0]["value"]}
    assert rows[old.id][2] == "tts-1 ⚠ shuts down 2027-01-06" and rows[new.id][2] == "gpt-transcribe"
    assert old.lifecycle_status() == "deprecated" and new.lifecycle_status() == "current"
    summary, *_ = history.run_details(old.id)
    assert "shuts down 2027-01-06, in 30 days → gpt-realtime-2.1-mini" in summary
    monkeypatch.setenv("PLAYGROUND_TODAY", "2027-02-01")  # nothing stored changes; the note follows the clock
    rows = {r[-1]: r for r in history.list_runs("", "", "", "")[0]["value"]}
    assert rows[old.id][2] == "tts-1 ⛔ shut down 2027-01-06" and store.get(old.id).model == "tts-1"
    assert history.list_runs("", "tts-1", "", "")[0]["value"][0][-1] == old.id  # the filter uses the plain id


# -------------------------------------------------------- the provider's model list


def _models_server() -> FastAPI:
    app = FastAPI()

    @app.get("/v1/models")
    async def models() -> dict:
        rows = [
            {"id": "gpt-5.4", "created": 1, "object": "model", "owned_by": "x"},
            {"id": "tts-1", "created": 1, "object": "model", "owned_by": "x", "shutdown_date": "2027-01-06"},
            {"id": "gpt-4o-mini-transcribe", "created": 1, "object": "model", "owned_by": "x"},  # catalog date
            {"id": "gpt-transcribe", "created": 1, "object": "model", "owned_by": "x"},
            {"id": "gpt-4.1-nano", "created": 1, "object": "model", "owned_by": "x", "shutdown_date": "2026-10-23"},
            {"id": "my-realtime-x", "created": 1, "object": "model", "owned_by": "x", "shutdown_date": "2026-12-31"},
        ]
        return {"object": "list", "data": rows}

    return app


def test_test_connection_lists_audio_models_first_with_their_shutdown_dates(offline_ctx, december_2026):
    with BackgroundServer(_models_server()) as url:
        status = settings.test_connection("compatible", "", url + "/v1")
    assert status.startswith("✅") and "6 models (4 audio; 3 deprecated, 1 retired)" in status
    lines = [line for line in status.splitlines() if line.startswith("- ")]
    order = [line.split("`")[1] for line in lines]
    assert order == ["gpt-4o-mini-transcribe", "gpt-transcribe", "my-realtime-x", "tts-1", "gpt-4.1-nano", "gpt-5.4"]
    shown = dict(zip(order, lines, strict=True))
    assert "⚠ deprecated: shuts down 2027-01-06, in 30 days → gpt-realtime-2.1-mini" in shown["tts-1"]
    assert "(catalog date)" not in shown["tts-1"]  # the provider said so
    assert "shuts down 2027-02-26" in shown["gpt-4o-mini-transcribe"]
    assert "(catalog date)" in shown["gpt-4o-mini-transcribe"]  # the provider gave none
    assert "⛔ retired: shut down 2026-10-23" in shown["gpt-4.1-nano"]
    assert "shuts down 2026-12-31, in 24 days" in shown["my-realtime-x"]  # a provider date for an unknown name
    assert shown["gpt-transcribe"] == "- `gpt-transcribe`" and shown["gpt-5.4"] == "- `gpt-5.4`"


def test_test_connection_on_the_embedded_backend(ctx, backend_url, december_2026):
    status = settings.test_connection("compatible", "", backend_url + "/v1")
    assert status.startswith("✅")
    lines = {line.split("`")[1]: line for line in status.splitlines() if line.startswith("- ")}
    assert "gpt-4o-mini-tts" in lines and "whisper-1" in lines
    # the backend's own shutdown_date or, where it gives none, the catalog's: the same date either way
    assert "shuts down 2027-01-06" in lines["gpt-4o-mini-tts"]
    assert "shuts down 2027-02-26" in lines["whisper-1"]
    first_chat = next((i for i, mid in enumerate(lines) if mid in get_catalog().chat_models), len(lines))
    audio = [i for i, mid in enumerate(lines) if mid in ("gpt-4o-mini-tts", "whisper-1", "gpt-transcribe")]
    assert all(i < first_chat for i in audio)  # audio models first


# ------------------------------------------------------------------- about panel


def test_the_model_summary_flags_deprecated_models(offline_ctx, december_2026):
    text = shell._models_summary()
    assert "**Realtime models:** gpt-realtime-2.1-mini, " in text
    assert "gpt-realtime (shuts down 2027-01-20, in 44 days → gpt-realtime-2.1)" in text
    assert "gpt-4o-realtime-preview" not in text and "gpt-4.1-nano" not in text
    assert "**Transcription models:** gpt-transcribe, whisper-1 (" in text
    assert "**Live transcription models:** gpt-live-transcribe, gpt-realtime-whisper, gpt-transcribe" in text
