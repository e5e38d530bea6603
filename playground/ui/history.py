"""History tab: every run of every tab, newest first, from the local SQLite store.

Filter by kind, model and voice or search the text; pick a run to replay its audio,
read its text, see its trace (request sent → first byte → done) and the snippet that
reproduces it, export it (spec JSON + audio, zipped) or delete it. Handlers are
module-level functions of plain values, like the other tabs; each takes the Gradio
request, whose person (``UIContext.person_for``) is the only owner whose runs it sees.
"""

from __future__ import annotations

import html
import time
from dataclasses import dataclass
from typing import Any

import gradio as gr

from playground.core.errors import PlaygroundError, SpecError
from playground.core.history import Run
from playground.core.lifecycle import describe
from playground.core.plots import run_trace_figure
from playground.core.pricing import format_cost
from playground.core.snippets import render
from playground.core.specs import (
    ChatAudioSpec,
    RealtimeSessionSpec,
    RealtimeSpeechSpec,
    SpeechSpec,
    TranscriptionSpec,
    spec_from_dict,
)
from playground.ui.context import get_context

__all__ = ["HEADERS", "HistoryParts", "delete_run", "export_run", "list_runs", "run_details", "run_spec"]

HEADERS = ["when", "kind", "model", "voice", "text", "cost", "id"]
SPECS = {"speech": SpeechSpec, "transcription": TranscriptionSpec, "translation": TranscriptionSpec,
         "realtime": RealtimeSessionSpec, "chat_audio": ChatAudioSpec}  # fmt: skip


@dataclass
class HistoryParts:
    filters: list[Any]
    #: what ``list_runs`` fills
    listing: list[Any]
    run_id: gr.Textbox
    #: "Open in its tab" (the shell wires it to the tabs it fills)
    reopen: gr.Button


def _row(run: Run) -> list[Any]:
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(run.created))
    text = run.text if len(run.text) <= 80 else run.text[:79] + "…"
    note = run.lifecycle_note()  # from the clock now: a run's model may have been retired since
    model = f"{run.model} {note}" if note else run.model
    kind = f"{run.kind} · {run.workflow}" if run.workflow else run.kind
    return [when, kind, model, run.voice, text, format_cost(run.cost), run.id]


def list_runs(
    kind: str | None,
    model: str | None,
    voice: str | None,
    search: str | None,
    request: gr.Request | None = None,
) -> tuple[Any, ...]:
    """The table for the filters, and the filters' choices (from what the person's runs hold)."""
    ctx = get_context()
    store, owner = ctx.history, ctx.person_for(request)
    runs = store.list(
        kind=kind or None, model=model or None, voice=voice or None, search=(search or "").strip(), owner=owner
    )
    facets = store.facets(owner=owner)
    choices = [gr.update(choices=[("all", ""), *[(v, v) for v in facets[k]]]) for k in ("kind", "model", "voice")]
    note = f"{len(runs)} run{'s' if len(runs) != 1 else ''} shown · yours: {store.count(owner)} runs, " + (
        f"{store.total_bytes(owner) / 2**20:.1f} MiB · store cap {store.max_bytes / 2**20:.0f} MiB"
    )
    return gr.update(value=[_row(r) for r in runs], headers=HEADERS), *choices, note


def run_spec(run: Run) -> Any:
    """The run's request spec, rebuilt from its JSON (None when the kind has none).

    A spec saved with its ``kind`` (every run since specs carried it: live translations,
    live transcriptions, speech through the Realtime API) comes back as that spec; older
    runs by the run's kind."""
    if run.spec.get("kind"):
        try:
            return spec_from_dict(run.spec)
        except (SpecError, TypeError):
            pass
    cls = RealtimeSpeechSpec if run.spec.get("kind") == RealtimeSpeechSpec.kind else SPECS.get(run.kind)
    if cls is None:
        return None
    fields = {k: tuple(v) if isinstance(v, list) else v for k, v in run.spec.items() if k != "kind"}
    try:
        return cls(**fields)
    except TypeError:
        return None


#: files a run may keep that the player cannot play
_NOT_AUDIO = frozenset({".html", ".json"})


def run_details(run_id: str, request: gr.Request | None = None) -> tuple[Any, ...]:
    """(summary, audio, trace, python code) for one of the person's runs."""
    ctx = get_context()
    run = ctx.history.get((run_id or "").strip(), owner=ctx.person_for(request))
    if run is None:
        return "Pick a run in the table.", None, None, ""
    spec = run_spec(run)
    code = ""
    if spec is not None:
        try:
            name = run.spec.get("file") if isinstance(run.spec.get("file"), str) else None
            code = render(spec, "python", base_url=get_context().provider.snippet_base_url, file_path=name)
        except (PlaygroundError, TypeError, ValueError) as e:
            code = f"# cannot render this run's code: {e}\n"
    t = run.timings
    kind = (
        f"{run.kind} ({'Realtime API' if run.workflow == 'realtime' else 'speech endpoint'})"
        if run.workflow
        else run.kind
    )
    parts = [f"**{html.escape(kind)}** · {html.escape(run.model)}"]
    if describe(run.model):
        parts[0] += f" ({html.escape(describe(run.model))})"
    if run.voice:
        parts.append(html.escape(run.voice))
    if "ttfb_ms" in t:
        parts.append(f"first byte {t['ttfb_ms']:.0f} ms")
    if "server_first_audio_ms" in t:
        parts.append(f"server first audio {t['server_first_audio_ms']:.0f} ms")
    if "total_ms" in t:
        parts.append(f"total {t['total_ms']:.0f} ms")
    parts.append(f"est. {format_cost(run.cost)}")
    if run.provider:
        parts.append(html.escape(run.provider))
    summary = " · ".join(parts) + (f"\n\n> {html.escape(run.text)}" if run.text else "")
    # a run's file is its audio, except an eval's (its HTML report, which Export carries)
    playable = run.audio is not None and run.audio.is_file() and run.audio.suffix.lower() not in _NOT_AUDIO
    audio = str(run.audio) if playable else None
    trace = run_trace_figure(t, title=f"Trace of {run.id}") if t else None
    return summary, audio, trace, code


def export_run(run_id: str, request: gr.Request | None = None) -> Any:
    ctx = get_context()
    run_id = (run_id or "").strip()
    try:
        path = ctx.history.export(run_id, ctx.output_path(f"run-{run_id}.zip"), owner=ctx.person_for(request))
    except KeyError:
        gr.Warning("Pick a run first.")
        return gr.update(value=None, visible=False)
    return gr.update(value=str(path), visible=True)


def delete_run(run_id: str, request: gr.Request | None = None) -> str:
    ctx = get_context()
    if ctx.history.delete((run_id or "").strip(), owner=ctx.person_for(request)):
        return f"Deleted {html.escape(run_id)}."
    return "Nothing to delete: pick a run first."


def _picked(table: Any, event: gr.SelectData) -> str:
    row = event.index[0] if isinstance(event.index, list | tuple) else event.index
    try:
        return str(table.iloc[row]["id"])
    except (AttributeError, IndexError, KeyError):
        return ""


def create_history_tab() -> HistoryParts:
    with gr.Row():
        kind = gr.Dropdown([("all", "")], value="", label="Kind", scale=1, allow_custom_value=True)
        model = gr.Dropdown([("all", "")], value="", label="Model", scale=1, allow_custom_value=True)
        voice = gr.Dropdown([("all", "")], value="", label="Voice", scale=1, allow_custom_value=True)
        search = gr.Textbox(label="Search text and settings", scale=2, elem_id="pg-hist-search")
        refresh = gr.Button("Refresh", scale=0, elem_id="pg-hist-refresh")
    note = gr.Markdown(elem_classes=["pg-muted"])
    with gr.Row(equal_height=False):
        with gr.Column(scale=3):
            table = gr.Dataframe(
                headers=HEADERS,
                interactive=False,
                wrap=True,
                max_height=560,
                # the id and the cost on one line each: neither is worth wrapping
                column_widths=["12%", "15%", "15%", "8%", "16%", "9%", "25%"],
                elem_id="pg-hist-table",
            )
        with gr.Column(scale=2):
            run_id = gr.Textbox(label="Run", placeholder="click a row", elem_id="pg-hist-id")
            summary = gr.Markdown(elem_id="pg-hist-summary")
            audio = gr.Audio(label="Audio", type="filepath", interactive=False, elem_id="pg-hist-audio")
            trace = gr.Plot(show_label=False, elem_id="pg-hist-trace")
            with gr.Row():
                export = gr.Button("Export (spec JSON + audio)", size="sm", elem_id="pg-hist-export")
                reopen = gr.Button("Open in its tab", size="sm", elem_id="pg-hist-reopen")
                delete = gr.Button("Delete", size="sm", variant="stop", elem_id="pg-hist-delete")
            exported = gr.File(label="Exported run", visible=False)
            code = gr.Code(language="python", label="Code for this run", lines=8, elem_id="pg-hist-code")
    filters = [kind, model, voice, search]
    listing = [table, kind, model, voice, note]
    gr.on([refresh.click, kind.change, model.change, voice.change, search.submit], list_runs, filters, listing,
          api_name="history", queue=False)  # fmt: skip
    table.select(_picked, table, run_id, queue=False)
    run_id.change(run_details, run_id, [summary, audio, trace, code], api_name="history_run", queue=False)
    export.click(export_run, run_id, exported, api_name="history_export", queue=False)
    delete.click(delete_run, run_id, summary, api_name="history_delete", queue=False).then(
        list_runs, filters, listing, queue=False
    )
    return HistoryParts(filters=filters, listing=listing, run_id=run_id, reopen=reopen)
