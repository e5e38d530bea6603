"""Live mode's "Compare two delays": the same recording through gpt-realtime-whisper at two
delays, side by side: when the first text showed, how right the final text is, and a
timeline of the words on screen over the audio, so the latency/accuracy choice is visible.

The audio is the last live recording of this browser session (the relay keeps it) or an
uploaded file; ``client.live_compare`` plays it through both sessions at once, in real
time, so a comparison takes the recording's length. Each delay's run goes to the history.
"""

from __future__ import annotations

import html
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import gradio as gr
import plotly.graph_objects as go

from playground.client.live_compare import (
    TAIL_SILENCE_MS,
    DelayComparison,
    DelayRun,
    compare_delays,
    delay_model,
    max_seconds,
    pcm_from_file,
)
from playground.core import audio
from playground.core.catalog import get_catalog
from playground.core.errors import PlaygroundError
from playground.core.specs import DELAYS
from playground.ui.context import get_context
from playground.ui.transcribe_live import live_spec

__all__ = ["HEADERS", "DelayPanel", "delay_panel", "delay_table", "delay_timeline_figure", "run_delay_comparison"]

HEADERS = ["delay", "first text", "final WER", "words", "final text"]
#: the page stops a live recording before comparing it (the relay's copy is then whole)
STOP_FIRST_JS = "async (...args) => { if (window.pgLive) await window.pgLive.stop(); return args; }"
Outputs = tuple[str, Any, Any]


@dataclass
class DelayPanel:
    view: gr.Accordion
    delay_a: gr.Dropdown
    delay_b: gr.Dropdown
    upload: gr.Audio
    reference: gr.Textbox
    go: gr.Button
    status: gr.Markdown
    table: gr.Dataframe
    plot: gr.Plot


def delay_panel() -> DelayPanel:
    """The comparison's widgets, in an accordion under the live console (call inside the live view)."""
    model = delay_model()
    with gr.Accordion(f"Compare two delays ({model})", open=False, elem_id="pg-ld") as view:
        gr.Markdown(
            f"Plays the last live recording (or a file) through {model} at two delays at once, in real time: "
            "a short delay shows text sooner, a long one hears more before it commits.",
            elem_classes=["pg-muted"],
        )
        with gr.Row(equal_height=False):
            delay_a = gr.Dropdown(list(DELAYS), value=DELAYS[0], label="Delay A", elem_id="pg-ld-a", min_width=120)
            delay_b = gr.Dropdown(list(DELAYS), value=DELAYS[-1], label="Delay B", elem_id="pg-ld-b", min_width=120)
            reference = gr.Textbox(
                label="Reference text (optional; else a file transcription of the same audio)",
                lines=2,
                scale=3,
                elem_id="pg-ld-ref",
            )
            upload = gr.Audio(
                sources=["upload"],
                type="filepath",
                label="Or a file instead of the recording",
                scale=2,
                elem_id="pg-ld-file",
            )
        with gr.Row(equal_height=True):
            go_btn = gr.Button("Compare", variant="primary", scale=0, min_width=160, elem_id="pg-ld-go")
            status = gr.Markdown(elem_id="pg-ld-status")
        table = gr.Dataframe(headers=HEADERS, interactive=False, wrap=True, elem_id="pg-ld-table")
        plot = gr.Plot(show_label=False, elem_id="pg-ld-plot")
    return DelayPanel(view, delay_a, delay_b, upload, reference, go_btn, status, table, plot)


def wire_delay_panel(panel: DelayPanel, live_settings: list[Any]) -> None:
    """Compare runs on the panel, the live panel's other settings (language, prompt, VAD) and the audio."""
    panel.go.click(
        run_delay_comparison,
        [panel.delay_a, panel.delay_b, panel.reference, panel.upload, *live_settings],
        [panel.status, panel.table, panel.plot],
        js=STOP_FIRST_JS,
        api_name="compare_delays",
        concurrency_limit=2,
    )


# ----------------------------------------------------------------- views (pure)


def _seconds(ms: float | None) -> str:
    return "—" if ms is None else f"{ms / 1000:.2f} s"


def delay_table(result: DelayComparison) -> list[list[Any]]:
    """One row per delay: the delay, first text, final WER, words, final text (or the error)."""
    rows: list[list[Any]] = []
    for run in result.runs:
        if run.error:
            rows.append([run.delay, "—", "—", 0, f"⚠️ {run.error}"])
            continue
        wer = "—" if run.wer is None else f"{run.wer:.1%}"
        rows.append([run.delay, _seconds(run.first_text_ms), wer, len(run.words), run.text])
    return rows


def delay_timeline_figure(runs: tuple[DelayRun, ...] | list[DelayRun], speech_s: float) -> go.Figure:
    """x: seconds into the audio; y: words on screen so far, one step line per delay."""
    fig = go.Figure()
    end = max([speech_s + TAIL_SILENCE_MS / 1000, *[t / 1000 for r in runs for t, _ in r.words]])
    for run in runs:
        if run.error:
            continue
        times = [t / 1000 for t, _ in run.words]
        words = [w for _, w in run.words]
        fig.add_trace(
            go.Scatter(
                x=[0.0, *times, end],
                y=[0, *range(1, len(times) + 1), len(times)],
                text=["", *words, ""],
                mode="lines+markers",
                line={"shape": "hv", "width": 2},
                marker={"size": 5},
                name=f"{run.delay} (first text {_seconds(run.first_text_ms)})",
                hovertemplate="%{x:.2f} s · %{y} words · %{text}<extra></extra>",
            )
        )
    fig.add_vrect(x0=speech_s, x1=end, fillcolor="rgba(128,128,128,0.12)", line_width=0)
    fig.add_annotation(x=speech_s, y=1, yref="paper", text="audio ends", showarrow=False, xanchor="left")
    fig.update_layout(
        title="Words on screen over the audio",
        height=300,
        margin={"l": 50, "r": 20, "t": 40, "b": 40},
        legend={"orientation": "h", "y": -0.25},
        xaxis_title="seconds into the audio",
        yaxis_title="words shown",
    )
    fig.update_xaxes(range=[0, end])
    return fig


def _summary(result: DelayComparison) -> str:
    parts = [f"**{result.duration_s:.1f} s** of audio through both delays."]
    if result.reference_source == "yours":
        parts.append("WER against your reference.")
    elif result.reference_source:
        parts.append(f"WER against a file transcription by {html.escape(result.reference_source)}.")
    if result.reference_error:
        parts.append("⚠️ " + html.escape(result.reference_error))
    firsts = [(r.first_text_ms, r.delay) for r in result.runs if not r.error and r.first_text_ms is not None]
    if len(firsts) == 2:
        (a, da), (b, db) = sorted(firsts)
        parts.append(f"{da} showed text {(b - a) / 1000:.2f} s before {db}." if b > a else "Text came at once in both.")
    return " ".join(parts)


# ----------------------------------------------------------------- the handler


def _audio(upload: str | None, request: gr.Request | None) -> bytes:
    if upload:
        try:
            return pcm_from_file(upload)
        except audio.AudioTooLongError:
            raise PlaygroundError(f"The file is longer than {max_seconds()} s, the most a comparison plays.") from None
        except audio.AudioDecodeError as e:
            raise PlaygroundError(f"This file is not audio we can read ({e}).") from None
    owner = getattr(request, "session_hash", None) or "anonymous"
    pcm = get_context().relay.recording(owner)
    if not pcm:
        raise PlaygroundError("Nothing to compare yet: record in Live mode first, or choose a file.")
    return bytes(pcm)


def run_delay_comparison(
    delay_a: str,
    delay_b: str,
    reference: str,
    upload: str | None,
    model: str,
    language: str,
    prompt: str,
    noise: str,
    turn: str,
    threshold: float,
    silence_ms: float,
    prefix_ms: float,
    eagerness: str,
    delay: str | None = "",
    request: gr.Request = None,
) -> Iterator[Outputs]:
    """Compare two delays on the last live recording (or ``upload``); yields (status, table, figure)
    while it plays and once it is done."""
    empty = gr.update(value=[], headers=HEADERS)
    ctx = get_context()
    provider = ctx.provider_for(request)
    base = live_spec(model, language, prompt, noise, turn, threshold, silence_ms, prefix_ms, eagerness, delay)
    try:
        pcm = _audio(upload, request)
    except PlaygroundError as e:
        yield f"⚠️ {e}", empty, None
        return
    seconds = len(pcm) / 2 / get_catalog().realtime.pcm_rate
    progress: queue.Queue[float] = queue.Queue()
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["result"] = compare_delays(
                provider, pcm, [delay_a, delay_b], base=base, reference=reference or "", on_progress=progress.put
            )
        except PlaygroundError as e:
            box["error"] = str(e)
        except Exception as e:  # noqa: BLE001 - a bug must still end the run with a message
            box["error"] = provider.redact(f"The comparison failed ({type(e).__name__}: {e})")

    worker = threading.Thread(target=work, name="delay-compare", daemon=True)
    worker.start()
    total = seconds + TAIL_SILENCE_MS / 1000
    yield f"Playing {seconds:.1f} s of audio through {delay_a} and {delay_b} in real time…", empty, None
    while worker.is_alive():
        try:
            share = progress.get(timeout=0.5)
        except queue.Empty:
            continue
        if share >= 1.0:
            yield "Waiting for the last transcripts and scoring them…", gr.update(), gr.update()
        else:
            yield f"Playing… {share * total:.1f} s of {total:.1f} s", gr.update(), gr.update()
    worker.join()
    if "error" in box:
        yield f"⚠️ {html.escape(box['error'])}", empty, None
        return
    result: DelayComparison = box["result"]
    _record(result, pcm, provider.label, request)
    yield (
        _summary(result),
        gr.update(value=delay_table(result), headers=HEADERS),
        delay_timeline_figure(result.runs, result.duration_s),
    )


def _record(result: DelayComparison, pcm: bytes, provider: str, request: Any = None) -> None:
    """Each delay's run in the history (of the person behind ``request``), with the audio it heard."""
    ctx = get_context()
    wav = audio.pcm16_wav(pcm, get_catalog().realtime.pcm_rate)
    for run in result.runs:
        if run.error:
            continue
        timings = {k: v for k, v in (("first_text_ms", run.first_text_ms), ("total_ms", run.completed_ms)) if v}
        ctx.record(
            "live_transcription", run.spec, model=run.spec.model, provider=provider, timings=timings,
            text=run.text, audio=wav, request=request,
        )  # fmt: skip
