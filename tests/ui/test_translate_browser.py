"""The Translate tab in Debian's Chromium, on the embedded backend: the fake microphone says
a German sentence (cut from ../shared/testdata/speech/multilingual.mp3, then a pause) and
the English translation shows, plays and lands in the phrase table with a latency; the
export's WAV decodes; a second Start on the same page works."""

from __future__ import annotations

import io
import re
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from playground.core import audio
from tests.ui.test_browser import ARGS, CHROMIUM, VIEWPORT

pytestmark = [pytest.mark.browser, pytest.mark.models]

RATE = 24000
SPEECH = Path(__file__).resolve().parents[3] / "shared" / "testdata" / "speech"
#: a German sentence of multilingual.mp3 that ends in a pause (seconds)
GERMAN = (36.1, 41.5)


@pytest.fixture(scope="module")
def german_wav(tmp_path_factory) -> Path:
    """Half a second of silence, the German sentence, then a long pause (the fake microphone loops)."""
    whole = audio.decode_mono((SPEECH / "multilingual.mp3").read_bytes(), RATE)
    german = whole[int(GERMAN[0] * RATE) : int(GERMAN[1] * RATE)]
    path = tmp_path_factory.mktemp("mic") / "german.wav"
    quiet = np.zeros(RATE // 2, np.float32)
    sf.write(path, np.concatenate([quiet, german, np.zeros(12 * RATE, np.float32)]), RATE, subtype="PCM_16")
    return path


@pytest.fixture(scope="module")
def german_browser(german_wav):
    if CHROMIUM is None:
        pytest.skip("Chromium not installed: apt-get install chromium to run browser tests")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[*ARGS, f"--use-file-for-fake-audio-capture={german_wav}"])
        yield b
        b.close()


def _wait(page, condition: str, what: str, timeout_s: float = 180) -> object:
    """Poll ``condition`` (JS over ``s``, the tab's state); fail with what the page saw."""
    probe = f"() => {{ const s = window.pgTranslate.state; return {condition}; }}"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = page.evaluate(probe)
        if value:
            return value
        page.wait_for_timeout(100)
    seen = page.evaluate(
        "() => ({log: window.pgTranslate.state.log.slice(-40), errors: window.pgTranslate.state.errors,"
        " phase: window.pgTranslate.state.phase, status: document.getElementById('pg-tl-status').innerText})"
    )
    pytest.fail(f"timed out waiting for {what}; the page saw {seen}")


def _translate_once(page) -> list[dict]:
    """Start, wait for a translated phrase that played and has its latency; return the phrases."""
    page.click("#pg-tl-start")
    _wait(page, "s.phase === 'running' && s.samples > 0", "the microphone to stream", 60)
    _wait(page, "/[a-z]{3}/i.test(s.translation)", "the English translation")
    _wait(page, "s.played > 0", "the translated speech to play")
    _wait(page, "/[a-zäöüß]{3}/i.test(s.source)", "the German source transcript")  # decoded after the translation
    _wait(page, "[...s.phrases.values()].some(p => p.latency_ms !== null && p.translation)", "a phrase with a latency")
    return page.evaluate("() => [...window.pgTranslate.state.phrases.values()].map(({el, ...p}) => p)")


def test_german_speech_is_translated_played_exported_and_restarted(german_browser, app_url, shots):
    context = german_browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    try:
        page.goto(app_url, wait_until="load")
        page.get_by_role("tab", name="Translate").click()
        page.wait_for_function("() => window.pgTranslate !== undefined", timeout=30_000)
        # on the embedded backend the picker starts on English, and says why
        page.wait_for_function(
            "() => /English only/.test(document.querySelector('#pg-tl-language-note').innerText)", timeout=30_000
        )
        assert page.locator("#pg-tl-language input").input_value() == "English"
        page.wait_for_function(
            "() => document.querySelector('#pg-tl-code-python').innerText.trim().length > 0", timeout=30_000
        )
        phrases = _translate_once(page)
        row = page.locator("#pg-tl-phrases tbody tr").filter(has=page.locator("td.pg-tl-latency", has_text=" ms"))
        assert re.fullmatch(r"\d+ ms", row.first.locator("td.pg-tl-latency").inner_text())
        assert re.search(r"[a-z]{3}", page.inner_text("#pg-tl-target"), re.I)
        assert re.search(r"[a-zäöüß]{3}", page.inner_text("#pg-tl-source"), re.I)
        timed = [p for p in phrases if p["latency_ms"] is not None]
        assert all(p["latency_ms"] >= 0 and p["elapsed_ms"] % 200 == 0 for p in timed)
        assert [p["elapsed_ms"] for p in phrases] == sorted(p["elapsed_ms"] for p in phrases)
        assert re.fullmatch(r"cost so far: \$\d+\.\d{4}", page.inner_text("#pg-tl-cost"))
        page.screenshot(path=str(shots / "translate.png"))

        page.click("#pg-tl-stop")
        _wait(page, "s.phase === 'idle' && !s.ws", "the session to close after Stop", 60)
        assert page.evaluate("() => window.pgTranslate.state.errors") == []
        assert page.evaluate("() => document.getElementById('pg-tl-start').disabled") is False

        page.click("#pg-tl-export")
        link = page.locator("#pg-tl-files a[href$='.wav']").first
        link.wait_for(timeout=60_000)
        page.wait_for_function("() => /Saved to History/.test(document.querySelector('#pg-tl-export-note').innerText)")
        hrefs = [a.get_attribute("href") for a in page.locator("#pg-tl-files a[href$='.wav']").all()]
        translated = next(h for h in hrefs if "translation-source" not in h)
        data, rate = sf.read(io.BytesIO(page.request.get(translated).body()))
        assert rate == RATE and len(data) > RATE // 4 and np.abs(data).max() > 0.01
        page.screenshot(path=str(shots / "translate-exported.png"))

        # a second Start on the same page opens a new session
        again = _translate_once(page)
        assert again and page.evaluate("() => window.pgTranslate.state.errors") == []
        page.click("#pg-tl-stop")
        _wait(page, "s.phase === 'idle'", "the second session to close", 60)
    finally:
        page.evaluate("() => window.pgTranslate && window.pgTranslate.stop()")
        context.close()


def test_an_uploaded_file_is_streamed_then_the_session_closes(german_browser, app_url, tmp_path):
    whole = audio.decode_mono((SPEECH / "multilingual.mp3").read_bytes(), RATE)
    clip = tmp_path / "german-clip.wav"
    quiet = np.zeros(RATE // 2, np.float32)
    sf.write(clip, np.concatenate([quiet, whole[int(GERMAN[0] * RATE) : int(GERMAN[1] * RATE)], quiet]), RATE)
    context = german_browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    try:
        page.goto(app_url, wait_until="load")
        page.get_by_role("tab", name="Translate").click()
        page.wait_for_function("() => window.pgTranslate !== undefined", timeout=30_000)
        page.locator("#pg-tl-source-pick").get_by_text("File, streamed in real time").click()
        page.locator("#pg-tl-file input[type=file]").set_input_files(str(clip))
        page.wait_for_function(
            "() => /german-clip.wav: 6.4 s/.test(document.querySelector('#pg-tl-file-note').innerText)", timeout=30_000
        )
        page.click("#pg-tl-start")
        _wait(page, "s.phase === 'running' && s.samples > 0", "the file to stream", 60)
        # the file, then silence and session.close: the server finishes and closes the session
        _wait(page, "s.sessionClosed && s.phase === 'idle'", "the session to finish after the file")
        state = page.evaluate(
            "() => ({t: window.pgTranslate.state.translation, e: window.pgTranslate.state.errors,"
            " n: window.pgTranslate.state.samples})"
        )
        assert re.search(r"[a-z]{3}", state["t"], re.I) and state["e"] == [], state
        assert state["n"] >= 6 * RATE  # the whole file went out, in real time, and the silence after it
        assert "Finished" in page.inner_text("#pg-tl-status")
    finally:
        page.evaluate("() => window.pgTranslate && window.pgTranslate.stop()")
        context.close()
