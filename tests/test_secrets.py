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


def test_redact_knows_every_key_prefix_openai_issues():
    body = "Ab3dE5gH7jK9mN1pQ3sT5vW7yZ"  # built up, so no key-shaped literal sits in the tree
    for prefix in ("sk" + "-", "sk" + "-proj-", "sk" + "-svcacct-", "sk" + "-admin-", "rk" + "-", "ek" + "_"):
        shown = redact(f"Incorrect API key provided: {prefix}{body}.")
        assert body not in shown and "[redacted]" in shown, prefix
    assert redact("a task-list and a desk-lamp") == "a task-list and a desk-lamp"


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


def test_a_key_pasted_in_the_settings_panel_never_comes_back(recorder, tmp_path):
    """Through the launched app: the key reaches the provider and nothing else (responses, page, log)."""
    import httpx2 as httpx
    from gradio_client import Client

    from tests.support.app_process import launched_app

    pieces = (SECRET_KEY, SECRET_KEY[8:])
    with launched_app({"PLAYGROUND_DATA_DIR": str(tmp_path / "data"), "PLAYGROUND_LOG_LEVEL": "DEBUG"}) as (url, log):
        client = Client(url, verbose=False, download_files=str(tmp_path / "dl"))
        replies = [
            client.predict("compatible", SECRET_KEY, recorder.base_url, api_name="/test_connection"),
            client.predict("compatible", SECRET_KEY, recorder.base_url, api_name="/use_provider"),
            client.predict("Hello.", "echo", "gpt-4o-mini-tts", "", 1.0, "mp3", "speech", api_name="/code"),
        ]
        token, status = client.predict(
            "Hello.", "echo", "gpt-4o-mini-tts", "", 1.0, "mp3", "speech", "", api_name="/speak"
        )
        replies += [status, client.predict(token, "", api_name="/collect")]
        for path in ("/", "/config", "/gradio_api/info", "/healthz"):
            replies.append(httpx.get(url + path, timeout=10).text)
    # the session's provider was used, with the key
    assert any(r.path.endswith("/models") for r in recorder.requests), replies[0]
    assert all(r.authorization == f"Bearer {SECRET_KEY}" for r in recorder.requests)
    text = repr(replies)
    assert "Connected" in text and recorder.base_url in text
    for piece in pieces:
        assert piece not in text, "a reply echoed the key"
        assert piece not in log[0], "the key reached the app's log"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://bob:s3cret-pass@llm.example/v1", "https://llm.example/v1"),
        ("https://llm.example/v1?api_key=abc123def&region=eu", "https://llm.example/v1?region=eu"),
        ("http://127.0.0.1:8000/v1?token=t0ken-value", "http://127.0.0.1:8000/v1"),
        ("http://[::1]:9000/v1", "http://[::1]:9000/v1"),
    ],
)
def test_credentials_in_a_compatible_servers_url_never_reach_the_page_log_or_code(url, shown):
    from playground.client.providers import resolve_provider
    from playground.core.snippets import render

    provider = resolve_provider({"OPENAI_BASE_URL": url, "OPENAI_API_KEY": "test-key-for-this-check-only"})
    assert provider.base_url == url  # the SDK still gets the URL as given
    seen = " ".join(
        [
            provider.label,
            str(provider.public()),
            render(SpeechSpec(input="Hi."), "python", base_url=provider.snippet_base_url),
        ]
    )
    assert shown in seen
    for secret in ("s3cret-pass", "abc123def", "t0ken-value", "test-key-for-this-check-only"):
        assert secret not in seen
