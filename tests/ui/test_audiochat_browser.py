"""The Audio chat tab in Debian's Chromium: a turn spoken into the fake microphone (JFK,
../shared/testdata) gets a spoken reply that plays through the page's player while it
streams; a typed follow-up carries the first reply by its audio id; the usage table and
the code panel follow."""

from __future__ import annotations

import pytest

from tests.ui.test_browser import VIEWPORT
from tests.ui.test_voicechat_browser import mic_browser, mic_wav  # noqa: F401 - fixtures

pytestmark = [pytest.mark.browser, pytest.mark.models]

RATE = 24000


def _player(page) -> dict:
    return page.evaluate(
        "() => { const s = window.pgStudio.state; return {box: s.box, received: s.receivedSamples,"
        " played: s.last.firstPlayedAt, heard: s.last.heardMs, ended: s.ended,"
        " status: document.getElementById('pg-ac-live-status').innerText}; }"
    )


def test_a_spoken_turn_gets_a_spoken_reply_that_plays(mic_browser, app_url, shots):  # noqa: F811
    context = mic_browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    try:
        page.goto(app_url, wait_until="load")
        page.get_by_role("tab", name="Audio chat").click()
        page.wait_for_selector("#pg-ac-send", state="visible", timeout=30_000)
        page.wait_for_function("() => window.pgStudio !== undefined", timeout=30_000)
        box = page.locator("#pg-ac-audio")
        box.get_by_label("Record audio").click()
        box.locator("button.record-button").click()
        page.wait_for_timeout(9000)  # the fake microphone plays JFK from its first word
        box.locator("button.stop-button").click()
        # the recording is loaded into the component (its player exists) before Send
        page.wait_for_selector("#pg-ac-audio audio.standard-player", state="attached", timeout=30_000)
        page.click("#pg-ac-send")
        page.wait_for_function(
            "() => /Turn 1/.test(document.querySelector('#pg-ac-status').innerText)", timeout=120_000
        )
        page.wait_for_function("() => window.pgStudio.state.last.firstPlayedAt !== null", timeout=30_000)
        seen = _player(page)
        assert seen["box"] == "pg-ac-live", seen
        assert seen["received"] > RATE // 2, f"less than half a second of reply audio reached the player: {seen}"
        assert seen["heard"] is not None and "Send" in seen["status"], seen
        bubbles = page.locator("#pg-ac-chat .message-row")
        assert bubbles.count() == 2, page.inner_text("#pg-ac-chat")
        assert page.locator("#pg-ac-chat audio").count() >= 1  # the user's turn (and the reply) as players
        reply_text = bubbles.nth(1).inner_text().strip()
        assert len(reply_text) > 3, reply_text

        page.fill("#pg-ac-text textarea", "Say that again, shorter.")
        page.click("#pg-ac-send")
        page.wait_for_function(
            "() => /Turn 2/.test(document.querySelector('#pg-ac-status').innerText)", timeout=120_000
        )
        page.wait_for_function(  # a row per turn in the usage table, and the totals over both
            "() => /Say that again/.test(document.querySelector('#pg-ac-usage').innerText)"
            " && /2 turns/.test(document.querySelector('#pg-ac-totals').innerText)",
            timeout=30_000,
        )
        code = page.inner_text("#pg-ac-code-python")
        assert "turn-1.wav" in code, "the spoken turn is read from its file"
        assert '"id": "audio_' in code, "the last request refers to the first reply by its id"
        assert "est. $" in page.inner_text("#pg-ac-totals")
        page.evaluate("() => window.scrollTo(0, 0)")
        page.wait_for_timeout(500)
        page.screenshot(path=str(shots / "audio_chat.png"))
    finally:
        context.close()
