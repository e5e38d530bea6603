"""Stand-in notes ("Offline: … is answered by Whisper base") and the run-time chat model server switch."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from openai import OpenAI

from playground.backend.app import create_standalone_app
from playground.backend.settings import BackendSettings
from playground.client.providers import Provider
from playground.core.catalog import get_catalog
from playground.core.standin import ChatTarget, same_text_models, transcription_engine, voice_engine
from playground.serving import BackgroundServer, free_port
from playground.ui import settings as provider_tab
from playground.ui import standin
from tests.support.recording_server import RecordingServer

SECRET = "sk-" + "chatserver-secret-" + "123456789"  # built, so no key-shaped literal is tracked


class _Session:
    """Stands in for gr.Request: handlers only read ``session_hash``."""

    def __init__(self, session_hash: str):
        self.session_hash = session_hash


# ------------------------------------------------------------------- the words


def test_transcription_models_name_their_whisper_and_twins():
    assert transcription_engine("gpt-transcribe") == "Whisper base"
    assert transcription_engine("gpt-4o-mini-transcribe") == "Whisper base (tiny.en for English)"
    assert {"gpt-4o-transcribe", "whisper-1"} <= set(same_text_models("gpt-transcribe"))
    assert "gpt-4o-mini-transcribe" not in same_text_models("gpt-transcribe")
    assert voice_engine("echo") == "Piper (joe)" and voice_engine("fable") == "Pico (en-GB)"


def test_transcribe_note_says_which_whisper_and_that_texts_match(offline_ctx):
    note = standin.note_html("transcribe", "gpt-transcribe")
    assert "Offline" in note and "<code>gpt-transcribe</code> is answered by <b>Whisper base</b>" in note
    assert "Whisper-level accuracy" in note and "<code>gpt-4o-transcribe</code>" in note and "same text" in note
    mini = standin.note_html("transcribe", "gpt-4o-mini-transcribe")
    assert "tiny.en" in mini
    assert standin.note_html("live", "gpt-live-transcribe").count("tiny.en") == 1


def test_chat_notes_name_smollm2_and_link_to_the_provider_tab(offline_ctx):
    for surface, values in (("voicechat", ("gpt-realtime", "echo")), ("audiochat", ("gpt-audio", "alloy"))):
        note = standin.note_html(surface, *values, target=ChatTarget())
        assert "SmolLM2-135M" in note and "short, often wrong" in note and "point chat at a real model" in note
        assert 'href="#pg-llm"' in note and "Provider" in note
    assert "Piper (joe)" in standin.note_html("voicechat", "gpt-realtime", "echo", target=ChatTarget())
    remote = standin.note_html("audiochat", "gpt-audio", "alloy", target=ChatTarget("http://h:1/v1", "llama3"))
    assert "SmolLM2" not in remote and "<code>llama3</code>" in remote and "http://h:1/v1" in remote


def test_compare_notes_group_models_and_voices(offline_ctx):
    note = standin.note_html("compare_stt", 3, "gpt-4o-transcribe", "whisper-1", "gpt-4o-mini-transcribe", "gpt-x")
    assert "<code>gpt-4o-transcribe</code> and <code>whisper-1</code> → <b>Whisper base</b>" in note
    assert "gpt-x" not in note  # a hidden column
    assert "same text" in note
    voices = standin.note_html("compare")
    assert "<b>Piper</b>: ash, echo, onyx" in voices and "<b>Pico</b>: fable" in voices
    assert "Piper (joe)" in standin.note_html("studio", "echo", "tts-1")


def test_notes_and_header_are_hidden_for_openai_and_compatible(offline_ctx):
    for kind in ("openai", "compatible"):
        assert standin.note_html("transcribe", "gpt-transcribe", provider_kind=kind) == ""
        assert standin.note_html("header", provider_kind=kind) == ""
    assert "pg-standin" not in provider_tab.header_html(Provider("openai", "OpenAI", None, "sk-x"))
    header = provider_tab.header_html(offline_ctx.provider)
    assert "pg-standin-header" in header and "SmolLM2-135M" in header and "Whisper base" in header


def test_every_note_follows_the_tabs_provider(offline_ctx):
    from playground.ui.app import create_ui

    create_ui(offline_ctx.provider, context=offline_ctx)
    inputs, boxes = standin.components()
    surfaces = {n.surface for n in standin._NOTES}
    assert {"studio", "compare", "compare_stt", "transcribe", "live", "voicechat", "audiochat"} <= surfaces
    values = {c: c.value for c in inputs}
    tab = _Session("a-tab")
    shown = standin.refresh_all(values, tab)
    assert len(shown) == len(boxes) and all(u["visible"] and "Offline" in u["value"] for u in shown)
    offline_ctx.sessions.set(tab.session_hash, Provider("openai", "OpenAI", None, "sk-x"))
    assert all(u["visible"] is False and u["value"] == "" for u in standin.refresh_all(values, tab))
    # another tab still sees them, and a model change re-words its note
    other = standin.refresh_all(values, _Session("b-tab"))
    assert all(u["visible"] for u in other)
    transcribe = next(n for n in standin._NOTES if n.surface == "transcribe")
    update = standin._update(transcribe, ["gpt-4o-mini-transcribe"], _Session("b-tab"))
    assert "tiny.en" in update["value"]


# --------------------------------------------------- chat model server at run time


@pytest.fixture
def backend() -> Iterator[tuple[str, Any]]:
    """A live embedded backend (no models loaded) and its engine manager, attached to the UI."""
    app = create_standalone_app(BackendSettings(api_key=None, warm_start=False))
    inner = next(r.app for r in app.routes if getattr(r, "path", "") == "/v1")
    with BackgroundServer(app) as url:
        standin.attach_backend(inner.state.engines)
        try:
            yield url, inner.state.engines
        finally:
            standin.attach_backend(None)


def test_chat_goes_to_the_server_set_at_run_time_and_back(offline_ctx, backend):
    url, engines = backend
    fake = RecordingServer()
    chat_model = get_catalog().chat.default_model
    with BackgroundServer(fake.app) as fake_url:
        status, key_box, model_box = provider_tab.apply_chat_server(fake_url + "/v1", SECRET, "fake-llm")
        assert status.startswith("✅") and "fake-llm" in status and fake_url in status
        assert SECRET not in status and key_box == {"__type__": "update", "value": ""}
        assert engines.chat_target() == (fake_url + "/v1", "fake-llm")
        test_request = fake.requests[-1]
        assert test_request.path == "/v1/chat/completions" and test_request.authorization == f"Bearer {SECRET}"

        client = OpenAI(base_url=url + "/v1", api_key="unused")
        reply = client.chat.completions.create(model=chat_model, messages=[{"role": "user", "content": "Hello?"}])
        assert reply.choices[0].message.content == "Hi!"  # the fake server's text, through the backend
        forwarded = fake.requests[-1]
        assert forwarded.json["model"] == "fake-llm" and forwarded.json["messages"][-1]["content"] == "Hello?"
        listed = httpx.get(url + "/v1/models/" + chat_model).json()
        assert "fake-llm" in listed["local_engine"] and SECRET not in str(listed)
        assert "<code>fake-llm</code>" in standin.note_html("audiochat", "gpt-audio", "alloy")
        assert "fake-llm" in provider_tab.chat_server_status()

    status, _, model_box = provider_tab.reset_chat_server()
    assert "SmolLM2-135M" in status and model_box == {"__type__": "update", "value": ""}
    assert engines.chat_target() == (None, None) and standin.chat_target().local
    assert httpx.get(url + "/v1/models/" + chat_model).json()["local_engine"] == "SmolLM2-135M-Instruct"
    assert "SmolLM2-135M" in standin.note_html("voicechat", "gpt-realtime", "echo")


def test_a_bad_chat_server_is_refused_with_a_clear_error(offline_ctx, backend):
    _, engines = backend
    nobody = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    status, key_box, _ = provider_tab.apply_chat_server(nobody, SECRET, "m")
    assert status.startswith("⚠️") and "did not answer a chat request" in status and SECRET not in status
    assert key_box == {"__type__": "update", "value": ""} and engines.chat_target() == (None, None)
    status, *_ = provider_tab.apply_chat_server("not a url", "", "")
    assert "base URL" in status
    status, *_ = provider_tab.apply_chat_server(offline_ctx.sessions.local.base_url, "", "m")
    assert "own embedded backend" in status
    failing = RecordingServer(fail_with=(401, f"Incorrect API key provided: {SECRET}."))
    with BackgroundServer(failing.app) as fake_url:
        status, *_ = provider_tab.apply_chat_server(fake_url + "/v1", SECRET, "m")
    assert "401" in status and SECRET not in status and engines.chat_target() == (None, None)
