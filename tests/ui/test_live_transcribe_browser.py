"""Live mode of the Transcribe tab in Debian's Chromium: the fake microphone plays JFK's
speech (../shared/testdata) and the words show, stamped, while the recording goes on; the
same recording is compared at two delays ("Compare two delays"), then goes through file
transcription."""

from __future__ import annotations

import re
import time

import pytest

from tests.ui.test_browser import VIEWPORT
from tests.ui.test_voicechat_browser import mic_browser, mic_wav  # noqa: F401 - fixtures

pytestmark = [pytest.mark.browser, pytest.mark.models]

RATE = 24000
#: mic.wav starts with 0.5 s of silence, then JFK's 11 s
FIRST_READING_ENDS_S = 11.5
JFK_WORDS = r"/fellow|americans|country|ask not/"


def _wait(page, condition: str, what: str, timeout_s: float = 120) -> object:
    """Poll ``condition`` (JS over ``s``, the live state); fail with what the page saw."""
    probe = f"() => {{ const s = window.pgLive.state; return {condition}; }}"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = page.evaluate(probe)
        if value:
            return value
        page.wait_for_timeout(100)
    seen = page.evaluate(
        "() => ({log: window.pgLive.state.log, errors: window.pgLive.state.errors,"
        " status: document.getElementById('pg-lt-status').innerText})"
    )
    pytest.fail(f"timed out waiting for {what}; the page saw {seen}")


def _compare_two_delays(page, shots) -> None:
    """The kept recording through minimal and xhigh: a row per delay and the words-over-time plot."""
    page.locator("#pg-ld").get_by_text("Compare two delays").click()
    page.wait_for_selector("#pg-ld-go", state="visible", timeout=30_000)
    page.fill("#pg-ld-ref textarea", "And so my fellow Americans, ask not what your country can do for you")
    page.click("#pg-ld-go")
    page.wait_for_function(
        "() => /minimal[\\s\\S]*xhigh/.test(document.querySelector('#pg-ld-table').innerText)"
        " && document.querySelector('#pg-ld-plot .js-plotly-plot') !== null",
        timeout=180_000,
    )
    assert "WER against your reference" in page.inner_text("#pg-ld-status")
    assert re.search(r"\d+\.\d%", page.inner_text("#pg-ld-table"))
    page.locator("#pg-ld").screenshot(path=str(shots / "transcribe-live-delays.png"))


def test_live_mode_shows_the_words_while_the_speech_is_still_playing(mic_browser, app_url, shots):  # noqa: F811
    context = mic_browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    try:
        page.goto(app_url, wait_until="load")
        page.get_by_role("tab", name="Transcribe").click()
        page.locator("#pg-tr-source").get_by_text("Live (realtime)").click()
        page.wait_for_selector("#pg-lt-record", state="visible", timeout=30_000)
        page.wait_for_function("() => window.pgLive !== undefined", timeout=30_000)
        page.wait_for_function(  # the same session as SDK code, rendered for the panel's settings
            '() => /"type": "transcription"/.test(document.querySelector(\'#pg-lt-code-python\').innerText)',
            timeout=30_000,
        )
        page.click("#pg-lt-record")
        _wait(page, "s.recording", "the microphone to stream", 60)
        # the first words show while the recording is still going, before JFK's first reading ends
        heard_at = _wait(
            page,
            f"s.recording && Object.values(s.turns).some(t => {JFK_WORDS}i.test(t.text)) && s.samples / {RATE}",
            "JFK's words on the page",
        )
        assert heard_at < FIRST_READING_ENDS_S, f"the words came only after {heard_at:.1f} s of recording"
        line = page.locator("#pg-lt-text .pg-lt-turn").first
        assert re.fullmatch(r"\d:\d\d\.\d", line.locator(".pg-lt-t").inner_text()), line.inner_text()
        assert re.search(r"fellow|americans|country|ask", page.inner_text("#pg-lt-text").lower())
        page.screenshot(path=str(shots / "transcribe-live.png"))
        page.click("#pg-lt-stop")
        _wait(page, "!s.ws && !s.recording", "the session to close after Stop", 60)
        turns = page.evaluate("() => window.pgLive.transcript()")
        assert turns and all(t["done"] for t in turns), turns
        starts = [t["start_ms"] for t in turns]
        assert starts == sorted(starts)
        _compare_two_delays(page, shots)
        # the recording goes through file transcription with the file settings
        page.click("#pg-lt-to-file")
        page.wait_for_selector("#pg-tr-go", state="visible", timeout=30_000)
        page.wait_for_function(
            "() => /\\d+\\.\\d+ s/.test(document.querySelector('#pg-tr-info').innerText)", timeout=30_000
        )
        page.click("#pg-tr-go")
        page.wait_for_function(
            "() => /country|fellow/i.test(document.querySelector('#pg-tr-text textarea').value)", timeout=120_000
        )
        assert page.evaluate("() => window.pgLive.state.errors") == []
    finally:
        page.evaluate("() => window.pgLive && window.pgLive.stop()")
        context.close()
