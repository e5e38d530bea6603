"""The app starts as a user starts it and serves the page; the key never reaches it."""

from __future__ import annotations

import httpx2 as httpx

from tests.conftest import SECRET_KEY
from tests.support.app_process import launched_app


def test_app_serves_page_with_embedded_backend():
    with launched_app({}) as (url, _):
        page = httpx.get(url + "/", timeout=10)
        assert page.status_code == 200 and "<html" in page.text.lower()
        config = httpx.get(url + "/config", timeout=10).text
        assert "Audio Playground" in config and "Embedded local backend" in config
        health = httpx.get(url + "/healthz", timeout=10).json()
        assert health["provider"]["kind"] == "embedded"
        assert health["provider"]["base_url"].endswith(f"{url[len('http://') :]}/v1")
        models = httpx.get(url + "/v1/models", timeout=10).json()
        assert {"gpt-4o-mini-tts", "whisper-1"} <= {m["id"] for m in models["data"]}


def test_app_binds_loopback_only():
    with launched_app({}) as (url, _):
        import socket

        port = int(url.rsplit(":", 1)[1])
        addrs = {a[4][0] for a in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)} - {"127.0.0.1"}
        for addr in addrs:
            with socket.socket() as s:
                s.settimeout(1)
                assert s.connect_ex((addr, port)) != 0, f"app reachable on {addr}"


def test_key_never_reaches_the_browser_or_logs(recorder):
    env = {"OPENAI_API_KEY": SECRET_KEY, "OPENAI_BASE_URL": recorder.base_url}
    with launched_app(env) as (url, output):
        for path in ("/", "/config", "/healthz", "/gradio_api/info", "/v1/models"):
            body = httpx.get(url + path, timeout=10).text
            assert SECRET_KEY not in body and SECRET_KEY[:20] not in body, path
        assert "OpenAI-compatible server" in httpx.get(url + "/config", timeout=10).text
    assert output and SECRET_KEY not in output[0]
