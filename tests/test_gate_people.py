"""A shared instance keeps people apart: each sign-in is its own signed, expiring person;
a wrong password is slow on every path; a relay ticket works only for its person and page.

The gate runs in front of a small real app (an echo route, a stand-in ``/v1`` and the real
relay router) served by uvicorn, so cookies, headers and WebSockets go over the wire.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time

import httpx2 as httpx
import itsdangerous
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from playground.client.providers import embedded_provider
from playground.core.history import LOCAL_OWNER
from playground.gate import BEARER_PERSON, COOKIE, LOCAL_PERSON, PasswordGate, person_of
from playground.relay.route import CLOSE_NOT_YOURS, RelayTickets, create_relay_router
from playground.serving import BackgroundServer
from playground.ui.streaming import SpeechStreams, create_stream_router

PASSWORD = "a shared phrase for the tests"
DELAY = 0.3
MAX_AGE = 600
#: nothing listens here: a ticket that passes the relay's checks ends in "upstream_unavailable"
NOWHERE = embedded_provider("http://127.0.0.1:9", "not-a-real-key")


def _app(tickets: RelayTickets) -> FastAPI:
    app = FastAPI()

    @app.get("/whoami")
    async def whoami(request: Request) -> dict:
        return {"person": person_of(request)}

    @app.get("/v1/models")
    async def models(request: Request) -> JSONResponse:  # a stand-in for the backend's own key check
        if request.headers.get("authorization") != "Bearer backend-key":
            return JSONResponse({"error": {"code": "invalid_api_key"}}, status_code=401)
        return JSONResponse({"data": []})

    app.include_router(create_relay_router(tickets))
    app.include_router(create_stream_router(SpeechStreams()))
    return app


@pytest.fixture(scope="module")
def gated():
    tickets = RelayTickets()
    app = _app(tickets)
    app.add_middleware(PasswordGate, password=PASSWORD, open_paths=("/v1",), max_age_s=MAX_AGE, failure_delay_s=DELAY)
    with BackgroundServer(app) as url:
        yield url, tickets


@pytest.fixture(scope="module")
def loopback():
    tickets = RelayTickets()
    with BackgroundServer(_app(tickets)) as url:
        yield url, tickets


def _login(url: str) -> str:
    """Signs in as a new browser would; returns the cookie value."""
    r = httpx.post(url + "/login?next=/", data={"password": PASSWORD}, follow_redirects=False, timeout=10)
    assert r.status_code == 303, r.text
    return r.cookies[COOKIE]


def _whoami(url: str, cookie: str | None = None, **headers: str) -> httpx.Response:
    if cookie is not None:
        headers["cookie"] = f"{COOKIE}={cookie}"
    return httpx.get(url + "/whoami", headers=headers, timeout=10)


# -- identity -----------------------------------------------------------------------------


def test_each_sign_in_is_its_own_person_in_a_signed_expiring_cookie(gated):
    url, _ = gated
    r = httpx.post(url + "/login?next=/", data={"password": PASSWORD}, follow_redirects=False, timeout=10)
    header = r.headers["set-cookie"]
    for part in (f"Max-Age={MAX_AGE}", "Path=/", "HttpOnly", "SameSite=Strict"):
        assert part in header, header
    a, b = r.cookies[COOKIE], _login(url)
    assert a != b
    person_a, person_b = _whoami(url, a).json()["person"], _whoami(url, b).json()["person"]
    assert person_a != person_b and LOCAL_PERSON not in (person_a, person_b)
    assert _whoami(url, a).json()["person"] == person_a  # the same browser stays the same person
    # the cookie carries the id (readable, not secret) with a timestamp and a signature over both
    assert itsdangerous.URLSafeTimedSerializer(b"guess", salt="playground-person").loads_unsafe(a) == (False, person_a)


def test_a_page_waits_only_for_its_own_persons_stream_tokens(gated):
    """Each person's page gets its own stream key; a token made with one person's key is
    waited for when that person asks, and refused at once to anyone else."""
    url, _ = gated
    a, b = _login(url), _login(url)

    def key(cookie: str) -> str:
        r = httpx.get(url + "/studio/key", headers={"cookie": f"{COOKIE}={cookie}"}, timeout=10)
        assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
        return r.json()["key"]

    key_a, key_b = key(a), key(b)
    assert key_a != key_b
    token = f"{key_a}.{secrets.token_urlsafe(16)}"  # a's page, whose Play has not arrived

    async def fetch() -> tuple[int, bool]:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            owner = asyncio.create_task(client.get(f"/studio/pcm/{token}", headers={"cookie": f"{COOKIE}={a}"}))
            await asyncio.sleep(0.1)
            other = await client.get(f"/studio/pcm/{token}", headers={"cookie": f"{COOKIE}={b}"})
            owner_waiting = not owner.done()
            assert (await owner).status_code == 404  # no run ever came
        return other.status_code, owner_waiting

    status, owner_waiting = asyncio.run(fetch())
    assert status == 404 and owner_waiting  # b was answered while a's page still waited


def test_a_tampered_or_foreign_cookie_is_not_signed_in(gated):
    url, _ = gated
    good = _login(url)
    payload, stamp, signature = good.split(".")
    forged_person = itsdangerous.URLSafeTimedSerializer(b"x", salt="playground-person").dumps("somebody-else")
    for bad in (
        f"{payload}.{stamp}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}",  # signature changed
        f"{forged_person.split('.')[0]}.{stamp}.{signature}",  # another person, the old signature
        forged_person,  # signed with another secret (another process: a restart logs out)
        "forged",
    ):
        r = _whoami(url, bad)
        assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized", bad
    assert _whoami(url, good).status_code == 200


def test_an_expired_cookie_is_not_signed_in(gated, monkeypatch):
    url, _ = gated
    cookie = _login(url)
    assert _whoami(url, cookie).status_code == 200
    # the server's clock, MAX_AGE and a bit later (the server runs in this process)
    monkeypatch.setattr(itsdangerous.TimestampSigner, "get_timestamp", lambda self: int(time.time()) + MAX_AGE + 5)
    assert _whoami(url, cookie).status_code == 401
    monkeypatch.undo()
    assert _whoami(url, cookie).status_code == 200


def test_a_shorter_max_age_comes_from_the_constructor_and_the_catalog_sets_the_default():
    from playground.core.catalog import get_catalog

    async def app(scope, receive, send):  # never reached
        raise AssertionError

    assert PasswordGate(app, password="p", max_age_s=5).max_age_s == 5
    default = PasswordGate(app, password="p").max_age_s
    assert default == get_catalog().limits.login_max_age_seconds == 12 * 3600


def test_https_sign_ins_get_a_secure_cookie():
    gate = PasswordGate(lambda *a: None, password=PASSWORD, failure_delay_s=0)  # type: ignore[arg-type]
    sent: list[dict] = []

    async def run(scheme: str) -> str:
        body = f"password={PASSWORD.replace(' ', '+')}".encode()
        messages = iter([{"type": "http.request", "body": body, "more_body": False}])

        async def receive():
            return next(messages)

        async def send(message):
            sent.append(message)

        scope = {"type": "http", "path": "/login", "method": "POST", "scheme": scheme, "query_string": b"",
                 "headers": [(b"content-type", b"application/x-www-form-urlencoded")]}  # fmt: skip
        await gate(scope, receive, send)
        return dict(sent[-2]["headers"])[b"set-cookie"].decode()

    assert "; Secure" in asyncio.run(run("https"))
    assert "Secure" not in asyncio.run(run("http"))


def test_loopback_people_are_the_history_owner_of_old_runs():
    assert LOCAL_PERSON == LOCAL_OWNER


def test_without_a_gate_everyone_is_the_local_person(loopback):
    url, _ = loopback
    assert _whoami(url).json()["person"] == LOCAL_PERSON


# -- failed passwords ---------------------------------------------------------------------


def _timed(call) -> tuple[float, object]:
    started = time.perf_counter()
    result = call()
    return time.perf_counter() - started, result


def test_a_wrong_bearer_is_slowed_a_right_one_and_no_credentials_are_not(gated):
    url, _ = gated
    took, r = _timed(lambda: _whoami(url, authorization="Bearer not the password"))
    assert r.status_code == 401 and took >= DELAY * 0.9
    took, r = _timed(lambda: _whoami(url, authorization=f"Bearer {PASSWORD}"))
    assert r.status_code == 200 and r.json()["person"] == BEARER_PERSON and took < DELAY * 0.9
    took, r = _timed(lambda: _whoami(url))
    assert r.status_code == 401 and took < DELAY * 0.9
    took, r = _timed(lambda: httpx.post(url + "/login", data={"password": "nope"}, timeout=10))
    assert r.status_code == 401 and took >= DELAY * 0.9


def test_an_open_path_refusing_a_key_is_slowed_too(gated):
    url, _ = gated
    took, r = _timed(lambda: httpx.get(url + "/v1/models", headers={"authorization": "Bearer wrong"}, timeout=10))
    assert r.status_code == 401 and took >= DELAY * 0.9
    took, r = _timed(lambda: httpx.get(url + "/v1/models", timeout=10))
    assert r.status_code == 401 and took < DELAY * 0.9
    took, r = _timed(lambda: httpx.get(url + "/v1/models", headers={"authorization": "Bearer backend-key"}, timeout=10))
    assert r.status_code == 200 and took < DELAY * 0.9


def test_a_websocket_with_a_wrong_bearer_waits_then_is_refused(gated):
    url, _ = gated
    ws_url = url.replace("http", "ws") + "/relay/realtime?ticket=nope"

    async def refused(headers: dict[str, str]) -> float:
        started = time.perf_counter()
        with pytest.raises(InvalidStatus) as denied:  # a close before accept is a 403 on the wire
            async with connect(ws_url, additional_headers=headers):
                pass
        assert denied.value.response.status_code == 403
        return time.perf_counter() - started

    assert asyncio.run(refused({"authorization": "Bearer wrong"})) >= DELAY * 0.9
    assert asyncio.run(refused({})) < DELAY * 0.9


# -- relay tickets ------------------------------------------------------------------------


async def _relay(url: str, ticket: str, *, cookie: str | None = None, origin: str | None = None) -> tuple[dict, int]:
    """The relay's first event and its close code."""
    headers = {"cookie": f"{COOKIE}={cookie}"} if cookie else {}
    ws_url = url.replace("http", "ws") + f"/relay/realtime?ticket={ticket}"
    async with connect(ws_url, additional_headers=headers, origin=origin, open_timeout=10) as ws:  # type: ignore[arg-type]
        event = json.loads(await asyncio.wait_for(ws.recv(), 30))
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 30)
    assert closed.value.rcvd is not None
    return event, closed.value.rcvd.code


def test_a_ticket_works_only_for_its_person_and_its_page(gated):
    url, tickets = gated
    alice, bob = _login(url), _login(url)
    person = _whoami(url, alice).json()["person"]
    page = url  # http://127.0.0.1:port, what the browser sends as Origin

    def mint() -> str:
        return tickets.mint(NOWHERE, "gpt-realtime", {}, owner="tab", person=person, origin=page)

    event, code = asyncio.run(_relay(url, mint(), cookie=bob, origin=page))
    assert code == CLOSE_NOT_YOURS and event["error"]["code"] == "ticket_not_yours"
    event, code = asyncio.run(_relay(url, mint(), cookie=alice, origin="https://evil.example"))
    assert code == CLOSE_NOT_YOURS and event["error"]["code"] == "wrong_origin"
    other_page = tickets.mint(NOWHERE, "gpt-realtime", {}, person=person, origin="http://localhost:1")
    event, code = asyncio.run(_relay(url, other_page, cookie=alice, origin=page))
    assert code == CLOSE_NOT_YOURS and event["error"]["code"] == "ticket_not_yours"
    # its own person and page: past every check, to the (unreachable) provider
    event, _ = asyncio.run(_relay(url, mint(), cookie=alice, origin=page))
    assert event["error"]["code"] == "upstream_unavailable"
    event, _ = asyncio.run(_relay(url, mint(), cookie=alice))  # a script: no Origin at all
    assert event["error"]["code"] == "upstream_unavailable"


def test_loopback_tickets_still_refuse_a_foreign_origin(loopback):
    url, tickets = loopback

    def mint() -> str:
        return tickets.mint(NOWHERE, "gpt-realtime", {}, owner="tab", person=LOCAL_PERSON)

    event, code = asyncio.run(_relay(url, mint(), origin="http://evil.example:8080"))
    assert code == CLOSE_NOT_YOURS and event["error"]["code"] == "wrong_origin"
    for origin in (url, None):  # its own host (whatever name it was reached by), or a script
        event, _ = asyncio.run(_relay(url, mint(), origin=origin))
        assert event["error"]["code"] == "upstream_unavailable", origin
    localhost = url.replace("127.0.0.1", "localhost")  # the page on localhost: the host it sends matches
    event, _ = asyncio.run(_relay(localhost, mint(), origin=localhost))
    assert event["error"]["code"] == "upstream_unavailable"
