"""The real UI in Debian's Chromium, driven by Playwright, against the embedded backend.

Skips with a reason where Chromium is missing (a laptop); CI installs it (.ci/run) and
sets CI=true, where a skip is a failure. `make screenshots` reruns these with
UPDATE_SCREENSHOTS=1 to refresh the README's images in docs/screenshots/.
"""

from __future__ import annotations

import shutil

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.models]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
]
VIEWPORT = {"width": 1440, "height": 900}
#: eight sentences on Piper (the slowest engine): the server is still making audio when playback starts
LONG_SCRIPT = " ".join(
    [
        "The harbour wakes before the town does.",
        "Fishing boats slip out past the breakwater while the lamps are still on.",
        "By six the market stalls are up and the first coffee is poured.",
        "Gulls argue over the nets, and the ferry horn sounds twice.",
        "Tourists arrive with the mid-morning bus and drift toward the old fort.",
        "At noon the square fills with the smell of grilled sardines.",
        "In the afternoon the wind turns, and the sails come home one by one.",
        "When the lamps come on again, the harbour is quiet and the town takes over.",
    ]
)


#: both boxes read in one frame, in page coordinates: the note's top less the anchor's bottom, the note's bottom
_BELOW_JS = """([note, anchor]) => {
    const n = document.querySelector(note).getBoundingClientRect();
    const a = document.querySelector(anchor).getBoundingClientRect();
    return {gap: n.top - a.bottom, bottom: n.bottom};
}"""


def assert_just_below(page, note: str, anchor: str, within: float = 40, timeout_ms: int = 10_000) -> None:
    """``note`` sits less than ``within`` px under ``anchor`` and ends inside the first screen.

    Both boxes come from the same frame, and the check waits out a layout still settling
    (an upload box that is replaced by its empty state moves what is under it): two
    separate reads can straddle such a change and measure a gap the page never showed.
    """
    check = f"""(args) => {{ const m = ({_BELOW_JS})(args);
        return m.gap >= 0 && m.gap < {within} && m.bottom <= {VIEWPORT["height"]}; }}"""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(check, arg=[note, anchor], timeout=timeout_ms)
    except PlaywrightTimeout:
        measured = page.evaluate(_BELOW_JS, [note, anchor])
        raise AssertionError(f"{note} is not just below {anchor}: {measured}") from None


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.skip("Chromium not installed: apt-get install chromium to run browser tests")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def _open(browser, url: str):
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.goto(url, wait_until="load")
    page.wait_for_selector("#pg-play", timeout=90_000)
    page.wait_for_function("() => window.pgStudio !== undefined", timeout=30_000)
    return context, page


@pytest.fixture
def page(browser, app_url):
    context, page = _open(browser, app_url)
    yield page
    context.close()


def _wait_for_player(page, condition: str, timeout_s: float = 90) -> dict:
    """Poll the page's player timings until ``condition`` (JS over ``t``) holds; on a
    timeout, fail with what the player did see, so a flake explains itself."""
    import time

    deadline = time.monotonic() + timeout_s
    probe = f"() => {{ const t = window.pgStudio.state.last; return {condition}; }}"
    while time.monotonic() < deadline:
        if page.evaluate(probe):
            return page.evaluate("() => window.pgStudio.state.last")
        page.wait_for_timeout(100)
    seen = page.evaluate(
        "() => ({...window.pgStudio.state.last, received: window.pgStudio.state.receivedSamples,"
        " context: window.pgStudio.state.ctx && window.pgStudio.state.ctx.state})"
    )
    pytest.fail(f"player never reached {condition}: {seen}; status: {page.inner_text('#pg-live-status')!r}")


def _wait_for_metrics(page, words: str, timeout_s: float = 90) -> str:
    """Wait until Play's metrics show ``words``; on a timeout, fail with what the page did
    show (the metrics, the note under Play, the live status, the player), so a flake
    explains itself."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_selector(f"#pg-metrics :text({words!r})", timeout=timeout_s * 1000)
    except PlaywrightTimeout as e:
        seen = {sel: page.inner_text(sel)[:400] for sel in ("#pg-metrics", "#pg-play-note", "#pg-live-status")} | {
            "player": page.evaluate("() => window.pgStudio && window.pgStudio.state.last")
        }
        pytest.fail(f"the metrics never showed {words!r} ({type(e).__name__}): {seen}")
    return page.inner_text("#pg-metrics")


def _pick_voice(page, name: str) -> None:
    page.locator("#pg-voice label").filter(has_text=name).first.click()


def _selected_voice(page) -> str:
    return page.locator("#pg-voice input:checked").first.get_attribute("value") or ""


def test_studio_fits_one_screen_and_code_lines_scroll(page, shots):
    for selector in ("#pg-voice", "#pg-chips", "#pg-instructions", "#pg-script", "#pg-play"):
        box = page.locator(selector).bounding_box()
        assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= VIEWPORT["height"], selector
    assert page.evaluate("() => window.scrollY") == 0
    scroller = page.locator("#pg-code-python .cm-scroller").first
    assert scroller.evaluate("el => getComputedStyle(el).overflowX") in ("auto", "scroll")
    assert scroller.evaluate("el => el.scrollWidth > el.clientWidth"), "a long code line is cut, not scrollable"
    page.screenshot(path=str(shots / "studio-first-screen.png"))


def test_a_vibe_suggests_a_voice_but_keeps_the_users(page):
    # Evening Newsdesk was written for onyx, which the Realtime API (the default) lacks: named, no button
    page.locator("#pg-chips label").filter(has_text="Evening Newsdesk").first.click()
    page.wait_for_selector("#pg-suggestion :text('does not have')", timeout=30_000)
    assert not page.locator("#pg-use-voice").is_visible()
    _pick_voice(page, "Marin")
    page.wait_for_function("() => document.querySelector('#pg-code-python').innerText.includes('\"voice\": \"marin\"')")
    page.locator("#pg-chips label").filter(has_text="Comedy Warm-Up").first.click()
    page.wait_for_function(
        "() => document.querySelector('#pg-instructions textarea').value.includes(':')", timeout=30_000
    )
    page.wait_for_selector("#pg-use-voice:visible", timeout=10_000)
    assert _selected_voice(page) == "marin"
    assert "marin" in page.inner_text("#pg-suggestion")
    assert '"voice": "marin"' in page.inner_text("#pg-code-python")
    suggested = page.inner_text("#pg-use-voice").removeprefix("Use ").strip()
    page.click("#pg-use-voice")  # only now does the voice change
    page.wait_for_function("(v) => document.querySelector('#pg-voice input:checked').value === v", arg=suggested)
    page.wait_for_selector("#pg-use-voice", state="hidden", timeout=10_000)
    # the note follows the voice: picking another one says so, and offers the vibe's again
    _pick_voice(page, "Cedar" if suggested != "cedar" else "Sage")
    now = "cedar" if suggested != "cedar" else "sage"
    page.wait_for_function(
        "(v) => document.querySelector('#pg-suggestion').innerText.includes('you are on ' + v)", arg=now, timeout=10_000
    )
    page.wait_for_selector("#pg-use-voice:visible", timeout=10_000)
    assert suggested in page.inner_text("#pg-use-voice")


def test_play_is_heard_before_the_server_has_finished(page, shots):
    _pick_voice(page, "Echo")
    page.fill("#pg-script textarea", LONG_SCRIPT)
    page.wait_for_timeout(500)
    page.click("#pg-play")
    t = _wait_for_player(page, "t.firstPlayedAt !== null && t.streamEndAt !== null")
    # ordering, not a time: the first sample played while the rest was still arriving
    assert t["clickAt"] < t["firstChunkAt"] <= t["firstPlayedAt"] < t["streamEndAt"], t
    assert "Heard" in page.inner_text("#pg-live-status")
    # the stream opened on the click was the page's own token, made with its stream key
    assert page.evaluate("() => { const s = window.pgStudio.state; return s.token.startsWith(s.key + '.'); }")
    # the default workflow is Realtime: the server's first audio, and the reading checked against the script
    _wait_for_metrics(page, "server first audio")
    page.wait_for_function("() => /\\d+ ms/.test(document.querySelector('.pg-heard').innerText)")
    assert "Est. cost" in page.inner_text("#pg-metrics") and "Read as written" in page.inner_text("#pg-metrics")
    assert page.locator("#pg-download a").first.get_attribute("href")
    page.screenshot(path=str(shots / "studio.png"), full_page=True)


def test_a_page_with_a_stale_stream_key_still_plays(page):
    """A key the server does not know (it restarted, or the key expired) gets a 404 at
    once; the page then plays the server's own token from Play's answer, and fetches a
    fresh key for the next time."""
    page.fill("#pg-script textarea", "A short line to hear.")
    stale = page.evaluate("() => { const s = window.pgStudio.state; const k = s.key; s.key = 'x' + k; return k; }")
    page.click("#pg-play")
    _wait_for_player(page, "t.firstPlayedAt !== null && t.streamEndAt !== null")
    token = page.evaluate("() => window.pgStudio.state.token")
    assert not token.startswith("x" + stale)  # what played was the server's token
    page.wait_for_function("() => !window.pgStudio.state.key.startsWith('x')", timeout=10_000)


def test_one_sound_at_a_time(page):
    _pick_voice(page, "Cedar")  # the voice preview starts playing
    page.wait_for_function("() => window.pgStudio.mediaPlaying() > 0", timeout=60_000)
    page.fill("#pg-script textarea", LONG_SCRIPT)
    page.click("#pg-play")
    _wait_for_player(page, "t.firstPlayedAt !== null", 60)
    assert page.evaluate("() => window.pgStudio.mediaPlaying()") == 0, "the preview kept playing under Play"
    _pick_voice(page, "Sage")  # a preview the user asked for after Play: it wins, the studio stops
    page.wait_for_function("() => window.pgStudio.mediaPlaying() > 0 && !window.pgStudio.state.playing", timeout=60_000)


def test_a_late_autoplay_yields_to_play(page):
    """A preview that arrives after Play was pressed must not cut the studio off."""
    page.fill("#pg-script textarea", LONG_SCRIPT)
    page.click("#pg-play")
    _wait_for_player(page, "t.firstPlayedAt !== null", 60)
    late = page.evaluate(
        """async () => {
            // a stand-in preview file: one second of 8 kHz silence as a WAV
            const n = 8000, bytes = new DataView(new ArrayBuffer(44 + 2 * n));
            const text = (at, s) => [...s].forEach((c, i) => bytes.setUint8(at + i, c.charCodeAt(0)));
            text(0, "RIFF"); bytes.setUint32(4, 36 + 2 * n, true); text(8, "WAVEfmt ");
            bytes.setUint32(16, 16, true); bytes.setUint16(20, 1, true); bytes.setUint16(22, 1, true);
            bytes.setUint32(24, 8000, true); bytes.setUint32(28, 16000, true); bytes.setUint16(32, 2, true);
            bytes.setUint16(34, 16, true); text(36, "data"); bytes.setUint32(40, 2 * n, true);
            const a = new Audio(URL.createObjectURL(new Blob([bytes.buffer], {type: "audio/wav"})));
            await a.play();
            await new Promise((r) => setTimeout(r, 300));
            return {paused: a.paused, studioPlaying: window.pgStudio.state.playing};
        }"""
    )
    assert late == {"paused": True, "studioPlaying": True}, late
    t = _wait_for_player(page, "t.streamEndAt !== null")
    assert t["streamEndAt"] > t["firstPlayedAt"]


def test_a_saved_vibe_survives_a_reload(browser, app_url):
    context, page = _open(browser, app_url)
    try:
        page.fill("#pg-instructions textarea", "Tone: bright and brisk.\n\nPacing: quick.")
        page.get_by_text("Save as vibe").click()
        page.fill("#pg-vibe-name textarea", "Morning Stand-up")
        page.click("#pg-save-vibe")
        page.wait_for_selector("#pg-save-status :text('Saved')", timeout=30_000)
        page.reload(wait_until="load")
        page.wait_for_selector("#pg-play", timeout=90_000)
        page.click("#pg-all-vibes input")
        page.wait_for_selector("ul[role=listbox] :text('Morning Stand-up')", timeout=30_000)
    finally:
        context.close()


def test_typed_speed_outside_the_range_is_clamped_visibly(page):
    failed = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 500 else None)
    box = page.locator("#pg-speed input[type=number]").first

    def typed(value: str, words: str, code: str) -> None:
        box.fill(value)
        box.press("Enter")
        page.wait_for_selector(f"#pg-speed-note :text('{words}')", timeout=30_000)
        page.wait_for_function(
            "(c) => document.querySelector('#pg-code-python').innerText.includes(c)", arg=code, timeout=30_000
        )

    # Realtime (the default) takes 0.25–1.5
    typed("10", "the Realtime API takes 0.25–1.5", '"speed": 1.5')
    assert box.input_value() == "1.5"
    # the speech endpoint takes up to 4.0: switching keeps the speed, typing again clamps to its range
    page.locator("#pg-workflow label").filter(has_text="Speech endpoint").first.click()
    page.wait_for_function("() => document.querySelector('#pg-code-python').innerText.includes('audio.speech')")
    typed("10", "above the maximum", "speed=4.0")
    assert box.input_value() == "4"
    typed("0.01", "below the minimum", "speed=0.25")
    typed("99", "Speed 99 is above the maximum", "speed=4.0")
    assert box.input_value() == "4" and not failed, failed
    assert_just_below(page, "#pg-speed-note", "#pg-speed")
    # back on Realtime a speed of 4 is held to 1.5, with the note
    page.locator("#pg-workflow label").filter(has_text="Realtime").first.click()
    page.wait_for_selector("#pg-speed-note :text('0.25–1.5')", timeout=30_000)
    page.wait_for_function("() => document.querySelector('#pg-code-python').innerText.includes('\"speed\": 1.5')")
    assert box.input_value() == "1.5"


def test_the_workflow_picks_models_formats_and_voices_and_both_play(page, shots):
    """Realtime is the default; the speech endpoint is one click away with its own choices,
    and a voice the Realtime API lacks is named before Play and refused by Play in words."""
    page.fill("#pg-script textarea", "Both ways, one line.")
    page.locator("#pg-workflow label").filter(has_text="Speech endpoint").first.click()
    page.wait_for_function("() => document.querySelector('#pg-code-python').innerText.includes('audio.speech')")
    assert "gpt-4o-mini-tts" in page.locator("#pg-model input").first.input_value()
    _pick_voice(page, "Fable")
    page.click("#pg-play")
    _wait_for_metrics(page, "server first byte")
    assert page.locator("#pg-download a").first.get_attribute("href")
    page.locator("#pg-workflow label").filter(has_text="Realtime").first.click()
    page.wait_for_selector("#pg-play-note :text('is only on the Speech endpoint')", timeout=30_000)
    assert "gpt-realtime-2.1-mini" in page.locator("#pg-model input").first.input_value()
    assert "endpoint only" in page.locator("#pg-voice label").filter(has_text="Fable").first.inner_text()
    page.click("#pg-play")
    page.wait_for_selector("#pg-play-note :text('not a Realtime voice')", timeout=30_000)
    _pick_voice(page, "Coral")
    page.wait_for_function("() => document.querySelector('#pg-play-note').innerText.trim() === ''", timeout=30_000)
    page.click("#pg-play")
    _wait_for_metrics(page, "Read as written")
    assert "audio tokens" in page.inner_text("#pg-metrics")
    page.screenshot(path=str(shots / "studio-realtime.png"), full_page=True)


def test_play_errors_are_shown_in_words_under_play_and_clear_the_last_results(page):
    failed = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 500 else None)
    page.fill("#pg-script textarea", "A short line.")
    page.click("#pg-play")
    _wait_for_metrics(page, "Est. cost")
    for script, words in (("", "must not be empty"), ("x" * 5000, "at most 4096 characters")):
        page.fill("#pg-script textarea", script)
        page.click("#pg-play")
        page.wait_for_function(
            "(w) => document.querySelector('#pg-play-note').innerText.includes(w)", arg=words, timeout=30_000
        )
        page.wait_for_function("() => document.querySelector('#pg-metrics').innerText.trim() === ''", timeout=30_000)
        page.wait_for_function(
            "() => document.querySelector('#pg-live-status').innerText.includes('under Play')", timeout=30_000
        )
        assert_just_below(page, "#pg-play-note", "#pg-play", within=60)
    assert not page.locator("#pg-download").is_visible() and not failed, failed
    page.fill("#pg-script textarea", "Fixed.")
    page.click("#pg-play")
    _wait_for_metrics(page, "Est. cost")
    assert page.inner_text("#pg-play-note").strip() == ""


def test_the_per_turn_table_shows_every_column(page):
    page.get_by_role("tab", name="Audio chat").click()
    page.wait_for_selector("#pg-ac-send", state="visible", timeout=30_000)
    page.fill("#pg-ac-text textarea", "Tell me a long and winding story about the sea, the harbour and the town.")
    page.click("#pg-ac-send")
    page.wait_for_function("() => /Turn 1/.test(document.querySelector('#pg-ac-status').innerText)", timeout=180_000)
    page.wait_for_function("() => /Tell me/.test(document.querySelector('#pg-ac-usage').innerText)", timeout=30_000)
    frame = page.locator("#pg-ac-usage").bounding_box()
    for name in ("#", "Cost", "Total", "First audio"):
        head = page.locator("#pg-ac-usage th").filter(has_text=name).first.bounding_box()
        assert head is not None and head["x"] + head["width"] <= frame["x"] + frame["width"] + 1, name
    cost = page.evaluate(
        "() => [...document.querySelectorAll('#pg-ac-usage .virtual-row .body-cell, #pg-ac-usage tbody td')]"
        ".map(c => c.innerText.trim()).filter(t => t.startsWith('$'))"
    )
    assert cost, page.inner_text("#pg-ac-usage")


def test_provider_panel_switches_this_tab_and_the_header_follows(page, recorder, shots):
    from tests.conftest import SECRET_KEY

    page.get_by_role("tab", name="Provider").click()
    page.get_by_text("OpenAI-compatible server").click()
    page.fill("#pg-provider-url textarea", recorder.base_url)
    page.fill("#pg-provider-key input", SECRET_KEY)
    page.click("#pg-provider-use")
    page.wait_for_selector("#pg-header :text('Compatible server')", timeout=30_000)
    assert recorder.base_url in page.inner_text("#pg-header")
    assert page.locator("#pg-provider-key input").input_value() == ""  # the key box is emptied
    assert SECRET_KEY not in page.content()
    page.screenshot(path=str(shots / "provider.png"))
    page.get_by_role("tab", name="Studio").click()
    page.wait_for_function(
        "(url) => document.querySelector('#pg-code-python').innerText.includes(url)", arg=recorder.base_url
    )
    page.get_by_role("tab", name="Provider").click()
    page.get_by_text("Embedded backend (offline)").click()
    page.click("#pg-provider-use")
    page.wait_for_selector("#pg-header :text('Offline')", timeout=30_000)


def test_compare_three_variants_and_blind_vote(page, shots):
    page.get_by_role("tab", name="Compare").click()
    page.click("#pg-run-all")
    for i in range(3):
        page.wait_for_selector(f"#pg-variant-audio-{i} a.download-link", timeout=180_000)
    for i in range(3):
        href = page.locator(f"#pg-variant-audio-{i} a.download-link").get_attribute("href")
        body = page.request.get(href).body()
        assert len(body) > 5_000, f"variant {i} has no real audio"
    page.wait_for_timeout(1000)
    page.screenshot(path=str(shots / "compare.png"), full_page=True)

    # the migration check: one voice through the Realtime API and the speech endpoint, round trip on
    page.click("#pg-both-workflows")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.pg-variant input')].some((i) => i.value.startsWith('Speech endpoint'))"
    )
    page.click("#pg-run-all")
    for i in range(2):
        page.wait_for_selector(f"#pg-variant-metrics-{i} :text('Round trip WER')", timeout=180_000)
    realtime, speech = (page.inner_text(f"#pg-variant-metrics-{i}") for i in range(2))
    assert "Realtime (" in realtime and "connect" in realtime and "/ min" in realtime
    assert "Speech endpoint (" in speech and "/ min" in speech
    # the same voice on both sides: that is the migration check
    voice = realtime.split("·")[1].split()[0].strip()
    assert speech.split("·")[1].split()[0].strip() == voice, (realtime, speech)

    page.get_by_role("tab", name="Blind test").click()
    page.click("#pg-blind-new")
    for side in ("a", "b"):
        page.wait_for_selector(f"#pg-blind-{side} a.download-link", timeout=180_000)
    assert page.locator("#pg-vote-a").is_disabled()
    for side in ("a", "b"):
        page.locator(f"#pg-blind-{side} button[aria-label='Play']").click()
        page.wait_for_timeout(700)
    page.wait_for_function("() => !document.querySelector('#pg-vote-a').disabled", timeout=30_000)
    page.click("#pg-vote-a")
    page.wait_for_selector("#pg-blind-note :text('A was')", timeout=30_000)
    note = page.inner_text("#pg-blind-note")
    a_label = note.split("A was", 1)[1].split(",", 1)[0].strip(" *")
    page.wait_for_function(
        "(label) => document.querySelector('#pg-leaderboard').innerText.includes(label)", arg=a_label, timeout=30_000
    )
    page.screenshot(path=str(shots / "blind.png"), full_page=True)
