"""Compare tab: 2–6 variants side by side, run concurrently, plus a blind A/B arena.

Every column is a full text-to-speech spec on its own workflow (the Realtime API or the
speech endpoint it replaces): voice, vibe/instructions, speed, model, format and provider,
the pickers following the workflow. "Run all" starts every variant at once and fills each
column as its audio arrives, with its latency, cost per minute of audio and (optional
round trip) WER; "Same text through both workflows" sets one voice and vibe up on each, the
migration check to run before the endpoint's shutdown. The columns' report lives in
``compare_columns``, the blind test in ``blind``.
"""

from __future__ import annotations

import asyncio
import csv
import html
import io
import json
import time
import zipfile
from dataclasses import dataclass
from typing import Any

import gradio as gr

from playground.client.batch import Variant, VariantOutcome, run_variants
from playground.client.providers import Provider
from playground.core import workflows
from playground.core.catalog import get_catalog
from playground.ui import standin
from playground.ui.blind import blind_new_round, blind_vote, create_blind_tab, leaderboard_rows, mark_played
from playground.ui.compare_columns import (
    ColumnRun,
    code_for,
    cost_per_minute,
    finished_column,
    short_name,
    workflow_changed,
    workflow_choices,
    workflow_fields,
)
from playground.ui.compare_stt import create_compare_stt_tab
from playground.ui.context import get_context
from playground.ui.share import COMPARE_COLUMN, SHARE_JS, share_compare_query
from playground.ui.studio import DEFAULT_SCRIPT
from playground.ui.widgets import range_slider

__all__ = [
    "COLUMN_FIELDS",
    "MAX_VARIANTS",
    "OUTPUTS_PER_COLUMN",
    "PRESET_FIELDS",
    "blind_new_round",
    "blind_vote",
    "build_both_workflows",
    "build_same_text",
    "build_same_voice",
    "create_compare_tab",
    "export_comparison",
    "leaderboard_rows",
    "mark_played",
    "provider_choices",
    "run_compare",
    "shared_voice",
    "workflow_changed",
]

MAX_VARIANTS = 6
NO_VIBE = "(none)"
#: per column, in order: workflow, voice, vibe, instructions, speed, model, format, provider
COLUMN_FIELDS = ("workflow", "voice", "vibe", "instructions", "speed", "model", "format", "provider")
#: per column outputs, in order: audio, metrics, waveform, spectrogram, code
OUTPUTS_PER_COLUMN = 5
#: per column, what "Same text through both workflows" sets (after the variant count and round trip)
PRESET_FIELDS = ("workflow", "voice", "vibe", "instructions", "speed", "model", "format")


@dataclass(frozen=True)
class ColumnSettings:
    workflow: str
    voice: str
    vibe: str
    instructions: str
    speed: float
    model: str
    fmt: str
    provider: str


def _columns(values: tuple[Any, ...]) -> list[ColumnSettings]:
    n = len(COLUMN_FIELDS)
    return [ColumnSettings(*values[i : i + n]) for i in range(0, len(values), n)]


# ------------------------------------------------------------------- builders


def build_same_text(voices: list[str]) -> list[Any]:
    """Fill columns with the chosen voices (2–6), same everything else."""
    voices = list(voices or [])[:MAX_VARIANTS]
    if len(voices) < 2:
        raise gr.Error("Pick at least two voices.")
    updates: list[Any] = [gr.update(value=len(voices))]
    for i in range(MAX_VARIANTS):
        updates.append(gr.update(value=voices[i]) if i < len(voices) else gr.update())
        updates.append(gr.update(value=NO_VIBE) if i < len(voices) else gr.update())
        updates.append(gr.update(value="") if i < len(voices) else gr.update())
    return updates


def build_same_voice(voice: str, vibes: list[str]) -> list[Any]:
    """Fill columns with one voice reading the chosen vibes (2–6)."""
    ctx = get_context()
    vibes = list(vibes or [])[:MAX_VARIANTS]
    if len(vibes) < 2:
        raise gr.Error("Pick at least two vibes.")
    updates: list[Any] = [gr.update(value=len(vibes))]
    for i in range(MAX_VARIANTS):
        if i < len(vibes):
            vibe = ctx.vibe(vibes[i])
            updates += [
                gr.update(value=voice),
                gr.update(value=vibes[i]),
                gr.update(value=vibe.instructions_text if vibe else ""),
            ]
        else:
            updates += [gr.update(), gr.update(), gr.update()]
    return updates


def shared_voice(voice: str | None = None) -> str:
    """A voice both workflows have: ``voice`` if it is one, else the Realtime default if the
    speech endpoint has it too, else coral."""
    both = set(workflows.get(workflows.REALTIME).voices) & set(workflows.get(workflows.SPEECH).voices)
    if voice in both:
        return str(voice)
    default = workflows.get(workflows.REALTIME).default_voice
    return default if default in both else "coral"


def build_both_workflows(voice: str | None = None, vibe: str | None = NO_VIBE, instructions: str = "") -> list[Any]:
    """Two columns: the same voice and vibe through the Realtime API and through the speech
    endpoint, round trip on, each with its workflow's default model and format.
    Updates for: the variant count, the round trip box, then ``PRESET_FIELDS`` per column."""
    voice = shared_voice(voice)
    vibe = vibe or NO_VIBE
    text = instructions if instructions or vibe == NO_VIBE else vibe_to_instructions(vibe)
    updates: list[Any] = [gr.update(value=2), gr.update(value=True)]
    for i in range(MAX_VARIANTS):
        if i >= 2:
            updates += [gr.update()] * len(PRESET_FIELDS)
            continue
        workflow = workflows.WORKFLOWS[i]
        f = workflow_fields(workflow, voice)
        updates += [
            gr.update(value=workflow),
            gr.update(choices=f["voices"], value=voice),
            gr.update(value=vibe),
            gr.update(value=text),
            gr.update(minimum=f["speed_min"], maximum=f["speed_max"], value=1.0),
            gr.update(choices=f["models"], value=f["model"]),
            gr.update(choices=f["formats"], value=f["format"]),
        ]
    return updates


def vibe_to_instructions(vibe_name: str) -> str:
    vibe = get_context().vibe(vibe_name) if vibe_name and vibe_name != NO_VIBE else None
    return vibe.instructions_text if vibe else ""


# ------------------------------------------------------------------------ run


def _variant(
    script: str, col: ColumnSettings, providers: dict[str, Provider], fallback: Provider
) -> tuple[Variant, str]:
    """The column's variant on its workflow, and a note when its speed had to be held to range."""
    provider = providers.get(col.provider, fallback)
    speed, note = workflows.clamp_speed(col.workflow, col.speed)
    spec = workflows.tts_spec(
        col.workflow, input=script, voice=col.voice, model=col.model, instructions=col.instructions,
        speed=speed, fmt=col.fmt,
    )  # fmt: skip
    label = f"{short_name(col.workflow)} · {col.voice}" + (f" · {col.vibe}" if col.vibe and col.vibe != NO_VIBE else "")
    return Variant(spec, provider, label), note


def _tag(col: ColumnSettings) -> str:
    return col.vibe if col.vibe and col.vibe != NO_VIBE else "plain"


async def run_compare(request: gr.Request | None, script: str, n_variants: int, roundtrip: bool, *column_values: Any):
    """Run the first ``n_variants`` columns concurrently; yield all outputs as each finishes.

    Each column's provider is looked up among the browser session's choices (its own
    provider, the app's, the embedded backend), so local and hosted voices compare side by
    side; a column that cannot run (a voice its workflow lacks, say) says why in its place
    while the others run.
    """
    ctx = get_context()
    providers, fallback = ctx.providers_for(request), ctx.provider_for(request)
    columns = _columns(column_values)[: int(n_variants)]
    outputs: list[Any] = [gr.update()] * (MAX_VARIANTS * OUTPUTS_PER_COLUMN)
    waiting = [None, "Running…", None, None, gr.update()]
    runnable: list[tuple[int, Variant, str]] = []
    for i, col in enumerate(columns):
        outputs[i * OUTPUTS_PER_COLUMN : (i + 1) * OUTPUTS_PER_COLUMN] = waiting
        if col.workflow not in workflows.WORKFLOWS:
            known = ", ".join(workflows.WORKFLOWS)
            outputs[i * OUTPUTS_PER_COLUMN + 1] = f"⚠️ Unknown workflow {html.escape(repr(col.workflow))}; use {known}."
            continue
        variant, note = _variant(script, col, providers, fallback)
        problems = variant.spec.problems()
        if problems:
            msg = "; ".join(str(p) for p in problems)
            where = html.escape(workflows.label(col.workflow))
            outputs[i * OUTPUTS_PER_COLUMN + 1] = f"⚠️ Check this variant ({where}): {html.escape(msg)}"
            outputs[i * OUTPUTS_PER_COLUMN + 4] = code_for(variant.spec, variant.provider)
        else:
            runnable.append((i, variant, note))
    yield outputs
    finished: list[ColumnRun] = []
    async for outcome in run_variants([v for _, v, _ in runnable]):
        index, _, note = runnable[outcome.index]
        outcome = VariantOutcome(index, outcome.variant, outcome.result, outcome.error)
        notes = (note,) if note else ()
        column, run = await asyncio.to_thread(
            finished_column, outcome, script, bool(roundtrip), _tag(columns[index]), notes, request
        )
        finished.append(run)
        ctx.remember_comparison(getattr(request, "session_hash", None), sorted(finished, key=lambda o: o.index))
        outputs = list(outputs)
        outputs[index * OUTPUTS_PER_COLUMN : (index + 1) * OUTPUTS_PER_COLUMN] = column
        yield outputs


SUMMARY_HEADER = [
    "variant", "label", "workflow", "provider", "voice", "model", "format", "duration_s", "connect_ms",
    "first_audio_ms", "total_ms", "est_cost_usd", "cost_per_min_usd", "round_trip_wer", "transcript_wer",
    "transcript", "error",
]  # fmt: skip


def _summary_row(run: ColumnRun) -> list[Any]:
    """One export row: the workflow, latency, cost per minute of audio and the WERs."""
    spec, r = run.variant.spec, run.result
    per_minute = cost_per_minute(r)

    def num(value: float | None, fmt: str) -> str:
        return format(value, fmt) if value is not None else ""

    return [
        run.index + 1, run.variant.label, workflows.workflow_of(spec), run.variant.provider.label, spec.voice,
        spec.model, getattr(spec, "output_format", spec.response_format),
        num(r.duration_s if r else None, ".2f"), num(r.connect_ms if r else None, ".0f"),
        num(r.ttfb_ms if r else None, ".0f"), num(r.total_ms if r else None, ".0f"),
        r.est_cost if r and r.est_cost is not None else "", num(per_minute, ".6f"),
        num(run.round_trip_wer, ".4f"), num(run.transcript_wer, ".4f"), (r.transcript or "") if r else "",
        run.error or "",
    ]  # fmt: skip


def export_comparison(request: gr.Request | None = None) -> Any:
    """The last comparison as a zip: each variant's audio, spec JSON and snippets, and a summary
    table (workflow, latency, cost per minute of audio, round trip and transcript WER)."""
    ctx = get_context()
    runs: list[ColumnRun] = ctx.last_comparison(getattr(request, "session_hash", None))
    if not runs:
        gr.Warning("Run a comparison first.")
        return gr.update(value=None, visible=False)
    path = ctx.output_path(f"comparison-{time.strftime('%Y%m%d-%H%M%S')}.zip")
    rows = [SUMMARY_HEADER]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for run in runs:
            n, spec = run.index + 1, run.variant.spec
            for lang, ext in (("python", "py"), ("js", "mjs"), ("curl", "sh")):
                z.writestr(f"variant-{n}/code.{ext}", code_for(spec, run.variant.provider, lang))
            meta: dict[str, Any] = {
                "label": run.variant.label,
                "workflow": workflows.workflow_of(spec),
                "provider": run.variant.provider.label,
                "spec": spec.to_dict(),
            }
            r = run.result
            if r is not None:
                ext = get_catalog().speech_formats[spec.response_format].ext
                z.writestr(f"variant-{n}/{spec.voice}.{ext}", r.audio)
                meta |= {"duration_s": r.duration_s, "ttfb_ms": r.ttfb_ms, "total_ms": r.total_ms,
                         "connect_ms": r.connect_ms, "usage": r.usage, "est_cost_usd": r.est_cost,
                         "cost_per_min_usd": cost_per_minute(r), "round_trip_wer": run.round_trip_wer,
                         "transcript": r.transcript, "transcript_wer": run.transcript_wer}  # fmt: skip
            z.writestr(f"variant-{n}/spec.json", json.dumps(meta, indent=2))
            rows.append(_summary_row(run))
        table = io.StringIO()
        csv.writer(table).writerows(rows)
        z.writestr("summary.csv", table.getvalue())
    return gr.update(value=str(path), visible=True)


def show_columns(n: int) -> list[Any]:
    return [gr.update(visible=i < int(n)) for i in range(MAX_VARIANTS)]


# --------------------------------------------------------------------- layout


def provider_choices(request: gr.Request | None = None) -> list[Any]:
    """Every column's provider list for this browser session (its own provider first)."""
    labels = list(get_context().providers_for(request))
    return [gr.update(choices=labels, value=labels[0]) for _ in range(MAX_VARIANTS)]


def create_compare_tab() -> tuple[list[Any], list[Any]]:
    """Builds the tab: voices (side by side, blind test) and transcription models, each an
    inner tab; returns what ``_create_voice_tabs`` returns."""
    with gr.Tabs(elem_id="pg-compare-kind"):
        with gr.Tab("Voices", id="compare-voices", elem_id="pg-compare-voices"):
            with gr.Tabs():
                voices = _create_voice_tabs()
        with gr.Tab("Transcription models", id="compare-stt", elem_id="pg-compare-stt"):
            create_compare_stt_tab()
    return voices


def _column(i: int, vibe_names: list[str], providers: list[str]) -> dict[str, Any]:
    """One variant column's setting widgets by field name (``COLUMN_FIELDS``), on the default workflow.
    Voice, model and format take values outside their current choices: a share link or an API
    call may set them before the workflow, and ``run_compare`` reports a wrong one in the column."""
    f = workflow_fields(workflows.DEFAULT)
    start = f["voices"].index(f["voice"]) if f["voice"] in f["voices"] else 0
    return {
        "workflow": gr.Dropdown(workflow_choices(), value=workflows.DEFAULT, label="Workflow"),
        "voice": gr.Dropdown(
            f["voices"], value=f["voices"][(start + i * 3) % len(f["voices"])], label="Voice", allow_custom_value=True
        ),
        "vibe": gr.Dropdown(vibe_names, value=NO_VIBE, label="Vibe"),
        "instructions": gr.Textbox(label="Instructions", lines=3, max_lines=8),
        "speed": range_slider(f["speed_min"], f["speed_max"], value=1.0, step=0.05, label="Speed"),
        "model": gr.Dropdown(f["models"], value=f["model"], label="Model", allow_custom_value=True),
        "format": gr.Dropdown(f["formats"], value=f["format"], label="Format", allow_custom_value=True),
        "provider": gr.Dropdown(providers, value=providers[0], label="Provider"),
    }


def _create_voice_tabs() -> tuple[list[Any], list[Any]]:
    """Builds the voice comparison; returns the columns' provider dropdowns (the settings panel
    refreshes them) and what a share link fills: script, variants, round trip, then
    ``share.COMPARE_COLUMN`` per column."""
    ctx = get_context()
    cat = get_catalog()
    vibe_names = [NO_VIBE, *[v.name for v in ctx.all_vibes()]]
    providers = list(ctx.providers_for(None))
    provider_pickers: list[Any] = []
    defaults = cat.voice_ids

    with gr.Tab("Side by side"):
        script = gr.Textbox(
            value=DEFAULT_SCRIPT, label="Script (shared by every variant)", lines=3, elem_id="pg-compare-script"
        )
        with gr.Row():
            n_variants = gr.Slider(2, MAX_VARIANTS, value=3, step=1, label="Variants", elem_id="pg-n-variants")
            roundtrip = gr.Checkbox(label="Round-trip check (transcribe back, show WER)", value=False)
            run = gr.Button("▶  Run all", variant="primary", elem_id="pg-run-all")
            both = gr.Button(
                "Same text through both workflows", size="sm", scale=0, min_width=200, elem_id="pg-both-workflows"
            )
            export = gr.Button("Export comparison (zip)", size="sm", scale=0, min_width=170, elem_id="pg-export-cmp")
            share = gr.Button("Share link", size="sm", scale=0, min_width=110, elem_id="pg-share-cmp")
        share_link = gr.Textbox(show_label=False, visible=False, elem_id="pg-share-cmp-link")
        standin.note("compare")  # offline: which local engine speaks each voice, hidden otherwise
        exported = gr.File(label="Comparison", visible=False, elem_id="pg-exported-cmp")
        with gr.Accordion("Quick builders", open=False):
            with gr.Row():
                voices_pick = gr.Dropdown(
                    defaults, multiselect=True, label="Same text, N voices", max_choices=MAX_VARIANTS
                )
                same_text = gr.Button("Build", size="sm")
            with gr.Row():
                one_voice = gr.Dropdown(defaults, value=cat.speech_defaults["voice"], label="Voice")
                vibes_pick = gr.Dropdown(
                    vibe_names[1:], multiselect=True, label="Same voice, N vibes", max_choices=MAX_VARIANTS
                )
                same_voice = gr.Button("Build", size="sm")
        columns: list[gr.Column] = []
        widgets: list[dict[str, Any]] = []
        outputs: list[Any] = []
        with gr.Row(equal_height=False):
            for i in range(MAX_VARIANTS):
                with gr.Column(visible=i < 3, min_width=240, elem_classes="pg-variant") as col:
                    gr.Markdown(f"#### Variant {i + 1}")
                    w = _column(i, vibe_names, providers)
                    note = gr.Markdown(elem_id=f"pg-variant-note-{i}")
                    audio = gr.Audio(
                        label=f"Variant {i + 1}",
                        interactive=False,
                        elem_id=f"pg-variant-audio-{i}",
                        buttons=["download"],
                    )
                    metrics = gr.Markdown(elem_id=f"pg-variant-metrics-{i}")
                    wave = gr.Plot(show_label=False)
                    spectro = gr.Plot(show_label=False)
                    code = gr.Code(language="python", label="Python", lines=6)
                w["vibe"].input(vibe_to_instructions, w["vibe"], w["instructions"], queue=False)
                # on the user's pick only: the builders and share links set a whole column at once,
                # and a change event would answer them with the voice the column had before
                w["workflow"].input(
                    workflow_changed,
                    [w["workflow"], w["voice"], w["model"], w["format"], w["speed"]],
                    [w["voice"], w["model"], w["format"], w["speed"], note],
                    queue=False,
                )
                provider_pickers.append(w["provider"])
                columns.append(col)
                widgets.append(w)
                outputs += [audio, metrics, wave, spectro, code]
        inputs = [w[k] for w in widgets for k in COLUMN_FIELDS]
        builder_targets = [w[k] for w in widgets for k in ("voice", "vibe", "instructions")]
        # a share link carries the fields share.COMPARE_COLUMN names (the provider stays the opener's)
        share_inputs = [x for w in widgets for x in (*(w[k] for k in COMPARE_COLUMN), w["provider"])]
        share_targets: list[Any] = [script, n_variants, roundtrip, *(w[k] for w in widgets for k in COMPARE_COLUMN)]
        n_variants.change(show_columns, n_variants, columns, queue=False)
        run.click(run_compare, [script, n_variants, roundtrip, *inputs], outputs, api_name="compare")
        export.click(export_comparison, None, exported, api_name="export_comparison", queue=False)
        share.click(
            share_compare_query,
            [script, n_variants, roundtrip, *share_inputs],
            share_link,
            api_name="share_comparison",
            queue=False,
        ).then(None, share_link, share_link, js=SHARE_JS).then(lambda: gr.update(visible=True), None, share_link)
        same_text.click(build_same_text, voices_pick, [n_variants, *builder_targets], api_name="build_same_text")
        same_voice.click(
            build_same_voice, [one_voice, vibes_pick], [n_variants, *builder_targets], api_name="build_same_voice"
        )
        both.click(
            build_both_workflows,
            [widgets[0]["voice"], widgets[0]["vibe"], widgets[0]["instructions"]],
            [n_variants, roundtrip, *(w[k] for w in widgets for k in PRESET_FIELDS)],
            api_name="build_both_workflows",
            queue=False,
        )

    with gr.Tab("Blind test"):
        create_blind_tab()
    return provider_pickers, share_targets
