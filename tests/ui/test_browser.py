"""The real UI in Debian's Chromium, driven by Playwright, against the embedded backend.

Skips with a reason where Chromium is missing (a laptop); CI installs it (.ci/run) and
sets CI=true, where a missing browser fails instead. `make screenshots` reruns these with
UPDATE_SCREENSHOTS=1 to refresh the README's images in docs/screenshots/.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.support.app_process import REPO

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


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    """docs/screenshots with UPDATE_SCREENSHOTS=1 (`make screenshots`), else a temp folder."""
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        folder = REPO / "docs" / "screenshots"
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is required in CI (.ci/run installs Debian's chromium)")
        pytest.skip("Chromium not installed: apt-get install chromium to run browser tests")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, app_url):
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    page.goto(app_url, wait_until="load")
    page.wait_for_selector("#pg-play", timeout=90_000)
    yield page
    context.close()


def test_studio_play_streams_audio(page, shots):
    chip = page.locator("#pg-chips label").first
    chip_name = chip.inner_text().strip()
    chip.click()  # fills instructions, the sample script and the vibe's suggested voice
    page.wait_for_function(
        "() => document.querySelector('#pg-instructions textarea').value.includes('Affect:')", timeout=30_000
    )
    page.get_by_text("Echo —").click()  # then a voice of our own (Piper: fast first audio)
    page.wait_for_timeout(500)
    page.click("#pg-play")
    page.wait_for_function(
        "() => { const a = document.querySelector('#pg-studio-audio'); return a && a.currentTime > 0.5 }",
        timeout=90_000,
    )
    page.wait_for_selector("#pg-metrics :text('First audio')", timeout=90_000)
    assert "Est. cost" in page.inner_text("#pg-metrics")
    code = page.inner_text("#pg-code-python")
    assert 'voice="echo"' in code and "instructions=" in code
    link = page.locator("#pg-download a").first
    assert link.get_attribute("href") and chip_name
    page.screenshot(path=str(shots / "studio.png"), full_page=True)


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
