"""The transcription tab in Debian's Chromium: record from a fake microphone fed from a
speech WAV (JFK, ../shared/testdata), transcribe, and see the words and the diff."""

from __future__ import annotations

import pytest

from tests.ui.test_browser import VIEWPORT
from tests.ui.test_voicechat_browser import mic_browser, mic_wav  # noqa: F401 - fixtures

pytestmark = [pytest.mark.browser, pytest.mark.models]


def test_record_from_the_microphone_and_transcribe(mic_browser, app_url, shots):  # noqa: F811
    context = mic_browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    try:
        page.goto(app_url, wait_until="load")
        page.get_by_role("tab", name="Transcribe").click()
        box = page.locator("#pg-tr-audio")
        box.get_by_label("Record audio").click()
        box.locator("button.record-button").click()
        page.wait_for_timeout(9000)  # the fake microphone plays JFK from its first word
        box.locator("button.stop-button").click()
        page.wait_for_function(
            "() => /\\d+\\.\\d+ s/.test(document.querySelector('#pg-tr-info').innerText)", timeout=30_000
        )  # the waveform and duration show as soon as the recording is loaded
        page.wait_for_selector("#pg-tr-wave .main-svg", timeout=30_000)  # plotly drew the waveform
        page.fill("#pg-tr-ref textarea", "And so my fellow Americans, ask not what your country can do for you")
        page.click("#pg-tr-go")
        page.wait_for_function("() => document.querySelector('#pg-tr-wer').innerText.includes('WER')", timeout=120_000)
        text = page.input_value("#pg-tr-text textarea").lower()
        assert "fellow" in text and "country" in text, text
        assert "Total" in page.inner_text("#pg-tr-metrics")
        assert page.locator("#pg-tr-wer .pg-diff").count() == 1
        page.evaluate("() => window.scrollTo(0, 0)")
        page.wait_for_timeout(800)
        page.screenshot(path=str(shots / "transcribe.png"))
        # the run is in the history: pick it, its trace and code show
        page.get_by_role("tab", name="History").click()
        page.locator("#pg-hist-table").get_by_text("transcription", exact=True).last.click(timeout=30_000)
        page.wait_for_function(
            "() => document.querySelector('#pg-hist-summary').innerText.includes('transcription')", timeout=30_000
        )
        page.wait_for_selector("#pg-hist-trace .main-svg", timeout=30_000)
        assert "audio.transcriptions.create" in page.inner_text("#pg-hist-code")
        page.wait_for_timeout(800)
        page.screenshot(path=str(shots / "history.png"))
    finally:
        context.close()


def test_share_links_open_the_same_settings_in_a_fresh_browser(mic_browser, app_url):  # noqa: F811
    from playground.ui.share import share_compare_query, share_query

    studio = share_query("studio", "A line to share.", "coral", "gpt-4o-mini-tts", "Warm.", 1.25, "wav")
    col = ["ash", "(none)", "Slow and low.", 0.9, "tts-1", "mp3", "any provider"]
    compare = share_compare_query("Two voices, one line.", 2, False, *col, *col)
    for query, checks in (
        (studio, {"#pg-script textarea": "A line to share.", "#pg-instructions textarea": "Warm."}),
        (compare, {"#pg-compare-script textarea": "Two voices, one line."}),
    ):
        context = mic_browser.new_context(viewport=VIEWPORT)  # a fresh browser: nothing but the link
        page = context.new_page()
        try:
            page.goto(app_url + "/" + query, wait_until="load")
            for selector, value in checks.items():
                page.wait_for_function(
                    f"() => document.querySelector({selector!r})?.value === {value!r}", timeout=30_000
                )
        finally:
            context.close()
