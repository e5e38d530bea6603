"""The voice chat tab in Debian's Chromium with a fake microphone fed from a speech WAV.

Chromium plays ``mic.wav`` (JFK's speech from ../shared/testdata, with pauses) as the
microphone; the page captures it with its AudioWorklet, the relay forwards it to the
embedded backend's realtime endpoint, and the reply plays through the page's player.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from playground.core import audio
from tests.ui.test_browser import ARGS, CHROMIUM, VIEWPORT

pytestmark = [pytest.mark.browser, pytest.mark.models]

SPEECH = Path(__file__).resolve().parents[3] / "shared" / "testdata" / "speech"
RATE = 24000


@pytest.fixture(scope="module")
def mic_wav(tmp_path_factory) -> Path:
    jfk = audio.decode_mono((SPEECH / "jfk.flac").read_bytes(), RATE)
    pause = np.zeros(4 * RATE, np.float32)
    path = tmp_path_factory.mktemp("mic") / "mic.wav"
    sf.write(path, np.concatenate([np.zeros(RATE // 2, np.float32), jfk, pause, jfk, pause]), RATE, subtype="PCM_16")
    return path


@pytest.fixture(scope="module")
def mic_browser(mic_wav):
    if CHROMIUM is None:
        pytest.skip("Chromium not installed: apt-get install chromium to run browser tests")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[*ARGS, f"--use-file-for-fake-audio-capture={mic_wav}"])
        yield b
        b.close()


@pytest.fixture
def chat(mic_browser, app_url):
    context = mic_browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.goto(app_url, wait_until="load")
    page.get_by_role("tab", name="Voice chat").click()
    page.wait_for_selector("#pg-rt-connect", timeout=60_000)
    page.wait_for_function("() => window.pgRealtime !== undefined", timeout=30_000)
    yield page
    page.evaluate("() => window.pgRealtime.disconnect()")
    context.close()


def _wait(page, condition: str, what: str, timeout_s: float = 120) -> object:
    """Poll ``condition`` (JS over ``s``, the page's realtime state); fail with what was seen."""
    probe = f"() => {{ const s = window.pgRealtime.state; return {condition}; }}"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = page.evaluate(probe)
        if value:
            return value
        page.wait_for_timeout(200)
    seen = page.evaluate(
        "() => { const s = window.pgRealtime.state; return {log: s.log.map(r => r.direction[0] + ' ' + r.type),"
        " status: document.getElementById('pg-rt-status').innerText, errors: s.errors}; }"
    )
    pytest.fail(f"timed out waiting for {what}; the page saw {seen}")


def test_a_spoken_turn_is_heard_transcribed_and_answered_aloud(chat, shots):
    chat.click("#pg-rt-connect")
    _wait(chat, "s.ws && s.ws.readyState === 1", "the relay to open", 60)
    words = _wait(
        chat,
        "Object.values(s.entries).filter(e => e.role === 'user' && !e.partial).map(e => e.text).join(' ')"
        ".toLowerCase().match(/country|ask|americans|fellow/)",
        "a user transcript with JFK's words",
    )
    assert words
    played = _wait(chat, "Math.max(0, ...Object.values(s.played)) >= 4800 && s.played", "0.2 s of reply played")
    assert max(played.values()) >= 4800
    received = chat.evaluate("() => window.pgRealtime.state.received")
    for item, samples in played.items():
        assert samples <= received[item]  # nothing plays that did not arrive
    # the event log shows the turn in order: speech_started → speech_stopped → response.done
    order = _wait(
        chat,
        "(() => { const t = s.log.filter(r => r.direction === 'received').map(r => r.type);"
        " const a = t.indexOf('input_audio_buffer.speech_started');"
        " const b = t.indexOf('input_audio_buffer.speech_stopped', a);"
        " return a >= 0 && b > a && t.indexOf('response.done', b) > b && t; })()",
        "speech_started → speech_stopped → response.done in the log",
    )
    assert order.index("input_audio_buffer.speech_started") < order.index("input_audio_buffer.speech_stopped")
    # the page shows it: a transcript line, event rows, a latency row, a cost line
    assert chat.locator("#pg-rt-transcript .pg-rt-user").count() >= 1
    assert chat.locator("#pg-rt-log summary", has_text="speech_stopped").count() >= 1
    _wait(chat, "document.querySelectorAll('#pg-rt-latency tbody tr').length >= 1", "a latency row")
    assert "Tokens in" in chat.inner_text("#pg-rt-cost")
    assert "audio" in chat.inner_text("#pg-rt-log")  # appends show their audio size, not base64
    chat.wait_for_timeout(1500)
    chat.screenshot(path=str(shots / "voice-chat.png"))


def test_talking_over_a_reply_truncates_it_at_what_was_played(chat, shots):
    chat.click("#pg-rt-connect")
    _wait(chat, "s.ws && s.ws.readyState === 1", "the relay to open", 60)
    chat.click("#pg-rt-mute")  # the WAV stays out of this conversation; the interruption is typed
    assert chat.evaluate("() => window.pgRealtime.state.muted")
    # settings apply live: the new instructions go out as session.update and come back applied
    chat.fill("#pg-rt-instructions textarea", "You tell stories about the sea.")
    chat.click("#pg-rt-status")
    updated = _wait(
        chat,
        "s.log.filter(r => r.type === 'session.updated').map(r => r.event.session.instructions)"
        ".find(i => i === 'You tell stories about the sea.')",
        "session.updated with the new instructions",
        30,
    )
    assert updated
    chat.fill("#pg-rt-text", "Tell me a long story about a lighthouse keeper and the sea.")
    chat.press("#pg-rt-text", "Enter")
    _wait(chat, "s.playingItem && (s.played[s.playingItem] || 0) >= 7200", "0.3 s of the story to play")
    chat.fill("#pg-rt-text", "Stop. What is two plus two?")
    chat.press("#pg-rt-text", "Enter")
    cut = _wait(chat, "s.lastTruncate", "the truncate event")
    assert 0 < cut["audio_end_ms"] <= cut["received_ms"]
    sent = chat.evaluate(
        "() => window.pgRealtime.state.log.filter(r => r.direction === 'sent' && r.type === "
        "'conversation.item.truncate').map(r => r.event)"
    )
    assert sent and sent[-1]["audio_end_ms"] == cut["audio_end_ms"] and sent[-1]["item_id"] == cut["item"]
    truncated = _wait(
        chat,
        "s.log.filter(r => r.type === 'conversation.item.truncated').map(r => r.event)[0]",
        "the server to confirm the truncation",
    )
    assert truncated["audio_end_ms"] == cut["audio_end_ms"]
    _wait(chat, "s.turns.length >= 2 && s.turns[s.turns.length - 1].doneAt", "the answer to the second message")
    assert chat.locator("#pg-rt-transcript .pg-rt-interrupted").count() >= 1
    errors = chat.evaluate("() => window.pgRealtime.state.errors")
    assert not [e for e in errors if e.get("code") != "response_cancel_not_active"], errors
