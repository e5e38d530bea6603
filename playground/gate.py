"""A password in front of the whole app, for when it listens beyond loopback.

On 127.0.0.1 only this machine's users reach the app, and no password is asked. Bound
to another address, the UI, the speech streams and the realtime relay would hand
anyone on the network the use of the server's API key, so ``playground run`` refuses
to start without ``PLAYGROUND_PASSWORD`` and this gate guards every route:

* a browser gets a small login page; the right password gives that browser its own
  person id, in an HttpOnly, SameSite=Strict cookie signed (``itsdangerous``) with a
  per-process secret and good for ``login_max_age_seconds`` (a restart logs everyone
  out). The id is what keeps people apart on a shared instance: each sees only their
  own run history, and relay tickets work only for the person they were minted for;
* scripts may send ``Authorization: Bearer <password>`` instead (they all share the
  person ``bearer``);
* a wrong password costs ``failure_delay_s`` wherever it is tried: the login form, a
  bearer header, or a bearer key refused by a path in ``open_paths``;
* paths in ``open_paths`` are left to their own check (``/v1`` has the backend's
  bearer key, which is the password unless ``PLAYGROUND_API_KEY`` says otherwise).

Whoever passed the gate is written into the ASGI scope's ``state`` (``PERSON_STATE``),
where handlers read it with ``person_of``. Without a gate everyone is ``LOCAL_PERSON``.
A pure ASGI middleware, so WebSockets are guarded the same way as HTTP.
"""

from __future__ import annotations

import asyncio
import hmac
import html
import ipaddress
import secrets
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from itsdangerous import BadSignature, URLSafeTimedSerializer

__all__ = [
    "BEARER_PERSON",
    "COOKIE",
    "LOCAL_PERSON",
    "PERSON_STATE",
    "PasswordGate",
    "is_loopback",
    "origin_matches_host",
    "person_of",
    "person_of_scope",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

COOKIE = "playground_auth"
LOGIN = "/login"
#: a wrong password costs this long, to slow down guessing
FAILURE_DELAY_S = 1.0
_MAX_FORM = 4096
#: the key in the ASGI scope's ``state`` that names who passed the gate
PERSON_STATE = "playground_person"
#: everyone, when the app listens on loopback without a password (one user, as before)
LOCAL_PERSON = "local"
#: scripts signed in with ``Authorization: Bearer <password>`` (they have no cookie)
BEARER_PERSON = "bearer"
_SALT = "playground-person"


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def person_of_scope(scope: Mapping[str, Any]) -> str:
    """Who the gate let through with this ASGI scope; ``LOCAL_PERSON`` when there is no gate."""
    state = scope.get("state")
    person = state.get(PERSON_STATE) if isinstance(state, Mapping) else None
    return person if isinstance(person, str) and person else LOCAL_PERSON


def person_of(request: object | None) -> str:
    """Who sent a Gradio (or Starlette) request: the gate's stamp on its scope, else ``LOCAL_PERSON``."""
    try:
        state = getattr(request, "state", None)
        person = getattr(state, PERSON_STATE, None) if state is not None else None
    except Exception:  # noqa: BLE001 - a request without a scope (tests, Gradio internals) is local
        person = None
    return person if isinstance(person, str) and person else LOCAL_PERSON


def origin_matches_host(headers: Mapping[str, str]) -> bool:
    """No ``Origin`` (not a browser), or one naming the host the request was sent to (the
    ``Host`` header, or a proxy's ``X-Forwarded-Host``): a page elsewhere cannot pass."""
    origin = headers.get("origin")
    if not origin:
        return True
    netloc = urlsplit(origin).netloc.lower()
    hosts = {headers.get("host", "").lower(), headers.get("x-forwarded-host", "").split(",")[0].strip().lower()}
    return bool(netloc) and netloc in hosts - {""}


class PasswordGate:
    def __init__(
        self,
        app: ASGIApp,
        *,
        password: str,
        open_paths: tuple[str, ...] = (),
        max_age_s: float | None = None,
        failure_delay_s: float = FAILURE_DELAY_S,
        secret: bytes | None = None,
    ) -> None:
        """``max_age_s``: a sign-in's life (default: the catalog's ``login_max_age_seconds``);
        ``secret``: the cookie signing key (default: random, so per process)."""
        if not password:
            raise ValueError("PasswordGate needs a non-empty password")
        if max_age_s is None:
            from playground.core.catalog import get_catalog

            max_age_s = get_catalog().limits.login_max_age_seconds
        self.app = app
        self._password = password.encode()
        self._open = open_paths
        self.max_age_s = float(max_age_s)
        self.failure_delay_s = failure_delay_s
        self._signer = URLSafeTimedSerializer(secret or secrets.token_bytes(32), salt=_SALT)

    # -- checks --------------------------------------------------------------------
    def _cookie_person(self, headers: dict[bytes, bytes]) -> str | None:
        """The person id in a valid, unexpired cookie; None for a missing, tampered or old one."""
        cookie = SimpleCookie()
        try:
            cookie.load(headers.get(b"cookie", b"").decode("latin-1"))
        except Exception:  # noqa: BLE001 - a malformed cookie header is just "not signed in"
            return None
        morsel = cookie.get(COOKIE)
        if morsel is None:
            return None
        try:
            person = self._signer.loads(morsel.value, max_age=self.max_age_s)
        except BadSignature:  # SignatureExpired is one too
            return None
        return person if isinstance(person, str) and person and person != LOCAL_PERSON else None

    def _bearer(self, headers: dict[bytes, bytes]) -> bool | None:
        """True: the right password as a bearer token; False: a wrong one; None: none sent."""
        scheme, _, value = headers.get(b"authorization", b"").decode("latin-1").partition(" ")
        if scheme.lower() != "bearer":
            return None
        return hmac.compare_digest(value.strip().encode(), self._password)

    def _open_path(self, path: str) -> bool:
        return any(path == p or path.startswith(p + "/") for p in self._open)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        headers = dict(scope.get("headers") or ())
        if self._open_path(path):
            await self.app(scope, receive, self._slowed(send) if b"authorization" in headers else send)
            return
        person = self._cookie_person(headers)
        if person is None:
            bearer = self._bearer(headers)
            if bearer:
                person = BEARER_PERSON
            elif bearer is False:
                await asyncio.sleep(self.failure_delay_s)  # a wrong password, whichever way it came
                await self._refuse(scope, send)
                return
        if person is not None:
            scope = {**scope, "state": {**(scope.get("state") or {}), PERSON_STATE: person}}
            await self.app(scope, receive, send)
            return
        if scope["type"] == "http" and path == LOGIN:
            await self._login(scope, receive, send)
            return
        if scope["type"] == "http" and scope["method"] == "GET" and b"text/html" in headers.get(b"accept", b""):
            target = quote(path + ("?" + scope["query_string"].decode() if scope.get("query_string") else ""))
            await _respond(send, 303, b"", [(b"location", f"{LOGIN}?next={target}".encode())])
            return
        await self._refuse(scope, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 4401, "reason": "sign in first"})
            return
        body = b'{"error": {"message": "Sign in first (PLAYGROUND_PASSWORD).", "type": "invalid_request_error", '
        body += b'"param": null, "code": "unauthorized"}}'
        await _respond(send, 401, body, [(b"content-type", b"application/json")])

    def _slowed(self, send: Send) -> Send:
        """``send`` for an open path that was given a key: a 401 back waits ``failure_delay_s``
        first, so the backend's own key check (the password, by default) is no faster oracle."""

        async def slowed(message: Message) -> None:
            if message["type"] in ("http.response.start", "websocket.http.response.start"):
                if message.get("status") == 401:
                    await asyncio.sleep(self.failure_delay_s)
            await send(message)

        return slowed

    # -- the login page ------------------------------------------------------------
    def sign(self, person: str) -> str:
        """A cookie value naming ``person``, valid for ``max_age_s`` from now."""
        return self._signer.dumps(person)

    async def _login(self, scope: Scope, receive: Receive, send: Send) -> None:
        query = parse_qs(scope.get("query_string", b"").decode())
        target = _safe_next(query.get("next", ["/"])[0])
        if scope["method"] != "POST":
            await _respond(send, 200, _page(target, failed=False), [(b"content-type", b"text/html; charset=utf-8")])
            return
        form = await _read_form(receive)
        given = form.get("password", [""])[0].encode()
        if given and hmac.compare_digest(given, self._password):
            value = self.sign(secrets.token_urlsafe(18))  # a new person per sign-in
            cookie = f"{COOKIE}={value}; Max-Age={int(self.max_age_s)}; Path=/; HttpOnly; SameSite=Strict"
            if scope.get("scheme") == "https":
                cookie += "; Secure"
            await _respond(send, 303, b"", [(b"location", target.encode()), (b"set-cookie", cookie.encode())])
            return
        await asyncio.sleep(self.failure_delay_s)
        page = _page(target, failed=True)
        await _respond(send, 401, page, [(b"content-type", b"text/html; charset=utf-8")])


def _safe_next(target: str) -> str:
    """Only paths on this site: never an absolute URL to elsewhere."""
    return target if target.startswith("/") and not target.startswith("//") else "/"


async def _read_form(receive: Receive) -> dict[str, list[str]]:
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if len(body) > _MAX_FORM or not message.get("more_body"):
            break
    return parse_qs(body[:_MAX_FORM].decode("utf-8", "replace"))


async def _respond(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    headers = [*headers, (b"content-length", str(len(body)).encode()), (b"cache-control", b"no-store")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _page(target: str, *, failed: bool) -> bytes:
    note = '<p class="bad">That password is not right.</p>' if failed else ""
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>Audio Playground · sign in</title>
<style>body{{font-family:system-ui,sans-serif;background:#f5f3ff;display:grid;place-items:center;height:100vh;margin:0}}
form{{background:#fff;padding:28px 32px;border-radius:14px;box-shadow:0 2px 12px #0001;min-width:300px}}
h1{{font-size:1.2rem;margin:0 0 14px}}input{{width:100%;padding:9px;margin:6px 0 14px;box-sizing:border-box}}
button{{background:#6d28d9;color:#fff;border:0;padding:9px 18px;border-radius:8px;font-weight:600}}
.bad{{color:#b91c1c}}</style></head><body>
<form method="post" action="{LOGIN}?next={html.escape(quote(target))}"><h1>Audio Playground</h1>{note}
<label>Password<input type="password" name="password" autofocus autocomplete="current-password"></label>
<button type="submit">Sign in</button></form></body></html>""".encode()
