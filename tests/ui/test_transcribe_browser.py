"""The transcription tab in Debian's Chromium: record from a fake microphone fed from a
speech WAV (JFK, ../shared/testdata), transcribe, and see the words and the diff."""

from __future__ import annotations

import re

import pytest

from tests.support.app_process import REPO
from tests.ui.test_browser import VIEWPORT, assert_just_below
from tests.ui.test_voicechat_browser import mic_browser, mic_wav  # noqa: F401 - fixtures

pytestmark = [pytest.mark.browser, pytest.mark.models]

SPEECH = REPO.parent / "shared" / "testdata" / "speech"


def _transcribe_tab(browser, app_url, query: str = ""):
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.goto(app_url + "/" + query, wait_until="load")
    page.wait_for_selector("#pg-play", timeout=90_000)
    if not query:
        page.get_by_role("tab", name="Transcribe").click()
    page.wait_for_selector("#pg-tr-go", state="visible", timeout=30_000)
    return context, page


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
        # ids and costs on one line each, costs as dollars to the hundredth of a cent
        cells = page.evaluate(
            """() => [...document.querySelectorAll('#pg-hist-table .virtual-row')].map(row => {
                const cells = [...row.querySelectorAll(':scope > .body-cell')];
                const line = (c) => c.querySelector('span') || c;
                return cells.slice(5, 7).map(c => [c.innerText.trim(), line(c).getClientRects().length,
                                                   line(c).getBoundingClientRect().height]);
            })"""
        )
        assert cells, page.inner_text("#pg-hist-table")
        for (cost, _, cost_h), (_run_id, _, id_h) in cells:
            assert re.fullmatch(r"\$\d+\.\d{4}|\$0|<\$0\.0001|n/a", cost), cost
            assert cost_h < 26 and id_h < 26, cells  # one line each
        page.wait_for_timeout(800)
        page.screenshot(path=str(shots / "history.png"))
    finally:
        context.close()


def test_the_first_screen_runs_and_a_bad_file_is_refused_beside_the_upload(mic_browser, app_url, tmp_path):  # noqa: F811
    context, page = _transcribe_tab(mic_browser, app_url)
    try:
        go = page.locator("#pg-tr-go").bounding_box()
        assert go["y"] + go["height"] <= VIEWPORT["height"], go  # Transcribe is in the first screen
        assert page.input_value("#pg-tr-temp input") == "server default"
        notes = tmp_path / "notes.wav"
        notes.write_text("these are my meeting notes, not audio\n" * 20)
        page.locator("#pg-tr-audio input[type=file]").set_input_files(str(notes))
        page.wait_for_function(
            "() => document.querySelector('#pg-tr-info').innerText.includes('This file is not audio we can read')",
            timeout=30_000,
        )
        assert_just_below(page, "#pg-tr-info", "#pg-tr-audio")
        assert "Errno" not in page.inner_text("#pg-tr-info")
        page.click("#pg-tr-go")
        page.wait_for_function(
            "() => document.querySelector('#pg-tr-go-note').innerText.includes('not audio we can read')",
            timeout=30_000,
        )
        assert_just_below(page, "#pg-tr-go-note", "#pg-tr-go")
        assert page.inner_text("#pg-tr-metrics").strip() == ""
    finally:
        context.close()


def test_a_diarized_transcript_labels_its_speakers(mic_browser, app_url):  # noqa: F811
    context, page = _transcribe_tab(mic_browser, app_url)
    try:
        page.locator("#pg-tr-audio input[type=file]").set_input_files(str(SPEECH / "stereo_diarization.wav"))
        page.wait_for_function(
            "() => /2 channels/.test(document.querySelector('#pg-tr-info').innerText)", timeout=30_000
        )
        assert page.locator("#pg-tr-prompt").is_visible()
        page.locator("#pg-tr-model input").click()
        page.get_by_role("option", name=re.compile("diarize")).click()
        page.wait_for_selector("#pg-tr-prompt", state="hidden", timeout=10_000)  # the diarizing model takes none
        page.wait_for_function(
            "() => document.querySelector('#pg-tr-fmt input:checked')?.value === 'diarized_json'", timeout=10_000
        )
        page.click("#pg-tr-go")
        page.wait_for_function(
            "() => /Total/.test(document.querySelector('#pg-tr-metrics').innerText)", timeout=120_000
        )
        lines = page.input_value("#pg-tr-text textarea").splitlines()
        assert [line.split(":", 1)[0] for line in lines] == ["A", "B"], lines
        assert page.locator("#pg-tr-words .pg-spk").all_inner_texts() == ["A", "B"]
        colours = page.evaluate(
            "() => [...document.querySelectorAll('#pg-tr-words .pg-spk')].map(e => getComputedStyle(e).backgroundColor)"
        )
        assert len(set(colours)) == 2, colours
    finally:
        context.close()


def test_share_links_open_the_same_settings_in_a_fresh_browser(mic_browser, app_url):  # noqa: F811
    from playground.ui.share import share_compare_query, share_query

    studio = share_query("studio", "A line to share.", "coral", "gpt-4o-mini-tts", "Warm.", 1.25, "wav")
    stamps = share_query(
        "transcribe", "transcribe", "whisper-1", "en", "Acme", 0.2, "verbose_json", ["segment"], False, False, "", []
    )
    hints = share_query(
        "transcribe", "transcribe", "gpt-transcribe", "", "", None, "json", [], False, True, "Acme, Zyx", ["en", "de"]
    )
    col = ["ash", "(none)", "Slow and low.", 0.9, "tts-1", "mp3", "any provider"]
    compare = share_compare_query("Two voices, one line.", 2, False, *col, *col)
    for query, checks in (
        (studio, {"#pg-script textarea": "A line to share.", "#pg-instructions textarea": "Warm."}),
        (compare, {"#pg-compare-script textarea": "Two voices, one line."}),
        (stamps, {"#pg-tr-grains input[name=segment]": True, "#pg-tr-temp input": "0.2"}),
        (hints, {"#pg-tr-keywords textarea": "Acme, Zyx"}),
    ):
        context = mic_browser.new_context(viewport=VIEWPORT)  # a fresh browser: nothing but the link
        page = context.new_page()
        try:
            page.goto(app_url + "/" + query, wait_until="load")
            for selector, value in checks.items():
                prop = "checked" if value is True else "value"
                expected = "true" if value is True else repr(value)
                page.wait_for_function(
                    f"() => document.querySelector({selector!r})?.{prop} === {expected}", timeout=30_000
                )
            if query == stamps:  # the code asks for the same timestamps
                page.wait_for_function(
                    "() => document.querySelector('#pg-tr-code-python').innerText.includes('timestamp_granularities')",
                    timeout=30_000,
                )
                assert "segment" in page.inner_text("#pg-tr-code-python")
            if query == hints:
                page.wait_for_function(
                    "() => /keywords/.test(document.querySelector('#pg-tr-code-python').innerText)"
                    " && /\"de\"/.test(document.querySelector('#pg-tr-code-python').innerText)",
                    timeout=30_000,
                )
        finally:
            context.close()
