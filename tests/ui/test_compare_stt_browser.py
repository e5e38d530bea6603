"""Compare → Transcription models in Debian's Chromium: upload JFK (../shared/testdata), type
the reference, run three models at once and see three transcripts, each with its WER."""

from __future__ import annotations

import re

import pytest

from tests.ui.test_browser import VIEWPORT, browser  # noqa: F401 - fixture

pytestmark = [pytest.mark.browser, pytest.mark.models]


def test_three_transcription_models_side_by_side(browser, app_url, speech_dir, manifest, shots):  # noqa: F811
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    try:
        page.goto(app_url, wait_until="load")
        page.get_by_role("tab", name="Compare").click()
        page.get_by_role("tab", name="Transcription models").click()
        page.locator("#pg-cstt-audio input[type=file]").set_input_files(str(speech_dir / "jfk.flac"))
        page.wait_for_function(
            "() => /11\\.\\d+ s/.test(document.querySelector('#pg-cstt-info').innerText)", timeout=30_000
        )  # the clip is loaded: its length shows
        page.wait_for_function(  # the code panels name the uploaded file
            "() => document.querySelector('#pg-cstt-code-0').innerText.includes('jfk.flac')", timeout=30_000
        )
        page.fill("#pg-cstt-ref textarea", manifest["jfk.flac"]["text"])
        page.fill("#pg-cstt-prompt-1 textarea", "A speech by John F. Kennedy.")
        assert page.locator("#pg-cstt-text-3").is_hidden()  # three columns by default, the fourth hidden
        page.click("#pg-cstt-run")
        for i in range(3):
            page.wait_for_function(
                f"() => document.querySelector('#pg-cstt-wer-{i}').innerText.includes('WER')", timeout=180_000
            )
        # a deprecated model shows its shutdown note after the id ("whisper-1 — shuts down ...")
        models = [page.input_value(f"#pg-cstt-model-{i} input").split(" — ")[0] for i in range(3)]
        assert len(set(models)) == 3, models
        for i in range(3):
            text = page.input_value(f"#pg-cstt-text-{i} textarea").lower()
            assert "fellow americans" in text and "country" in text, (i, text)
            assert re.search(r"WER \d+\.\d%", page.inner_text(f"#pg-cstt-wer-{i}")), i
            assert "Total" in page.inner_text(f"#pg-cstt-metrics-{i}")
            assert models[i] in page.inner_text(f"#pg-cstt-code-{i}")
        summary = page.inner_text("#pg-cstt-summary")
        assert all(m in summary for m in models) and len(re.findall(r"\d+\.\d%", summary)) == 3, summary
        page.evaluate("() => window.scrollTo(0, 0)")
        page.wait_for_timeout(800)
        page.screenshot(path=str(shots / "compare_stt.png"))
    finally:
        context.close()
