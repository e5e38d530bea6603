"""Exported code, byte for byte: every spec kind rendered in every language, compared
with the golden files in ``tests/data/snippet_goldens/``.

The goldens were written by the renderer that built snippets as lists of lines, before it
moved to Jinja2 templates; they pin the exact text a user copies (indentation, quoting,
blank lines, the lifecycle warning). After a deliberate change to the exported code,
rewrite them and review the diff:

    UPDATE_SNIPPET_GOLDENS=1 .venv/bin/python -m pytest tests/test_snippet_goldens.py

Each case renders with ``base_url`` None (OpenAI) and a local server, in Python,
JavaScript and curl: ``<case>.<openai|local>.<language>.txt`` (``.txt``, so no linter
takes a golden for the project's own code).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, get_args

import pytest

from playground.core import specs
from playground.core.snippets import LANGUAGES, render
from tests.test_snippets import REALTIME_2026

GOLDENS = Path(__file__).parent / "data" / "snippet_goldens"
UPDATE = os.environ.get("UPDATE_SNIPPET_GOLDENS", "").strip() == "1"
BASES = {"openai": None, "local": "http://127.0.0.1:7860/v1"}
#: a spec and the keyword arguments ``render`` gets for it
Case = tuple[specs.Spec, dict[str, Any]]
#: the date the lifecycle warnings are written for (models with a shutdown date are deprecated
#: before it and retired after it)
TODAY = "2026-12-07"

#: quotes, an apostrophe, a dash, newlines, a tab, non-ASCII, shell and JS template syntax,
#: backticks, a backslash and the characters some editors take for a line break
TRICKY = 'He said "don\'t" — \n naïve ${x} $(rm -rf /) `` ` \\n\ttab \u2028 \u2029 \x85 ✓ $HOME'
AUDIO = "/data/recordings/jfk.flac"
TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "Current weather — in °C",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}
#: a tool whose schema has keys no identifier rule allows bare, and non-ASCII ones
ODD_TOOL = {
    "type": "function",
    "name": "größe",
    "description": 'Sizes "in" $units',
    "parameters": {
        "$defs": {"unit": {"enum": ["cm", "in", "ft", "m", "km"]}},
        "type": "object",
        "properties": {"größe": {"type": "number"}, "unit-name": {"$ref": "#/$defs/unit"}, "n_1": {"type": "integer"}},
        "required": [],
        "additionalProperties": False,
    },
}
MCP_TOOL = {"type": "mcp", "server_label": "docs", "server_url": "https://example.com/mcp", "require_approval": "never"}
HISTORY = (
    {"role": "user", "text": "", "audio": "/tmp/chat/turn-1.wav"},
    {"role": "assistant", "audio_id": "audio_abc", "transcript": "Hello."},
    {"role": "user", "text": "and this one? $HOME `x`", "audio": "/tmp/chat/turn 2.mp3"},
    {"role": "assistant", "text": "A text reply."},
)


def _speech() -> dict[str, Case]:
    out: dict[str, Case] = {}
    for fmt in ("mp3", "opus", "aac", "flac", "wav", "pcm"):
        spec = specs.SpeechSpec(input="Hello there. How are you today?", voice="coral", response_format=fmt)
        out[f"speech-{fmt}"] = (spec, {})
        out[f"speech-{fmt}-not-streaming"] = (spec, {"streaming": False})
    steered = specs.SpeechSpec(
        input=TRICKY, voice="onyx", instructions="Calm, low and slow.\nPause after each sentence.", speed=1.25
    )
    out["speech-instructions-speed"] = (steered, {})
    out["speech-instructions-speed-not-streaming"] = (steered, {"streaming": False})
    out["speech-sse"] = (
        specs.SpeechSpec(
            input="Streaming events.", voice="nova", instructions="Bright", response_format="flac", stream_format="sse"
        ),
        {},
    )
    out["speech-sse-not-streaming"] = (
        specs.SpeechSpec(
            input="Events, 1e-05 fast.", voice="ash", response_format="wav", stream_format="sse", speed=0.25
        ),
        {"streaming": False},
    )
    out["speech-tts-1-slow"] = (specs.SpeechSpec(input="Raw samples.", model="tts-1", voice="echo", speed=0.5), {})
    out["speech-tts-1-hd-unicode"] = (
        specs.SpeechSpec(input="Héllo wörld — ünïcode ✓", model="tts-1-hd", voice="fable", response_format="opus"),
        {},
    )
    out["speech-custom-voice"] = (specs.SpeechSpec(input="My own voice.", voice="voice_abc123", speed=4.0), {})
    out["speech-chained-chat-model"] = (
        specs.SpeechSpec(input="From a pipeline.", voice="marin"),
        {"chat_model": "gpt-4o-mini"},
    )
    return out


def _transcription() -> dict[str, Case]:
    t = specs.TranscriptionSpec
    verbose = dict(model="whisper-1", response_format="verbose_json")
    cases: dict[str, Case] = {
        "transcription-default": (t(file=AUDIO), {}),
        "transcription-file-path": (t(file=AUDIO), {"file_path": "my recording (1).flac"}),
        "transcription-whisper-verbose-both": (
            t(file=AUDIO, **verbose, timestamp_granularities=("word", "segment"), language="en", temperature=0.2),
            {},
        ),
        "transcription-whisper-verbose-word": (t(file=AUDIO, **verbose, timestamp_granularities=("word",)), {}),
        "transcription-whisper-verbose-segment": (t(file=AUDIO, **verbose, timestamp_granularities=("segment",)), {}),
        "transcription-whisper-verbose-plain": (t(file=AUDIO, **verbose, prompt="ComfyUI"), {}),
        "transcription-whisper-srt": (t(file=AUDIO, model="whisper-1", response_format="srt"), {}),
        "transcription-whisper-vtt": (t(file=AUDIO, model="whisper-1", response_format="vtt", temperature=1e-05), {}),
        "transcription-whisper-text": (t(file=AUDIO, model="whisper-1", response_format="text"), {}),
        "transcription-translate": (
            t(file=AUDIO, model="whisper-1", response_format="text", task="translate", prompt="@notes; <file"),
            {},
        ),
        "transcription-translate-json": (
            t(file="clip.mp3", model="whisper-1", task="translate", temperature=0.0),
            {"file_path": "uploads/clip.mp3"},
        ),
        "transcription-stream-logprobs": (
            t(
                file=AUDIO,
                model="gpt-4o-transcribe",
                stream=True,
                include_logprobs=True,
                chunking_strategy={"type": "server_vad", "threshold": 0.4, "prefix_padding_ms": 300},
            ),
            {},
        ),
        "transcription-mini-auto": (
            t(file=AUDIO, model="gpt-4o-mini-transcribe", chunking_strategy="auto", temperature=0.0),
            {},
        ),
        "transcription-keywords-languages": (
            t(file=AUDIO, keywords=("Kennedy", "ask not", "naïve $HOME"), languages=("en", "de"), prompt="JFK"),
            {},
        ),
        "transcription-keywords-many": (
            t(file=AUDIO, keywords=("a", "b", "c", "d", "e"), languages=("en", "de", "fr", "it", "es"), stream=True),
            {},
        ),
        "transcription-diarize": (
            t(
                file=AUDIO,
                model="gpt-4o-transcribe-diarize",
                response_format="diarized_json",
                known_speaker_names=("president", "O'Brien"),
                known_speaker_references=("data:audio/wav;base64,UklGRiQAAABXQVZF", "data:audio/wav;base64,AAAA"),
            ),
            {},
        ),
        "transcription-tricky-prompt": (t(file='it\'s a "test".wav', prompt=TRICKY, language="de"), {}),
        "transcription-chained-chat-model": (t(file=AUDIO), {"chat_model": "gpt-5-mini"}),
    }
    return cases


def _realtime() -> dict[str, Case]:
    r = specs.RealtimeSessionSpec
    semantic = dict(turn_detection="semantic_vad", eagerness="high")
    full = r(
        instructions="Answer in one sentence.", voice="cedar", tools=(TOOL,), speed=1.2, **semantic, **REALTIME_2026
    )
    phone = dict(input_format="audio/pcmu", output_format="audio/pcma", voice="voice_abc123")
    quiet = dict(transcription_language="en", noise_reduction="far_field", truncation="disabled")
    cases: dict[str, Case] = {
        "realtime-default": (r(), {}),
        "realtime-full": (full, {}),
        "realtime-text-manual": (
            r(
                output_modalities=("text",),
                transcription_model="",
                turn_detection="none",
                instructions=TRICKY,
                max_output_tokens=512,
                tool_choice="required",
                tools=(TOOL, MCP_TOOL),
            ),
            {},
        ),
        "realtime-g711-custom-voice": (
            r(**phone, **quiet, create_response=False, interrupt_response=False),
            {},
        ),
        "realtime-odd-tool": (r(tools=(ODD_TOOL,), tool_choice="größe", parallel_tool_calls=True), {}),
        "realtime-deprecated": (r(model="gpt-realtime", transcription_model="gpt-4o-transcribe"), {}),
        "realtime-deprecated-chat-model": (r(model="gpt-realtime-mini"), {"chat_model": "gpt-4o"}),
    }
    # the voice chat's replay script (Python only; the other languages ignore the file)
    replays = {
        "server-vad": r(instructions="Answer in five words.", tools=(TOOL,)),
        "semantic-no-create": r(turn_detection="semantic_vad", create_response=False, tools=(TOOL, ODD_TOOL)),
        "push-to-talk": r(turn_detection="none", tools=(MCP_TOOL,)),
        "g711-in": r(input_format="audio/pcmu"),
        "g711-both": r(input_format="audio/pcma", output_format="audio/pcmu", create_response=False, **REALTIME_2026),
        "g711-out-deprecated": r(model="gpt-realtime", output_format="audio/pcma", turn_detection="none"),
    }
    for name, spec in replays.items():
        cases[f"realtime-replay-{name}"] = (spec, {"file_path": "my turn.wav"})
    return cases


def _realtime_transcription() -> dict[str, Case]:
    rt = specs.RealtimeTranscriptionSpec
    return {
        "realtime-transcription-default": (rt(), {}),
        "realtime-transcription-file": (rt(), {"file_path": "meeting notes.wav"}),
        "realtime-transcription-semantic": (
            rt(
                model="gpt-4o-transcribe",
                language="en",
                prompt=TRICKY,
                noise_reduction="near_field",
                turn_detection="semantic_vad",
                eagerness="low",
                include_logprobs=True,
            ),
            {},
        ),
        "realtime-transcription-manual": (rt(turn_detection="none"), {"file_path": "push to talk.wav"}),
        "realtime-transcription-fields": (
            rt(
                keywords=("Kennedy", "ask not"),
                languages=("en", "de"),
                delay="high",
                vad_threshold=0.7,
                prefix_padding_ms=500,
                silence_duration_ms=900,
            ),
            {},
        ),
        "realtime-transcription-deprecated": (rt(model="whisper-1"), {"chat_model": "gpt-4o-mini"}),
    }


def _chat() -> dict[str, Case]:
    c = specs.ChatAudioSpec
    return {
        "chat-text-prompt": (c(prompt='Say hi in one word, it\'s "fun" $HOME', system="Be brief.", voice="sage"), {}),
        "chat-input-audio": (c(prompt="What is said here?", input_audio="/tmp/chat/question.wav"), {}),
        "chat-input-audio-only-renamed": (
            c(input_audio="/tmp/chat/question.wav", voice="voice_abc123", audio_format="mp3"),
            {"file_path": "my question.wav"},
        ),
        "chat-text-only": (c(prompt="Plain text back.", modalities=("text",), temperature=0.0, top_p=1e-05), {}),
        "chat-streamed-audio": (c(prompt="Say hi.", audio_format="pcm16", stream=True, temperature=0.4), {}),
        "chat-streamed-text": (c(prompt="Say hi.", modalities=("text",), stream=True, max_completion_tokens=50), {}),
        "chat-history": (c(prompt="Thanks, and $HOME?", system="Be brief.", history=HISTORY, voice="verse"), {}),
        "chat-history-input-audio": (
            c(
                prompt=TRICKY,
                history=HISTORY,
                input_audio="/tmp/chat/turn-3.wav",
                audio_format="flac",
                presence_penalty=0.5,
                frequency_penalty=-0.5,
            ),
            {"file_path": "turn-3 (mine).wav"},
        ),
        "chat-history-streamed": (
            c(prompt="", history=HISTORY, input_audio="/tmp/chat/turn-3.wav", audio_format="pcm16", stream=True),
            {},
        ),
        "chat-history-text-streamed": (
            c(prompt="Go on.", history=HISTORY[:2], modalities=("text",), stream=True),
            {},
        ),
        "chat-deprecated": (c(prompt="Hi.", model="gpt-audio-mini"), {}),
        "chat-retired": (c(prompt="Hi.", model="gpt-4o-audio-preview", audio_format="opus"), {"chat_model": "gpt-4o"}),
    }


def _realtime_speech() -> dict[str, Case]:
    s = specs.RealtimeSpeechSpec
    return {
        "realtime-speech-default": (s(input="The quick brown fox jumps over the lazy dog.", voice="marin"), {}),
        "realtime-speech-pcmu": (s(input="Phone call.", voice="cedar", output_format="audio/pcmu", speed=1.5), {}),
        "realtime-speech-pcma": (s(input="Phone call.", voice="ash", output_format="audio/pcma"), {}),
        "realtime-speech-styled": (
            s(input=TRICKY, voice="voice_abc123", instructions="Whisper, slowly.\nThen louder.", speed=0.75),
            {},
        ),
        "realtime-speech-deprecated": (s(input="Old model.", model="gpt-realtime"), {}),
    }


def _realtime_translation() -> dict[str, Case]:
    t = specs.RealtimeTranslationSpec
    return {
        "realtime-translation-default": (t(), {}),
        "realtime-translation-file": (
            t(output_language="en", transcription_model="", noise_reduction="far_field", noise_reduction_strength=0.4),
            {"file_path": 'interview "de" $HOME.wav'},
        ),
        "realtime-translation-deprecated": (t(output_language="ja", transcription_model="gpt-4o-transcribe"), {}),
    }


def cases() -> dict[str, Case]:
    return {
        **_speech(),
        **_transcription(),
        **_realtime(),
        **_realtime_transcription(),
        **_chat(),
        **_realtime_speech(),
        **_realtime_translation(),
    }


CASES = cases()


def _golden(case: str, base: str, language: str) -> Path:
    return GOLDENS / f"{case}.{base}.{language}.txt"


@pytest.fixture(autouse=True)
def _today(monkeypatch):
    monkeypatch.setenv("PLAYGROUND_TODAY", TODAY)


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_exported_code_is_byte_for_byte_the_golden(case):
    spec, kwargs = CASES[case]
    differ = []
    for base, base_url in BASES.items():
        for language in LANGUAGES:
            code = render(spec, language, base_url=base_url, **kwargs)
            path = _golden(case, base, language)
            if UPDATE:
                GOLDENS.mkdir(parents=True, exist_ok=True)
                path.write_bytes(code.encode("utf-8"))
            elif not path.is_file() or path.read_bytes() != code.encode("utf-8"):
                differ.append(path.name)
    assert not differ, f"differs from the golden (UPDATE_SNIPPET_GOLDENS=1 rewrites them): {differ}"


def test_every_golden_belongs_to_a_case():
    expected = {_golden(c, b, lang).name for c in CASES for b in BASES for lang in LANGUAGES}
    found = {p.name for p in GOLDENS.iterdir()}
    if UPDATE:
        for name in found - expected:
            (GOLDENS / name).unlink()
        found &= expected
    assert found == expected
    assert {type(spec) for spec, _ in CASES.values()} == set(get_args(specs.Spec))  # every kind of spec
