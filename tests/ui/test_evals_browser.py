"""The Evals tab in Debian's Chromium on the embedded backend: the shipped weather scenario
runs once and shows its verdict, a row per turn, the waterfall and the report downloads;
then a mistake typed into the YAML names its line and field, and nothing runs.

The handler's own guards (one run per browser tab, a provider that cannot be reached, the
recordings an edited scenario may play) are checked without a browser at the end."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from playground.evals.loader import shipped_scenarios
from playground.ui import evals
from tests.ui.test_browser import VIEWPORT, browser  # noqa: F401 - fixture

WEATHER = next(p for p in shipped_scenarios() if p.name == "weather.yaml")


def _open_evals(browser, app_url):  # noqa: F811
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.goto(app_url, wait_until="load")
    page.wait_for_selector("#pg-play", timeout=90_000)
    page.get_by_role("tab", name="Evals").click()
    page.wait_for_selector("#pg-ev-run", state="visible", timeout=30_000)
    page.wait_for_selector("#pg-ev-yaml .cm-content", timeout=30_000)
    return context, page


def _rows(page) -> list[list[str]]:
    """The table's rows as text (Gradio draws them as virtual rows of body cells)."""
    return page.evaluate(
        """() => [...document.querySelectorAll('#pg-ev-table .virtual-row')].map(row =>
            [...row.querySelectorAll(':scope > .body-cell')].map(c => c.innerText.trim()))"""
    )


@pytest.mark.browser
@pytest.mark.models
def test_the_weather_scenario_runs_and_a_yaml_mistake_names_line_and_field(browser, app_url, shots):  # noqa: F811
    context, page = _open_evals(browser, app_url)
    try:
        assert "name: weather in two cities" in page.inner_text("#pg-ev-yaml .cm-content")
        page.screenshot(path=str(shots / "evals-ready.png"))
        page.click("#pg-ev-run")
        page.wait_for_function("() => document.querySelector('#pg-ev-run').disabled", timeout=10_000)
        page.wait_for_selector(".pg-ev-verdict[data-passed='true'], .pg-ev-verdict[data-passed='false']",
                               timeout=180_000)  # fmt: skip
        banner = page.inner_text("#pg-ev-banner")
        assert re.search(r"(PASS|FAIL)\s+weather in two cities · \d+/\d+ checks · 1 run", banner), banner
        page.wait_for_function("() => !document.querySelector('#pg-ev-run').disabled", timeout=30_000)
        rows = _rows(page)
        assert [r[:3] for r in rows] == [["1", "say", "What's the weather in Paris?"],
                                         ["2", "say", "How is the weather in Tokyo today?"]], rows  # fmt: skip
        assert all(re.fullmatch(r"\d+ / \d+", r[3]) and "tool_call" in r[7] for r in rows), rows
        page.wait_for_selector("#pg-ev-plot .js-plotly-plot .barlayer .point", timeout=30_000)
        assert page.locator("#pg-ev-plot .js-plotly-plot .barlayer .point").count() >= 4, "no waterfall bars"
        assert page.locator("#pg-ev-plot .gtitle, #pg-ev-plot .annotation-text").filter(has_text="Turn 2").count()
        links = page.locator("#pg-ev-files a")
        names = [links.nth(i).get_attribute("href") or "" for i in range(links.count())]
        assert any(n.endswith(".json") for n in names) and any(n.endswith(".html") for n in names), names
        assert "saved to History" in page.inner_text("#pg-ev-status")
        page.screenshot(path=str(shots / "evals-report.png"))
        page.screenshot(path=str(shots / "evals-report-full.png"), full_page=True)

        # a field the format does not have, typed under the first turn's voice
        text = WEATHER.read_text(encoding="utf-8")
        voice_line = text.splitlines().index("    voice: marin") + 1
        page.locator("#pg-ev-yaml .cm-line").nth(voice_line - 1).click()
        page.keyboard.press("End")
        page.keyboard.press("Enter")
        page.keyboard.type("colour: red")
        page.wait_for_timeout(500)
        page.click("#pg-ev-run")
        page.wait_for_selector(".pg-ev-verdict[data-passed='none']", timeout=30_000)
        banner = page.inner_text("#pg-ev-banner")
        assert f"weather.yaml:{voice_line + 1}: turns[0].colour: unknown field" in banner, banner
        assert "Traceback" not in banner and "/" not in banner.split("weather.yaml")[0], banner
        assert not any(any(cell for cell in row) for row in _rows(page)), _rows(page)  # the old report is gone
        page.screenshot(path=str(shots / "evals-mistake.png"))
    finally:
        context.close()


# -- the handler's guards, without a browser --------------------------------------------


def test_a_second_run_from_the_same_tab_is_refused_while_one_runs(offline_ctx):
    request = SimpleNamespace(session_hash="tab-1")
    evals._RUNNING.add("tab-1")
    try:
        out = evals.run_eval("weather.yaml", WEATHER.read_text(), 1, "realtime", None, request=request)
    finally:
        evals._RUNNING.discard("tab-1")
    assert "already in progress" in out[-1]
    assert offline_ctx.history.list() == []


def test_an_unreachable_provider_is_a_message_without_the_key(tmp_path):
    from playground.client.providers import embedded_provider
    from playground.ui.context import UIContext, set_context

    key = "sk-" + "Kq7" * 14
    ctx = UIContext.create(embedded_provider("http://127.0.0.1:9", key), app_url="http://127.0.0.1:9",
                           data_dir=tmp_path / "data")  # fmt: skip
    set_context(ctx)
    out = evals.run_eval("weather.yaml", WEATHER.read_text(), 1, "realtime", None)
    assert "could not run" in out[0] and "127.0.0.1:9" in out[0], out[0]
    assert key not in repr(out) and key[:12] not in repr(out)
    assert evals._RUNNING == set()  # the guard is released after a failure


def test_an_edited_scenario_may_play_only_shipped_recordings(offline_ctx):
    wav = Path(tempfile.mkdtemp()) / "mine.flac"
    wav.write_bytes((WEATHER.parent / "recordings" / "tokyo.flac").read_bytes())
    text = f"name: x\nsession: {{model: gpt-realtime-2.1-mini}}\nturns:\n  - audio: {wav}\n"
    out = evals.run_eval(None, text, 1, "realtime", None)
    assert "turns[0].audio" in out[0] and "only recordings shipped" in out[0], out[0]


def test_a_mistake_names_the_line_and_field_and_nothing_is_kept(offline_ctx):
    text = WEATHER.read_text().replace("runs: 1", "runs: 1\nrepeat: 2", 1)
    out = evals.run_eval("weather.yaml", text, 1, "realtime", None)
    line = text.splitlines().index("repeat: 2") + 1
    assert f"weather.yaml:{line}: repeat: unknown field" in out[0], out[0]
    assert out[1] == [] and out[2] is None and offline_ctx.history.list() == []
