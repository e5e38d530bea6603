"""The 2026 request fields on the embedded backend, through the real SDK: each has a local
effect (or is a documented no-op) and is refused, naming it, where the model does not take it.

Transcription: ``keywords`` (Whisper hotwords), ``languages`` (detection restricted to the
set), ``known_speaker_names``/``known_speaker_references`` (diarized speakers named in order
of first appearance). Realtime: ``reasoning.effort`` (scales the reply's token budget),
``parallel_tool_calls``, ``noise_reduction.strength`` (scales the denoiser), transcription
``delay`` (the interim decode cadence), ``keywords``/``languages``, ``truncation`` (the
fraction of items kept past the limit). Custom voices are refused on every surface.
"""

from __future__ import annotations

import asyncio
import base64
import io
from typing import Any

import numpy as np
import openai
import pytest
import soundfile as sf

from playground.backend import dsp
from playground.backend.realtime import config as cfg
from playground.core.catalog import get_catalog
from playground.core.textmetrics import word_diff
from tests.backend.conftest import wer
from tests.backend.realtime_support import client_for, clip, collect, manifest_text, send_audio, silence

TRANSCRIPTION = {"intent": "transcription"}


def _wav_data_url(seconds: float = 2.5) -> str:
    buf = io.BytesIO()
    t = np.arange(int(16000 * seconds)) / 16000
    sf.write(buf, (0.2 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 16000, format="WAV")
    return "data:audio/wav;base64," + base64.b64encode(buf.getvalue()).decode()


# ------------------------------------------------------------------ file transcription


@pytest.mark.models
def test_keywords_reach_whisper_as_hotwords(client, speech_dir):
    """hotwords.mp3 says 'ComfyUI', which Whisper base hears as 'confu i' unless told."""
    data = (speech_dir / "hotwords.mp3").read_bytes()
    plain = client.audio.transcriptions.create(file=("h.mp3", data), model="gpt-transcribe").text
    hinted = client.audio.transcriptions.create(file=("h.mp3", data), model="gpt-transcribe", keywords=["ComfyUI"])
    assert "ComfyUI" not in plain, plain
    assert "ComfyUI" in hinted.text, hinted.text


@pytest.mark.models
def test_languages_restrict_detection(client, speech_dir):
    """multilingual.mp3 opens in English: detection picks English, unless only German and
    French are allowed (then the likelier of those two is used)."""
    data = (speech_dir / "multilingual.mp3").read_bytes()
    free = client.audio.transcriptions.create(file=("m.mp3", data), model="gpt-transcribe").text
    allowed = client.audio.transcriptions.create(file=("m.mp3", data), model="gpt-transcribe", languages=["en"]).text
    other = client.audio.transcriptions.create(
        file=("m.mp3", data), model="gpt-transcribe", languages=["de", "fr"]
    ).text
    assert free.startswith("Permission is hereby granted"), free
    assert allowed.startswith("Permission is hereby granted"), allowed
    assert "hereby granted" not in other, other


@pytest.mark.models
def test_known_speaker_names_replace_the_letters_in_order_of_first_appearance(client, speech_dir, manifest):
    data = (speech_dir / "stereo_diarization.wav").read_bytes()
    plain = client.audio.transcriptions.create(
        file=("s.wav", data), model="gpt-4o-transcribe-diarize", response_format="diarized_json"
    )
    named = client.audio.transcriptions.create(
        file=("s.wav", data),
        model="gpt-4o-transcribe-diarize",
        response_format="diarized_json",
        known_speaker_names=["Ada", "Bob"],
        known_speaker_references=[_wav_data_url(), _wav_data_url()],
    )
    letters = list(dict.fromkeys(s.speaker for s in plain.segments))
    names = list(dict.fromkeys(s.speaker for s in named.segments))
    assert letters == ["A", "B"], letters  # one speaker per channel
    assert names == ["Ada", "Bob"], names
    mapping = dict(zip(letters, names, strict=True))
    assert [mapping[s.speaker] for s in plain.segments] == [s.speaker for s in named.segments]


@pytest.mark.parametrize(
    ("model", "kwargs", "param", "code"),
    [
        ("gpt-4o-transcribe", {"keywords": ["ComfyUI"]}, "keywords", "unsupported_parameter"),
        ("whisper-1", {"languages": ["en", "de"]}, "languages", "unsupported_parameter"),
        ("gpt-transcribe", {"languages": ["english"]}, "languages", "invalid_value"),
        ("gpt-transcribe", {"languages": ["xx"]}, "languages", "invalid_value"),
        ("gpt-transcribe", {"keywords": [""]}, "keywords", "invalid_value"),
        ("gpt-transcribe", {"known_speaker_names": ["Ada"]}, "known_speaker_names", "unsupported_parameter"),
        (
            "gpt-4o-transcribe-diarize",
            {"known_speaker_names": ["Ada"], "known_speaker_references": ["https://example.com/a.wav"]},
            "known_speaker_references",
            "invalid_value",
        ),
        (
            "gpt-4o-transcribe-diarize",
            {"known_speaker_names": ["Ada", "Bob"], "known_speaker_references": [_wav_data_url()]},
            "known_speaker_references",
            "invalid_value",
        ),
        (
            "gpt-4o-transcribe-diarize",
            {"known_speaker_names": list("ABCDE"), "known_speaker_references": [_wav_data_url()] * 5},
            "known_speaker_names",
            "invalid_value",
        ),
    ],
)
def test_new_transcription_fields_are_refused_by_name(client, speech_dir, model, kwargs, param, code):
    data = (speech_dir / "jfk.flac").read_bytes()
    with pytest.raises(openai.BadRequestError) as e:
        client.audio.transcriptions.create(file=("j.flac", data), model=model, **kwargs)
    assert (e.value.body["param"], e.value.body["code"]) == (param, code), e.value.body
    assert e.value.body["type"] == "invalid_request_error"


# ------------------------------------------------------------------ custom voices


def test_custom_voices_are_refused_on_speech_and_chat(client):
    with pytest.raises(openai.BadRequestError) as e:
        client.audio.speech.create(model="gpt-4o-mini-tts", voice={"id": "voice_abc"}, input="Hi.")
    assert e.value.body["param"] == "voice"
    assert "custom voices (voice_abc) live in your OpenAI account" in e.value.body["message"]
    assert "13 built-in voices only" in e.value.body["message"]
    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(
            model="gpt-audio-1.5",
            modalities=["text", "audio"],
            audio={"voice": {"id": "voice_abc"}, "format": "wav"},
            messages=[{"role": "user", "content": "Hi"}],
        )
    assert e.value.body["param"] == "audio.voice"
    assert "custom voices (voice_abc) live in your OpenAI account" in e.value.body["message"]


# ------------------------------------------------------------------ realtime session fields


def _case(session: dict[str, Any], param: str, code: str, model: str | None = None) -> Any:
    return pytest.param(session, param, code, model, id=f"{param}-{code}-{model or 'default'}")


async def _update(backend_url: str, session: dict[str, Any], model: str = "gpt-realtime-2.1-mini") -> Any:
    """``session.update``; the ``session.updated`` or the ``error`` (after which the session still answers)."""
    async with client_for(backend_url).realtime.connect(model=model) as conn:
        await collect(conn, "session.created")
        await conn.session.update(session={"type": "realtime", **session})
        last = (await collect(conn, lambda e: e.type in ("session.updated", "error")))[-1]
        if last.type == "error":
            await conn.session.update(session={"type": "realtime", "instructions": "Be brief."})
            assert (await collect(conn, lambda e: e.type in ("session.updated", "error")))[-1].type == (
                "session.updated"
            )
        return last


def test_new_session_fields_are_echoed_in_the_sdk_shape(backend_url):
    session = {
        "reasoning": {"effort": "low"},
        "parallel_tool_calls": False,
        "truncation": {"type": "retention_ratio", "retention_ratio": 0.5, "token_limits": {"post_instructions": 8000}},
        "audio": {
            "input": {
                "noise_reduction": {"type": "far_field", "strength": 2.0},
                "transcription": {"model": "gpt-transcribe", "keywords": ["ComfyUI"], "languages": ["en", "de"]},
            },
            "output": {"voice": "cedar"},
        },
    }
    updated = asyncio.run(_update(backend_url, session))
    assert updated.type == "session.updated", updated
    s = updated.session
    assert s.reasoning.effort == "low"
    assert s.parallel_tool_calls is False
    assert s.truncation.type == "retention_ratio" and s.truncation.retention_ratio == 0.5
    assert s.truncation.token_limits.post_instructions == 8000
    assert s.audio.input.noise_reduction.type == "far_field" and s.audio.input.noise_reduction.strength == 2.0
    assert s.audio.input.transcription.keywords == ["ComfyUI"]
    assert s.audio.input.transcription.languages == ["en", "de"]


@pytest.mark.parametrize(
    ("session", "param", "code", "model"),
    [
        _case(*c)
        for c in [
            ({"reasoning": {"effort": "max"}}, "session.reasoning.effort", "invalid_value", None),
            ({"reasoning": {"effort": "low"}}, "session.reasoning", "unsupported_parameter", "gpt-realtime-1.5"),
            ({"parallel_tool_calls": "no"}, "session.parallel_tool_calls", "invalid_type", None),
            ({"parallel_tool_calls": False}, "session.parallel_tool_calls", "unsupported_parameter", "gpt-audio-1.5"),
            ({"truncation": "sometimes"}, "session.truncation", "invalid_value", None),
            (
                {"truncation": {"type": "retention_ratio", "retention_ratio": 1.5}},
                "session.truncation.retention_ratio",
                "invalid_value",
            ),
            (
                {"truncation": {"type": "retention_ratio"}},
                "session.truncation.retention_ratio",
                "missing_required_parameter",
            ),
            (
                {"audio": {"input": {"noise_reduction": {"type": "near_field", "strength": 0}}}},
                "session.audio.input.noise_reduction.strength",
                "invalid_value",
            ),
            (
                {"audio": {"input": {"transcription": {"model": "gpt-live-transcribe", "delay": "low"}}}},
                "session.audio.input.transcription.delay",
                "unsupported_parameter",
            ),
            (
                {"audio": {"input": {"transcription": {"model": "gpt-realtime-whisper", "delay": "slow"}}}},
                "session.audio.input.transcription.delay",
                "invalid_value",
            ),
            (
                {"audio": {"input": {"transcription": {"model": "whisper-1", "keywords": ["x"]}}}},
                "session.audio.input.transcription.keywords",
                "unsupported_parameter",
            ),
            (
                {"audio": {"input": {"transcription": {"model": "gpt-realtime-whisper", "languages": ["en"]}}}},
                "session.audio.input.transcription.languages",
                "unsupported_parameter",
            ),
            (
                {"audio": {"input": {"transcription": {"model": "gpt-transcribe", "languages": ["english"]}}}},
                "session.audio.input.transcription.languages",
                "invalid_value",
            ),
        ]
    ],
)
def test_bad_new_session_fields_are_refused_by_name_and_the_session_stays_open(
    backend_url, session, param, code, model
):
    error = asyncio.run(_update(backend_url, session, model or "gpt-realtime-2.1-mini"))
    assert error.type == "error", error
    assert (error.error.param, error.error.code) == (param, code), error.error


def test_a_custom_voice_is_refused_in_a_realtime_session(backend_url):
    error = asyncio.run(_update(backend_url, {"audio": {"output": {"voice": {"id": "voice_abc"}}}}))
    assert error.type == "error" and error.error.param == "session.audio.output.voice"
    assert "custom voices (voice_abc) live in your OpenAI account" in error.error.message


def test_delay_maps_onto_the_interim_decode_cadence():
    for delay, ms in (("minimal", 500), ("medium", 1500), ("xhigh", 3000)):
        assert cfg.interim_ms({"model": "gpt-realtime-whisper", "delay": delay}) == ms
    assert cfg.interim_ms({"model": "gpt-live-transcribe"}) == get_catalog().local.realtime.live_interim_ms


def test_reasoning_effort_scales_the_reply_budget():
    cap = get_catalog().local.realtime.reply_max_tokens
    assert cfg.reply_token_cap({"reasoning": None}) == cap
    assert cfg.reply_token_cap({"reasoning": {"effort": "minimal"}}) == round(cap * 0.25)
    assert cfg.reply_token_cap({"reasoning": {"effort": "xhigh"}}) == cap * 2


def test_noise_reduction_strength_scales_the_denoiser():
    """Steady noise near the denoiser's floor (a quiet room hiss): the stronger the setting,
    the less of it is left (afftdn's reduction in dB is scaled by the strength)."""
    hiss = (0.003 * np.random.default_rng(0).standard_normal(16000 * 3)).astype(np.float32)

    def left(strength: float) -> float:
        return float(np.sqrt(np.mean(dsp.denoise(hiss, 16000, "near_field", strength)[8000:] ** 2)))

    weak, normal, strong = left(0.25), left(1.0), left(3.0)
    assert weak > 1.5 * normal and normal > 1.5 * strong, (weak, normal, strong)
    assert dict(dsp.denoise_chain("far_field", 2.0))["afftdn"].startswith("nr=40:")


@pytest.mark.models
def test_minimal_reasoning_effort_cuts_a_long_reply_short(backend_url):
    async def run(effort: str) -> Any:
        async with client_for(backend_url).realtime.connect(model="gpt-realtime-2.1-mini") as conn:
            await collect(conn, "session.created")
            await conn.session.update(
                session={
                    "type": "realtime",
                    "output_modalities": ["text"],
                    "reasoning": {"effort": effort},
                    "instructions": "You are a storyteller. Write long, detailed stories.",
                }
            )
            await collect(conn, "session.updated")
            await conn.conversation.item.create(
                item={
                    "type": "message",
                    "role": "user",
                    "content": [
                        {
                            "type": "input_text",
                            "text": "Write a long story about a dragon, at least three hundred words.",
                        }
                    ],
                }
            )
            await conn.response.create()
            return (await collect(conn, "response.done", timeout=180))[-1].response

    done = asyncio.run(run("minimal"))
    assert done.usage.output_tokens <= cfg.reply_token_cap({"reasoning": {"effort": "minimal"}})
    assert done.status == "incomplete" and done.status_details.reason == "max_output_tokens", done


def test_retention_ratio_drops_to_that_fraction_of_the_item_limit(backend_url):
    limit = get_catalog().limits.realtime_items_max

    async def run(truncation: Any) -> tuple[bool, bool]:
        async with client_for(backend_url).realtime.connect(model="gpt-realtime-2.1-mini") as conn:
            await collect(conn, "session.created")
            await conn.session.update(session={"type": "realtime", "truncation": truncation})
            await collect(conn, "session.updated")
            for i in range(limit + 1):
                await conn.conversation.item.create(
                    item={
                        "id": f"item_{i:04d}",
                        "type": "message",
                        "role": "user",
                        "content": [{"type": "input_text", "text": f"note {i}"}],
                    }
                )
            await collect(conn, lambda e: e.type == "conversation.item.done" and e.item.id == f"item_{limit:04d}")
            found = []
            for i in (limit // 4, limit - 10):
                await conn.conversation.item.retrieve(item_id=f"item_{i:04d}")
                last = (await collect(conn, lambda e: e.type in ("conversation.item.retrieved", "error")))[-1]
                found.append(last.type == "conversation.item.retrieved")
            return found[0], found[1]

    assert asyncio.run(run("auto")) == (True, True)  # only the oldest item went
    assert asyncio.run(run({"type": "retention_ratio", "retention_ratio": 0.5})) == (False, True)


# ------------------------------------------------------------------ realtime transcription


async def _transcribe(backend_url: str, transcription: dict[str, Any], samples: np.ndarray) -> list[Any]:
    async with client_for(backend_url).realtime.connect(extra_query=TRANSCRIPTION) as conn:
        await collect(conn, "session.created")
        await conn.session.update(
            session={
                "type": "transcription",
                "audio": {
                    "input": {
                        "transcription": transcription,
                        "turn_detection": {"type": "server_vad", "silence_duration_ms": 1200},
                    }
                },
            }
        )
        await collect(conn, "session.updated")
        events: list[Any] = []
        reader = asyncio.create_task(
            collect(conn, "conversation.item.input_audio_transcription.completed", events=events, timeout=300)
        )
        await send_audio(conn, samples, pace=1.0)
        return await reader


@pytest.mark.models
@pytest.mark.parametrize(
    "transcription",
    [
        {"model": "gpt-live-transcribe", "language": "en", "keywords": ["Americans"]},
        {"model": "gpt-realtime-whisper", "language": "en", "delay": "minimal"},
    ],
    ids=["gpt-live-transcribe", "gpt-realtime-whisper"],
)
def test_realtime_transcription_models_stream_deltas_while_the_speaker_talks(backend_url, transcription):
    samples = np.concatenate([silence(0.5), clip("jfk.flac"), silence(2.0)])
    events = asyncio.run(_transcribe(backend_url, transcription, samples))
    kinds = [e.type for e in events]
    stopped = kinds.index("input_audio_buffer.speech_stopped")
    deltas = [e for e in events if e.type == "conversation.item.input_audio_transcription.delta"]
    assert [d for d in deltas if events.index(d) < stopped], f"no text before the end of the turn: {kinds}"
    completed = events[-1]
    assert "".join(d.delta for d in deltas) == completed.transcript
    reference, said = manifest_text("jfk.flac"), completed.transcript
    if cfg.agreement(transcription) > 1:
        assert wer(reference, said) <= 0.15, said
    else:
        # "minimal" sends what one interim decode heard of the audio so far, before any
        # other decode confirms it, and a sent word is never taken back: a word misheard
        # at a cut ("am I fell on" for "my fellow") may stay beside the final decode's
        # version of it, but no word of the speech may go missing
        diff = word_diff(reference, said)
        assert diff.deletions + diff.substitutions <= 0.15 * diff.reference_words, (said, diff)
        assert diff.insertions <= 0.3 * diff.reference_words, (said, diff)
