"""Every scenario in presets/evals passes against the embedded backend, one run each.

They are the examples people copy, and `playground eval presets/evals/*.yaml` is what a
new user runs first: a shipped scenario that fails on the local models would teach that
the evals are noise. A failure prints the report's table, whose last lines are the
failing checks with what was seen.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from playground.client.providers import embedded_provider
from playground.evals.loader import load_scenario, shipped_scenarios
from playground.evals.runner import run_scenario

pytestmark = pytest.mark.models


def test_five_scenarios_ship():
    names = {p.stem for p in shipped_scenarios()}
    assert {"weather", "notes", "interruption", "noisy", "push_to_talk"} <= names, names


@pytest.mark.parametrize("path", shipped_scenarios(), ids=lambda p: p.stem)
def test_a_shipped_scenario_passes_on_the_embedded_backend(path: Path, backend_url: str):
    scenario = load_scenario(path)
    report = asyncio.run(run_scenario(scenario, embedded_provider(backend_url), runs=1))
    assert report.runs and len(report.runs[0].turns) == len(scenario.turns)
    failed = [
        f"turn {t.index + 1} {c.expectation}: {c.detail}"
        for r in report.runs
        for t in r.turns
        for c in t.checks
        if not c.passed
    ]
    errors = [r.error for r in report.runs if r.error]
    assert report.passed, f"{path.name} failed: {failed + errors}\n{report.table()}"
