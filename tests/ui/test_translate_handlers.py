"""The Translate tab's handlers and pure pieces, without a browser or a server."""

from __future__ import annotations

import base64
import io
import json
from types import SimpleNamespace

import numpy as np
import pytest
import soundfile as sf

from playground.client.providers import Provider
from playground.core.catalog import get_catalog
from playground.core.specs import RealtimeTranslationSpec
from playground.ui.translate import (
    LOCAL_NOTE,
    export_translation,
    file_info,
    language_view,
    translate_code,
    translate_connect,
    translation_spec,
)
from playground.ui.translate_export import cost_text, parse_session, pcm_wav, session_timings, transcripts_text

RATE = 24000
#: language, transcript on, its model, noise reduction, strength
DEFAULTS = ("en", True, "gpt-realtime-whisper", "", None)


def _request(session: str = "page-1") -> SimpleNamespace:
    return SimpleNamespace(session_hash=session)


def _payload(seconds: float = 0.5, **extra: object) -> str:
    pcm = (np.sin(np.arange(int(seconds * RATE)) / 10) * 8000).astype("<i2").tobytes()
    data = {
        "source": "Guten Tag.",
        "translation": "Good day.",
        "input_ms": 3000,
        "phrases": [{"elapsed_ms": 1400, "source": "Guten Tag.", "translation": "Good day.", "latency_ms": 812.5}],
        "audio": base64.b64encode(pcm).decode(),
        **extra,
    }
    return json.dumps(data)


def test_the_panel_becomes_a_translation_session():
    spec = translation_spec("fr", True, "gpt-realtime-whisper", "near_field", 0.4)
    assert spec == RealtimeTranslationSpec(
        output_language="fr", transcription_model="gpt-realtime-whisper", noise_reduction="near_field",
        noise_reduction_strength=0.4,
    )  # fmt: skip
    plain = translation_spec("fr", False, "gpt-realtime-whisper", "", 0.4)
    assert plain.transcription_model == "" and plain.noise_reduction_strength is None
    assert plain.to_session()["audio"]["input"]["transcription"] is None
    assert translation_spec("fr", True, "whisper-1", "far_field", "").noise_reduction_strength is None
    assert translation_spec("fr", True, "whisper-1", "far_field", "0.50").noise_reduction_strength == 0.5


def test_the_language_follows_the_provider_until_the_user_picks_one(offline_ctx):
    assert language_view("es", True, _request()) == ("en", LOCAL_NOTE, True)
    assert language_view("fr", False, _request()) == ("fr", LOCAL_NOTE, False)
    offline_ctx.sessions.set("page-2", Provider("openai", "OpenAI", None, "sk-test"))
    default = get_catalog().translation.default_output_language
    assert language_view("en", True, _request("page-2")) == (default, "", True)


def test_bad_settings_are_refused_before_any_ticket(offline_ctx):
    answer = json.loads(translate_connect("mic", None, "xx", *DEFAULTS[1:], request=_request()))
    assert "output_language" in answer["error"] and "ticket" not in answer
    answer = json.loads(translate_connect("file", None, *DEFAULTS, request=_request()))
    assert "Upload an audio file" in answer["error"]


def test_start_mints_a_translation_ticket_with_the_session(offline_ctx):
    answer = json.loads(translate_connect("mic", None, *DEFAULTS, request=_request()))
    ticket = offline_ctx.relay.take(answer["ticket"])
    assert ticket is not None and ticket.mode == "translation" and ticket.owner == "page-1"
    assert ticket.model == "gpt-realtime-translate"
    assert ticket.session == translation_spec(*DEFAULTS).to_session()
    assert answer["source"] == "mic" and answer["language"] == "English" and answer["transcript"] is True
    assert answer["price_per_minute"] == get_catalog().price("gpt-realtime-translate")["per_minute_estimate"]


def test_a_file_is_resampled_for_the_page_to_stream(offline_ctx, tmp_path):
    path = tmp_path / "clip.wav"
    sf.write(path, np.zeros(16000, np.float32), 16000, subtype="PCM_16")
    answer = json.loads(translate_connect("file", str(path), *DEFAULTS, request=_request()))
    assert answer["source"] == "file" and answer["file_seconds"] == pytest.approx(1.0, abs=0.01)
    assert file_info(str(path)).startswith("**clip.wav**: 1.0 s")
    assert file_info(None) == ""
    served = answer["file_url"].removeprefix("/gradio_api/file=")
    data, rate = sf.read(served)
    assert rate == RATE and len(data) == pytest.approx(RATE, abs=10)


def test_the_code_panel_shows_the_same_session(offline_ctx):
    python, js = translate_code(*DEFAULTS, request=_request())
    assert "translations" in python or "cannot be shown yet" in python
    assert js.strip()
    bad_py, bad_js = translate_code("xx", *DEFAULTS[1:], request=_request())
    assert bad_py.startswith("# Fix the settings first") and bad_js.startswith("// Fix the settings first")


def test_export_writes_the_files_and_keeps_the_run(offline_ctx):
    offline_ctx.relay.start_recording("page-1").extend(b"\x00\x01" * RATE)
    files, note = export_translation(_payload(), *DEFAULTS, request=_request())
    paths = files["value"]
    assert len(paths) == 3 and "Saved to History" in note
    text = open(paths[0], encoding="utf-8").read()
    assert "Guten Tag." in text and "Good day." in text and "812 ms" in text
    data, rate = sf.read(paths[1])
    assert rate == RATE and len(data) == RATE // 2
    assert sf.read(paths[2])[0].size == RATE
    (run,) = offline_ctx.history.list(kind="live_translation")
    assert run.text == "Good day." and run.model == "gpt-realtime-translate"
    assert run.cost == pytest.approx(3000 / 60000 * 0.034)
    assert run.timings["first_phrase_latency_ms"] == 812.5


def test_export_says_what_is_missing(offline_ctx):
    files, note = export_translation("not json", *DEFAULTS, request=_request())
    assert files["visible"] is False and note.startswith("⚠️ Nothing to export")
    empty = json.dumps({"source": "", "translation": "", "input_ms": 0, "phrases": [], "audio": ""})
    assert "press Start" in export_translation(empty, *DEFAULTS, request=_request())[1]


def test_cost_is_input_minutes_times_the_price():
    assert cost_text(60000, 0.034) == "$0.0340"
    assert cost_text(30000, 0.034) == "$0.0170"
    assert cost_text(30000, None) == "n/a"


def test_the_export_is_checked_and_bounded():
    session = parse_session(_payload(seconds=2.0), max_seconds=1)
    assert session.audio_seconds == 1.0 and session.phrases[0].latency_ms == 812.5
    with pytest.raises(ValueError, match="phrases"):
        parse_session(_payload(phrases="x"), max_seconds=1)
    with pytest.raises(ValueError, match="latency_ms"):
        parse_session(_payload(phrases=[{"elapsed_ms": 200, "latency_ms": "soon"}]), max_seconds=1)
    with pytest.raises(ValueError, match="base64"):
        parse_session(_payload(audio="@@@"), max_seconds=1)
    assert session_timings(session) == {"input_ms": 3000, "first_phrase_latency_ms": 812.5, "median_latency_ms": 812.5}
    text = transcripts_text(session, "English")
    assert text.index("Source") < text.index("Translation (English)") < text.index("0:01.4 · 812 ms")


def test_a_wav_of_the_translated_speech_decodes():
    data, rate = sf.read(io.BytesIO(pcm_wav(b"\x10\x00" * 2400 + b"\x01")))
    assert rate == RATE and len(data) == 2400
