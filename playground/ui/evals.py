"""Evals tab: run a voice-agent scenario (``playground.evals``) against this tab's provider.

A shipped scenario is picked, or edited in place as YAML; Run parses the editor's text
(a mistake is shown as ``file:line: field: message``, never a traceback), plays it
``runs`` times through ``run_scenario`` on a worker thread with its own event loop (the
runner paces audio by its loop's clock, so it must not share the server's), and shows
the verdict, a row per turn, a latency waterfall per turn and every failing check. The
JSON and HTML reports are written for download and the run is kept in the History (the
report JSON as its spec, the HTML page as its file), under the request's person.

One run per browser tab at a time: the button is disabled while it runs, and a second
request from the same tab (a double click, an API call) is refused by ``run_eval``.
"""

from __future__ import annotations

import asyncio
import contextvars
import html
import json
import re
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gradio as gr
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from playground.core.catalog import get_catalog, presets_dir
from playground.core.lifecycle import picker_choices
from playground.evals.loader import INLINE, parse_scenario, shipped_scenarios
from playground.evals.report import EvalReport
from playground.evals.runner import run_scenario
from playground.evals.scenario import RUNS_MAX, Scenario, ScenarioError
from playground.ui.context import get_context

__all__ = [
    "HEADERS",
    "RUN_KIND",
    "EvalRun",
    "EvalsParts",
    "create_evals_tab",
    "failures_markdown",
    "load_shipped",
    "run_eval",
    "scenario_choices",
    "turn_rows",
    "waterfalls",
]

RUN_KIND = "eval"
MODES = ("realtime", "chained")
HEADERS = ["#", "kind", "prompt", "first audio p50/p90 ms", "done p50/p90 ms", "WER", "stop ms", "checks", "result"]
#: the browser sessions with a run in progress (one each)
_RUNNING: set[str] = set()
_RUNNING_LOCK = threading.Lock()


@dataclass(frozen=True)
class EvalRun:
    """What the History keeps as an eval run's spec: the scenario as run and its whole report."""

    scenario: str
    source: str
    runs: int
    mode: str
    yaml: str
    report: dict[str, Any] = field(default_factory=dict)
    chat_model: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": RUN_KIND, "scenario": self.scenario, "source": self.source, "runs": self.runs,
            "mode": self.mode, "chat_model": self.chat_model, "yaml": self.yaml, "report": self.report,
        }  # fmt: skip


# ----------------------------------------------------------------- scenario picking


def scenario_choices() -> list[tuple[str, str]]:
    """(label, file name) of each shipped scenario; the name is all the page ever sees of a path."""
    return [(p.stem.replace("_", " "), p.name) for p in shipped_scenarios()]


def _shipped_path(name: str | None) -> Path | None:
    """A shipped scenario's path by its file name; anything else (a path, a made-up name) is None."""
    return next((p for p in shipped_scenarios() if p.name == name), None)


def load_shipped(name: str | None) -> tuple[str, str]:
    """(editor text, note) for a shipped scenario picked in the dropdown."""
    path = _shipped_path(name)
    if path is None:
        return "", "Pick a scenario."
    text = path.read_text(encoding="utf-8")
    try:
        first = parse_scenario(text, str(path))
    except ScenarioError as e:  # a shipped file edited on disk: show it, Run will say what is wrong
        return text, html.escape(_where(e))
    return text, f"**{html.escape(first.name)}**: {html.escape(first.description)}" if first.description else ""


def _where(e: ScenarioError) -> str:
    """The error as ``file:line: field: message``, the file by its name only (no server paths)."""
    return str(e).replace(e.path, Path(e.path).name if e.path != INLINE else e.path, 1)


def _recordings_shipped(scenario: Scenario) -> None:
    """The page may edit a scenario, so its recordings must be the shipped ones: a path elsewhere
    would make the server read (and send on) any audio file it can reach."""
    root = (presets_dir() / "evals").resolve()
    for k, turn in enumerate(scenario.turns):
        if turn.audio is not None and not scenario.recording(turn).resolve().is_relative_to(root):
            raise ScenarioError(
                scenario.source.name if scenario.source else INLINE, None, f"turns[{k}].audio",
                "the Evals tab plays only recordings shipped in presets/evals/ (use `playground eval` for others)",
            )  # fmt: skip


# ----------------------------------------------------------------- views (pure)


def _pair(summary: Any, name: str) -> str:
    a, b = summary.p50[name], summary.p90[name]
    return "—" if a is None else f"{a:.0f} / {b:.0f}"


def turn_rows(report: EvalReport) -> list[list[Any]]:
    """One row per turn: p50/p90 latencies over the runs, mean WER, passes per expectation."""
    rows = []
    for s in report.summaries():
        checks = ", ".join(f"{name} {ok}/{n}" for name, (ok, n) in s.passes.items()) or "—"
        wer = "—" if s.mean_wer is None else f"{s.mean_wer:.2f}"
        stop = "—" if s.p50["stop_ms"] is None else f"{s.p50['stop_ms']:.0f}"
        result = "✓ pass" if s.passed and s.passes else ("✗ fail" if s.passes else "—")
        rows.append(
            [s.index + 1, s.kind, s.prompt, _pair(s, "first_audio_ms"), _pair(s, "done_ms"), wer, stop, checks, result]
        )
    return rows


def waterfalls(report: EvalReport) -> go.Figure:
    """Every turn's waterfall (``report.waterfall_figure``) stacked in one figure, one row each."""
    figures = report.figures()
    titles = [f.layout.title.text or "" for f in figures]
    fig = make_subplots(
        rows=max(1, len(figures)), cols=1, subplot_titles=titles, vertical_spacing=0.5 / max(3, len(figures))
    )
    for row, one in enumerate(figures, start=1):
        for trace in one.data:
            fig.add_trace(trace, row=row, col=1)
        fig.update_yaxes(autorange="reversed", categoryorder="array",
                         categoryarray=list(one.layout.yaxis.categoryarray or ()), row=row, col=1)  # fmt: skip
    fig.update_xaxes(title_text="ms since the user stopped speaking (t0)", row=len(figures), col=1)
    fig.update_annotations(font_size=12, x=0, xanchor="left")
    fig.update_layout(
        height=50 + 190 * len(figures), showlegend=False, template="plotly_white", barmode="overlay",
        margin={"l": 130, "r": 20, "t": 40, "b": 50},
    )  # fmt: skip
    return fig


def failures_markdown(report: EvalReport) -> str:
    """Each failing check of each run with what was seen, the runs that broke off, and the notes."""
    lines = [f"- **run {r.index + 1}** did not finish: {html.escape(r.error)}" for r in report.runs if r.error]
    lines += [
        f"- **run {r.index + 1} · turn {t.index + 1} · {html.escape(c.expectation)}**: {html.escape(c.detail)}"
        for r in report.runs
        for t in r.turns
        for c in t.checks
        if not c.passed
    ]
    out = "#### Failed checks\n" + "\n".join(lines) if lines else "#### Failed checks\nNone: every check passed."
    if report.notes:
        out += "\n\n" + "\n".join(f"- _note: {html.escape(n)}_" for n in report.notes)
    return out


def _banner(passed: bool | str | None, title: str, detail: str = "") -> str:
    """The verdict (green / red), a problem before anything ran (amber), or the idle hint."""
    looks = {True: ("#047857", "PASS"), False: ("#b91c1c", "FAIL"), None: ("#b45309", "⚠️"), "idle": ("#64748b", "")}
    color, mark = looks[passed]
    style = (
        f"border:2px solid {color};border-radius:10px;padding:10px 14px;color:{color};"
        "background:var(--background-fill-secondary)"
    )
    text = (f"<strong style='font-size:1.15rem'>{mark}</strong> " if mark else "") + html.escape(title)
    if detail:
        text += (
            f"<div style='margin-top:4px;font-family:var(--font-mono);font-size:0.85rem'>{html.escape(detail)}</div>"
        )
    state = passed if isinstance(passed, str) else str(passed).lower()
    return f"<div class='pg-ev-verdict' data-passed='{state}' style='{style}'>{text}</div>"


def _checks_count(report: EvalReport) -> tuple[int, int]:
    checks = [c for r in report.runs for t in r.turns for c in t.checks]
    return sum(c.passed for c in checks), len(checks)


def _cost(report: EvalReport) -> float | None:
    costs = [t.cost for r in report.runs for t in r.turns]
    return None if not costs or any(c is None for c in costs) else round(sum(costs), 6)  # type: ignore[arg-type]


# ----------------------------------------------------------------- the run


def _outputs(banner: str, report: EvalReport | None = None, files: list[str] | None = None, note: str = "") -> tuple:
    if report is None:
        return banner, [], None, "", gr.update(value=None, visible=False), note
    return (
        banner, turn_rows(report), waterfalls(report), failures_markdown(report),
        gr.update(value=files, visible=bool(files)), note,
    )  # fmt: skip


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40] or "scenario"


def run_eval(
    choice: str | None,
    text: str,
    runs: float | None,
    mode: str,
    chat_model: str | None,
    request: gr.Request = None,
    progress: gr.Progress = gr.Progress(),  # noqa: B008 - Gradio's way to ask for a progress tracker
) -> tuple[Any, ...]:
    """Parse the editor's scenario, run it, and return (banner, table, waterfall, failures,
    report files, status)."""
    key = getattr(request, "session_hash", None) or "anonymous"
    with _RUNNING_LOCK:
        if key in _RUNNING:
            return (gr.skip(),) * 5 + ("A run is already in progress in this tab: wait for it to finish.",)
        _RUNNING.add(key)
    try:
        return _run(choice, text, runs, mode, chat_model, request, progress)
    finally:
        with _RUNNING_LOCK:
            _RUNNING.discard(key)


def _run(
    choice: str | None, text: str, runs: float | None, mode: str, chat_model: str | None, request: Any, progress: Any
) -> tuple[Any, ...]:
    ctx = get_context()
    provider = ctx.provider_for(request)
    shipped = _shipped_path(choice)
    try:
        n = int(runs or 1)
        if not 1 <= n <= RUNS_MAX:
            raise ValueError(f"runs must be 1 to {RUNS_MAX}")
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}")
    except (TypeError, ValueError) as e:
        return _outputs(_banner(None, f"Cannot run: {e}."))
    if not (text or "").strip():
        return _outputs(_banner(None, "Nothing to run: pick a scenario or write one in the editor."))
    try:
        # the shipped file's path anchors its recordings; an edit keeps them
        scenario = parse_scenario(text, str(shipped) if shipped else INLINE)
        _recordings_shipped(scenario)
    except ScenarioError as e:
        return _outputs(_banner(None, "The scenario has a mistake; nothing ran.", _where(e)))
    started = time.perf_counter()
    progress((0, n * len(scenario.turns)), desc="starting", unit="turns")

    def on_progress(done: int, total: int, note: str) -> None:
        progress((done, total), desc=note, unit="turns")

    try:
        report = _in_own_loop(
            run_scenario(scenario, provider, runs=n, mode=mode, chat_model=chat_model or None, on_progress=on_progress)  # type: ignore[arg-type]
        )
    except Exception as e:  # noqa: BLE001 - a provider or engine failure is a message, the server goes on
        why = provider.redact(f"{type(e).__name__}: {e}")
        return _outputs(_banner(None, f"The eval could not run on {provider.label}.", why))
    wall_ms = (time.perf_counter() - started) * 1000
    stamp = f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"  # two tabs may finish in one second
    data = report.to_json()
    page = report.to_html()
    json_path = ctx.output_path(f"eval-{_slug(report.scenario)}-{stamp}.json")
    html_path = json_path.with_suffix(".html")
    json_path.write_text(_dumps(data), encoding="utf-8")
    html_path.write_text(page, encoding="utf-8")
    ok, total = _checks_count(report)
    summary = f"{report.scenario} · {ok}/{total} checks · {len(report.runs)} run(s) · {mode} · {report.model}"
    spec = EvalRun(report.scenario, choice if shipped and text == shipped.read_text(encoding="utf-8") else "edited",
                   n, mode, text, data, chat_model if mode == "chained" else None)  # fmt: skip
    ctx.record(
        RUN_KIND, spec, model=report.model, provider=report.provider, timings={"total_ms": round(wall_ms, 1)},
        cost=_cost(report), text=f"{'PASS' if report.passed else 'FAIL'} · {summary}",
        audio=page.encode("utf-8"), audio_ext="html", request=request,
    )  # fmt: skip
    note = f"Finished in {wall_ms / 1000:.1f} s on {html.escape(provider.label)}; saved to History with both reports."
    return _outputs(_banner(report.passed, summary), report, [str(json_path), str(html_path)], note)


def _in_own_loop(coro: Any) -> Any:
    """Run ``coro`` on a fresh event loop in a thread of its own, whatever loop the caller's
    thread may run; the context goes along, so ``gr.Progress`` still reaches the page."""
    context = contextvars.copy_context()
    with ThreadPoolExecutor(1, thread_name_prefix="pg-eval") as pool:
        return pool.submit(context.run, asyncio.run, coro).result()


def _dumps(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False)


# ----------------------------------------------------------------- layout and events


@dataclass(frozen=True)
class EvalsParts:
    scenario: gr.Dropdown
    editor: gr.Code
    runs: gr.Slider
    mode: gr.Radio
    chat_model: gr.Dropdown
    run: gr.Button
    outputs: list[Any]


def _busy() -> Any:
    return gr.update(interactive=False, value="Running…")


def _idle() -> Any:
    return gr.update(interactive=True, value="Run")


def _mode_changed(mode: str) -> Any:
    return gr.update(visible=mode == "chained")


def evals_layout() -> EvalsParts:
    cat = get_catalog()
    choices = scenario_choices()
    first = next((name for _, name in choices if name == "weather.yaml"), choices[0][1] if choices else None)
    text, about = load_shipped(first) if first else ("", "")
    with gr.Row(equal_height=False):
        with gr.Column(scale=5, min_width=420):
            scenario = gr.Dropdown(choices, value=first, label="Scenario (shipped; edit below)", elem_id="pg-ev-pick")
            described = gr.Markdown(about, elem_classes=["pg-muted"], elem_id="pg-ev-about")
            editor = gr.Code(text, language="yaml", label="Scenario YAML", lines=24, max_lines=34,
                             interactive=True, elem_id="pg-ev-yaml")  # fmt: skip
            gr.Markdown(
                "The format is in docs/evals.md. Latency bounds depend on where the agent runs: "
                "the shipped ones are loose enough for the embedded backend on a CPU.",
                elem_classes=["pg-muted"],
            )
        with gr.Column(scale=7, min_width=560):
            with gr.Row(equal_height=True):
                runs = gr.Slider(1, RUNS_MAX, value=1, step=1, label="Runs", scale=2, elem_id="pg-ev-runs")
                mode = gr.Radio(list(MODES), value="realtime", label="Mode", scale=2, elem_id="pg-ev-mode")
                chat_model = gr.Dropdown(picker_choices(list(cat.chat_models)), value=cat.chat.default_model,
                                         label="Chat model (chained)", visible=False, scale=2,
                                         elem_id="pg-ev-chat")  # fmt: skip
                run = gr.Button("Run", variant="primary", scale=1, min_width=120, elem_id="pg-ev-run")
            banner = gr.HTML(_banner("idle", "Pick a scenario or edit it, then press Run."), elem_id="pg-ev-banner")
            table = gr.Dataframe(headers=HEADERS, interactive=False, wrap=True, elem_id="pg-ev-table",
                                 column_widths=["4%", "7%", "19%", "11%", "11%", "7%", "7%", "25%", "9%"])  # fmt: skip
            plot = gr.Plot(show_label=False, elem_id="pg-ev-plot")
            failures = gr.Markdown(elem_id="pg-ev-failures")
            files = gr.File(label="Report (JSON, HTML)", file_count="multiple", visible=False,
                            interactive=False, elem_id="pg-ev-files")  # fmt: skip
            status = gr.Markdown(elem_classes=["pg-muted"], elem_id="pg-ev-status")
    scenario.change(load_shipped, scenario, [editor, described], queue=False, api_name="eval_scenario")
    mode.change(_mode_changed, mode, chat_model, queue=False)
    outputs = [banner, table, plot, failures, files, status]
    run.click(_busy, None, run, queue=False).then(
        run_eval, [scenario, editor, runs, mode, chat_model], outputs, api_name="eval_run",
        concurrency_limit=2, show_progress="full", show_progress_on=[banner],
    ).then(_idle, None, run, queue=False)  # fmt: skip
    return EvalsParts(scenario, editor, runs, mode, chat_model, run, outputs)


def create_evals_tab() -> EvalsParts:
    """The tab's widgets and events (call inside its ``gr.Tab``)."""
    return evals_layout()
