"""Every validation rule of the four request specs, and their SDK arguments."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from playground.core.catalog import get_catalog
from playground.core.errors import SpecError
from playground.core.specs import (
    ChatAudioSpec,
    RealtimeSessionSpec,
    RealtimeTranscriptionSpec,
    SpeechSpec,
    TranscriptionSpec,
    spec_from_dict,
)


def fields_of(spec) -> list[str]:
    return [p.field for p in spec.problems()]


# ----------------------------------------------------------------------- speech


def test_default_speech_spec_is_valid_and_minimal():
    spec = SpeechSpec(input="Hello there.")
    assert spec.problems() == []
    assert spec.to_kwargs() == {
        "model": "gpt-4o-mini-tts",
        "voice": "coral",
        "input": "Hello there.",
        "response_format": "mp3",
    }
    assert spec.file_name == "speech.mp3"


@pytest.mark.parametrize(
    ("kwargs", "field", "needle"),
    [
        ({"input": ""}, "input", "must not be empty"),
        ({"input": "   "}, "input", "must not be empty"),
        ({"input": "x" * 4097}, "input", "at most 4096"),
        ({"voice": "robot"}, "voice", "alloy, ash"),
        ({"model": "tts-2"}, "model", "gpt-4o-mini-tts, tts-1, tts-1-hd"),
        ({"model": "tts-1", "instructions": "Speak calmly"}, "instructions", "not supported by tts-1"),
        ({"model": "tts-1-hd", "instructions": "Speak calmly"}, "instructions", "not supported by tts-1-hd"),
        ({"instructions": "y" * 4097}, "instructions", "at most 4096"),
        ({"speed": 5}, "speed", "between 0.25 and 4"),
        ({"speed": 0.1}, "speed", "between 0.25 and 4"),
        ({"speed": True}, "speed", "between"),
        ({"response_format": "ogg"}, "response_format", "mp3, opus, aac, flac, wav, pcm"),
        ({"stream_format": "chunks"}, "stream_format", "audio, sse"),
        ({"model": "tts-1", "stream_format": "sse"}, "stream_format", "tts-1 supports: audio"),
    ],
)
def test_speech_rules(kwargs, field, needle):
    spec = SpeechSpec(**{"input": "Hello", **kwargs})
    problems = [p for p in spec.problems() if p.field == field]
    assert problems, f"expected a problem on {field}"
    assert needle in problems[0].message
    with pytest.raises(SpecError) as e:
        spec.validate()
    assert field in e.value.fields and needle in str(e.value)


def test_speech_limits_are_inclusive():
    assert SpeechSpec(input="x" * 4096, speed=0.25).problems() == []
    assert SpeechSpec(input="x", speed=4.0, instructions="z" * 4096).problems() == []


def test_speech_reports_every_problem_at_once():
    spec = SpeechSpec(input="", voice="robot", speed=9, model="tts-1", instructions="calm")
    assert set(fields_of(spec)) == {"input", "voice", "speed", "instructions"}


def test_speech_kwargs_carry_only_what_differs_from_defaults():
    spec = SpeechSpec(
        input="Hi", voice="onyx", instructions="Deep and slow", speed=1.2, response_format="wav", stream_format="sse"
    )
    assert spec.to_kwargs() == {
        "model": "gpt-4o-mini-tts",
        "voice": "onyx",
        "input": "Hi",
        "instructions": "Deep and slow",
        "speed": 1.2,
        "response_format": "wav",
        "stream_format": "sse",
    }


def test_custom_voice_id_is_sent_as_object():
    spec = SpeechSpec(input="Hi", voice="voice_abc123")
    assert spec.problems() == []
    assert spec.to_kwargs()["voice"] == {"id": "voice_abc123"}


def test_dated_snapshot_is_accepted():
    assert SpeechSpec(input="Hi", model="gpt-4o-mini-tts-2025-12-15", instructions="calm").problems() == []


# ---------------------------------------------------------------- transcription


@pytest.fixture
def wav(tmp_path) -> str:
    from tests.support.recording_server import tone, wav_bytes

    path = tmp_path / "clip.wav"
    path.write_bytes(wav_bytes(tone(0.3)))
    return str(path)


def test_transcription_defaults_valid(wav):
    spec = TranscriptionSpec(file=wav)
    assert spec.problems() == []
    assert spec.to_kwargs() == {"model": "gpt-transcribe", "response_format": "json"}
    assert spec.endpoint == "/audio/transcriptions"


@pytest.mark.parametrize(
    ("kwargs", "field", "needle"),
    [
        ({"model": "whisper-1", "timestamp_granularities": ("word",)}, "timestamp_granularities", "verbose_json"),
        (
            {"model": "whisper-1", "response_format": "verbose_json", "timestamp_granularities": ("char",)},
            "timestamp_granularities",
            "word and/or segment",
        ),
        (
            {"model": "gpt-4o-transcribe", "response_format": "srt"},
            "response_format",
            "gpt-4o-transcribe supports: json",
        ),
        (
            {"model": "whisper-1", "response_format": "diarized_json"},
            "response_format",
            "json, text, srt, verbose_json, vtt",
        ),
        ({"model": "whisper-1", "stream": True}, "stream", "not supported by whisper-1"),
        ({"model": "whisper-1", "include_logprobs": True}, "include_logprobs", "not supported by whisper-1"),
        (
            {"model": "gpt-4o-transcribe", "response_format": "json", "include_logprobs": True, "temperature": 1.5},
            "temperature",
            "between 0 and 1",
        ),
        ({"language": "english"}, "language", "ISO-639-1"),
        ({"language": "EN"}, "language", "ISO-639-1"),
        ({"model": "whisper-2"}, "model", "whisper-1, gpt-4o-transcribe"),
        ({"chunking_strategy": "manual"}, "chunking_strategy", '"auto"'),
        ({"task": "translate", "model": "gpt-4o-transcribe"}, "model", "translation supports: whisper-1"),
        ({"task": "translate", "model": "whisper-1", "language": "de"}, "language", "not supported by translations"),
        ({"task": "shout"}, "task", "transcribe, translate"),
    ],
)
def test_transcription_rules(wav, kwargs, field, needle):
    spec = TranscriptionSpec(file=wav, **kwargs)
    problems = [p for p in spec.problems() if p.field == field]
    assert problems, f"expected a problem on {field}, got {spec.problems()}"
    assert needle in problems[0].message


def test_transcription_file_checks(tmp_path, wav):
    assert fields_of(TranscriptionSpec(file=str(tmp_path / "missing.wav"))) == ["file"]
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    assert "is empty" in TranscriptionSpec(file=str(empty)).problems()[0].message
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    assert "flac, mp3" in TranscriptionSpec(file=str(text)).problems()[0].message
    big = tmp_path / "big.wav"
    with big.open("wb") as f:
        f.truncate(25 * 1024 * 1024 + 1)
    assert "limit is 25 MiB" in TranscriptionSpec(file=str(big)).problems()[0].message


def test_transcription_kwargs_cover_every_field(wav):
    spec = TranscriptionSpec(
        file=wav,
        model="whisper-1",
        language="en",
        prompt="ComfyUI",
        temperature=0.2,
        response_format="verbose_json",
        timestamp_granularities=("word", "segment"),
    )
    assert spec.problems() == []
    assert spec.to_kwargs() == {
        "model": "whisper-1",
        "language": "en",
        "prompt": "ComfyUI",
        "temperature": 0.2,
        "response_format": "verbose_json",
        "timestamp_granularities": ["word", "segment"],
    }
    streaming = TranscriptionSpec(
        file=wav,
        model="gpt-4o-transcribe",
        include_logprobs=True,
        stream=True,
        chunking_strategy={"type": "server_vad", "threshold": 0.4},
    )
    assert streaming.problems() == []
    assert streaming.to_kwargs()["include"] == ["logprobs"] and streaming.to_kwargs()["stream"] is True
    translate = TranscriptionSpec(file=wav, model="whisper-1", task="translate", response_format="text")
    assert translate.problems() == [] and translate.endpoint == "/audio/translations"


# --------------------------------------------------------------------- realtime


def test_realtime_default_session_shape():
    spec = RealtimeSessionSpec(instructions="Be brief.")
    assert spec.problems() == []
    session = spec.to_session()
    assert session["type"] == "realtime" and session["model"] == "gpt-realtime-2.1-mini"
    assert session["audio"]["input"]["transcription"] == {"model": "gpt-live-transcribe"}
    assert "reasoning" not in session and "truncation" not in session and "parallel_tool_calls" not in session
    assert session["audio"]["input"]["format"] == {"type": "audio/pcm", "rate": 24000}
    assert session["audio"]["input"]["turn_detection"]["type"] == "server_vad"
    assert session["audio"]["output"] == {
        "format": {"type": "audio/pcm", "rate": 24000},
        "voice": "marin",
        "speed": 1.0,
    }
    assert session["instructions"] == "Be brief."


@pytest.mark.parametrize(
    ("kwargs", "field", "needle"),
    [
        ({"voice": "fable"}, "voice", "alloy, ash"),
        ({"voice": "nova"}, "voice", "alloy, ash"),
        ({"speed": 2.0}, "speed", "between 0.25 and 1.5"),
        ({"model": "gpt-4o"}, "model", "gpt-realtime"),
        ({"turn_detection": "push"}, "turn_detection", "server_vad, semantic_vad, none"),
        ({"turn_detection": "semantic_vad", "eagerness": "eager"}, "eagerness", "low, medium, high, auto"),
        ({"vad_threshold": 1.5}, "vad_threshold", "between 0 and 1"),
        ({"output_modalities": ("audio", "text")}, "output_modalities", '["audio"] or ["text"]'),
        ({"input_format": "audio/wav"}, "input_format", "audio/pcm"),
        ({"noise_reduction": "studio"}, "noise_reduction", "near_field, far_field"),
        ({"max_output_tokens": 5000}, "max_output_tokens", "1–4096"),
        ({"tools": ({"type": "function"},)}, "tools[0]", "name"),
        ({"tool_choice": "weather"}, "tool_choice", "auto, none, required"),
        ({"transcription_model": "whisper-9"}, "transcription_model", "whisper-1"),
    ],
)
def test_realtime_rules(kwargs, field, needle):
    problems = [p for p in RealtimeSessionSpec(**kwargs).problems() if p.field == field]
    assert problems and needle in problems[0].message


def test_realtime_manual_turns_and_tools():
    tool = {"type": "function", "name": "get_weather", "description": "Weather", "parameters": {"type": "object"}}
    spec = RealtimeSessionSpec(
        turn_detection="none",
        tools=(tool,),
        tool_choice="get_weather",
        max_output_tokens=300,
        noise_reduction="near_field",
        transcription_model="",
    )
    assert spec.problems() == []
    session = spec.to_session()
    assert session["audio"]["input"]["turn_detection"] is None
    assert "transcription" not in session["audio"]["input"]
    assert session["audio"]["input"]["noise_reduction"] == {"type": "near_field"}
    assert session["tools"] == [tool] and session["tool_choice"] == "get_weather"
    assert session["max_output_tokens"] == 300


# ------------------------------------------------------------------- chat audio


def test_chat_audio_rules(wav, tmp_path):
    assert fields_of(ChatAudioSpec()) == ["prompt"]
    assert "alloy" in ChatAudioSpec(prompt="hi", voice="robot").problems()[0].message
    assert ChatAudioSpec(prompt="hi", audio_format="ogg").problems()[0].field == "audio_format"
    assert ChatAudioSpec(prompt="hi", model="gpt-4o").problems()[0].field == "model"
    flac = tmp_path / "q.flac"
    flac.write_bytes(b"fLaC")
    assert "wav, mp3" in ChatAudioSpec(input_audio=str(flac)).problems()[0].message


def test_chat_audio_kwargs_embed_input_audio(wav):
    spec = ChatAudioSpec(prompt="What is this?", input_audio=wav, system="Be brief.", voice="sage", audio_format="mp3")
    assert spec.problems() == []
    kw = spec.to_kwargs()
    assert kw["modalities"] == ["text", "audio"] and kw["audio"] == {"voice": "sage", "format": "mp3"}
    assert kw["messages"][0] == {"role": "system", "content": "Be brief."}
    part = kw["messages"][1]["content"][1]
    assert part["type"] == "input_audio" and part["input_audio"]["format"] == "wav"
    assert base64.b64decode(part["input_audio"]["data"]) == Path(wav).read_bytes()


def test_chat_audio_conversation_rules(wav, tmp_path):
    assert ChatAudioSpec(prompt="hi", stream=True).problems()[0].message == "a streamed spoken reply must be pcm16"
    assert ChatAudioSpec(prompt="hi", stream=True, modalities=("text",)).problems() == []
    bad = ChatAudioSpec(prompt="hi", temperature=2.5, top_p=-0.1, max_completion_tokens=0)
    assert [p.field for p in bad.problems()] == ["temperature", "top_p", "max_completion_tokens"]
    history = (
        {"role": "user", "text": ""},  # nothing said
        {"role": "assistant"},  # neither an audio id nor text
        {"role": "tool", "text": "x"},
        {"role": "user", "audio": str(tmp_path / "gone.wav")},
    )
    fields = [p.field for p in ChatAudioSpec(prompt="hi", history=history).problems()]
    assert fields == ["history[0]", "history[1]", "history[2].role", "history[3].audio"]
    limit = get_catalog().limits.audio_chat_turns_max
    long = tuple({"role": "user", "text": "x"} for _ in range(limit))
    assert ChatAudioSpec(prompt="hi", history=long).problems()[0].field == "history"


def test_chat_audio_history_sends_replies_by_id_and_user_audio_as_parts(wav):
    history = (
        {"role": "user", "text": "first", "audio": wav},
        {"role": "assistant", "audio_id": "audio_1", "transcript": "Hello."},
        {"role": "user", "text": "second"},
        {"role": "assistant", "text": "Plain text."},
    )
    spec = ChatAudioSpec(prompt="third", history=history, stream=True, audio_format="pcm16", temperature=0.3)
    assert spec.problems() == []
    kw = spec.to_kwargs()
    assert kw["messages"][1] == {"role": "assistant", "audio": {"id": "audio_1"}}
    assert kw["messages"][0]["content"][1]["input_audio"]["format"] == "wav"
    assert kw["messages"][2:] == [
        {"role": "user", "content": "second"},
        {"role": "assistant", "content": "Plain text."},
        {"role": "user", "content": "third"},
    ]
    assert kw["stream"] is True and kw["stream_options"] == {"include_usage": True} and kw["temperature"] == 0.3
    assert "top_p" not in kw  # None: not sent
    assert spec.audio_files == [wav]
    assert spec_from_dict(spec.to_dict()) == spec


# ------------------------------------------------------------------ round trip


def test_specs_round_trip_through_dict(wav):
    for spec in (
        SpeechSpec(input="Hi", voice="ash", speed=1.5),
        TranscriptionSpec(
            file=wav, model="whisper-1", response_format="verbose_json", timestamp_granularities=("word",)
        ),
        RealtimeSessionSpec(voice="cedar", output_modalities=("text",)),
        ChatAudioSpec(prompt="hello"),
    ):
        assert spec_from_dict(spec.to_dict()) == spec


def test_spec_from_dict_rejects_unknown_fields():
    with pytest.raises(SpecError, match="unknown field"):
        spec_from_dict({"kind": "speech", "input": "x", "pitch": 3})
    with pytest.raises(SpecError, match="speech, transcription"):
        spec_from_dict({"kind": "video"})


# ------------------------------------------------------------ the 2026 request fields


def test_file_transcription_keywords_and_languages_only_where_the_model_takes_them(wav):
    spec = TranscriptionSpec(file=wav, keywords=("Acme", "Zyx Corp"), languages=("en", "de"))
    assert spec.problems() == []
    kw = spec.to_kwargs()
    assert kw["keywords"] == ["Acme", "Zyx Corp"] and kw["languages"] == ["en", "de"]
    assert "keywords" not in TranscriptionSpec(file=wav).to_kwargs()
    old = TranscriptionSpec(file=wav, model="gpt-4o-mini-transcribe", keywords=("Acme",), languages=("en",))
    fields = {p.field: p.message for p in old.problems()}
    assert "gpt-transcribe" in fields["keywords"] and "gpt-live-transcribe" not in fields["keywords"]
    assert "languages" in fields
    bad = {p.field for p in TranscriptionSpec(file=wav, languages=("english",), keywords=("",)).problems()}
    assert bad == {"languages", "keywords"}


def test_known_speakers_only_for_the_diarize_model(wav):
    ref = "data:audio/wav;base64,UklGRg=="
    spec = TranscriptionSpec(
        file=wav,
        model="gpt-4o-transcribe-diarize",
        response_format="diarized_json",
        known_speaker_names=("agent",),
        known_speaker_references=(ref,),
    )
    assert spec.problems() == []
    assert spec.to_kwargs()["known_speaker_names"] == ["agent"]
    assert spec.to_kwargs()["known_speaker_references"] == [ref]
    wrong = TranscriptionSpec(file=wav, known_speaker_names=("agent",), known_speaker_references=(ref,))
    assert [p.field for p in wrong.problems()] == ["known_speaker_names"]
    unpaired = TranscriptionSpec(
        file=wav, model="gpt-4o-transcribe-diarize", response_format="diarized_json", known_speaker_names=("a", "b")
    )
    assert [p.field for p in unpaired.problems()] == ["known_speaker_references"]


def test_realtime_reasoning_truncation_and_noise_strength():
    spec = RealtimeSessionSpec(
        reasoning_effort="xhigh",
        parallel_tool_calls=False,
        noise_reduction="far_field",
        noise_reduction_strength=0.4,
        truncation="retention_ratio",
        retention_ratio=0.8,
    )
    assert spec.problems() == []
    session = spec.to_session()
    assert session["reasoning"] == {"effort": "xhigh"}
    assert session["parallel_tool_calls"] is False
    assert session["audio"]["input"]["noise_reduction"] == {"type": "far_field", "strength": 0.4}
    assert session["truncation"] == {"type": "retention_ratio", "retention_ratio": 0.8}
    assert RealtimeSessionSpec(truncation="disabled").to_session()["truncation"] == "disabled"
    problems = {
        p.field
        for p in RealtimeSessionSpec(
            model="gpt-realtime-1.5", reasoning_effort="high", parallel_tool_calls=True
        ).problems()
    }
    assert problems == {"reasoning_effort", "parallel_tool_calls"}
    assert [p.field for p in RealtimeSessionSpec(reasoning_effort="max").problems()] == ["reasoning_effort"]
    assert [p.field for p in RealtimeSessionSpec(truncation="retention_ratio", retention_ratio=1.5).problems()] == [
        "retention_ratio"
    ]
    assert [p.field for p in RealtimeSessionSpec(noise_reduction_strength=0.5).problems()] == [
        "noise_reduction_strength"
    ]


def test_realtime_input_transcription_delay_keywords_and_custom_voice():
    spec = RealtimeSessionSpec(
        voice="voice_abc123", transcription_model="gpt-realtime-whisper", transcription_delay="high"
    )
    assert spec.problems() == []
    session = spec.to_session()
    assert session["audio"]["input"]["transcription"] == {"model": "gpt-realtime-whisper", "delay": "high"}
    assert session["audio"]["output"]["voice"] == {"id": "voice_abc123"}
    kw = RealtimeSessionSpec(transcription_keywords=("Acme",), transcription_languages=("en",)).to_session()
    assert kw["audio"]["input"]["transcription"] == {
        "model": "gpt-live-transcribe",
        "keywords": ["Acme"],
        "languages": ["en"],
    }
    assert [p.field for p in RealtimeSessionSpec(transcription_delay="low").problems()] == ["transcription_delay"]


def test_live_transcription_spec_fields():
    spec = RealtimeTranscriptionSpec(model="gpt-realtime-whisper", delay="minimal")
    assert spec.problems() == []
    assert spec.to_session()["audio"]["input"]["transcription"] == {"model": "gpt-realtime-whisper", "delay": "minimal"}
    default = RealtimeTranscriptionSpec(keywords=("Acme",), languages=("en", "fr"))
    assert default.model == "gpt-live-transcribe" and default.problems() == []
    tr = default.to_session()["audio"]["input"]["transcription"]
    assert tr == {"model": "gpt-live-transcribe", "keywords": ["Acme"], "languages": ["en", "fr"]}
    assert [p.field for p in RealtimeTranscriptionSpec(model="whisper-1", keywords=("x",)).problems()] == ["keywords"]
    back = spec_from_dict(default.to_dict())
    assert back == default


def test_chat_audio_custom_voice(wav):
    spec = ChatAudioSpec(prompt="Hi", voice="voice_xyz")
    assert spec.problems() == []
    assert spec.to_kwargs()["audio"]["voice"] == {"id": "voice_xyz"}
