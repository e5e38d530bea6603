"""An eval's results: every run's turns, summaries over runs, and four ways out.

``to_json()`` for history and tools, ``to_html()`` for people (tables and a latency
waterfall per turn, plotly.js inline once, so the file opens anywhere offline),
``to_junit()`` for CI, ``table()`` for the terminal. The provider is kept by its label
only; a key never reaches a report.
"""

from __future__ import annotations

import dataclasses
import html
import math
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import plotly.graph_objects as go

from playground.evals.measures import LATENCIES, TurnResult

__all__ = ["STAGES", "EvalReport", "RunResult", "TurnSummary", "junit_document", "waterfall_figure"]

#: the waterfall's bars, from the turn's t0, with their labels
STAGES = {
    "speech_stopped_ms": "VAD stop",
    "heard_ms": "heard",
    "response_ms": "response created",
    "first_audio_ms": "first audio",
    "done_ms": "done",
}
_COLORS = ["#64748b", "#0ea5e9", "#f59e0b", "#7c3aed", "#10b981"]


@dataclass
class RunResult:
    index: int
    turns: list[TurnResult]
    #: why the run stopped early (could not connect, session refused, its time limit)
    error: str | None = None

    @property
    def passed(self) -> bool:
        return self.error is None and all(t.passed for t in self.turns)


@dataclass
class TurnSummary:
    """One turn over every run: p50/p90 of each latency (ms), mean WER, passes per expectation."""

    index: int
    kind: str
    prompt: str
    p50: dict[str, float | None]
    p90: dict[str, float | None]
    mean_wer: float | None
    #: expectation -> [runs passed, runs]
    passes: dict[str, list[int]]
    cost: float | None

    @property
    def passed(self) -> bool:
        return all(ok == n for ok, n in self.passes.values())


def _pct(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 1) if values else None


@dataclass
class EvalReport:
    scenario: str
    #: the provider's label (never its key)
    provider: str
    mode: str
    model: str
    #: ISO 8601, UTC, when the eval started
    date: str
    runs: list[RunResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: each turn's prompt, in order (what was said, typed or played)
    turns: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """Every check of every run passed (and every run ran)."""
        return bool(self.runs) and all(r.passed for r in self.runs)

    def summaries(self) -> list[TurnSummary]:
        out = []
        for k in range(len(self.turns)):
            results = [r.turns[k] for r in self.runs if k < len(r.turns)]
            p50: dict[str, float | None] = {}
            p90: dict[str, float | None] = {}
            for name in (*LATENCIES, "stop_ms"):
                values = [v for t in results if (v := getattr(t, name)) is not None]
                p50[name], p90[name] = _pct(values, 50), _pct(values, 90)
            wers = [t.heard_wer for t in results if t.heard_wer is not None]
            passes: dict[str, list[int]] = {}
            for t in results:
                seen: dict[str, bool] = {}
                for c in t.checks:
                    seen[c.expectation] = seen.get(c.expectation, True) and c.passed
                for name, ok in seen.items():
                    count = passes.setdefault(name, [0, 0])
                    count[0] += ok
                    count[1] += 1
            costs = [t.cost for t in results]
            first = results[0] if results else None
            out.append(
                TurnSummary(
                    index=k,
                    kind=first.kind if first else "",
                    prompt=self.turns[k],
                    p50=p50,
                    p90=p90,
                    mean_wer=round(sum(wers) / len(wers), 4) if wers else None,
                    passes=passes,
                    cost=None if not costs or any(c is None for c in costs) else round(sum(costs) / len(costs), 6),  # type: ignore[misc]
                )
            )
        return out

    # -- exports ---------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """Everything, JSON-safe (no NaN, no objects)."""
        return _safe(
            {
                "scenario": self.scenario,
                "provider": self.provider,
                "mode": self.mode,
                "model": self.model,
                "date": self.date,
                "passed": self.passed,
                "notes": list(self.notes),
                "turns": list(self.turns),
                "summary": [dataclasses.asdict(s) | {"passed": s.passed} for s in self.summaries()],
                "runs": [
                    {
                        "index": r.index,
                        "error": r.error,
                        "passed": r.passed,
                        "turns": [dataclasses.asdict(t) | {"passed": t.passed} for t in r.turns],
                    }
                    for r in self.runs
                ],
            }
        )

    def table(self) -> str:
        """Plain text for a terminal: a header, one row per turn, the failing checks' details."""
        verdict = "PASS" if self.passed else "FAIL"
        lines = [
            f"{self.scenario} · {self.provider} · {self.mode} · {self.model} · {len(self.runs)} run(s) · {verdict}"
        ]
        head = f"{'#':>2}  {'turn':<34} {'1st audio p50/p90':>18} {'done p50/p90':>14} {'WER':>5} {'stop':>6}  checks"
        lines += [head, "-" * len(head)]
        for s in self.summaries():
            ok = sum(p for p, _ in s.passes.values())
            n = sum(t for _, t in s.passes.values())
            prompt = f"{s.kind}: {s.prompt}"
            prompt = prompt if len(prompt) <= 34 else prompt[:33] + "…"
            lines.append(
                f"{s.index + 1:>2}  {prompt:<34} {_pair(s, 'first_audio_ms'):>18} {_pair(s, 'done_ms'):>14} "
                f"{_num(s.mean_wer, '.2f'):>5} {_num(s.p50['stop_ms'], '.0f'):>6}  {ok}/{n}"
            )
        for r in self.runs:
            if r.error:
                lines.append(f"  run {r.index + 1}: {r.error}")
            for t in r.turns:
                for c in t.checks:
                    if not c.passed:
                        lines.append(f"  run {r.index + 1} turn {t.index + 1} {c.expectation}: {c.detail}")
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)

    def to_junit(self) -> str:
        """JUnit XML: one testsuite for the scenario, one testcase per turn × expectation."""
        return junit_document([self])

    def _suite(self) -> ET.Element:
        suite = ET.Element("testsuite", name=self.scenario, timestamp=self.date)
        props = ET.SubElement(suite, "properties")
        for key in ("provider", "mode", "model"):
            ET.SubElement(props, "property", name=key, value=str(getattr(self, key)))
        ET.SubElement(props, "property", name="runs", value=str(len(self.runs)))
        tests = failures = 0
        for s in self.summaries():
            for name in s.passes:
                tests += 1
                case = ET.SubElement(suite, "testcase", classname=f"{self.scenario}.turn{s.index + 1}", name=name)
                done = s.p50["done_ms"]
                case.set("time", f"{(done or 0) / 1000:.3f}")
                bad = [
                    f"run {r.index + 1}: {c.detail}"
                    for r in self.runs
                    if s.index < len(r.turns)
                    for c in r.turns[s.index].checks
                    if c.expectation == name and not c.passed
                ]
                judged = s.passes[name]
                if bad or judged[0] < judged[1]:
                    failures += 1
                    fail = ET.SubElement(case, "failure", message=f"{name}: {judged[0]}/{judged[1]} runs passed")
                    fail.text = "\n".join(bad) or "not judged in every run"
        for r in self.runs:
            if r.error:
                tests += 1
                failures += 1
                case = ET.SubElement(suite, "testcase", classname=f"{self.scenario}.run{r.index + 1}", name="run")
                ET.SubElement(case, "failure", message=r.error).text = r.error
        suite.set("tests", str(tests))
        suite.set("failures", str(failures))
        suite.set("errors", "0")
        return suite

    def figures(self) -> list[go.Figure]:
        return [waterfall_figure(self, s.index) for s in self.summaries()]

    def to_html(self) -> str:
        """A self-contained page: summary, per-turn table, a latency waterfall per turn."""
        esc = html.escape
        verdict = "PASS" if self.passed else "FAIL"
        color = "#047857" if self.passed else "#b91c1c"
        meta = [
            ("Scenario", self.scenario),
            ("Provider", self.provider),
            ("Mode", self.mode),
            ("Model", self.model),
            ("Date", self.date),
            ("Runs", str(len(self.runs))),
        ]
        parts = [
            "<!doctype html><html><head><meta charset='utf-8'>",
            f"<title>Eval: {esc(self.scenario)}</title>",
            "<style>body{font-family:system-ui,sans-serif;margin:24px;color:#111}"
            "table{border-collapse:collapse;margin:12px 0}td,th{border:1px solid #ddd;padding:4px 8px;"
            "text-align:left;font-size:13px;vertical-align:top}th{background:#f5f5f5}.ok{color:#047857}"
            ".bad{color:#b91c1c}</style></head><body>",
            f"<h1>{esc(self.scenario)} <span style='color:{color}'>{verdict}</span></h1>",
            "<table class='summary'>",
            *(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in meta),
            "</table>",
        ]
        if self.notes:
            parts.append("<ul>" + "".join(f"<li>{esc(n)}</li>" for n in self.notes) + "</ul>")
        cols = ["#", "Turn", *(f"{label} p50/p90 ms" for label in STAGES.values()), "stop ms", "WER", "Checks"]
        parts.append("<table class='turns'><tr>" + "".join(f"<th>{esc(c)}</th>" for c in cols) + "</tr>")
        for s in self.summaries():
            checks = "<br>".join(
                f"<span class='{'ok' if ok == n else 'bad'}'>{esc(name)}: {ok}/{n}</span>"
                for name, (ok, n) in s.passes.items()
            )
            cells = [
                str(s.index + 1),
                esc(f"{s.kind}: {s.prompt}"),
                *(esc(_pair(s, name)) for name in STAGES),
                esc(_num(s.p50["stop_ms"], ".0f")),
                esc(_num(s.mean_wer, ".2f")),
                checks or "—",
            ]
            parts.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
        parts.append("</table>")
        failing = [
            (r.index, t.index, c)
            for r in self.runs
            for t in r.turns
            for c in t.checks
            if not c.passed
        ]  # fmt: skip
        if failing or any(r.error for r in self.runs):
            parts.append("<h2>Failures</h2><ul>")
            parts += [f"<li>run {r.index + 1}: {esc(r.error)}</li>" for r in self.runs if r.error]
            parts += [
                f"<li>run {run + 1}, turn {turn + 1}, {esc(c.expectation)}: {esc(c.detail)}</li>"
                for run, turn, c in failing
            ]
            parts.append("</ul>")
        parts.append("<h2>Latency per turn</h2>")
        for i, fig in enumerate(self.figures()):
            parts.append(fig.to_html(full_html=False, include_plotlyjs=i == 0, default_width="100%"))
        parts.append("</body></html>")
        return "\n".join(parts)


def junit_document(reports: Sequence[EvalReport]) -> str:
    """One JUnit XML document for several scenarios (``playground eval A.yaml B.yaml --junit``)."""
    root = ET.Element("testsuites", name="playground eval")
    for report in reports:
        root.append(report._suite())
    root.set("tests", str(sum(int(s.get("tests", "0")) for s in root)))
    root.set("failures", str(sum(int(s.get("failures", "0")) for s in root)))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def waterfall_figure(report: EvalReport, turn: int) -> go.Figure:
    """One turn's latency as horizontal bars from t0 (the end of the user's speech): each
    stage's p50 over runs, with every run's value as a dot, so the spread shows too."""
    summary = report.summaries()[turn]
    fig = go.Figure()
    for color, (name, label) in zip(_COLORS, STAGES.items(), strict=True):
        p50 = summary.p50[name]
        if p50 is None:
            continue
        p90 = summary.p90[name]
        fig.add_trace(
            go.Bar(
                x=[p50], y=[label], base=[0], orientation="h", name=label, marker={"color": color},
                hovertemplate=f"{label}: p50 {p50:.0f} ms, p90 {p90 or 0:.0f} ms<extra></extra>",
            )
        )  # fmt: skip
        runs = [v for r in report.runs if turn < len(r.turns) and (v := getattr(r.turns[turn], name)) is not None]
        if len(runs) > 1:
            fig.add_trace(
                go.Scatter(
                    x=runs, y=[label] * len(runs), mode="markers", name=f"{label} (runs)",
                    marker={"color": "#111", "size": 6, "symbol": "line-ns-open"},
                    hovertemplate=f"{label}: %{{x:.0f}} ms<extra>one run</extra>",
                )
            )  # fmt: skip
    title = f"Turn {turn + 1} ({summary.kind}): {summary.prompt}"
    fig.update_layout(
        title={"text": title if len(title) <= 90 else title[:89] + "…", "font": {"size": 13}},
        height=90 + 34 * len(STAGES),
        showlegend=False,
        template="plotly_white",
        margin={"l": 130, "r": 20, "t": 40, "b": 40},
        barmode="overlay",
    )
    fig.update_yaxes(autorange="reversed", categoryorder="array", categoryarray=list(STAGES.values()))
    fig.update_xaxes(title_text="ms since the user stopped speaking (t0)")
    return fig


def _pair(s: TurnSummary, name: str) -> str:
    a, b = s.p50[name], s.p90[name]
    return "—" if a is None else f"{a:.0f}/{b:.0f}"


def _num(value: float | None, spec: str) -> str:
    return "—" if value is None else format(value, spec)


def _safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_safe(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)
