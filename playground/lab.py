"""What the notebooks share: a provider that works with or without a key, and small
ipywidgets apps built on the same specs, runner and snippet renderer as the web app.

``provider()`` is OpenAI when ``OPENAI_API_KEY`` is set (or the server at
``OPENAI_BASE_URL``), and otherwise the embedded backend, started once per kernel on a
free loopback port, so every notebook runs top to bottom with no key and no network.
Widget apps keep their handlers as plain methods, so tests drive them by setting values
and clicking buttons programmatically.
"""

from __future__ import annotations

import asyncio
import atexit
import base64
import json
import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from playground.client.batch import Variant, VariantOutcome, run_variants
from playground.client.providers import Provider, embedded_provider, resolve_provider
from playground.client.results import SpeechResult
from playground.client.runner import Runner
from playground.core import audio
from playground.core.catalog import get_catalog
from playground.core.pricing import format_cost
from playground.core.snippets import render
from playground.core.specs import RealtimeSessionSpec, SpeechSpec
from playground.core.textmetrics import word_error_rate
from playground.core.vibes import Vibe, builtin_vibes_dir, load_vibes

__all__ = [
    "Clip",
    "MiniStudio",
    "RealtimeTurn",
    "VoiceGrid",
    "WorkflowRun",
    "audio_player",
    "collect_events",
    "compare",
    "compare_workflows",
    "diff_view",
    "provider",
    "realtime_turn",
    "sample_clips",
    "send_pcm",
    "summary",
    "vibes",
    "workflow_figure",
    "workflow_players",
]

#: the realtime protocol's PCM: 16-bit mono at 24 kHz
RT_RATE = 24000
#: the shared recordings beside a checkout (../shared/testdata/speech)
_TESTDATA = Path(__file__).resolve().parents[2] / "shared" / "testdata" / "speech"

_SERVER: Any = None
_PROVIDER: Provider | None = None


def provider() -> Provider:
    """The provider the notebooks talk to (the embedded backend when there is no key)."""
    global _SERVER, _PROVIDER
    if _PROVIDER is not None:
        return _PROVIDER
    if os.environ.get("OPENAI_API_KEY") or os.environ.get("OPENAI_BASE_URL"):
        _PROVIDER = resolve_provider()
        return _PROVIDER
    from playground.backend.app import create_standalone_app
    from playground.backend.settings import BackendSettings
    from playground.serving import BackgroundServer

    _SERVER = BackgroundServer(create_standalone_app(BackendSettings(api_key=None), warm=True))
    url = _SERVER.start()
    atexit.register(_SERVER.stop)
    _PROVIDER = embedded_provider(url)
    return _PROVIDER


def vibes() -> list[Vibe]:
    """The built-in vibe presets (the same files the Studio's chips come from)."""
    return load_vibes(builtin_vibes_dir(), voices=get_catalog().voice_ids)


def audio_player(result: SpeechResult, *, autoplay: bool = False) -> Any:
    """An inline player for a speech result (``IPython.display.Audio``)."""
    from IPython.display import Audio

    return Audio(data=result.audio, autoplay=autoplay)


class MiniStudio:
    """The Studio in a notebook: voice, vibe chips, instructions, speed, Play, and the code.

    ``play()`` is what the Play button calls; ``last`` holds the last ``SpeechResult``.
    """

    def __init__(self, script: str = "Hello from the notebook studio. Pick a voice and a vibe.") -> None:
        import ipywidgets as w

        cat = get_catalog()
        self._vibes = {v.name: v for v in vibes()[:8]}
        self.voice = w.Dropdown(options=cat.voice_ids, value=cat.speech_defaults["voice"], description="Voice")
        self.vibe = w.ToggleButtons(options=["(none)", *self._vibes], value="(none)", description="Vibe")
        self.instructions = w.Textarea(description="Instructions", layout=w.Layout(width="95%", height="90px"))
        self.script = w.Textarea(value=script, description="Script", layout=w.Layout(width="95%", height="70px"))
        self.speed = w.FloatSlider(
            value=1.0, min=cat.limits.speed.min, max=cat.limits.speed.max, step=0.05, description="Speed"
        )
        self.button = w.Button(description="▶ Play", button_style="primary")
        self.status = w.HTML()
        self.player = w.Output()
        self.code = w.HTML()
        self.last: SpeechResult | None = None
        self.vibe.observe(self._vibe_changed, names="value")
        for widget in (self.voice, self.instructions, self.script, self.speed):
            widget.observe(lambda _: self._show_code(), names="value")
        self.button.on_click(lambda _: self.play())
        self.widget = w.VBox([self.voice, self.vibe, self.instructions, self.script, self.speed,
                              w.HBox([self.button, self.status]), self.player, self.code])  # fmt: skip
        self._show_code()

    def spec(self) -> SpeechSpec:
        return SpeechSpec(
            input=self.script.value,
            voice=self.voice.value,
            model=get_catalog().speech_defaults["model"],
            instructions=self.instructions.value.strip(),
            speed=float(self.speed.value),
            response_format="wav",
        )

    def _vibe_changed(self, change: dict[str, Any]) -> None:
        vibe = self._vibes.get(change["new"])
        if vibe is not None:
            self.instructions.value = vibe.instructions_text

    def _show_code(self) -> None:
        import html

        spec = self.spec()
        problems = spec.problems()
        if problems:
            self.code.value = "<b>Fix the settings:</b> " + html.escape("; ".join(str(p) for p in problems))
            return
        code = render(spec, "python", base_url=provider().snippet_base_url)
        self.code.value = f"<pre>{html.escape(code)}</pre>"

    def play(self) -> SpeechResult | None:
        """Run the spec through the runner, show the player and the timings."""
        spec = self.spec()
        problems = spec.problems()
        if problems:
            self.status.value = "⚠️ " + "; ".join(str(p) for p in problems)
            return None
        self.status.value = "Generating…"
        result = Runner(provider()).speech(spec)
        self.last = result
        self.status.value = (
            f"first byte {result.ttfb_ms:.0f} ms · total {result.total_ms:.0f} ms · {result.duration_s or 0:.2f} s"
        )
        # set the output's content directly: capturing with ``with self.player:`` left a
        # kernel run by nbclient waiting for an idle message that never came (1 run in 3)
        self.player.outputs = ()
        self.player.append_display_data(audio_player(result))
        return result


# ------------------------------------------------------------------ recordings


@dataclass(frozen=True)
class Clip:
    """A recording to transcribe, with its reference transcript ("" when there is none)."""

    name: str
    path: Path
    text: str
    note: str = ""


def sample_clips() -> list[Clip]:
    """Real recorded speech with reference transcripts (``../shared/testdata/speech`` beside
    the checkout); where that folder is missing, two sentences spoken by the provider stand
    in, with their script as the reference, so the notebooks run anywhere."""
    manifest = _TESTDATA / "manifest.json"
    if manifest.is_file():
        clips = json.loads(manifest.read_text())["clips"]
        return [
            Clip(c["file"], _TESTDATA / c["file"], c.get("text", ""), c.get("note", ""))
            for c in clips
            if c.get("channels", 1) == 1
        ]
    folder = Path(tempfile.mkdtemp(prefix="playground-clips-"))
    lines = {
        "harbour.wav": "The harbour wakes before the town does, and the first boats leave at dawn.",
        "museum.wav": "Please buy your tickets at the front desk before you visit the garden.",
    }
    out = []
    for name, text in lines.items():
        result = Runner(provider()).speech(SpeechSpec(input=text, voice="echo", response_format="wav"))
        (folder / name).write_bytes(result.audio)
        out.append(Clip(name, folder / name, text, "spoken by the provider (no testdata folder here)"))
    return out


# ------------------------------------------------------------------ many variants at once


def compare(specs: list[SpeechSpec], labels: list[str] | None = None) -> list[VariantOutcome]:
    """Run speech specs concurrently, as the Compare tab does; outcomes in the order given.

    The batch runs on its own event loop in a worker thread, so this works the same from a
    notebook cell (whose kernel already runs a loop) and from a widget's button."""
    prov = provider()
    variants = [Variant(spec, prov, (labels or [])[i] if labels else "") for i, spec in enumerate(specs)]

    async def gather() -> list[VariantOutcome]:
        return [outcome async for outcome in run_variants(variants)]

    with ThreadPoolExecutor(1) as pool:
        outcomes = pool.submit(asyncio.run, gather()).result()
    return sorted(outcomes, key=lambda o: o.index)


class VoiceGrid:
    """Compare in a notebook: pick voices, a vibe and a script, press Run; every voice is
    generated at once and shown as a row of players with its timings, cost and a round-trip
    check (the audio transcribed back, word error rate against the script).

    ``run()`` is what the button calls; ``outcomes`` and ``wers`` hold the last run."""

    def __init__(self, script: str = "Every voice reads the same line, so only the voice changes.") -> None:
        import ipywidgets as w

        cat = get_catalog()
        self._vibes = {v.name: v for v in vibes()}
        self.voices = w.SelectMultiple(
            options=cat.voice_ids, value=("alloy", "ash", "coral"), description="Voices", rows=6
        )
        self.vibe = w.Dropdown(options=["(none)", *self._vibes], value="(none)", description="Vibe")
        self.script = w.Textarea(value=script, description="Script", layout=w.Layout(width="95%", height="60px"))
        self.round_trip = w.Checkbox(value=True, description="Transcribe back (WER)")
        self.button = w.Button(description="▶ Run all", button_style="primary")
        self.status = w.HTML()
        self.players = w.HBox(layout=w.Layout(flex_flow="row wrap"))
        self.outcomes: list[VariantOutcome] = []
        self.wers: dict[str, float] = {}
        self.button.on_click(lambda _: self.run())
        self.widget = w.VBox([w.HBox([self.voices, w.VBox([self.vibe, self.round_trip])]), self.script,
                              w.HBox([self.button, self.status]), self.players])  # fmt: skip

    def specs(self) -> list[SpeechSpec]:
        vibe = self._vibes.get(self.vibe.value)
        instructions = vibe.instructions_text if vibe else ""
        return [
            SpeechSpec(input=self.script.value, voice=v, instructions=instructions, response_format="wav")
            for v in self.voices.value
        ]

    def run(self) -> list[VariantOutcome]:
        import ipywidgets as w

        specs = self.specs()
        problems = sorted({str(p) for spec in specs for p in spec.problems()})
        if not specs or problems:
            self.status.value = "⚠️ " + ("; ".join(problems) or "pick at least one voice")
            return []
        self.status.value = f"Generating {len(specs)} voices at once…"
        t0 = time.perf_counter()
        self.outcomes = compare(specs, [s.voice for s in specs])
        wall = (time.perf_counter() - t0) * 1000
        self.wers = {}
        cards = []
        for outcome in self.outcomes:
            voice = outcome.variant.spec.voice
            if outcome.result is None:
                cards.append(w.HTML(f"<b>{voice}</b><br>⚠️ {outcome.error}"))
                continue
            r = outcome.result
            line = f"{r.duration_s or 0:.2f} s · first byte {r.ttfb_ms:.0f} ms · {format_cost(r.est_cost)}"
            if self.round_trip.value:
                self.wers[voice] = _round_trip_wer(r)
                line += f" · WER {self.wers[voice]:.0%}"
            cards.append(w.VBox([w.HTML(f"<b>{voice}</b><br><small>{line}</small>"),
                                 w.Audio(value=r.audio, format="wav", autoplay=False)]))  # fmt: skip
        self.players.children = cards
        slowest = max((o.result.total_ms for o in self.outcomes if o.result), default=0.0)
        self.status.value = f"{len(specs)} voices in {wall:.0f} ms (the slowest alone took {slowest:.0f} ms)"
        return self.outcomes


def _round_trip_wer(result: SpeechResult) -> float:
    """Transcribe generated speech back and score it against its own script."""
    return word_error_rate(result.spec.input, _transcribe_back(result))


def _transcribe_back(result: SpeechResult) -> str:
    """What the round-trip model hears in generated speech (either workflow's result)."""
    from playground.core.specs import TranscriptionSpec

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / result.spec.file_name
        path.write_bytes(result.audio)
        spec = TranscriptionSpec(file=str(path), model=get_catalog().round_trip_model, language="en")
        return Runner(provider()).transcribe(spec).text


# ------------------------------------------------------------------ the two TTS workflows


def summary(result: SpeechResult) -> str:
    """One line on a spoken text: first audio, total, seconds of audio, estimated cost
    (and, for a Realtime run, how much of the first audio was the connection)."""
    line = (
        f"first audio {result.ttfb_ms:.0f} ms · total {result.total_ms:.0f} ms · "
        f"{result.duration_s or 0:.2f} s of audio · est. {format_cost(result.est_cost)}"
    )
    if result.connect_ms is not None:
        line += f" (connecting took {result.connect_ms:.0f} ms of the first audio)"
    return line


@dataclass(frozen=True)
class WorkflowRun:
    """One text spoken through one workflow, with what a transcription model heard in it."""

    workflow: str
    label: str
    result: SpeechResult
    #: the audio transcribed back by the catalog's round-trip model
    heard: str

    @property
    def round_trip_wer(self) -> float:
        """Word error rate of what was heard against the text that was sent."""
        return word_error_rate(self.result.spec.input, self.heard)

    @property
    def reworded_wer(self) -> float | None:
        """Realtime only: the model's own transcript against the text (None for the endpoint)."""
        said = self.result.transcript
        return None if said is None else word_error_rate(self.result.spec.input, said)

    @property
    def cost_per_minute(self) -> float | None:
        """Estimated cost per minute of audio produced."""
        r = self.result
        return None if r.est_cost is None or not r.duration_s else r.est_cost / r.duration_s * 60

    def row(self) -> dict[str, Any]:
        """The comparison table's row: numbers, not strings, so they sort and plot."""
        r = self.result
        return {
            "workflow": self.label,
            "first audio (ms)": round(r.ttfb_ms),
            "total (ms)": round(r.total_ms),
            "audio (s)": round(r.duration_s or 0.0, 2),
            "est. cost ($)": r.est_cost,
            "$ / min of audio": None if self.cost_per_minute is None else round(self.cost_per_minute, 4),
            "round-trip WER": round(self.round_trip_wer, 3),
            "transcript vs text WER": None if self.reworded_wer is None else round(self.reworded_wer, 3),
        }


def compare_workflows(text: str, voice: str, vibe: Vibe | str = "", *, speed: float = 1.0) -> list[WorkflowRun]:
    """Speak ``text`` in ``voice`` with one style (a vibe or its instructions) through the
    Realtime workflow and then the speech endpoint, one after the other so neither slows the
    other, and transcribe each back. Both specs come from ``workflows.tts_spec``, so the
    voice must be one both workflows have."""
    from playground.core import workflows

    style = vibe.instructions_text if isinstance(vibe, Vibe) else vibe
    missing = [w for w in workflows.WORKFLOWS if voice not in workflows.get(w).voices]
    if missing:
        shared = [v for v in workflows.get(workflows.REALTIME).voices if v in workflows.get(workflows.SPEECH).voices]
        raise ValueError(f"voice {voice!r} is not on {', '.join(missing)}; both workflows have: {', '.join(shared)}")
    runner = Runner(provider())
    runs = []
    for wf in (workflows.REALTIME, workflows.SPEECH):
        spec = workflows.tts_spec(wf, input=text, voice=voice, instructions=style, speed=speed, fmt="wav")
        spec.validate()
        result = runner.say(spec)
        runs.append(WorkflowRun(wf, workflows.label(wf), result, _transcribe_back(result)))
    return runs


def workflow_players(runs: list[WorkflowRun]) -> Any:
    """A player per run, side by side, each under its workflow's label and summary."""
    import html

    import ipywidgets as w

    cards = []
    for r in runs:
        title = w.HTML(f"<b>{html.escape(r.label)}</b><br><small>{html.escape(summary(r.result))}</small>")
        player = w.Audio(value=r.result.audio, format="wav", autoplay=False)
        cards.append(w.VBox([title, player], layout=w.Layout(width="420px")))
    return w.HBox(cards, layout=w.Layout(flex_flow="row wrap"))


def workflow_figure(runs: list[WorkflowRun]) -> Any:
    """Bars per workflow: first audio and total time, and the cost of a minute of audio."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    labels = [r.label for r in runs]
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Time (ms)", "Est. cost per minute of audio ($)"))
    fig.add_trace(go.Bar(name="first audio", x=labels, y=[r.result.ttfb_ms for r in runs]), row=1, col=1)
    fig.add_trace(go.Bar(name="total", x=labels, y=[r.result.total_ms for r in runs]), row=1, col=1)
    fig.add_trace(
        go.Bar(name="$ / min", x=labels, y=[r.cost_per_minute or 0.0 for r in runs], showlegend=False), row=1, col=2
    )
    fig.update_layout(barmode="group", height=360, margin={"t": 60, "b": 40, "l": 40, "r": 20})
    return fig


# ------------------------------------------------------------------ realtime


@dataclass
class RealtimeTurn:
    """One spoken turn of a realtime session and what came back, with its timeline.

    Times are ms since the session opened; ``speech_end_ms`` is when the last speech sample
    was sent, so ``first_audio_ms - speech_end_ms`` is what a user waits to hear a reply."""

    events: list[tuple[float, str]] = field(default_factory=list)
    heard: str = ""
    reply: str = ""
    #: the reply's PCM16 at 24 kHz
    audio: bytes = b""
    usage: dict[str, Any] = field(default_factory=dict)
    status: str = ""
    speech_end_ms: float = 0.0
    first_audio_ms: float | None = None
    done_ms: float | None = None

    def first(self, kind: str) -> float | None:
        return next((t for t, k in self.events if k == kind), None)

    @property
    def wait_ms(self) -> float | None:
        """End of the user's speech → first audio of the reply."""
        return None if self.first_audio_ms is None else self.first_audio_ms - self.speech_end_ms

    def wav(self) -> bytes:
        from playground.core.encode import encode_all

        return encode_all(audio.pcm16_to_float(self.audio), "wav", RT_RATE)


async def send_pcm(conn: Any, samples: np.ndarray, *, pace: float = 1.0) -> None:
    """Append float samples (24 kHz mono) as 40 ms PCM16 frames, as a microphone would;
    ``pace=1`` sends them in real time, ``0`` as fast as the socket takes them."""
    data = audio.float_to_pcm16(samples)
    step = RT_RATE * 40 // 1000 * 2
    start = time.perf_counter()
    for k, i in enumerate(range(0, len(data), step)):
        await conn.input_audio_buffer.append(audio=base64.b64encode(data[i : i + step]).decode())
        if pace:
            delay = start + (k + 1) * 0.04 / pace - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)


async def collect_events(
    conn: Any,
    turn: RealtimeTurn,
    t0: float,
    *,
    until: str = "response.done",
    timeout: float = 120.0,
    on_event: Any = None,
) -> Any:
    """Read server events into ``turn`` until one of type ``until`` (returned) arrives.

    ``on_event(event)`` sees each one first, e.g. to answer function calls."""

    async def read() -> Any:
        async for event in conn:
            now = (time.perf_counter() - t0) * 1000
            turn.events.append((now, event.type))
            if on_event is not None:
                await on_event(event)
            if event.type == "response.output_audio.delta":
                turn.audio += base64.b64decode(event.delta)
                if turn.first_audio_ms is None:
                    turn.first_audio_ms = now
            elif event.type == "conversation.item.input_audio_transcription.completed":
                turn.heard = event.transcript
            elif event.type in ("response.output_audio_transcript.done", "response.output_text.done"):
                turn.reply = getattr(event, "transcript", None) or getattr(event, "text", "")
            elif event.type == "response.done":
                turn.status = event.response.status or ""
                turn.usage = event.response.usage.model_dump(exclude_none=True) if event.response.usage else {}
                turn.done_ms = now
            elif event.type == "error":
                raise RuntimeError(f"{event.error.code}: {event.error.message}")
            if event.type == until:
                return event
        raise RuntimeError("the session closed before " + until)

    return await asyncio.wait_for(read(), timeout)


async def realtime_turn(
    samples: np.ndarray, spec: RealtimeSessionSpec | None = None, *, pace: float = 1.0, tail_silence_s: float = 1.0
) -> RealtimeTurn:
    """Speak ``samples`` (24 kHz mono) into a realtime session configured by ``spec`` and
    wait for the whole reply: server VAD ends the turn after the trailing silence."""
    spec = (spec or RealtimeSessionSpec()).validate()
    assert isinstance(spec, RealtimeSessionSpec)
    prov = provider()
    turn = RealtimeTurn()
    async with prov.async_client().realtime.connect(model=spec.model) as conn:
        t0 = time.perf_counter()
        await conn.session.update(session=spec.to_session())
        await collect_events(conn, turn, t0, until="session.updated")
        reader = asyncio.create_task(collect_events(conn, turn, t0))
        await send_pcm(conn, samples, pace=pace)
        turn.speech_end_ms = (time.perf_counter() - t0) * 1000
        await send_pcm(conn, np.zeros(int(tail_silence_s * RT_RATE), np.float32), pace=pace)
        await reader
    return turn


_DIFF_STYLE = (
    "<style>.pg-diff{line-height:1.7}.pg-sub s{color:#b91c1c}.pg-sub{background:#fef3c7}"
    ".pg-del{background:#fee2e2;color:#b91c1c}.pg-ins{background:#dcfce7;text-decoration:none}"
    ".pg-muted{color:#64748b}</style>"
)


def diff_view(reference: str, heard: str) -> Any:
    """The Transcribe tab's word diff (WER, substitutions, misses, additions) for a notebook."""
    from IPython.display import HTML

    from playground.core.diffview import diff_html

    return HTML(_DIFF_STYLE + diff_html(reference, heard))
