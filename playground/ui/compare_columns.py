"""What one Compare column offers and shows, on either workflow.

Shared by the side-by-side comparison and the blind test: the workflow picker's choices
and what a workflow change does to the column's voice, model, format and speed; saving a
result where the browser can play it; and the column's report: workflow, latency (connect
time too on Realtime), the run's cost and its cost per minute of audio, the round trip
WER, and on Realtime whether the transcript that came back is the script as written.
Cost per minute is the number that moves when a product switches workflows, since the
speech endpoint is priced per character and Realtime per audio token.
"""

from __future__ import annotations

import html
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
import soundfile as sf

from playground.client.batch import VariantOutcome
from playground.client.providers import Provider
from playground.client.results import SpeechResult
from playground.client.runner import Runner
from playground.core import workflows
from playground.core.audio import AudioDecodeError, DecodedAudio, decode, to_mono
from playground.core.catalog import get_catalog
from playground.core.diffview import diff_html
from playground.core.errors import PlaygroundError
from playground.core.plots import spectrogram_figure, waveform_figure
from playground.core.pricing import format_cost
from playground.core.snippets import render
from playground.core.specs import TranscriptionSpec
from playground.core.textmetrics import word_error_rate
from playground.core.vibes import slugify
from playground.ui.context import get_context
from playground.ui.widgets import model_choices

__all__ = [
    "WORKFLOW_NAMES",
    "ColumnRun",
    "code_for",
    "cost_per_minute",
    "finished_column",
    "playable",
    "short_name",
    "transcript_check",
    "workflow_changed",
    "workflow_choices",
    "workflow_fields",
]

#: the short names a column, the blind test's reveal and the leaderboard use
WORKFLOW_NAMES = {workflows.REALTIME: "Realtime", workflows.SPEECH: "Speech endpoint"}


def short_name(workflow: str) -> str:
    return WORKFLOW_NAMES.get(workflow, workflow)


def workflow_choices() -> list[tuple[str, str]]:
    """(label, id) for the picker: the realtime model, the endpoint with its shutdown date."""
    return [(workflows.label(w), w) for w in workflows.WORKFLOWS]


def workflow_fields(workflow: str, voice: str | None = None, model: str | None = None) -> dict[str, Any]:
    """The column's voice, model and format pickers for ``workflow`` (each value kept where the
    workflow has it), plus the speed range: what building a column and switching it both need."""
    w = workflows.get(workflow)
    models, model = model_choices(w.models, model if model in w.models else w.default_model)
    return {
        "voices": w.voices,
        "voice": voice if voice in w.voices else w.default_voice,
        "models": models,
        "model": model,
        "formats": [(text, fid) for fid, text in w.formats],
        "format": w.default_format,
        "speed_min": w.speed_min,
        "speed_max": w.speed_max,
    }


def workflow_changed(workflow: str, voice: str, model: str, fmt: str, speed: float) -> list[Any]:
    """A column's workflow changed: its voice, model, format and speed follow (kept where the
    new workflow has them) and the column says what had to change."""
    if workflow not in workflows.WORKFLOWS:
        return [gr.update()] * 5
    f = workflow_fields(workflow, voice, model)
    fmt_ids = [fid for _, fid in f["formats"]]
    value, speed_note = workflows.clamp_speed(workflow, speed)
    notes = [speed_note] if speed_note else []
    custom = isinstance(voice, str) and voice.startswith("voice_")
    if voice and voice != f["voice"] and not custom:
        swapped = f"this column now uses **{f['voice']}**"
        notes.append(f"{html.escape(voice)} is not a {short_name(workflow)} voice; {swapped}.")
    return [
        gr.update(choices=f["voices"], value=voice if custom else f["voice"]),
        gr.update(choices=f["models"], value=f["model"]),
        gr.update(choices=f["formats"], value=fmt if fmt in fmt_ids else f["format"]),
        gr.update(minimum=f["speed_min"], maximum=f["speed_max"], value=value),
        "\n\n".join(notes),
    ]


def playable(outcome: VariantOutcome, sound: DecodedAudio | None, tag: str = "") -> Path:
    """Save the audio for a player; raw PCM is written as WAV so browsers play it (Realtime
    results already are WAV files)."""
    result = outcome.result
    assert isinstance(result, SpeechResult)
    spec = result.spec
    stem = f"v{outcome.index + 1}_{spec.voice}_{slugify(tag) if tag else 'plain'}_{time.strftime('%Y%m%d-%H%M%S')}"
    if spec.response_format == "pcm" and sound is not None:
        path = get_context().output_path(f"{stem}.wav")
        sf.write(path, sound.samples, sound.sample_rate, subtype="PCM_16")
    else:
        path = get_context().output_path(f"{stem}.{get_catalog().speech_formats[spec.response_format].ext}")
        path.write_bytes(result.audio)
    return path


def code_for(spec: Any, provider: Provider, lang: str = "python") -> str:
    """The snippet for a column; a workflow the snippets cannot write yet gets a note, not a crash."""
    try:
        return render(spec, lang, base_url=provider.snippet_base_url)
    except Exception as e:  # noqa: BLE001 - a missing snippet must not cost the column its result
        comment = "//" if lang == "js" else "#"
        return f"{comment} No {lang} snippet for the {short_name(workflows.workflow_of(spec))} workflow yet ({e})."


def cost_per_minute(result: SpeechResult | None) -> float | None:
    """The run's estimated cost scaled to one minute of its audio."""
    if result is None or result.est_cost is None or not result.duration_s:
        return None
    return result.est_cost / result.duration_s * 60


@dataclass(frozen=True)
class ColumnRun:
    """A finished column with its scores, for the export."""

    outcome: VariantOutcome
    round_trip_wer: float | None = None
    round_trip_text: str | None = None
    #: Realtime: the returned transcript against the script (0 = read as written)
    transcript_wer: float | None = None

    # the export reads these like a VariantOutcome
    @property
    def index(self) -> int:
        return self.outcome.index

    @property
    def variant(self) -> Any:
        return self.outcome.variant

    @property
    def result(self) -> Any:
        return self.outcome.result

    @property
    def error(self) -> str | None:
        return self.outcome.error


def _round_trip(outcome: VariantOutcome, sound: DecodedAudio) -> str:
    """Transcribe the variant back with the same provider."""
    path = get_context().output_path(f"roundtrip-{time.monotonic_ns()}.wav")
    sf.write(path, to_mono(sound.samples), sound.sample_rate, subtype="PCM_16")
    try:
        spec = TranscriptionSpec(file=str(path), model=get_catalog().round_trip_model, language="en")
        return Runner(outcome.variant.provider).transcribe(spec).text
    finally:
        path.unlink(missing_ok=True)


def transcript_check(script: str, transcript: str | None) -> tuple[float | None, str]:
    """Did a Realtime voice read the script as written? Its WER and a short verdict or word diff."""
    if not (transcript or "").strip():
        return None, "**Transcript** none came back, so the wording cannot be checked."
    wer = word_error_rate(script, transcript or "")
    if wer == 0:
        return 0.0, "**Transcript** ✓ read as written"
    diff = diff_html(
        script,
        transcript or "",
        missing="in the script, not said",
        added="said, not in the script",
        replaced="the script has",
        reference_name="script",
    )
    return wer, f"**Transcript vs script** (what the model says it said)\n\n{diff}"


def _record(outcome: VariantOutcome, result: SpeechResult, request: Any = None) -> None:
    spec = result.spec
    timings = {"ttfb_ms": result.ttfb_ms, "total_ms": result.total_ms}
    if result.connect_ms is not None:
        timings["connect_ms"] = result.connect_ms
    get_context().record(
        "speech", spec, model=spec.model, voice=spec.voice, provider=outcome.variant.provider.label,
        timings=timings, usage=result.usage, cost=result.est_cost, text=spec.input, audio=result.audio,
        audio_ext=spec.response_format, request=request,
    )  # fmt: skip


def _workflow_line(workflow: str, model: str) -> str:
    """The workflow's label, and the model where the label does not already name it."""
    name = workflows.label(workflow)
    return f"Workflow **{html.escape(name)}**" + ("" if f"({model})" in name else f" · {html.escape(model)}")


def _latency(result: SpeechResult) -> str:
    parts = [f"Duration {result.duration_s or 0:.2f} s"]
    if result.connect_ms is not None:
        parts.append(f"connect {result.connect_ms:,.0f} ms")
    parts += [f"first audio {result.ttfb_ms:,.0f} ms", f"total {result.total_ms / 1000:.2f} s"]
    return " · ".join(parts)


def finished_column(
    outcome: VariantOutcome,
    script: str,
    roundtrip: bool,
    tag: str = "",
    notes: tuple[str, ...] = (),
    request: Any = None,
) -> tuple[list[Any], ColumnRun]:
    """The column's outputs (audio, report, waveform, spectrogram, code) and its scores; the
    run goes into the History of the person behind ``request``."""
    spec = outcome.variant.spec
    workflow = workflows.workflow_of(spec)  # type: ignore[arg-type]
    code = code_for(spec, outcome.variant.provider)
    head = f"**{html.escape(outcome.variant.label)}** <small>({html.escape(outcome.variant.provider.label)})</small>"
    if outcome.error is not None or not isinstance(outcome.result, SpeechResult):
        return [None, f"⚠️ {head}\n\n{html.escape(outcome.error or 'no result')}", None, None, code], ColumnRun(outcome)
    result = outcome.result
    try:
        sound: DecodedAudio | None = decode(result.audio, result.spec.response_format)
    except AudioDecodeError:
        sound = None
    path = playable(outcome, sound, tag)
    _record(outcome, result, request)
    wave = spectro = None
    if sound is not None:
        mono = to_mono(sound.samples)
        wave = waveform_figure(mono, sound.sample_rate, title="Waveform")
        spectro = spectrogram_figure(mono, sound.sample_rate, title="Spectrogram")
    per_minute = cost_per_minute(result)
    lines = [
        head,
        _workflow_line(workflow, spec.model),
        _latency(result),
        f"Cost est. {format_cost(result.est_cost)} · **{format_cost(per_minute)} / min** of audio",
        *notes,
    ]
    run = ColumnRun(outcome)
    if roundtrip and sound is not None:
        try:
            text = _round_trip(outcome, sound)
            wer = word_error_rate(script, text)
            run = ColumnRun(outcome, wer, text)
            lines.append(f"**Round trip WER** {wer:.0%} <small>“{html.escape(text[:160])}”</small>")
        except PlaygroundError as e:
            lines.append(f"Round trip failed: {html.escape(str(e))}")
    if workflow == workflows.REALTIME:
        transcript_wer, check = transcript_check(script, result.transcript)
        run = ColumnRun(outcome, run.round_trip_wer, run.round_trip_text, transcript_wer)
        lines.append(check)
    return [str(path), "\n\n".join(lines), wave, spectro, code], run
