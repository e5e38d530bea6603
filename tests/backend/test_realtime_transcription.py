"""Realtime transcription sessions through the real SDK: ``connect(extra_query={"intent":
"transcription"})`` on the embedded backend, audio in, VAD turns, streamed deltas and one
``completed`` per turn, noise reduction, and no responses ever."""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
import pytest

from tests.backend.conftest import wer
from tests.backend.realtime_support import client_for, clip, collect, manifest_text, send_audio, silence, types

pytestmark = pytest.mark.models

JFK = "jfk.flac"
TRANSCRIPTION = {"intent": "transcription"}


def _session(**audio_in: Any) -> dict[str, Any]:
    return {"type": "transcription", "audio": {"input": audio_in}}


async def _turns(backend_url: str, session: dict[str, Any], samples: np.ndarray) -> tuple[Any, list[Any]]:
    """Send ``samples`` into a transcription session; the session as updated, and every event
    up to the moment each committed turn has its ``completed`` (or ``failed``)."""
    async with client_for(backend_url).realtime.connect(extra_query=TRANSCRIPTION) as conn:
        created = (await collect(conn, "session.created"))[-1]
        assert created.session.type == "transcription"
        await conn.session.update(session=session)
        updated = (await collect(conn, "session.updated"))[-1]
        await send_audio(conn, samples)
        events: list[Any] = []
        ended = (
            "conversation.item.input_audio_transcription.completed",
            "conversation.item.input_audio_transcription.failed",
        )

        def settled(_: Any) -> bool:
            committed = {e.item_id for e in events if e.type == "input_audio_buffer.committed"}
            done = {e.item_id for e in events if e.type in ended}
            started = sum(e.type == "input_audio_buffer.speech_started" for e in events)
            stopped = sum(e.type == "input_audio_buffer.speech_stopped" for e in events)
            return bool(committed) and committed == done and started == stopped

        await collect(conn, settled, events=events, timeout=300)
        return updated, events


def _per_item(events: list[Any]) -> dict[str, dict[str, Any]]:
    """Each committed item's deltas and completed event, with their positions in the stream."""
    items: dict[str, dict[str, Any]] = {}
    for i, e in enumerate(events):
        if e.type == "input_audio_buffer.committed":
            items[e.item_id] = {"deltas": [], "completed": None}
        elif e.type == "conversation.item.input_audio_transcription.delta":
            items[e.item_id]["deltas"].append((i, e))
        elif e.type == "conversation.item.input_audio_transcription.completed":
            items[e.item_id]["completed"] = (i, e)
    return items


def _padded(samples: np.ndarray) -> np.ndarray:
    return np.concatenate([silence(0.5), samples, silence(2.0)])


def test_a_transcription_session_transcribes_jfk_with_deltas_before_completed(backend_url):
    session = _session(
        transcription={"model": "gpt-4o-transcribe", "language": "en"},
        turn_detection={"type": "server_vad", "silence_duration_ms": 500},
    )
    updated, events = asyncio.run(_turns(backend_url, session, _padded(clip(JFK))))
    assert updated.session.type == "transcription"
    assert updated.session.audio.input.transcription.model == "gpt-4o-transcribe"
    assert not [t for t in types(events) if t.startswith("response.") or t == "error"], types(events)
    items = _per_item(events)
    transcripts = []
    for item_id, item in items.items():
        assert item["completed"] is not None, f"{item_id} never completed: {types(events)}"
        at, completed = item["completed"]
        deltas = item["deltas"]
        assert deltas, f"{item_id}: no delta before completed"
        assert all(i < at for i, _ in deltas)  # every delta arrives before its completed
        assert "".join(d.delta for _, d in deltas) == completed.transcript
        assert completed.usage.type == "duration" and completed.usage.seconds > 0
        transcripts.append(completed.transcript)
    heard = " ".join(transcripts)
    assert wer(manifest_text(JFK), heard) <= 0.10, heard
    # turns follow the speech: started before stopped, item ids shared with the commit
    started = [e for e in events if e.type == "input_audio_buffer.speech_started"]
    stopped = [e for e in events if e.type == "input_audio_buffer.speech_stopped"]
    assert [e.item_id for e in started] == [e.item_id for e in stopped] == list(items)
    assert all(a.audio_start_ms < b.audio_end_ms for a, b in zip(started, stopped, strict=True))


def test_the_text_grows_while_the_speaker_is_still_talking(backend_url):
    """JFK's 11 s as one turn, sent at a microphone's pace: words go out as deltas before the
    turn ends (interim decodes that agree), the final decode adds the rest, and the deltas
    add up to the completed transcript."""
    session = _session(
        transcription={"model": "gpt-4o-mini-transcribe", "language": "en"},
        turn_detection={"type": "server_vad", "silence_duration_ms": 1200},  # one turn
    )

    async def run() -> list[Any]:
        async with client_for(backend_url).realtime.connect(extra_query=TRANSCRIPTION) as conn:
            await collect(conn, "session.created")
            await conn.session.update(session=session)
            await collect(conn, "session.updated")
            events: list[Any] = []
            reader = asyncio.create_task(
                collect(conn, "conversation.item.input_audio_transcription.completed", events=events, timeout=300)
            )
            await send_audio(conn, _padded(clip(JFK)), pace=1.0)
            return await reader

    events = asyncio.run(run())
    kinds = types(events)
    stopped = kinds.index("input_audio_buffer.speech_stopped")
    deltas = [e for e in events if e.type == "conversation.item.input_audio_transcription.delta"]
    early = [d for d in deltas if events.index(d) < stopped]
    assert early, f"no text before the end of the turn: {kinds}"
    completed = events[-1]
    assert all(d.item_id == completed.item_id for d in deltas)
    assert "".join(d.delta for d in deltas) == completed.transcript
    assert wer(manifest_text(JFK), completed.transcript) <= 0.10, completed.transcript


def test_whisper_1_sends_the_whole_turn_as_one_delta_and_logprobs_when_asked(backend_url):
    session = _session(
        transcription={"model": "whisper-1", "language": "en", "prompt": "Kennedy's inaugural address."},
        turn_detection={"type": "server_vad", "silence_duration_ms": 1200},  # one turn
    )
    session["include"] = ["item.input_audio_transcription.logprobs"]
    updated, events = asyncio.run(_turns(backend_url, session, _padded(clip(JFK))))
    assert updated.session.include == ["item.input_audio_transcription.logprobs"]
    items = _per_item(events)
    assert len(items) == 1
    (item,) = items.values()
    _, completed = item["completed"]
    assert [d.delta for _, d in item["deltas"]] == [completed.transcript]
    assert wer(manifest_text(JFK), completed.transcript) <= 0.10, completed.transcript
    words = completed.logprobs
    assert words and all(w.logprob <= 0 for w in words)
    assert "".join(w.token for w in words).strip() == completed.transcript.strip()
    assert all(bytes(w.bytes).decode() == w.token for w in words)


@pytest.mark.parametrize("noise", ["near_field", "far_field"])
def test_noise_reduction_is_applied_and_noisy_speech_still_transcribes(backend_url, noise):
    rng = np.random.default_rng(7)
    speech = clip(JFK)
    hiss = rng.normal(0.0, 1.0, len(speech)).astype(np.float32)
    hiss *= np.sqrt(np.mean(speech**2) / np.mean(hiss**2)) / 10 ** (15 / 20)  # 15 dB SNR
    session = _session(
        transcription={"model": "gpt-4o-mini-transcribe", "language": "en"},
        noise_reduction={"type": noise},
        turn_detection={"type": "server_vad", "silence_duration_ms": 1200},
    )
    updated, events = asyncio.run(_turns(backend_url, session, _padded(speech + hiss)))
    assert updated.session.audio.input.noise_reduction.type == noise
    heard = " ".join(e.transcript for e in events if e.type.endswith("input_audio_transcription.completed"))
    assert wer(manifest_text(JFK), heard) <= 0.25, heard


def test_semantic_vad_turns_are_transcribed(backend_url):
    session = _session(
        transcription={"model": "gpt-4o-mini-transcribe", "language": "en"},
        turn_detection={"type": "semantic_vad", "eagerness": "low"},
    )
    updated, events = asyncio.run(_turns(backend_url, session, _padded(clip(JFK))))
    assert updated.session.audio.input.turn_detection.type == "semantic_vad"
    heard = " ".join(e.transcript for e in events if e.type.endswith("input_audio_transcription.completed"))
    assert wer(manifest_text(JFK), heard) <= 0.15, heard


# ------------------------------------------------------------------------ refusals


async def _error_then_alive(backend_url: str, event: dict[str, Any]) -> Any:
    """Send ``event``; return its error after proving the session still transcribes settings."""
    async with client_for(backend_url).realtime.connect(extra_query=TRANSCRIPTION) as conn:
        await collect(conn, "session.created")
        await conn.send(event)
        error = (await collect(conn, "error", timeout=60))[-1].error
        await conn.session.update(session=_session(transcription={"model": "whisper-1"}))
        updated = (await collect(conn, "session.updated"))[-1]
        assert updated.session.audio.input.transcription.model == "whisper-1"
        return error


@pytest.mark.parametrize(
    ("event", "param", "code"),
    [
        ({"type": "response.create"}, "type", "invalid_value"),
        ({"type": "response.cancel"}, "type", "invalid_value"),
        (
            {"type": "conversation.item.create", "item": {"type": "message", "role": "user", "content": []}},
            "type",
            "invalid_value",
        ),
        ({"type": "session.update", "session": {"type": "realtime"}}, "session.type", "invalid_value"),
        (
            {"type": "session.update", "session": {"type": "transcription", "instructions": "Be brief."}},
            "session.instructions",
            "unknown_parameter",
        ),
        (
            {"type": "session.update", "session": _session(transcription=None)},
            "session.audio.input.transcription",
            "invalid_value",
        ),
        (
            {"type": "session.update", "session": _session(transcription={"model": "gpt-realtime"})},
            "session.audio.input.transcription.model",
            "invalid_value",
        ),
        (
            {"type": "session.update", "session": {"type": "transcription", "include": ["usage"]}},
            "session.include",
            "invalid_value",
        ),
    ],
)
def test_conversation_events_and_bad_settings_are_refused_and_the_session_stays_open(backend_url, event, param, code):
    error = asyncio.run(_error_then_alive(backend_url, event))
    assert (error.param, error.code) == (param, code), error
    assert error.message


def test_the_url_says_which_kind_of_session(backend_url):
    async def first_event(**kwargs: Any) -> Any:
        async with client_for(backend_url).realtime.connect(**kwargs) as conn:
            return await conn.recv()

    created = asyncio.run(first_event(extra_query=TRANSCRIPTION, model="gpt-4o-transcribe"))
    assert created.type == "session.created" and created.session.type == "transcription"
    assert created.session.audio.input.transcription.model  # on from the start
    for bad in ({"extra_query": {"intent": "translation"}}, {"extra_query": TRANSCRIPTION, "model": "tts-1"}):
        error = asyncio.run(first_event(**bad))
        assert error.type == "error" and error.error.param in ("intent", "model"), error
