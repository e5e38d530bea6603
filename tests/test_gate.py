"""Beyond loopback the whole app needs a password; without one it refuses to start."""

from __future__ import annotations

import subprocess
import sys

import httpx2 as httpx
import pytest
from gradio_client import Client

from tests.conftest import REPO
from tests.support.app_process import launched_app

PASSWORD = "correct horse battery staple"


def test_refuses_to_listen_on_the_network_without_a_password():
    env = {"PATH": "/usr/bin:/bin", "HOME": str(REPO)}
    run = subprocess.run(
        [sys.executable, "app.py", "--host", "0.0.0.0", "--port", "1"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 2
    assert "PLAYGROUND_PASSWORD" in run.stderr and "0.0.0.0" in run.stderr
    serve = subprocess.run(
        [sys.executable, "-m", "playground.cli", "serve", "--host", "0.0.0.0", "--port", "1"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
    )
    assert serve.returncode == 2 and "PLAYGROUND_API_KEY" in serve.stderr


@pytest.fixture(scope="module")
def gated(tmp_path_factory):
    env = {"PLAYGROUND_PASSWORD": PASSWORD, "PLAYGROUND_DATA_DIR": str(tmp_path_factory.mktemp("data"))}
    with launched_app(env, host="0.0.0.0") as (url, output):
        yield url
    assert output and PASSWORD not in output[0], "the password reached the log"


@pytest.mark.parametrize("path", ["/", "/config", "/gradio_api/info", "/healthz", "/studio/pcm/anything", "/v1/models"])
def test_every_route_needs_the_password(gated, path):
    url = gated
    r = httpx.get(url + path, timeout=10, follow_redirects=False)
    assert r.status_code == 401, path
    assert r.json()["error"]["code"] in ("unauthorized", "invalid_api_key")


def test_a_browser_is_sent_to_the_login_page_and_signs_in(gated):
    url = gated
    with httpx.Client(base_url=url, timeout=10, follow_redirects=False) as browser:
        first = browser.get("/", headers={"accept": "text/html"})
        assert first.status_code == 303 and first.headers["location"].startswith("/login?next=")
        assert 'type="password"' in browser.get("/login").text
        wrong = browser.post("/login?next=/", data={"password": "guess"})
        assert wrong.status_code == 401 and "not right" in wrong.text and "playground_auth" not in browser.cookies
        right = browser.post("/login?next=/", data={"password": PASSWORD})
        assert right.status_code == 303 and right.headers["location"] == "/"
        assert "HttpOnly" in right.headers["set-cookie"] and "SameSite=Strict" in right.headers["set-cookie"]
        assert browser.get("/", headers={"accept": "text/html"}).status_code == 200
        assert browser.get("/gradio_api/info").status_code == 200
    with httpx.Client(base_url=url, timeout=10, follow_redirects=False) as other:
        other.cookies.set("playground_auth", "forged")
        assert other.get("/gradio_api/info").status_code == 401


def test_login_never_redirects_off_site(gated):
    url = gated
    r = httpx.post(url + "/login?next=//evil.example/x", data={"password": PASSWORD}, follow_redirects=False)
    assert r.headers["location"] == "/"


def test_scripts_use_the_password_as_bearer_and_the_ui_still_speaks(gated):
    url = gated
    bearer = {"authorization": f"Bearer {PASSWORD}"}
    assert httpx.get(url + "/v1/models", headers=bearer, timeout=10).status_code == 200
    client = Client(url, headers=bearer, verbose=False)
    token, _ = client.predict(
        "A short check.", "marin", "gpt-4o-mini-tts", "", 1.0, "mp3", "speech", "", api_name="/speak"
    )
    metrics, download, _ = client.predict(token, "", api_name="/collect")
    assert "First audio heard" in metrics and download, metrics  # the UI reached /v1 with the password as its key


def test_websockets_need_the_password_too(gated):
    """The relay and the backend's realtime sockets: refused before the handshake completes
    without the cookie, reached with it (the relay then answers the bad ticket itself)."""
    import asyncio
    import json

    from websockets.asyncio.client import connect
    from websockets.exceptions import InvalidStatus

    ws_url = gated.replace("http", "ws")

    async def refused(path: str, headers: dict[str, str] | None = None) -> int:
        with pytest.raises(InvalidStatus) as denied:
            async with connect(ws_url + path, additional_headers=headers or {}):
                pass
        return denied.value.response.status_code

    async def through(cookie: str) -> dict:
        async with connect(ws_url + "/relay/realtime?ticket=nope", additional_headers={"cookie": cookie}) as ws:
            return json.loads(await asyncio.wait_for(ws.recv(), 30))

    assert asyncio.run(refused("/relay/realtime?ticket=nope")) == 403
    assert asyncio.run(refused("/v1/realtime?model=gpt-realtime")) == 401  # the backend's own key check
    assert asyncio.run(refused("/relay/realtime?ticket=nope", {"cookie": "playground_auth=forged"})) == 403
    with httpx.Client(base_url=gated, timeout=10, follow_redirects=False) as browser:
        browser.post("/login?next=/", data={"password": PASSWORD})
        cookie = f"playground_auth={browser.cookies['playground_auth']}"
    event = asyncio.run(through(cookie))
    assert event["type"] == "error" and "ticket" in event["error"]["message"].lower()

    async def backend() -> dict:
        bearer = {"authorization": f"Bearer {PASSWORD}"}
        async with connect(ws_url + "/v1/realtime?model=gpt-realtime", additional_headers=bearer) as ws:
            return json.loads(await asyncio.wait_for(ws.recv(), 30))

    assert asyncio.run(backend())["type"] == "session.created"


def test_each_signed_in_browser_has_its_own_history(gated):
    """Through the real app and Gradio's queue: the gate's person reaches the handlers, so a
    run made by one sign-in is not listed, shown or deletable for another."""
    url = gated

    def sign_in() -> Client:
        with httpx.Client(base_url=url, timeout=10, follow_redirects=False) as browser:
            browser.post("/login?next=/", data={"password": PASSWORD})
            cookie = browser.cookies["playground_auth"]
        return Client(url, headers={"cookie": f"playground_auth={cookie}"}, verbose=False)

    def rows(table: dict) -> list[list]:
        return [r for r in (table["value"]["data"] if "value" in table else table["data"]) if any(r)]

    alice, bob = sign_in(), sign_in()
    token, _ = alice.predict(
        "Alice's own line.", "marin", "gpt-4o-mini-tts", "", 1.0, "mp3", "speech", "", api_name="/speak"
    )
    alice.predict(token, "", api_name="/collect")
    [mine] = rows(alice.predict("", "", "", "Alice's own", api_name="/history")[0])
    run_id = mine[-1]
    assert all(run_id not in r for r in rows(bob.predict("", "", "", "", api_name="/history")[0]))
    assert "Pick a run" in bob.predict(run_id, api_name="/history_run")[0]
    assert "nothing to delete" in bob.predict(run_id, api_name="/history_delete").lower()
    assert "gpt-4o-mini-tts" in alice.predict(run_id, api_name="/history_run")[0]
    assert "deleted" in alice.predict(run_id, api_name="/history_delete").lower()
