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
    pause = np.zeros(10 * RATE, np.float32)  # room for a reply on a busy machine before JFK speaks again
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


# ---------------------------------------------------------------- one capture graph per page


def _connect(page) -> None:
    page.click("#pg-rt-connect")
    _wait(page, "s.ws && s.ws.readyState === 1 && s.capture !== null && s.micStartAt !== null", "relay and mic", 60)


def _settings(page, label: str) -> None:
    page.locator("#pg-rt-settings").get_by_label(label, exact=True).check()


def _sent(page, type_: str) -> list[dict]:
    return page.evaluate(
        "(t) => window.pgRealtime.state.log.filter(r => r.direction === 'sent' && r.type === t).map(r => r.event)",
        type_,
    )


def test_each_connect_streams_the_microphone_once_and_the_wav_lasts_the_session(chat):
    _settings(chat, "Text only")  # no reply audio: the WAV is the microphone's side only
    counts, bytes_, window_s = [], [], 3.0
    for n in range(1, 4):
        _connect(chat)
        state = chat.evaluate(
            "() => { const s = window.pgRealtime.state; return [s.capturesCreated, s.capturesLive]; }"
        )
        assert state == [n, 1], f"connection {n}: capture graphs created/live {state}"
        assert chat.is_disabled("#pg-rt-connect")  # no second stream from a second press
        start = chat.evaluate("() => [window.pgRealtime.state.sentAppends, window.pgRealtime.state.sentAudioBytes]")
        chat.wait_for_timeout(window_s * 1000)
        end = chat.evaluate("() => [window.pgRealtime.state.sentAppends, window.pgRealtime.state.sentAudioBytes]")
        counts.append(end[0] - start[0])
        bytes_.append(end[1] - start[1])
        chat.click("#pg-rt-disconnect")
        live = _wait(chat, "!s.ws && s.capturesLive === 0 && s.capture === null && 'released'", "the mic released")
        assert live == "released"
        assert chat.is_enabled("#pg-rt-connect")
    # 40 ms frames: 25 appends a second, each 1,920 bytes, once per frame whatever the connection
    assert abs(counts[0] - window_s * 25) <= 0.2 * window_s * 25, counts
    for c, b in zip(counts, bytes_, strict=True):
        assert abs(c - counts[0]) <= 0.2 * counts[0], counts
        assert b == c * 1920, (counts, bytes_)
    # the WAV of the last conversation is as long as it lasted (capture start → disconnect)
    real_s = chat.evaluate("() => (window.pgRealtime.state.endedAt - window.pgRealtime.state.micStartAt) / 1000")
    with chat.expect_download() as download:
        chat.click("#pg-rt-export-wav")
    wav, rate = sf.read(download.value.path())
    assert rate == RATE and wav.shape[1] == 2
    assert abs(len(wav) / RATE - real_s) <= 0.4, (len(wav) / RATE, real_s)


def test_connect_is_off_while_connecting_and_a_second_press_adds_nothing(chat):
    chat.click("#pg-rt-connect")
    chat.click("#pg-rt-connect", force=True, no_wait_after=True, timeout=2000)  # ignored: disabled, or guarded
    _wait(chat, "s.ws && s.ws.readyState === 1 && s.capture !== null", "relay and mic", 60)
    chat.wait_for_timeout(1500)  # a second ticket, had one gone out, would have connected by now
    assert chat.evaluate("() => window.pgRealtime.state.capturesCreated") == 1
    assert chat.is_disabled("#pg-rt-connect")
    tickets = chat.evaluate("() => window.pgRealtime.state.cfg.ticket")
    chat.evaluate("() => window.pgRealtime.connect({ticket: 'another', session: {}, label: 'x'})")  # while connected
    assert chat.evaluate("() => window.pgRealtime.state.cfg.ticket") == tickets
    assert chat.evaluate("() => window.pgRealtime.state.capturesLive") == 1


def test_a_dropped_socket_releases_the_mic_and_connect_comes_back(chat):
    _connect(chat)
    chat.evaluate("() => window.pgRealtime.state.ws.close()")  # as if the relay went away
    _wait(chat, "!s.ws && s.capturesLive === 0 && s.capture === null && 'gone'", "the mic released")
    assert chat.is_enabled("#pg-rt-connect")
    assert "Disconnected" in chat.inner_text("#pg-rt-status")
    _connect(chat)
    assert chat.evaluate("() => [window.pgRealtime.state.capturesCreated, window.pgRealtime.state.capturesLive]") == [
        2,
        1,
    ]


# ---------------------------------------------------------------- errors in words, no pending bubble


def _receive(page, *events: dict) -> None:
    """Feed server events to the page, all in one go, as if the relay had sent them."""
    page.evaluate("(es) => es.forEach(e => window.pgRealtime.receive(JSON.stringify(e)))", list(events))


def test_a_turn_during_a_reply_is_explained_and_answered_after_it(chat):
    _settings(chat, "Text only")
    _connect(chat)
    chat.click("#pg-rt-mute")
    before = len(_sent(chat, "response.create"))
    # what the server says when a turn ends while a reply runs ("Interrupt when I speak" off)
    _receive(
        chat,
        {"type": "response.created", "response": {"id": "resp_sim", "status": "in_progress"}},
        {"type": "input_audio_buffer.speech_started", "item_id": "item_sim", "audio_start_ms": 0},
        {"type": "input_audio_buffer.speech_stopped", "item_id": "item_sim", "audio_end_ms": 900},
        {
            "type": "error",
            "error": {
                "type": "invalid_request_error",
                "code": "conversation_already_has_active_response",
                "message": "Conversation already has an active response in progress; wait for response.done.",
            },
        },
    )
    note = chat.inner_text("#pg-rt-transcript .pg-rt-note")
    assert "still answering" in note and "will be answered" in note
    assert "still answering" in chat.inner_text("#pg-rt-status")
    assert "still answering" in chat.locator("#pg-rt-log .pg-rt-error summary").last.inner_text()
    _receive(chat, {"type": "response.done", "response": {"id": "resp_sim", "status": "completed", "output": []}})
    assert len(_sent(chat, "response.create")) == before + 1  # the owed answer is asked for
    # the embedded backend's generic audio failure at that moment means the same thing
    _receive(
        chat,
        {"type": "response.created", "response": {"id": "resp_sim2", "status": "in_progress"}},
        {"type": "input_audio_buffer.speech_stopped", "item_id": "item_sim2", "audio_end_ms": 900},
        {"type": "error", "error": {"type": "server_error", "code": "audio_processing_failed", "message": "x"}},
    )
    assert "still answering" in chat.locator("#pg-rt-transcript .pg-rt-note").last.inner_text()
    assert "could not process" not in chat.inner_text("#pg-rt-transcript")
    # the latency table says what became of the turn instead of "…" forever
    statuses = chat.evaluate("() => window.pgRealtime.state.turns.map(t => t.status)")
    assert "waits for the reply" in statuses
    # the same explanation twice in a row is one line with a count
    again = {"type": "error", "error": {"code": "conversation_already_has_active_response", "message": "again"}}
    _receive(chat, again, again)
    last = chat.locator("#pg-rt-transcript .pg-rt-note").last.inner_text()
    assert last.endswith(("(×2)", "(×3)")), last
    assert chat.locator("#pg-rt-transcript .pg-rt-note").count() <= 3


def test_user_bubbles_never_stay_pending(chat):
    _connect(chat)
    # muting mid-sentence: the turn the server heard start is cleared and marked, not left "…"
    _wait(chat, "Object.values(s.entries).some(e => e.role === 'user' && e.stage === 'speaking')", "speech_started")
    chat.click("#pg-rt-mute")
    assert _sent(chat, "input_audio_buffer.clear")
    assert "muted" in chat.inner_text("#pg-rt-transcript .pg-rt-unheard")
    # a failed transcription, a deleted item, a cleared buffer, the end of the session
    _receive(
        chat,
        {"type": "input_audio_buffer.speech_started", "item_id": "item_f", "audio_start_ms": 0},
        {"type": "input_audio_buffer.committed", "item_id": "item_f"},
        {
            "type": "conversation.item.input_audio_transcription.failed",
            "item_id": "item_f",
            "content_index": 0,
            "error": {"message": "the audio could not be decoded"},
        },
        {"type": "input_audio_buffer.speech_started", "item_id": "item_d", "audio_start_ms": 0},
        {"type": "input_audio_buffer.committed", "item_id": "item_d"},
        {"type": "conversation.item.deleted", "item_id": "item_d"},
        {"type": "input_audio_buffer.speech_started", "item_id": "item_c", "audio_start_ms": 0},
        {"type": "input_audio_buffer.cleared"},
        {"type": "input_audio_buffer.speech_started", "item_id": "item_e", "audio_start_ms": 0},
        {"type": "input_audio_buffer.committed", "item_id": "item_e"},
    )
    chat.click("#pg-rt-disconnect")
    notes = chat.evaluate(
        "() => Object.fromEntries(Object.values(window.pgRealtime.state.entries)"
        ".filter(e => e.role === 'user').map(e => [e.id, [e.stage, e.unheard || null]]))"
    )
    assert notes["item_f"][1].startswith("heard, but not transcribed")
    assert notes["item_d"][1] == "removed from the conversation"
    assert notes["item_c"][1].startswith("not heard")
    assert "session ended" in notes["item_e"][1]
    assert all(stage == "done" for stage, _ in notes.values()), notes
    assert chat.locator("#pg-rt-transcript .pg-rt-pending").count() == 0


def test_push_to_talk_is_off_while_muted_and_a_tap_sends_nothing(chat):
    _settings(chat, "Push to talk (manual)")
    _connect(chat)
    assert chat.is_enabled("#pg-rt-ptt")
    chat.click("#pg-rt-mute")
    assert chat.is_disabled("#pg-rt-ptt")
    assert "muted" in (chat.get_attribute("#pg-rt-ptt", "title") or "")
    chat.click("#pg-rt-status")  # focus away from the inputs, then Space as the shortcut
    chat.keyboard.down("Space")
    chat.wait_for_timeout(800)
    chat.keyboard.up("Space")
    assert "muted" in chat.inner_text("#pg-rt-status").lower()
    assert not _sent(chat, "input_audio_buffer.commit") and not _sent(chat, "response.create")
    # unmuted, a tap too short to hold any speech is cleared, not committed
    chat.click("#pg-rt-mute")
    box = chat.locator("#pg-rt-ptt").bounding_box()
    chat.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    chat.mouse.down()
    chat.mouse.up()
    chat.wait_for_timeout(300)
    assert not _sent(chat, "input_audio_buffer.commit") and not _sent(chat, "response.create")
    assert "at least 0.1 s" in chat.inner_text("#pg-rt-transcript")
    # a real hold is committed and answered
    chat.mouse.down()
    chat.wait_for_timeout(1500)
    chat.mouse.up()
    _wait(chat, "s.log.some(r => r.direction === 'sent' && r.type === 'input_audio_buffer.commit')", "the commit", 10)
    assert _sent(chat, "response.create")
    errors = chat.evaluate("() => window.pgRealtime.state.errors.map(e => e.code)")
    assert "input_audio_buffer_commit_empty" not in errors


def test_the_latency_table_keeps_the_session(chat):
    def turns(first: int, last: int) -> None:
        events = []
        for n in range(first, last + 1):
            events += [
                {"type": "input_audio_buffer.speech_stopped", "item_id": f"item_{n}", "audio_end_ms": 0},
                {"type": "response.created", "response": {"id": f"resp_{n}"}},
                {"type": "response.done", "response": {"id": f"resp_{n}", "status": "completed", "output": []}},
            ]
        chat.evaluate("(es) => es.forEach(e => window.pgRealtime.receive(JSON.stringify(e)))", events)

    turns(1, 12)
    assert chat.locator("#pg-rt-latency tbody tr").count() == 12
    assert chat.locator("#pg-rt-latency tbody tr").first.inner_text().startswith("#1 ")
    turns(13, 230)
    rows = chat.locator("#pg-rt-latency tbody tr")
    assert rows.count() == 200 and rows.last.inner_text().startswith("#230 ")
    assert "30 oldest turns" in chat.inner_text("#pg-rt-latency")
    scroll = chat.evaluate(
        "() => { const b = document.getElementById('pg-rt-latency'); return [b.scrollHeight, b.clientHeight]; }"
    )
    assert scroll[0] > scroll[1]  # the table scrolls inside its box instead of growing the page
