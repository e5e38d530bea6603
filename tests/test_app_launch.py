"""The app starts as a user starts it and serves the page; the key never reaches it."""

from __future__ import annotations

import ipaddress
import os

import httpx2 as httpx
import pytest

from playground.core.catalog import get_catalog
from tests.conftest import SECRET_KEY
from tests.support.app_process import launched_app

#: uvicorn's default keep-alive and httpx's (the Python SDK's) idle expiry, both 5 s: a
#: connection must outlive it, so the client, not the server, is the one to close it
CLIENT_IDLE_EXPIRY_S = 5.0


def _same_connection_after_idle(url: str, path: str, idle_s: float) -> list[int]:
    """Two GETs on one HTTP/1.1 connection, ``idle_s`` apart; fails if the server closed it."""
    import http.client
    import time
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)

    def get() -> int:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        assert response.getheader("connection", "").lower() != "close"
        return response.status

    try:
        first = get()
        sock = conn.sock
        time.sleep(idle_s)  # the idle gap is the behaviour under test
        second = get()  # http.client sends on the same socket: a closed one raises
        assert conn.sock is sock, "the request went out on a new connection"
    finally:
        conn.close()
    return [first, second]


def test_an_idle_connection_outlives_the_clients_own_expiry():
    """The server keeps an idle keep-alive connection longer than clients do, so a request
    is never sent on a connection the server is closing that instant (a connection error
    under load). The app as a user starts it, and the in-process server of the CLI and tests."""
    from playground.backend.app import create_standalone_app
    from playground.backend.settings import BackendSettings
    from playground.serving import BackgroundServer

    with launched_app({}) as (url, _):
        assert _same_connection_after_idle(url, "/healthz", CLIENT_IDLE_EXPIRY_S + 1) == [200, 200]
    with BackgroundServer(create_standalone_app(BackendSettings(api_key=None, warm_start=False))) as url:
        assert _same_connection_after_idle(url, "/v1/models", CLIENT_IDLE_EXPIRY_S + 1) == [200, 200]


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
        # an upload over the API's file limit is refused before it is stored
        limit = get_catalog().limits.upload_max_bytes
        big = httpx.post(url + "/gradio_api/upload", files={"files": ("big.wav", b"\0" * (limit + 1))}, timeout=60)
        small = httpx.post(url + "/gradio_api/upload", files={"files": ("small.wav", b"\0" * 1024)}, timeout=60)
        assert big.status_code == 413 and small.status_code == 200, (big.status_code, big.text[:200])


def _listening_addresses(port: int) -> set[str]:
    """Local addresses of the sockets listening on ``port``, from the kernel's own table."""
    found = set()
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        with open(table) as f:
            for line in f.readlines()[1:]:
                local, state = line.split()[1], line.split()[3]
                addr, _, port_hex = local.partition(":")
                if state == "0A" and int(port_hex, 16) == port:  # 0A = LISTEN
                    raw = bytes.fromhex(addr)
                    # the kernel prints each 32-bit word in host (little-endian) order
                    words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
                    found.add(str(ipaddress.ip_address(words)) if width == 8 else str(ipaddress.IPv6Address(words)))
    return found


@pytest.mark.skipif(not os.path.exists("/proc/net/tcp"), reason="needs Linux's /proc/net/tcp")
def test_app_binds_loopback_only():
    """The listening socket itself is on 127.0.0.1, not 0.0.0.0 or a public address."""
    with launched_app({}) as (url, _):
        port = int(url.rsplit(":", 1)[1])
        addresses = _listening_addresses(port)
    assert addresses, f"nothing listening on {port}"
    assert all(ipaddress.ip_address(a).is_loopback for a in addresses), addresses


def test_key_never_reaches_the_browser_or_logs(recorder):
    env = {"OPENAI_API_KEY": SECRET_KEY, "OPENAI_BASE_URL": recorder.base_url}
    with launched_app(env) as (url, output):
        for path in ("/", "/config", "/healthz", "/gradio_api/info", "/v1/models"):
            body = httpx.get(url + path, timeout=10).text
            assert SECRET_KEY not in body and SECRET_KEY[:20] not in body, path
        assert "OpenAI-compatible server" in httpx.get(url + "/config", timeout=10).text
    assert output and SECRET_KEY not in output[0]
