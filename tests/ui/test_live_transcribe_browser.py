"""Live mode of the Transcribe tab in Debian's Chromium: the fake microphone plays JFK's
speech (../shared/testdata) and the words show, stamped, while he is still speaking; the
same recording is compared at two delays ("Compare two delays"), then goes through file
transcription.

"While he is still speaking" is an order of events, not a time: the page's open turn (its
last line, after ``speech_started`` and before that turn's ``speech_stopped``) holds JFK's
words. Only the interim decodes of live text can put them there: the final decode's
deltas come after ``speech_stopped`` and ``committed``. The microphone plays JFK twice
back to back, a turn of 22 s at the panel's longest silence, then pauses and starts again:
a busy machine makes the words later, in this turn or a later one, never absent. (A turn
stays under Whisper's 30 s window, so Stop's final decode of it is one window.)
"""

from __future__ import annotations

import re
import time

import numpy as np
import pytest
import soundfile as sf

from playground.core import audio
from playground.core.catalog import get_catalog
from tests.ui.test_browser import ARGS, CHROMIUM, VIEWPORT
from tests.ui.test_voicechat_browser import RATE, SPEECH

pytestmark = [pytest.mark.browser, pytest.mark.models]

#: the panel's longest silence: JFK's pauses between phrases (about a second) do not end the turn
SILENCE_MS = 2000
#: the panel's lowest VAD threshold: a dip between words is no pause (4 in the turn instead of 14),
#: and each pause starts a speculative decode that queues before the interim ones
THRESHOLD = 0.1
#: a few of JFK's words, as the interim text may have them
JFK_WORDS = r"\b(and|so|my|fellow|americans|ask|not|what|your|country)\b"
#: the turn being spoken, as the page shows it, once it holds some of JFK's words
OPEN_TURN_WITH_WORDS = f"""(() => {{
  const t = s.speaking && s.order.length ? s.turns[s.order[s.order.length - 1]] : null;
  const line = t && t.el && t.el.querySelector('.pg-lt-partial');
  return t && !t.done && /{JFK_WORDS}/i.test(t.text) && line
    ? {{item: t.id, text: t.text, shown: line.innerText, stamp: t.el.querySelector('.pg-lt-t').innerText}}
    : null;
}})()"""


@pytest.fixture(scope="module")
def speech_browser(tmp_path_factory):
    """Chromium whose microphone plays JFK twice back to back, then 8 s of silence, in a loop."""
    if CHROMIUM is None:
        pytest.skip("Chromium not installed: apt-get install chromium to run browser tests")
    sync_api = pytest.importorskip("playwright.sync_api")
    jfk = audio.decode_mono((SPEECH / "jfk.flac").read_bytes(), RATE)
    wav = tmp_path_factory.mktemp("mic") / "speech.wav"
    sf.write(
        wav,
        np.concatenate([np.zeros(RATE // 2, np.float32), jfk, jfk, np.zeros(8 * RATE, np.float32)]),
        RATE,
        subtype="PCM_16",
    )
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[*ARGS, f"--use-file-for-fake-audio-capture={wav}"])
        yield b
        b.close()


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


def _set_vad(page, silence_ms: int, threshold: float) -> None:
    """The live panel's silence and threshold, and the wait until its session code has them."""
    for label, value in (("Silence (ms)", silence_ms), ("Threshold", threshold)):
        box = page.get_by_label(f"number input for {label}")
        box.fill(str(value))
        box.press("Enter")
    page.wait_for_function(  # the same session as SDK code, rendered for the panel's settings
        "() => { const code = document.querySelector('#pg-lt-code-python').innerText;"
        ' return /"type": "transcription"/.test(code)'
        f' && /"silence_duration_ms": {silence_ms}\\b/.test(code) && /"threshold": {threshold}\\b/.test(code); }}',
        timeout=30_000,
    )


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


def test_live_mode_shows_the_words_while_the_speech_is_still_playing(speech_browser, app_url, shots):
    context = speech_browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    try:
        page.goto(app_url, wait_until="load")
        page.get_by_role("tab", name="Transcribe").click()
        page.locator("#pg-tr-source").get_by_text("Live (realtime)").click()
        page.wait_for_selector("#pg-lt-record", state="visible", timeout=30_000)
        page.wait_for_function("() => window.pgLive !== undefined", timeout=30_000)
        _set_vad(page, SILENCE_MS, THRESHOLD)
        page.click("#pg-lt-record")
        _wait(page, "s.recording", "the microphone to stream", 60)
        # JFK's words show in the turn he is still speaking, however long they take to come: a
        # turn whose interim decodes came too late is followed by another (every 30 s)
        open_turn = _wait(page, f"s.recording && {OPEN_TURN_WITH_WORDS}", "JFK's words while he is still speaking", 240)
        assert re.search(JFK_WORDS, open_turn["shown"], re.I), open_turn
        assert re.fullmatch(r"\d:\d\d\.\d", open_turn["stamp"]), open_turn
        page.screenshot(path=str(shots / "transcribe-live.png"))
        page.click("#pg-lt-stop")
        _wait(page, "!s.ws && !s.recording", "the session to close after Stop", 60)
        turns = page.evaluate("() => window.pgLive.transcript()")
        assert turns and all(t["done"] for t in turns), turns
        starts = [t["start_ms"] for t in turns]
        assert starts == sorted(starts)
        # the comparison plays the recording with the panel's settings and 1.5 s of silence after
        # it: the default silence ends its last turn, 2 s would not
        defaults = get_catalog().realtime.server_vad_defaults
        _set_vad(page, defaults.silence_duration_ms, defaults.threshold)
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
