"""Play a scenario into a realtime session, turn by turn, in real time, and measure it.

Each run opens a fresh connection (the SDK's ``client.realtime.connect``, or the chained
STT → chat → TTS pipeline behind the same protocol), sends ``session.update``, then plays
the turns: spoken audio goes out in 20 ms ``input_audio_buffer.append`` frames paced by the
event-loop clock, as a microphone would send it, while a reader task timestamps every
server event on the same clock. Measures are taken afterwards from that timeline, so the
driver only decides *when* to send; which turn an event belongs to is decided on arrival
(a response by the turn current at ``response.created``, input events by their item).

t0 of a turn is the end of the user's speech as sent (the moment its last frame would have
finished playing); for a typed turn, the moment ``response.create`` went out.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import io
import json
import logging
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np

from playground.client.providers import Provider
from playground.core import workflows
from playground.core.audio import float_to_pcm16, resample, to_mono
from playground.core.catalog import get_catalog
from playground.core.pricing import estimate_realtime_cost
from playground.core.textmetrics import word_error_rate
from playground.evals.checks import evaluate
from playground.evals.measures import ToolCall, TurnResult
from playground.evals.report import EvalReport, RunResult
from playground.evals.scenario import CannedTool, Scenario, Turn
from playground.relay.tools import ToolRunner, demo_tools

__all__ = [
    "FRAME_MS",
    "TOOL_ROUNDS_MAX",
    "Connection",
    "Mode",
    "ProgressFn",
    "open_connection",
    "prepare_session",
    "run_scenario",
]

log = logging.getLogger(__name__)

Mode = Literal["realtime", "chained"]
ProgressFn = Callable[[int, int, str], None]

RATE = 24000
FRAME_MS = 20
#: VAD sessions: silence sent after the speech until the turn's response starts, at most this long
SILENCE_CAP_S = 3.0
TURN_TIMEOUT_S = 60.0
SESSION_TIMEOUT_S = 20.0
#: an interrupted reply's response.done is awaited this long after the run's last turn
LATE_DONE_S = 5.0
TOOL_ROUNDS_MAX = 4
#: leading and trailing audio quieter than this is trimmed, so t0 marks the last voiced frame
TRIM_DBFS = -45.0
TRIM_PAD_MS = 30


class Connection(Protocol):
    """What the runner needs of a realtime connection: the SDK's and ``ChainedPipeline`` both fit."""

    async def send(self, event: dict[str, Any]) -> None: ...

    async def recv_bytes(self) -> bytes: ...


def open_connection(
    provider: Provider, mode: Mode, model: str, *, chat_model: str | None = None
) -> contextlib.AbstractAsyncContextManager[Connection]:
    """A fresh connection as an async context manager, opened as the relay opens one."""
    client = provider.async_client()
    if mode == "chained":
        from playground.relay.chained import ChainedPipeline

        cat = get_catalog()
        return ChainedPipeline(
            client, chat_model=chat_model or cat.chat.default_model, speech_model=cat.realtime.chained.speech_model
        )  # type: ignore[return-value]
    if mode != "realtime":
        raise ValueError(f"unknown mode {mode!r}; use realtime or chained")
    return client.realtime.connect(model=model)  # type: ignore[return-value]


def prepare_session(scenario: Scenario) -> tuple[dict[str, Any], list[str]]:
    """The ``session.update`` session (no model, tools resolved) and notes on what was added."""
    session = {k: v for k, v in scenario.session.items() if k != "model"}
    session.setdefault("type", "realtime")
    notes: list[str] = []
    tools = session.get("tools")
    if tools:
        demo = [t.removeprefix("demo:") for t in tools if isinstance(t, str)]
        known = {d["name"]: d for d in demo_tools(demo)}
        missing = [n for n in demo if n not in known]
        if missing:
            raise ValueError(f"no demo tool named {missing[0]!r}; there are {sorted(d['name'] for d in demo_tools())}")
        session["tools"] = [known[t.removeprefix("demo:")] if isinstance(t, str) else t.declaration() for t in tools]
    needs_heard = any(t.expect.heard_wer is not None for t in scenario.turns)
    audio = dict(session.get("audio") or {})
    audio_in = dict(audio.get("input") or {})
    if needs_heard and not audio_in.get("transcription"):
        model = get_catalog().realtime.default_transcription_model
        audio_in["transcription"] = {"model": model}
        audio["input"] = audio_in
        session["audio"] = audio
        notes.append(f"input transcription ({model}) added to the session: a turn expects heard_wer")
    return session, notes


def _input_format(session: dict[str, Any]) -> str:
    fmt = ((session.get("audio") or {}).get("input") or {}).get("format") or {}
    return str(fmt.get("type") or "audio/pcm") if isinstance(fmt, dict) else "audio/pcm"


# -- turn audio --------------------------------------------------------------------


def _trim(samples: np.ndarray) -> np.ndarray:
    """Without leading and trailing silence (a little kept), so t0 is the end of the voice."""
    loud = np.flatnonzero(np.abs(samples) > 10 ** (TRIM_DBFS / 20))
    if not len(loud):
        return samples
    pad = RATE * TRIM_PAD_MS // 1000
    return samples[max(0, loud[0] - pad) : loud[-1] + pad]


def _decode(data: bytes) -> np.ndarray:
    """24 kHz mono float32 from a WAV/FLAC/OGG file's bytes, or raw 24 kHz PCM16."""
    import soundfile as sf

    if data[:4] in (b"RIFF", b"fLaC", b"OggS", b"FORM"):
        samples, rate = sf.read(io.BytesIO(data), dtype="float32", always_2d=False)
        return resample(to_mono(np.asarray(samples)), int(rate), RATE)
    usable = len(data) - len(data) % 2
    return np.frombuffer(data[:usable], dtype="<i2").astype(np.float32) / 32768.0


def _with_noise(samples: np.ndarray, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    power = float(np.mean(samples.astype(np.float64) ** 2)) if len(samples) else 0.0
    if power <= 0:
        return samples
    noise = rng.standard_normal(len(samples)) * np.sqrt(power / 10 ** (snr_db / 10))
    return (samples + noise).astype(np.float32)


def _encode(samples: np.ndarray, fmt: str) -> tuple[bytes, int]:
    """The wire bytes in the session's input format, and the bytes of one 20 ms frame."""
    if fmt in ("audio/pcmu", "audio/pcma"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # stdlib audioop on 3.11/3.12
            import audioop
        pcm = float_to_pcm16(resample(samples, RATE, 8000))
        data = audioop.lin2ulaw(pcm, 2) if fmt == "audio/pcmu" else audioop.lin2alaw(pcm, 2)
        return data, 8000 * FRAME_MS // 1000
    return float_to_pcm16(samples), RATE * FRAME_MS // 1000 * 2


class _Voices:
    """The user's side of the scenario as 24 kHz mono, each say text synthesised once per
    report (by voice and text) and each recording read once."""

    def __init__(self, provider: Provider, scenario: Scenario) -> None:
        self.provider, self.scenario = provider, scenario
        self._cache: dict[tuple[str, str], np.ndarray] = {}

    def clean(self, turn: Turn) -> np.ndarray:
        if turn.say is not None:
            w = workflows.get(workflows.DEFAULT)
            key = (turn.voice or w.default_voice, turn.say)
            if key not in self._cache:
                from playground.client.runner import Runner

                spec = workflows.tts_spec(workflows.DEFAULT, input=turn.say, voice=key[0], fmt="audio/pcm")
                self._cache[key] = _trim(_decode(Runner(self.provider).say(spec).audio))
            return self._cache[key]
        path = self.scenario.recording(turn)
        key = ("\0file", str(path))
        if key not in self._cache:
            self._cache[key] = _trim(_decode(path.read_bytes()))
        return self._cache[key]

    def for_run(self, run: int, fmt: str) -> list[tuple[bytes, int, float] | None]:
        """Each turn's (bytes, frame bytes, seconds) for one run: noise is seeded per run and turn."""
        out: list[tuple[bytes, int, float] | None] = []
        for k, turn in enumerate(self.scenario.turns):
            if turn.kind == "text":
                out.append(None)
                continue
            samples = self.clean(turn)
            if turn.noise_snr_db is not None:
                samples = _with_noise(samples, turn.noise_snr_db, np.random.default_rng([run, k]))
            data, frame = _encode(samples, fmt)
            out.append((data, frame, len(samples) / RATE))
        return out


# -- the timeline ----------------------------------------------------------------------


@dataclass
class _Seen:
    t: float
    event: dict[str, Any]
    turn: int


class _ConnectionLost(Exception):
    pass


class _Timeline:
    """Every server event with its arrival time and owning turn; waiters scan from an index."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.loop = asyncio.get_running_loop()
        self.events: list[_Seen] = []
        self.current = -1
        self.responses: dict[str, int] = {}
        self.items: dict[str, int] = {}
        self.closed: str | None = None
        self._signal = asyncio.Event()

    def now(self) -> float:
        return self.loop.time()

    async def read(self) -> None:
        try:
            while True:
                data = await self.conn.recv_bytes()
                t = self.loop.time()
                try:
                    event = json.loads(data)
                except ValueError:
                    continue
                if isinstance(event, dict):
                    self.events.append(_Seen(t, event, self._owner(event)))
                    self._wake()
        except asyncio.CancelledError:
            raise
        except Exception as e:  # noqa: BLE001 - a closed socket or a failed pipeline ends the run's reading
            self.closed = f"the connection closed ({type(e).__name__})"
        else:  # pragma: no cover - recv_bytes never returns None
            self.closed = "the connection closed"
        finally:
            self.closed = self.closed or "the connection closed"
            self._wake()

    def _wake(self) -> None:
        self._signal.set()
        self._signal = asyncio.Event()

    def _owner(self, event: dict[str, Any]) -> int:
        kind = str(event.get("type", ""))
        response = event.get("response") if isinstance(event.get("response"), dict) else None
        rid = event.get("response_id") or (response or {}).get("id")
        if kind == "response.created" and rid:
            self.responses.setdefault(str(rid), self.current)
        if rid and str(rid) in self.responses:
            return self.responses[str(rid)]
        item = event.get("item_id")
        if item:
            return self.items.setdefault(str(item), self.current)
        return self.current

    async def wait(self, pred: Callable[[_Seen], bool], start: int, deadline: float) -> int:
        """The index of the first event from ``start`` on that ``pred`` accepts."""
        i = start
        while True:
            while i < len(self.events):
                if pred(self.events[i]):
                    return i
                i += 1
            if self.closed:
                raise _ConnectionLost(self.closed)
            signal = self._signal
            remaining = deadline - self.now()
            if remaining <= 0:
                raise TimeoutError
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(signal.wait(), remaining)

    def seen(self, pred: Callable[[_Seen], bool], start: int = 0) -> bool:
        return any(pred(s) for s in self.events[start:])

    def answers(self, turn: int, response_id: str) -> bool:
        """Whether the response was created after the turn's last speech_started: an answer to
        all of it, not a false start on a pause in the middle (which the VAD then cancels)."""
        speech, created = -1, None
        for i, s in enumerate(self.events):
            kind = s.event.get("type")
            if s.turn == turn and kind == "input_audio_buffer.speech_started":
                speech = i
            elif kind == "response.created" and (s.event.get("response") or {}).get("id") == response_id:
                created = i
        return created is not None and created > speech

    def answer_started(self, turn: int, start: int) -> bool:
        return any(
            self.answers(turn, str(s.event["response"].get("id")))
            for s in self.events[start:]
            if _is("response.created", turn)(s)
        )


def _is(kind: str, turn: int) -> Callable[[_Seen], bool]:
    return lambda s: s.turn == turn and s.event.get("type") == kind


def _false_start(event: dict[str, Any]) -> bool:
    """A response the VAD cancelled because the user went on speaking (``turn_detected``)."""
    response = event.get("response") or {}
    reason = (response.get("status_details") or {}).get("reason")
    return event.get("type") == "response.done" and response.get("status") == "cancelled" and reason == "turn_detected"


def _calls(event: dict[str, Any]) -> list[dict[str, Any]]:
    response = event.get("response") or {}
    if response.get("status") != "completed":
        return []
    return [o for o in response.get("output") or [] if isinstance(o, dict) and o.get("type") == "function_call"]


# -- one run ---------------------------------------------------------------------------


@dataclass
class _Marks:
    """What the driver knows of a turn: when its speech started and ended, where its events start."""

    mark: int = 0
    start: float | None = None
    t0: float | None = None
    errors: list[str] = field(default_factory=list)
    early: bool = False  # returned at the first audio delta: the next turn barges in
    finished: bool = False


class _Run:
    def __init__(
        self,
        scenario: Scenario,
        conn: Connection,
        session: dict[str, Any],
        audio: list[tuple[bytes, int, float] | None],
        progress: Callable[[int, str], None],
    ) -> None:
        self.scenario, self.conn, self.session, self.audio = scenario, conn, session, audio
        self.progress = progress
        self.tl = _Timeline(conn)
        self.marks = [_Marks() for _ in scenario.turns]
        self.tools = ToolRunner()
        self.tools.set_custom(
            {t.name: json.dumps(t.result) for t in scenario.session.get("tools") or [] if isinstance(t, CannedTool)}
        )
        td = ((session.get("audio") or {}).get("input") or {}).get("turn_detection", "unset")
        self.manual = scenario.manual_turns
        self.auto_create = not isinstance(td, dict) or td.get("create_response", True) is not False

    async def send(self, event: dict[str, Any]) -> None:
        try:
            await self.conn.send(event)
        except Exception as e:  # noqa: BLE001 - a send on a closed connection ends the run
            raise _ConnectionLost(f"the connection closed while sending ({type(e).__name__})") from None

    async def play(self) -> None:
        reader = asyncio.create_task(self.tl.read())
        try:
            await self._configure()
            n = len(self.scenario.turns)
            for k, turn in enumerate(self.scenario.turns):
                if self.tl.closed:
                    self.marks[k].errors.append(f"not run: {self.tl.closed}")
                    continue
                barge_next = k + 1 < n and self.scenario.turns[k + 1].barge_in_after_ms is not None
                try:
                    await self._turn(k, turn, barge_next)
                except TimeoutError:
                    self.marks[k].errors.append(f"timed out after {TURN_TIMEOUT_S:.0f} s waiting for the reply")
                except _ConnectionLost as e:
                    self.marks[k].errors.append(str(e))
                self.marks[k].finished = True
                self.progress(k + 1, f"turn {k + 1}/{n} ({turn.kind})")
            await self._late_dones()
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader

    async def _configure(self) -> None:
        start = len(self.tl.events)
        await self.send({"type": "session.update", "session": self.session})
        i = await self.tl.wait(
            lambda s: s.event.get("type") in ("session.updated", "error"), start, self.tl.now() + SESSION_TIMEOUT_S
        )
        event = self.tl.events[i].event
        if event.get("type") == "error":
            raise _SessionRefused(_error_text(event))

    async def _turn(self, k: int, turn: Turn, barge_next: bool) -> None:
        m = self.marks[k]
        if turn.barge_in_after_ms is not None and k > 0:
            prev = self.marks[k - 1]
            first = next(
                (s.t for s in self.tl.events[prev.mark :] if _is("response.output_audio.delta", k - 1)(s)), None
            )
            at = (first if first is not None else self.tl.now()) + turn.barge_in_after_ms / 1000
            await asyncio.sleep(max(0.0, at - self.tl.now()))
        m.mark = len(self.tl.events)
        self.tl.current = k
        deadline = self.tl.now() + TURN_TIMEOUT_S
        if turn.kind == "text":
            item = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": turn.text}]}
            await self.send({"type": "conversation.item.create", "item": item})
            m.start = m.t0 = self.tl.now()
            await self.send({"type": "response.create"})
        else:
            await self._speak(k, m, deadline)
        await self._finish(k, m, deadline, until_first_audio=barge_next)

    async def _speak(self, k: int, m: _Marks, deadline: float) -> None:
        spoken = self.audio[k]
        assert spoken is not None
        data, frame, seconds = spoken
        if self.manual and k > 0 and self.scenario.turns[k].barge_in_after_ms is not None:
            # push to talk over a playing reply: the client stops it as the button goes down
            await self.send({"type": "response.cancel"})
        m.start = self.tl.now()
        await self._frames(data, frame, m.start)
        m.t0 = m.start + seconds
        await asyncio.sleep(max(0.0, m.t0 - self.tl.now()))
        if self.manual:
            await self.send({"type": "input_audio_buffer.commit"})
            await self.send({"type": "response.create"})
            return
        fmt = _input_format(self.session)
        silence = {"audio/pcmu": b"\xff", "audio/pcma": b"\xd5"}.get(fmt, b"\0") * frame  # G.711's zero
        begin, sent, asked = self.tl.now(), 0, False
        while self.tl.now() - begin < SILENCE_CAP_S and self.tl.now() < deadline:
            if self.tl.answer_started(k, m.mark) or self.tl.closed:
                break
            if not self.auto_create and not asked and self.tl.seen(_is("input_audio_buffer.committed", k), m.mark):
                await self.send({"type": "response.create"})
                asked = True
            await self.send({"type": "input_audio_buffer.append", "audio": _b64(silence)})
            sent += 1
            await asyncio.sleep(max(0.0, begin + sent * FRAME_MS / 1000 - self.tl.now()))
        if not self.auto_create and not asked:
            await self.send({"type": "response.create"})

    async def _frames(self, data: bytes, frame: int, start: float) -> None:
        for n, i in enumerate(range(0, len(data), frame)):
            await self.send({"type": "input_audio_buffer.append", "audio": _b64(data[i : i + frame])})
            await asyncio.sleep(max(0.0, start + (n + 1) * FRAME_MS / 1000 - self.tl.now()))

    async def _finish(self, k: int, m: _Marks, deadline: float, *, until_first_audio: bool) -> None:
        """Wait for the turn's final response.done, answering tool calls on the way (or, when the
        next turn barges in, only for its first audio delta)."""
        wanted = {"response.done", "error"} | ({"response.output_audio.delta"} if until_first_audio else set())
        i, rounds = m.mark, 0
        while True:
            i = await self.tl.wait(lambda s: s.turn == k and s.event.get("type") in wanted, i, deadline)
            event = self.tl.events[i].event
            i += 1
            kind = event.get("type")
            if kind == "response.output_audio.delta":
                if self.tl.answers(k, str(event.get("response_id"))):
                    m.early = True
                    return
                continue
            if kind == "error":
                if not self.tl.seen(_is("response.created", k), m.mark):
                    return  # the request for a reply was refused; the error is the turn's result
                continue
            if _false_start(event):
                continue  # the user went on speaking after a pause; the VAD starts another response
            calls = _calls(event)
            if not calls:
                return
            if rounds >= TOOL_ROUNDS_MAX:
                m.errors.append(f"stopped after {TOOL_ROUNDS_MAX} tool rounds in a row")
                return
            rounds += 1
            for call in calls:
                output = self.tools.run(str(call.get("name", "")), str(call.get("arguments") or "{}"))
                item = {"type": "function_call_output", "call_id": call.get("call_id"), "output": output}
                await self.send({"type": "conversation.item.create", "item": item})
            await self.send({"type": "response.create"})

    async def _late_dones(self) -> None:
        """An interrupted reply's response.done may still be on its way when the last turn ends."""
        deadline = self.tl.now() + LATE_DONE_S
        for k, m in enumerate(self.marks):
            if not m.early:
                continue
            open_ = {s.event["response"]["id"] for s in self.tl.events if _is("response.created", k)(s)}
            closed = {s.event["response"]["id"] for s in self.tl.events if _is("response.done", k)(s)}
            for rid in open_ - closed:
                with contextlib.suppress(TimeoutError, _ConnectionLost):
                    await self.tl.wait(
                        lambda s, rid=rid: (
                            s.event.get("type") == "response.done" and (s.event.get("response") or {}).get("id") == rid
                        ),
                        0,
                        deadline,
                    )


class _SessionRefused(Exception):
    pass


def _b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode("ascii")


def _error_text(event: dict[str, Any]) -> str:
    error = event.get("error") or {}
    code = error.get("code") or error.get("type") or "error"
    return f"{code}: {error.get('message') or 'no message'}"


# -- measures --------------------------------------------------------------------------


def _measure(
    scenario: Scenario, events: list[_Seen], marks: list[_Marks], *, mode: Mode, manual: bool
) -> list[TurnResult]:
    """Each turn's measures from the run's timeline (CPU work: called off the event loop)."""
    results = []
    for k, turn in enumerate(scenario.turns):
        m = marks[k]
        own = [s for s in events if s.turn == k]
        r = TurnResult(index=k, kind=turn.kind, prompt=_prompt(turn), errors=list(m.errors))
        t0 = m.t0

        def at(seen: _Seen | None, t0: float | None = t0) -> float | None:
            return None if seen is None or t0 is None else round((seen.t - t0) * 1000, 1)

        def first(kind: str, own: list[_Seen] = own) -> _Seen | None:
            return next((s for s in own if s.event.get("type") == kind), None)

        def last(kind: str, own: list[_Seen] = own) -> _Seen | None:
            return next((s for s in reversed(own) if s.event.get("type") == kind), None)

        # responses the VAD started on a pause inside this turn's own speech, then cancelled
        created = {_rid(s.event): s.t for s in own if s.event.get("type") == "response.created"}
        false = {
            _rid(s.event)
            for s in own
            if _false_start(s.event) and t0 is not None and created.get(_rid(s.event), t0) < t0
        }
        answer = [s for s in own if _rid(s.event) not in false]
        r.speech_stopped_ms = at(last("input_audio_buffer.speech_stopped"))
        r.heard_ms = at(last("conversation.item.input_audio_transcription.completed"))
        r.response_ms = at(first("response.created", answer))
        r.first_audio_ms = at(first("response.output_audio.delta", answer))
        r.done_ms = at(last("response.done", answer))
        heard = [
            str(s.event.get("transcript") or "").strip()
            for s in own
            if s.event.get("type") == "conversation.item.input_audio_transcription.completed"
        ]
        if heard:
            r.heard = " ".join(h for h in heard if h)
            if turn.reference:
                r.heard_wer = round(word_error_rate(turn.reference, r.heard), 4)
        _replies(r, own, scenario.model if mode == "realtime" else None, skip=false)
        for s in own:
            if s.event.get("type") == "error":
                r.errors.append(_error_text(s.event))
            elif s.event.get("type") == "conversation.item.input_audio_transcription.failed":
                r.errors.append(f"input transcription failed: {_error_text(s.event)}")
        if turn.barge_in_after_ms is not None and k > 0:
            _stop(r, events, k, m, manual=manual)
        r.checks = evaluate(turn.expect, r)
        results.append(r)
    return results


def _prompt(turn: Turn) -> str:
    return turn.say or turn.text or turn.transcript or turn.audio or ""


def _rid(event: dict[str, Any]) -> str | None:
    rid = event.get("response_id") or (event.get("response") or {}).get("id")
    return str(rid) if rid else None


def _replies(r: TurnResult, own: list[_Seen], price_model: str | None, *, skip: set[str | None]) -> None:
    """Reply text, tool calls and statuses of the turn's answers; tokens and cost of every response."""
    deltas: dict[str, list[str]] = {}
    texts: list[str] = []
    cost: float | None = 0.0 if price_model else None
    for s in own:
        e, kind = s.event, s.event.get("type")
        if kind in ("response.output_audio_transcript.delta", "response.output_text.delta"):
            deltas.setdefault(str(e.get("response_id")), []).append(str(e.get("delta") or ""))
        if kind != "response.done":
            continue
        response = e.get("response") or {}
        usage = response.get("usage") or {}
        r.input_tokens += int(usage.get("input_tokens") or 0)
        r.output_tokens += int(usage.get("output_tokens") or 0)
        if cost is not None and usage:
            one = estimate_realtime_cost(price_model or "", usage)
            cost = None if one is None else cost + one
        if _rid(e) in skip:
            continue
        status = str(response.get("status") or "")
        r.statuses.append(status)
        if status == "failed":
            error = ((response.get("status_details") or {}).get("error")) or {}
            r.errors.append(f"response failed: {error.get('code') or error.get('type') or 'unknown'}")
        said = []
        for item in response.get("output") or []:
            if not isinstance(item, dict):
                continue
            if item.get("type") == "function_call":
                raw = str(item.get("arguments") or "")
                try:
                    args = json.loads(raw or "{}")
                except ValueError:
                    args = None
                r.tool_calls.append(ToolCall(str(item.get("name")), args if isinstance(args, dict) else None, raw))
            for part in item.get("content") or []:
                if isinstance(part, dict) and (part.get("transcript") or part.get("text")):
                    said.append(str(part.get("transcript") or part.get("text")))
        texts.append(" ".join(said) if said else "".join(deltas.get(str(response.get("id")), [])))
    r.reply = " ".join(t.strip() for t in texts if t.strip())
    r.cost = cost


def _stop(r: TurnResult, events: list[_Seen], k: int, m: _Marks, *, manual: bool) -> None:
    """stop_ms: this turn's speech began → the later of the server hearing it (speech_started)
    and the interrupted reply's last audio delta."""
    created = [s for s in events if _is("response.created", k - 1)(s) and m.start is not None and s.t <= m.start]
    if not created or m.start is None:
        return
    rid = created[-1].event["response"]["id"]
    audio = "response.output_audio.delta"
    deltas = [s.t for s in events if s.event.get("type") == audio and s.event.get("response_id") == rid]
    heard = next((s.t for s in events if _is("input_audio_buffer.speech_started", k)(s)), None)
    if heard is None and not manual:
        return
    ends = [t for t in (heard, deltas[-1] if deltas else None) if t is not None]
    if ends:
        r.stop_ms = round(max(0.0, (max(ends) - m.start) * 1000), 1)
    done = next(
        (s for s in events if s.event.get("type") == "response.done" and s.event["response"].get("id") == rid), None
    )
    if done is not None:
        r.interrupted_cancelled = done.event["response"].get("status") == "cancelled"


# -- the public entry ------------------------------------------------------------------


async def run_scenario(
    scenario: Scenario,
    provider: Provider,
    *,
    runs: int | None = None,
    mode: Mode = "realtime",
    chat_model: str | None = None,
    on_progress: ProgressFn | None = None,
) -> EvalReport:
    """Run ``scenario`` ``runs`` times (default: its own ``runs``), each on a fresh connection,
    and judge every turn of every run against its expectations."""
    n_runs = runs if runs is not None else scenario.runs
    if n_runs < 1:
        raise ValueError("runs must be at least 1")
    session, notes = prepare_session(scenario)
    if mode == "chained":
        notes.append(
            f"chained mode: chat model {chat_model or get_catalog().chat.default_model}, "
            f"speech {get_catalog().realtime.chained.speech_model}; no cost estimate"
        )
    fmt = _input_format(session)
    voices = _Voices(provider, scenario)
    total = n_runs * len(scenario.turns)
    report = EvalReport(
        scenario=scenario.name,
        provider=provider.label,
        mode=mode,
        model=scenario.model if mode == "realtime" else (chat_model or get_catalog().chat.default_model),
        date=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        notes=notes,
        turns=[_prompt(t) for t in scenario.turns],
    )
    turn_limit = TURN_TIMEOUT_S * len(scenario.turns) + SESSION_TIMEOUT_S + LATE_DONE_S + 30
    for run in range(n_runs):
        done_before = run * len(scenario.turns)

        def progress(done: int, note: str, run: int = run, done_before: int = done_before) -> None:
            if on_progress is not None:
                on_progress(done_before + done, total, f"run {run + 1}/{n_runs} · {note}")

        progress(0, "preparing audio")
        audio = await asyncio.to_thread(voices.for_run, run, fmt)
        play: _Run | None = None
        error: str | None = None
        try:
            async with asyncio.timeout(turn_limit):
                async with open_connection(provider, mode, scenario.model, chat_model=chat_model) as conn:
                    play = _Run(scenario, conn, session, audio, progress)
                    await play.play()
        except _SessionRefused as e:
            error = f"session.update was refused: {e}"
        except TimeoutError:
            error = f"the run passed its {turn_limit:.0f} s limit"
        except _ConnectionLost as e:
            error = str(e)
        except Exception as e:  # noqa: BLE001 - a provider that cannot be reached fails the run, not the report
            error = provider.redact(f"could not run on {provider.label}: {type(e).__name__}: {e}")
        marks = play.marks if play is not None else [_Marks() for _ in scenario.turns]
        events = play.tl.events if play is not None else []
        if error:
            for m in marks:
                if not m.finished and not m.errors:
                    m.errors.append(f"not run to its end: {error}")
        manual = scenario.manual_turns
        turns = await asyncio.to_thread(_measure, scenario, events, marks, mode=mode, manual=manual)
        report.runs.append(RunResult(index=run, turns=turns, error=error))
        progress(len(scenario.turns), "done" if not error else f"failed: {error}")
    return report
