"""Transcription tab handlers: what each model may be offered, the word diff, loading audio, the code."""

from __future__ import annotations

import numpy as np
import soundfile as sf

from playground.ui import transcribe


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
    assert figure is None and info.startswith("⚠️")


def test_the_code_names_the_uploaded_file_and_refuses_invalid_settings(offline_ctx, tmp_path):
    path = str(tmp_path / "meeting-notes.m4a")
    py, js, curl = transcribe.transcription_code(
        path, "transcribe", "whisper-1", "en", "", 0.2, "srt", [], False, False
    )
    assert 'open("meeting-notes.m4a"' in py and "meeting-notes.m4a" in js and "@meeting-notes.m4a" in curl
    py, *_ = transcribe.transcription_code(path, "transcribe", "whisper-1", "", "", None, "json", ["word"], False, True)
    assert py.startswith("# Fix the settings first") and "verbose_json" in py
