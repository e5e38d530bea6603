"""Compare transcription models: one recording, 2–4 transcription settings side by side.

The clip comes from an upload, the microphone or the Studio's last output. Each column
is a full ``TranscriptionSpec`` (model, language, prompt, temperature, streaming),
checked with ``problems()`` before anything runs, so one bad column says which field
is wrong while the others still run. The good ones run at once through the same
executor as the voice comparison (``client.batch.run_variants``) and fill their column
as each finishes: the text, the word diff and WER against an optional typed reference
(the Transcribe tab's ``diff_html``: Whisper's normaliser and jiwer), timings, an
estimated cost and the Python snippet of exactly that request.
"""

from __future__ import annotations

import asyncio
import html
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import gradio as gr

from playground.client.batch import Variant, VariantOutcome, run_variants
from playground.client.results import TranscriptionResult
from playground.core.catalog import get_catalog
from playground.core.pricing import format_cost
from playground.core.specs import TranscriptionSpec
from playground.core.textmetrics import word_error_rate
from playground.ui import standin
from playground.ui.context import get_context
from playground.ui.transcribe import (
    audio_loaded,
    diff_html,
    model_options,
    transcription_code,
    transcription_spec,
    use_studio_output,
)
from playground.ui.widgets import model_choices, model_picker

__all__ = [
    "COLUMN_FIELDS",
    "MAX_COLUMNS",
    "OUTPUTS_PER_COLUMN",
    "column_code",
    "column_stream",
    "create_compare_stt_tab",
    "default_models",
    "run_stt_compare",
]

MIN_COLUMNS, MAX_COLUMNS = 2, 4
#: per column, in order: model, language, prompt, temperature, stream
COLUMN_FIELDS = ("model", "language", "prompt", "temperature", "stream")
#: per column outputs, in order: text, metrics, WER + diff, Python snippet
OUTPUTS_PER_COLUMN = 4
#: the temperature slider's left end: leave the server's default
SERVER_DEFAULT_TEMPERATURE = -0.05


@dataclass(frozen=True)
class _Column:
    model: str
    language: str
    prompt: str
    temperature: float | None
    stream: bool


def _columns(values: tuple[Any, ...]) -> list[_Column]:
    n = len(COLUMN_FIELDS)
    return [_Column(*values[i : i + n]) for i in range(0, len(values) - n + 1, n)]


def default_models() -> list[str]:
    """One different model per column, the catalog's default first, then the rest in catalog order
    (file transcription models the pickers offer: deprecated ones, never retired ones)."""
    cat = get_catalog()
    offered = [mid for _, mid in model_choices(cat.file_transcription_models)[0]]
    default = cat.transcription_default_model
    ordered = [default, *(m for m in offered if m != default)] if default in offered else offered
    return [ordered[i % len(ordered)] for i in range(MAX_COLUMNS)]


def column_stream(model: str) -> Any:
    """The stream checkbox for this model: offered where the model streams, else off and greyed."""
    return model_options(model, "transcribe", "json")[3]


def column_code(
    path: str | None,
    model: str,
    language: str,
    prompt: str,
    temperature: float | None,
    stream: bool,
    request: gr.Request = None,
) -> str:
    """The Python snippet of this column's request, with the clip's own file name."""
    return transcription_code(
        path, "transcribe", model, language, prompt, temperature, "json", [], False, stream, request=request
    )[0]


def audio_info(path: str | None) -> str:
    """Length, rate and channels of the loaded clip (or what is wrong with it)."""
    return audio_loaded(path)[1]


def show_columns(n: int) -> list[Any]:
    return [gr.update(visible=i < int(n)) for i in range(MAX_COLUMNS)]


# ------------------------------------------------------------------------ run


def _spec(path: str, col: _Column) -> TranscriptionSpec:
    return transcription_spec(
        path, "transcribe", col.model, col.language, col.prompt, col.temperature, "json", [], False, col.stream
    )


def _label(index: int, spec: TranscriptionSpec) -> str:
    extras = [spec.language or "auto"]
    if spec.prompt:
        extras.append("prompt")
    if spec.temperature is not None:
        extras.append(f"t={spec.temperature:g}")
    return f"{index + 1}. {spec.model} ({', '.join(extras)})"


def _metrics(result: TranscriptionResult) -> str:
    first = f"**First text** {result.ttfb_ms:,.0f} ms" if result.spec.stream else "**First text** with the whole result"
    parts = [first, f"**Total** {result.total_ms:,.0f} ms"]
    if result.duration_s:
        parts.append(f"**Speed** {result.duration_s * 1000 / max(result.total_ms, 1.0):.1f}× real time")
    parts.append(f"**Est. cost** {format_cost(result.est_cost)}")
    return " · ".join(parts)


def _finished_column(outcome: VariantOutcome, reference: str, name: str, clip: bytes, request: Any) -> list[Any]:
    """The column's outputs; the run goes into the History like a Transcribe-tab run."""
    variant = outcome.variant
    code = column_code(variant.spec.file, variant.spec.model, variant.spec.language, variant.spec.prompt,
                       variant.spec.temperature, variant.spec.stream, request)  # fmt: skip
    if outcome.error is not None:
        return ["", f"⚠️ {html.escape(outcome.error)}", "", code]
    result = outcome.result
    assert isinstance(result, TranscriptionResult)
    ctx = get_context()
    ctx.record(
        "transcription", replace(result.spec, file=name), model=result.spec.model, provider=variant.provider.label,
        timings={"ttfb_ms": result.ttfb_ms, "total_ms": result.total_ms}, usage=result.usage, cost=result.est_cost,
        text=result.text, audio=clip, audio_ext=Path(name).suffix.lstrip(".") or "wav", request=request,
    )  # fmt: skip
    if not result.text.strip():
        return ["", f"⚠️ Nothing was heard (silence, or too short to hold a word). {_metrics(result)}", "", code]
    wer = diff_html(reference, result.text) if (reference or "").strip() else ""
    return [result.text, _metrics(result), wer, code]


def _summary(outcomes: list[VariantOutcome], reference: str) -> str:
    """One row per finished column, so the columns' figures read against each other at a glance."""
    scored = bool((reference or "").strip())
    head = "| column | WER | first text | total | est. cost |\n|---|---|---|---|---|"
    rows = []
    for o in sorted(outcomes, key=lambda o: o.index):
        label = html.escape(_label(o.index, o.variant.spec))  # type: ignore[arg-type]
        r = o.result
        if not isinstance(r, TranscriptionResult):
            rows.append(f"| {label} | failed | | | |")
            continue
        wer = f"{word_error_rate(reference, r.text):.1%}" if scored else "–"
        first = f"{r.ttfb_ms:,.0f} ms" if r.spec.stream else "–"
        rows.append(f"| {label} | {wer} | {first} | {r.total_ms:,.0f} ms | {format_cost(r.est_cost)} |")
    return "\n".join([head, *rows]) if rows else ""


async def run_stt_compare(
    request: gr.Request | None, path: str | None, reference: str, n_columns: int, *column_values: Any
):
    """Run the first ``n_columns`` columns at once; yield (summary, per-column outputs) as each finishes.

    Every column is validated first: an invalid one gets its message and no request,
    and the others run. Columns use this browser session's provider.
    """
    per = OUTPUTS_PER_COLUMN
    outputs: list[Any] = [gr.update()] * (1 + MAX_COLUMNS * per)
    if not path:
        outputs[0] = "⚠️ Load a file, record from the microphone, or use the Studio's last output first."
        yield outputs
        return
    columns = _columns(column_values)[: max(MIN_COLUMNS, min(MAX_COLUMNS, int(n_columns)))]
    provider = get_context().provider_for(request)
    runnable: list[tuple[int, Variant]] = []
    for i, col in enumerate(columns):
        spec = _spec(path, col)
        problems = spec.problems()
        code = column_code(path, col.model, col.language, col.prompt, col.temperature, col.stream, request)
        if problems:
            msg = "⚠️ Check this column: " + "; ".join(html.escape(str(p)) for p in problems)
            outputs[1 + i * per : 1 + (i + 1) * per] = ["", msg, "", code]
        else:
            outputs[1 + i * per : 1 + (i + 1) * per] = ["", "Running…", "", code]
            runnable.append((i, Variant(spec, provider, _label(i, spec))))
    outputs[0] = f"Running {len(runnable)} of {len(columns)} columns at once on {html.escape(provider.label)}…"
    yield list(outputs)
    if not runnable:
        outputs[0] = "Nothing ran: fix the columns marked ⚠️."
        yield list(outputs)
        return
    name = Path(path).name
    clip = await asyncio.to_thread(Path(path).read_bytes)
    finished: list[VariantOutcome] = []
    async for outcome in run_variants([v for _, v in runnable]):
        index = runnable[outcome.index][0]
        outcome = VariantOutcome(index, outcome.variant, outcome.result, outcome.error)
        finished.append(outcome)
        # the word diff, the history's database and file writes are not for the event loop
        column = await asyncio.to_thread(_finished_column, outcome, reference, name, clip, request)
        outputs = list(outputs)
        outputs[1 + index * per : 1 + (index + 1) * per] = column
        outputs[0] = await asyncio.to_thread(_summary, finished, reference)
        yield outputs


# --------------------------------------------------------------------- layout


def create_compare_stt_tab() -> None:
    """Builds the "Transcription models" panel (inside Compare)."""
    cat = get_catalog()
    mb = cat.limits.upload_max_bytes >> 20
    langs = [("Auto-detect", ""), *[(code, code) for code in cat.transcription.languages]]
    models = list(cat.file_transcription_models)
    defaults = default_models()
    with gr.Row(equal_height=False):
        with gr.Column(scale=2, min_width=360):
            audio = gr.Audio(
                sources=["upload", "microphone"],
                type="filepath",
                label=f"Recording ({', '.join(cat.transcription_input_formats)}; ≤ {mb} MB)",
                elem_id="pg-cstt-audio",
            )
            with gr.Row():
                studio_btn = gr.Button("Use the Studio's last output", size="sm", elem_id="pg-cstt-studio")
                info = gr.Markdown(elem_id="pg-cstt-info")
        with gr.Column(scale=3, min_width=480):
            reference = gr.Textbox(
                label="Reference text (optional: WER and word diff per column)", lines=3, elem_id="pg-cstt-ref"
            )
            with gr.Row():
                n_columns = gr.Slider(MIN_COLUMNS, MAX_COLUMNS, value=3, step=1, label="Columns", elem_id="pg-cstt-n")
                run = gr.Button("▶  Transcribe with all", variant="primary", elem_id="pg-cstt-run")
            summary = gr.Markdown(elem_id="pg-cstt-summary")
            stt_note = standin.note("compare_stt")  # offline: each model's local Whisper, hidden otherwise
    columns: list[gr.Column] = []
    inputs: list[Any] = []
    outputs: list[Any] = [summary]
    with gr.Row(equal_height=False):
        for i in range(MAX_COLUMNS):
            first = cat.transcription_models[defaults[i]]
            with gr.Column(visible=i < 3, min_width=240, elem_classes="pg-variant") as col:
                gr.Markdown(f"#### Column {i + 1}")
                with gr.Row():
                    model = model_picker(models, defaults[i], label="Model", elem_id=f"pg-cstt-model-{i}")
                    language = gr.Dropdown(langs, value="", label="Language", elem_id=f"pg-cstt-lang-{i}")
                prompt = gr.Textbox(label="Prompt", lines=1, max_lines=3, elem_id=f"pg-cstt-prompt-{i}")
                with gr.Row(equal_height=True):
                    temperature = gr.Slider(
                        SERVER_DEFAULT_TEMPERATURE, 1, value=SERVER_DEFAULT_TEMPERATURE, step=0.05,
                        label="Temperature (left: default)", scale=3,
                    )  # fmt: skip
                    stream = gr.Checkbox(
                        label="Stream", value=first.stream, interactive=first.stream, scale=1, min_width=80
                    )
                text = gr.Textbox(label="Transcript", lines=3, max_lines=12, elem_id=f"pg-cstt-text-{i}")
                metrics = gr.Markdown(elem_id=f"pg-cstt-metrics-{i}")
                wer = gr.HTML(elem_id=f"pg-cstt-wer-{i}")
                code = gr.Code(
                    column_code(None, defaults[i], "", "", SERVER_DEFAULT_TEMPERATURE, first.stream),
                    language="python",
                    label="Python",
                    lines=6,
                    elem_id=f"pg-cstt-code-{i}",
                )
            model.change(column_stream, model, stream, queue=False)
            settings = [audio, model, language, prompt, temperature, stream]
            gr.on([c.change for c in settings], column_code, settings, code, queue=False)
            columns.append(col)
            inputs += [model, language, prompt, temperature, stream]
            outputs += [text, metrics, wer, code]
    n_columns.change(show_columns, n_columns, columns, queue=False)
    standin.follow(stt_note, n_columns, *inputs[::5])  # the note names the shown columns' Whisper
    audio.change(audio_info, audio, info, queue=False)
    studio_btn.click(use_studio_output, None, [audio, info], queue=False)
    run.click(run_stt_compare, [audio, reference, n_columns, *inputs], outputs, api_name="compare_transcription")
