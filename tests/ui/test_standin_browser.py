"""The stand-in notes in Chromium: seen offline, hidden for another provider; the link opens the
Provider tab, where chat is pointed at a (fake) OpenAI-compatible server and back."""

from __future__ import annotations

import shutil

import pytest

from tests.ui.test_browser import ARGS, VIEWPORT

pytestmark = [pytest.mark.browser, pytest.mark.models]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SECRET = "sk-" + "chatserver-secret-" + "123456789"  # built, so no key-shaped literal is tracked


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.skip("Chromium not installed: apt-get install chromium to run browser tests")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, app_url):
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.goto(app_url, wait_until="load")
    page.wait_for_selector("#pg-play", timeout=90_000)
    yield page
    context.close()


def test_notes_name_the_local_engines_and_the_link_points_chat_elsewhere(page, recorder, shots):
    page.wait_for_selector("#pg-standin-header :text('SmolLM2-135M')", timeout=30_000)
    assert "Offline" in page.inner_text("#pg-standin-studio")

    page.get_by_role("tab", name="Transcribe").click()
    page.wait_for_selector("#pg-standin-transcribe :text('Whisper base')", timeout=30_000)
    assert "same text" in page.inner_text("#pg-standin-transcribe")

    page.get_by_role("tab", name="Voice chat").click()
    note = page.locator("#pg-standin-voicechat")
    note.get_by_text("short, often wrong").wait_for(timeout=30_000)
    page.screenshot(path=str(shots / "standin-voicechat.png"))
    note.get_by_text("point chat at a real model").click()
    page.wait_for_selector("#pg-llm-url", state="visible", timeout=30_000)
    assert page.get_by_role("tab", name="Provider").get_attribute("aria-selected") == "true"

    page.fill("#pg-llm-url textarea", recorder.base_url)
    page.fill("#pg-llm-model textarea", "fake-llm")
    page.fill("#pg-llm-key input", SECRET)
    page.click("#pg-llm-apply")
    page.wait_for_selector("#pg-llm-status :text('fake-llm')", timeout=30_000)
    assert page.locator("#pg-llm-key input").input_value() == ""
    assert SECRET not in page.content()
    assert any(r.path == "/v1/chat/completions" and r.json["model"] == "fake-llm" for r in recorder.requests)
    page.wait_for_selector("#pg-standin-header :text('fake-llm')", timeout=30_000)
    page.get_by_role("tab", name="Voice chat").click()
    page.wait_for_selector("#pg-standin-voicechat :text('fake-llm')", timeout=30_000)

    page.get_by_role("tab", name="Provider").click()
    page.click("#pg-llm-reset")
    page.wait_for_selector("#pg-llm-status :text('Reset')", timeout=30_000)
    page.wait_for_selector("#pg-standin-header :text('SmolLM2-135M')", timeout=30_000)

    # another provider for this tab: the notes go away, and come back with the embedded backend
    page.get_by_text("OpenAI-compatible server", exact=True).click()
    page.fill("#pg-provider-url textarea", recorder.base_url)
    page.click("#pg-provider-use")
    page.wait_for_selector("#pg-header :text('Compatible server')", timeout=30_000)
    assert page.locator("#pg-standin-header").count() == 0
    page.get_by_role("tab", name="Voice chat").click()
    page.wait_for_selector("#pg-standin-voicechat", state="hidden", timeout=30_000)
    page.get_by_role("tab", name="Provider").click()
    page.get_by_text("Embedded backend (offline)").click()
    page.click("#pg-provider-use")
    page.wait_for_selector("#pg-standin-header", timeout=30_000)
    page.get_by_role("tab", name="Voice chat").click()
    page.wait_for_selector("#pg-standin-voicechat :text('SmolLM2-135M')", timeout=30_000)
