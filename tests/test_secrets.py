"""The API key never appears in snippets, logs, error messages or result objects."""

from __future__ import annotations

import logging

import pytest

from playground.client.providers import Provider, redact, resolve_provider
from playground.client.runner import Runner
from playground.core.errors import ProviderError
from playground.core.snippets import render_all
from playground.core.specs import ChatAudioSpec, RealtimeSessionSpec, SpeechSpec, TranscriptionSpec
from playground.serving import BackgroundServer
from tests.conftest import SECRET_KEY
from tests.support.recording_server import RecordingServer


def test_provider_resolution():
    assert resolve_provider({}).kind == "embedded"
    assert resolve_provider({}, app_url="http://127.0.0.1:9000").base_url == "http://127.0.0.1:9000/v1"
    openai_p = resolve_provider({"OPENAI_API_KEY": SECRET_KEY})
    assert openai_p.kind == "openai" and openai_p.base_url is None and openai_p.snippet_base_url is None
    compat = resolve_provider({"OPENAI_BASE_URL": "http://localhost:11434/v1/"})
    assert compat.kind == "compatible" and compat.base_url == "http://localhost:11434/v1"
    assert compat.api_key == "local"  # placeholder: the SDK refuses an empty key
    both = resolve_provider({"OPENAI_BASE_URL": "http://x/v1", "OPENAI_API_KEY": SECRET_KEY})
    assert both.kind == "compatible" and both.api_key == SECRET_KEY


def test_provider_never_prints_its_key():
    p = resolve_provider({"OPENAI_API_KEY": SECRET_KEY})
    for text in (repr(p), str(p), str(p.public()), f"{p}"):
        assert SECRET_KEY not in text


def test_redact_removes_keys_and_key_shapes():
    assert SECRET_KEY not in redact(f"bad key {SECRET_KEY}", SECRET_KEY)
    assert "sk-proj-abcdef123456" not in redact("Incorrect API key provided: sk-proj-abcdef123456")
    assert "sk-abc***xyz" not in redact("Incorrect API key provided: sk-abc***xyz")


def test_snippets_read_the_key_from_the_environment(tmp_path):
    audio = tmp_path / "a.wav"
    audio.write_bytes(b"RIFF0000WAVE")
    specs = [
        SpeechSpec(input="hi"),
        TranscriptionSpec(file=str(audio)),
        ChatAudioSpec(prompt="hi"),
        RealtimeSessionSpec(),
    ]
    for provider in (
        resolve_provider({"OPENAI_API_KEY": SECRET_KEY}),
        resolve_provider({"OPENAI_API_KEY": SECRET_KEY, "OPENAI_BASE_URL": "http://127.0.0.1:1/v1"}),
    ):
        for spec in specs:
            for lang, code in render_all(spec, base_url=provider.snippet_base_url).items():
                assert SECRET_KEY not in code, (lang, spec)
                assert "OPENAI_API_KEY" in code


def test_logs_and_errors_carry_no_key(caplog, recorder):
    caplog.set_level(logging.DEBUG)  # the SDK and HTTP stack log requests at DEBUG
    runner = Runner(Provider("compatible", "test", recorder.base_url, SECRET_KEY))
    result = runner.speech(SpeechSpec(input="hello", stream_format="sse"))
    assert SECRET_KEY not in repr(result)

    failing = RecordingServer(fail_with=(401, f"Incorrect API key provided: {SECRET_KEY}. Check it."))
    with BackgroundServer(failing.app) as url:
        bad = Runner(Provider("compatible", "test", url + "/v1", SECRET_KEY))
        with pytest.raises(ProviderError) as e:
            bad.speech(SpeechSpec(input="hello"))
    assert e.value.status == 401
    assert "Incorrect API key provided" in str(e.value) and SECRET_KEY not in str(e.value)
    assert SECRET_KEY not in caplog.text
    assert SECRET_KEY[8:] not in caplog.text
