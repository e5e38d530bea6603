"""Transcription tab handlers: what each model may be offered, the word diff, loading audio, the code."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from playground.ui import transcribe, transcribe_delays


def test_only_what_the_model_takes_is_offered_and_the_rest_is_explained():
    formats, grains, logprobs, stream, why = transcribe.model_options("whisper-1", "transcribe", "verbose_json")
    assert all(f in str(formats["choices"]) for f in ("json", "text", "srt", "verbose_json", "vtt"))
    assert grains["visible"] is True and stream["interactive"] is False and "Streaming" in why
    formats, grains, logprobs, stream, why = transcribe.model_options("gpt-4o-mini-transcribe", "transcribe", "srt")
    assert formats["value"] == "json" and grains["visible"] is False and logprobs["interactive"] is True
    assert stream["interactive"] is True and "whisper-1 only" in why
    *_, why = transcribe.model_options("gpt-4o-transcribe", "translate", "json")
    assert "does not translate" in why


def test_the_diff_marks_substitutions_deletions_and_insertions():
    out = transcribe.diff_html("the black cat sat on the mat", "the cat sat in the mat today")
    assert "WER 42.9%" in out and '<del class="pg-del"' in out and '<ins class="pg-ins"' in out
    assert 'class="pg-sub"' in out and "<s>on</s> in" in out
    assert "WER 0.0%" in transcribe.diff_html("On March 12, Mr. Smith", "on march 12th mister smith")


def test_loading_audio_shows_its_waveform_and_length(tmp_path):
    sf.write(tmp_path / "a.wav", np.zeros((8000, 2), np.float32), 8000)
    figure, info = transcribe.audio_loaded(str(tmp_path / "a.wav"))
    assert figure is not None and "1.00 s" in info and "8000 Hz" in info and "2 channels" in info
    (tmp_path / "b.wav").write_text("not audio")
    figure, info = transcribe.audio_loaded(str(tmp_path / "b.wav"))
    assert figure is None and info.startswith("⚠️ This file is not audio we can read (") and "b.wav" in info
    assert "Errno" not in info and "<none>" not in info and "&lt;none&gt;" not in info


def test_a_non_audio_file_is_refused_before_any_request(offline_ctx, tmp_path):
    (tmp_path / "notes.wav").write_text("these are my meeting notes, not audio\n" * 20)
    args = ("transcribe", "whisper-1", "", "", None, "json", [], False, False, "")
    text, metrics, *_ = list(transcribe.run_transcription(str(tmp_path / "notes.wav"), *args))[-1]
    assert text == "" and metrics.startswith("⚠️ This file is not audio we can read") and "Errno" not in metrics
    # the UI moves a refusal next to the Transcribe button; a good run's metrics stay
    assert transcribe.error_beside_button(metrics) == (metrics, "")
    assert transcribe.error_beside_button("**Total** 10 ms · **Est. cost** $0") == ("", {"__type__": "update"})


def test_temperature_is_offered_as_server_default_or_a_value():
    choices = transcribe.temperature_choices()
    assert choices[0] == ("server default", transcribe.SERVER_DEFAULT) and ("0.2", 0.2) in choices
    args = ("transcribe", "whisper-1", "", "")
    assert (
        transcribe.transcription_spec("a.wav", *args, transcribe.SERVER_DEFAULT, "json", [], False, False).temperature
        is None
    )
    assert transcribe.transcription_spec("a.wav", *args, 0.2, "json", [], False, False).temperature == 0.2
    assert transcribe.transcription_spec("a.wav", *args, "0.35", "json", [], False, False).temperature == 0.35


def test_the_diarizing_model_names_its_speakers_and_takes_no_prompt():
    model = "gpt-4o-transcribe-diarize"
    formats, _grains, _logprobs, stream, why = transcribe.model_switched(model, "transcribe", "json")
    assert formats["value"] == "diarized_json" and stream["value"] is False and "Speaker labels" in why
    formats, *_ = transcribe.model_options(model, "transcribe", "json")  # the user's own pick of json stays
    assert formats["value"] == "json"
    assert transcribe.prompt_option(model)["visible"] is False
    assert transcribe.prompt_option("whisper-1")["visible"] is True
    spec = transcribe.transcription_spec(
        "a.wav", "transcribe", model, "", "Acme", None, "diarized_json", [], False, False
    )
    assert spec.prompt == ""
    raw = {"segments": [
        {"speaker": "A", "text": "Hello there.", "start": 0.0, "end": 1.0},
        {"speaker": "A", "text": "How are you?", "start": 1.0, "end": 2.0},
        {"speaker": "Bob", "text": "Fine <thanks>.", "start": 2.5, "end": 3.0},
    ]}  # fmt: skip
    assert transcribe.speaker_text(raw) == "A: Hello there. How are you?\nBob: Fine <thanks>."
    out = transcribe.speaker_html("/tmp/a.wav", raw)
    assert out.count('class="pg-spk pg-spk-0"') == 2 and out.count('class="pg-spk pg-spk-1"') == 1
    assert 'data-t="2.50"' in out and "&lt;thanks&gt;" in out and "2 speakers" in out
    assert transcribe.speaker_text({"segments": [{"text": "no speaker", "start": 0, "end": 1}]}) == ""


def test_the_code_names_the_uploaded_file_and_refuses_invalid_settings(offline_ctx, tmp_path):
    path = str(tmp_path / "meeting-notes.m4a")
    py, js, curl = transcribe.transcription_code(
        path, "transcribe", "whisper-1", "en", "", 0.2, "srt", [], False, False
    )
    assert 'open("meeting-notes.m4a"' in py and "meeting-notes.m4a" in js and "@meeting-notes.m4a" in curl
    py, *_ = transcribe.transcription_code(path, "transcribe", "whisper-1", "", "", None, "json", ["word"], False, True)
    assert py.startswith("# Fix the settings first") and "stream" in py
    # ticks kept while the timestamps are hidden (not verbose_json) are not sent
    assert "timestamp_granularities" not in py
    py, *_ = transcribe.transcription_code(
        path, "transcribe", "whisper-1", "", "", None, "json", ["word"], False, False
    )
    assert "timestamp_granularities" not in py and "Fix the settings" not in py
    py, *_ = transcribe.transcription_code(
        path, "transcribe", "whisper-1", "", "", None, "verbose_json", ["word"], 0, 0
    )
    assert 'timestamp_granularities=["word"]' in py or "timestamp_granularities=['word']" in py


def test_the_page_load_leaves_a_shared_transcription_alone():
    """The load-time narrowing races the share link's own fill: with a transcription link it
    changes nothing (the link's values come already narrowed to its model)."""
    from types import SimpleNamespace

    from playground.ui.share import share_query

    token = share_query("transcribe", "transcribe", "whisper-1", "", "", None, "verbose_json", ["word"], False, False)
    linked = SimpleNamespace(query_params={"share": token.removeprefix("?share=")})
    skipped = transcribe.model_options("gpt-transcribe", "transcribe", "json", True, linked)
    assert list(skipped) == [{"__type__": "update"}] * 5
    plain = SimpleNamespace(query_params={})
    formats, *_ = transcribe.model_options("gpt-transcribe", "transcribe", "json", True, plain)
    assert formats["choices"] == ["json"]
    formats, *_ = transcribe.model_options("gpt-transcribe", "transcribe", "json", False, linked)  # a change event
    assert formats["choices"] == ["json"]


LIVE_DEFAULTS = ("gpt-live-transcribe", "en", "", "", "server_vad", 0.5, 500, 300, "auto", "")


def test_comparing_delays_needs_a_recording_or_a_file(offline_ctx, tmp_path):
    from types import SimpleNamespace

    request = SimpleNamespace(session_hash="nobody-recorded")
    outputs = list(transcribe.run_delay_comparison("minimal", "xhigh", "", None, *LIVE_DEFAULTS, request=request))
    status, table, figure = outputs[-1]
    assert status.startswith("⚠️ Nothing to compare yet") and figure is None and table["value"] == []
    (tmp_path / "notes.wav").write_text("not audio")
    status, *_ = list(transcribe.run_delay_comparison("minimal", "xhigh", "", str(tmp_path / "notes.wav"),
                                                      *LIVE_DEFAULTS, request=request))[-1]  # fmt: skip
    assert status.startswith("⚠️ This file is not audio we can read")


@pytest.mark.models
def test_compare_two_delays_on_the_live_recording_gives_the_table_and_the_timeline(ctx, speech_dir):
    """The relay's kept recording (JFK's first 4 s) through minimal and xhigh, scored against a reference."""
    from types import SimpleNamespace

    import plotly.graph_objects as go

    from playground.core import audio

    request = SimpleNamespace(session_hash="recorded-live")
    ctx.relay.start_recording(request.session_hash).extend(
        audio.float_to_pcm16(audio.decode_mono(str(speech_dir / "jfk.flac"), 24000)[: 24000 * 4])
    )
    runs = transcribe.run_delay_comparison(
        "minimal", "xhigh", "And so my fellow Americans", None, *LIVE_DEFAULTS, request=request
    )
    outputs = list(runs)
    assert outputs[0][0].startswith("Playing 4.0 s of audio through minimal and xhigh")
    status, table, figure = outputs[-1]
    assert "WER against your reference" in status, status
    assert table["headers"] == transcribe_delays.HEADERS
    rows = table["value"]
    assert [r[0] for r in rows] == ["minimal", "xhigh"], rows
    for _delay, first, wer, words, text in rows:
        assert first.endswith(" s") and wer.endswith("%") and words >= 3 and "america" in text.lower(), rows
    assert isinstance(figure, go.Figure) and [t.name.split()[0] for t in figure.data] == ["minimal", "xhigh"]
    assert figure.layout.xaxis.title.text == "seconds into the audio"
    # each delay's run is in the history, with the audio it heard
    kept = ctx.history.list(kind="live_transcription")
    assert sorted(r.spec["delay"] for r in kept) == ["minimal", "xhigh"] and all(r.audio for r in kept)
