"""One recording through two live transcription delays: when text appears, and how right it ends.

gpt-realtime-whisper takes ``delay`` (minimal … xhigh): a short one shows the first words
sooner, a long one waits for more audio and is steadier. ``compare_delays`` plays the same
PCM16 (24 kHz mono) into one realtime transcription session per delay, at once, as a
microphone would: the SDK's ``client.realtime.connect(extra_query={"intent": "transcription"})``
and ``session.update`` (what the relay's transcription mode opens), 40 ms appends paced in
real time, then 1.5 s of silence so the last turn ends. Every transcription delta is
stamped on the audio clock (ms since the first append); the words it added, the time to
first text, the completed transcripts and the WER against a reference (the user's, or a
file transcription of the same audio with the catalog's file default model) follow.

The pure pieces (``word_timeline``, ``first_text_ms``, ``final_text``, ``score``) take
recorded events and do no I/O; ``play_session`` and ``compare_delays`` talk to the provider.
"""

from __future__ import annotations

import asyncio
import base64
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import openai

from playground.client.providers import Provider
from playground.core import audio
from playground.core.catalog import get_catalog
from playground.core.errors import PlaygroundError, ProviderError
from playground.core.specs import RealtimeTranscriptionSpec, TranscriptionSpec
from playground.core.textmetrics import word_error_rate

__all__ = [
    "FRAME_MS",
    "TAIL_SILENCE_MS",
    "DelayComparison",
    "DelayRun",
    "TranscriptEvent",
    "compare_delays",
    "delay_model",
    "final_text",
    "first_text_ms",
    "max_seconds",
    "pcm_from_file",
    "play_session",
    "score",
    "word_timeline",
]

FRAME_MS = 40
TAIL_SILENCE_MS = 1500
#: after the last append: how long the final transcripts may take
FINISH_TIMEOUT_S = 60.0
#: a turn that stopped is committed soon after: how long to wait for that
COMMIT_GRACE_S = 1.0
#: connecting and ``session.updated``
CONNECT_TIMEOUT_S = 30.0

Progress = Callable[[float], None]


@dataclass(frozen=True)
class TranscriptEvent:
    """A transcription event as received: ``at_ms`` on the audio clock (ms since the first append)."""

    at_ms: float
    #: "started": the turn's speech began (no text), so turns keep their spoken order
    kind: Literal["started", "delta", "completed"]
    item_id: str
    text: str


@dataclass(frozen=True)
class DelayRun:
    """One delay's session: what arrived when, and the verdict."""

    delay: str
    spec: RealtimeTranscriptionSpec
    events: tuple[TranscriptEvent, ...] = ()
    #: the audio clock's length (speech and the silence after it), ms
    audio_ms: float = 0.0
    error: str = ""
    wer: float | None = None

    @property
    def first_text_ms(self) -> float | None:
        return first_text_ms(self.events)

    @property
    def text(self) -> str:
        return final_text(self.events)

    @property
    def words(self) -> list[tuple[float, str]]:
        return word_timeline(self.events)

    @property
    def completed_ms(self) -> float | None:
        done = [e.at_ms for e in self.events if e.kind == "completed"]
        return max(done) if done else None


@dataclass(frozen=True)
class DelayComparison:
    runs: tuple[DelayRun, ...]
    reference: str
    #: "yours" (typed by the user), the model that transcribed the file, or "" when none
    reference_source: str
    duration_s: float
    reference_error: str = ""
    notes: tuple[str, ...] = field(default=())


# ----------------------------------------------------------------- pure helpers


def _item_texts(events: Sequence[TranscriptEvent]) -> dict[str, str]:
    """Each turn's text after the events: deltas appended, a ``completed`` replacing them."""
    texts: dict[str, str] = {}
    for e in events:
        if e.kind == "completed":
            texts[e.item_id] = e.text
        else:
            texts[e.item_id] = texts.get(e.item_id, "") + e.text
    return texts


def word_timeline(events: Sequence[TranscriptEvent]) -> list[tuple[float, str]]:
    """(ms, word) for every word the moment it was on screen, turns in the order they began.

    A delta that only continues a word ("Amer" + "icans") adds nothing; a ``completed``
    that revises its turn counts only the words beyond those already shown.
    """
    texts: dict[str, str] = {}
    shown: dict[str, int] = {}
    out: list[tuple[float, str]] = []
    for e in sorted(events, key=lambda e: e.at_ms):
        texts[e.item_id] = e.text if e.kind == "completed" else texts.get(e.item_id, "") + e.text
        words = texts[e.item_id].split()
        # a word still growing at the end of a delta counts once it is there at all
        for word in words[shown.get(e.item_id, 0) :]:
            out.append((e.at_ms, word))
        shown[e.item_id] = max(shown.get(e.item_id, 0), len(words))
    return out


def first_text_ms(events: Sequence[TranscriptEvent]) -> float | None:
    """When the first non-blank text arrived (delta or completed), ms on the audio clock."""
    times = [e.at_ms for e in events if e.text.strip()]
    return min(times) if times else None


def final_text(events: Sequence[TranscriptEvent]) -> str:
    """The turns' texts in the order the turns began (not the order their text came), joined by spaces."""
    return " ".join(t.strip() for t in _item_texts(events).values() if t.strip())


def score(reference: str, text: str) -> float | None:
    """WER of ``text`` against ``reference`` (Whisper's normaliser); None without a reference."""
    return word_error_rate(reference, text) if (reference or "").strip() else None


def delay_model() -> str:
    """The first live transcription model that takes a delay (gpt-realtime-whisper)."""
    cat = get_catalog()
    for model_id in cat.realtime.transcription_models:
        info = cat.transcription_model(model_id)
        if info is not None and info.delay:
            return model_id
    raise PlaygroundError("the catalog has no live transcription model that takes a delay")


def max_seconds() -> int:
    """The longest audio a comparison plays: what the relay keeps of a live recording."""
    return int(get_catalog().limits.live_recording_max_seconds)


def pcm_frames(pcm: bytes, rate: int, frame_ms: int = FRAME_MS) -> list[bytes]:
    """PCM16 cut into ``frame_ms`` frames (the last may be shorter)."""
    step = rate * frame_ms // 1000 * 2
    pcm = pcm[: len(pcm) // 2 * 2]
    return [pcm[i : i + step] for i in range(0, len(pcm), step)]


# ----------------------------------------------------------------- one session


def _event_error(event: Any) -> str:
    error = getattr(event, "error", None)
    return str(getattr(error, "message", None) or error or "unknown error")


async def play_session(
    provider: Provider,
    spec: RealtimeTranscriptionSpec,
    pcm: bytes,
    *,
    on_progress: Progress | None = None,
    finish_timeout: float = FINISH_TIMEOUT_S,
) -> DelayRun:
    """Play ``pcm`` (PCM16 at the catalog's realtime rate) into one transcription session.

    Errors come back in ``DelayRun.error`` as one readable, key-free sentence.
    """
    rate = get_catalog().realtime.pcm_rate
    frames = pcm_frames(pcm, rate) + pcm_frames(bytes(rate * TAIL_SILENCE_MS // 1000 * 2), rate)
    audio_ms = len(frames) * FRAME_MS  # close enough: only the speech's last frame may be short
    events: list[TranscriptEvent] = []
    run = DelayRun(delay=spec.delay, spec=spec, audio_ms=float(audio_ms))
    try:
        async with asyncio.timeout(CONNECT_TIMEOUT_S + audio_ms / 1000 + finish_timeout):
            events = await _session(provider, spec, frames, on_progress, finish_timeout)
    except ProviderError as e:
        return replace(run, events=tuple(events), error=str(e))
    except TimeoutError:
        return replace(run, error=f"{provider.label} took too long: no final transcript within the time allowed")
    except openai.APIStatusError as e:
        message = f"{provider.label} refused the session ({e.status_code}): {e.message}"
        return replace(run, error=provider.redact(message))
    except Exception as e:  # noqa: BLE001 - websockets and socket errors: one readable message
        where = provider.public()["base_url"]
        return replace(run, error=provider.redact(f"cannot talk to {where} ({type(e).__name__}: {e})"))
    return replace(run, events=tuple(events))


async def _session(
    provider: Provider,
    spec: RealtimeTranscriptionSpec,
    frames: list[bytes],
    on_progress: Progress | None,
    finish_timeout: float,
) -> list[TranscriptEvent]:
    events: list[TranscriptEvent] = []
    client = provider.async_client()
    async with client.realtime.connect(**spec.to_kwargs()) as conn:
        await conn.session.update(session=spec.to_session())  # type: ignore[arg-type]
        while True:
            first = await conn.recv()
            if first.type == "error":
                raise ProviderError(provider.redact(f"the session was refused: {_event_error(first)}"))
            if first.type == "session.updated":
                break
        t0 = time.perf_counter()
        open_turns: set[str] = set()  # committed, not yet completed or failed
        speaking = False
        stopped_at = 0.0  # a stopped turn's commit follows; wait a moment for it
        failure: list[str] = []

        async def listen() -> None:
            nonlocal speaking, stopped_at
            async for event in conn:
                at = (time.perf_counter() - t0) * 1000.0
                kind = event.type
                if kind == "input_audio_buffer.speech_started":
                    speaking = True
                    events.append(TranscriptEvent(at, "started", event.item_id, ""))
                elif kind == "input_audio_buffer.speech_stopped":
                    speaking, stopped_at = False, time.perf_counter()
                elif kind == "input_audio_buffer.committed":
                    open_turns.add(event.item_id)
                elif kind == "conversation.item.input_audio_transcription.delta":
                    events.append(TranscriptEvent(at, "delta", event.item_id, event.delta or ""))
                elif kind == "conversation.item.input_audio_transcription.completed":
                    events.append(TranscriptEvent(at, "completed", event.item_id, event.transcript or ""))
                    open_turns.discard(event.item_id)
                elif kind == "conversation.item.input_audio_transcription.failed":
                    open_turns.discard(event.item_id)
                    failure.append(f"a turn could not be transcribed: {_event_error(event)}")
                elif kind == "error":
                    failure.append(_event_error(event))
                    return

        listener = asyncio.create_task(listen())
        try:
            for k, frame in enumerate(frames):
                await asyncio.sleep(max(0.0, t0 + k * FRAME_MS / 1000 - time.perf_counter()))
                if listener.done():
                    break
                await conn.input_audio_buffer.append(audio=base64.b64encode(frame).decode())
                if on_progress is not None and k % 25 == 0:
                    on_progress((k + 1) / len(frames))
            if spec.turn_detection == "none" and not listener.done():
                await conn.input_audio_buffer.commit()  # no VAD: the client ends the one turn
                stopped_at = time.perf_counter()
            deadline = time.perf_counter() + finish_timeout

            def busy() -> bool:
                return bool(open_turns) or speaking or time.perf_counter() - stopped_at < COMMIT_GRACE_S

            # the tail's silence ends the last turn; then wait for every committed turn's text
            while busy() and not listener.done():
                if time.perf_counter() > deadline:
                    raise TimeoutError
                await asyncio.sleep(0.05)
            if listener.done() and not failure:
                if listener.exception() is not None:
                    raise listener.exception()  # type: ignore[misc]
                if busy():
                    raise ProviderError(f"{provider.label} closed the session before the last transcript")
        finally:
            listener.cancel()
            await asyncio.gather(listener, return_exceptions=True)
        if on_progress is not None:
            on_progress(1.0)
        if failure:
            raise ProviderError(provider.redact(f"{provider.label}: {failure[0]}"))
    return events


# ----------------------------------------------------------------- the comparison


def _reference(provider: Provider, pcm: bytes, rate: int, language: str) -> tuple[str, str]:
    """A file transcription of the same audio with the catalog's file default model."""
    from playground.client.runner import Runner  # the runner imports much; only this path needs it

    model = get_catalog().transcription_default_model
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "recording.wav"
        path.write_bytes(audio.pcm16_wav(pcm, rate))
        result = Runner(provider).transcribe(TranscriptionSpec(file=str(path), model=model, language=language))
    return result.text, model


def compare_delays(
    provider: Provider,
    pcm: bytes,
    delays: Sequence[str],
    *,
    base: RealtimeTranscriptionSpec | None = None,
    reference: str = "",
    on_progress: Progress | None = None,
    finish_timeout: float = FINISH_TIMEOUT_S,
) -> DelayComparison:
    """Play ``pcm`` (PCM16 mono at the catalog's realtime rate) through one session per delay at
    once, on the delay model with ``base``'s other settings, and score each against
    ``reference`` or, without one, a file transcription of the same audio.

    Raises ``PlaygroundError`` for settings or audio that cannot run (no request is made);
    a provider's failure lands in that delay's ``DelayRun.error``.
    """
    rate = get_catalog().realtime.pcm_rate
    pcm = bytes(pcm[: len(pcm) // 2 * 2])
    seconds = len(pcm) / 2 / rate
    if seconds < 0.1:
        raise PlaygroundError("The recording is too short to compare: record or upload some speech first.")
    if seconds > max_seconds():
        raise PlaygroundError(f"The recording is {seconds:.0f} s long; a comparison plays at most {max_seconds()} s.")
    base = base or RealtimeTranscriptionSpec()
    specs = [replace(base, model=delay_model(), delay=d) for d in delays]
    problems = [str(p) for spec in specs for p in spec.problems()]
    if problems:
        raise PlaygroundError("Fix the settings first: " + "; ".join(dict.fromkeys(problems)))
    shares = [0.0] * len(specs)

    def progress(i: int) -> Progress:
        def report(fraction: float) -> None:
            shares[i] = fraction
            if on_progress is not None:
                on_progress(min(shares))

        return report

    async def both() -> list[DelayRun]:
        return list(
            await asyncio.gather(
                *[
                    play_session(provider, s, pcm, on_progress=progress(i), finish_timeout=finish_timeout)
                    for i, s in enumerate(specs)
                ]
            )
        )

    runs = asyncio.run(both())
    ref, source, ref_error = (reference or "").strip(), "yours" if (reference or "").strip() else "", ""
    if not ref and any(not r.error for r in runs):  # after the sessions, so it does not skew their timing
        try:
            ref, source = _reference(provider, pcm, rate, base.language)
        except PlaygroundError as e:
            ref_error = f"No reference for the WER: the file transcription failed ({e})"
    runs = [replace(r, wer=score(ref, r.text)) if not r.error else r for r in runs]
    return DelayComparison(tuple(runs), ref, source, seconds, ref_error)


def pcm_from_file(path: str | Path) -> bytes:
    """Any audio file as PCM16 mono at the realtime rate, bounded like a comparison."""
    rate = get_catalog().realtime.pcm_rate
    samples = audio.decode_mono(str(path), rate, max_seconds=max_seconds())
    return audio.float_to_pcm16(samples)
