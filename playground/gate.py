"""A password in front of the whole app, for when it listens beyond loopback.

On 127.0.0.1 only this machine's users reach the app, and no password is asked. Bound
to another address, the UI, the speech streams and the realtime relay would hand
anyone on the network the use of the server's API key, so ``playground run`` refuses
to start without ``PLAYGROUND_PASSWORD`` and this gate guards every route:

* a browser gets a small login page; the right password sets an HttpOnly, SameSite
  cookie signed with a per-process secret (a restart logs everyone out);
* scripts may send ``Authorization: Bearer <password>`` instead;
* paths in ``open_paths`` are left to their own check (``/v1`` has the backend's
  bearer key, which is the password unless ``PLAYGROUND_API_KEY`` says otherwise).

A pure ASGI middleware, so WebSockets are guarded the same way as HTTP.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import html
import ipaddress
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs, quote

__all__ = ["COOKIE", "PasswordGate", "is_loopback"]

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


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class PasswordGate:
    def __init__(self, app: ASGIApp, *, password: str, open_paths: tuple[str, ...] = ()) -> None:
        if not password:
            raise ValueError("PasswordGate needs a non-empty password")
        self.app = app
        self._password = password.encode()
        self._open = open_paths
        self._token = hmac.new(secrets.token_bytes(32), b"signed-in", hashlib.sha256).hexdigest()

    # -- checks --------------------------------------------------------------------
    def _allowed(self, scope: Scope) -> bool:
        headers = dict(scope.get("headers") or ())
        scheme, _, value = headers.get(b"authorization", b"").decode("latin-1").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), self._password):
            return True
        cookie = SimpleCookie()
        try:
            cookie.load(headers.get(b"cookie", b"").decode("latin-1"))
        except Exception:  # noqa: BLE001 - a malformed cookie header is just "not signed in"
            return False
        morsel = cookie.get(COOKIE)
        return morsel is not None and hmac.compare_digest(morsel.value, self._token)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if any(path == p or path.startswith(p + "/") for p in self._open) or self._allowed(scope):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 4401, "reason": "sign in first"})
            return
        if path == LOGIN:
            await self._login(scope, receive, send)
            return
        accepts_html = b"text/html" in dict(scope.get("headers") or ()).get(b"accept", b"")
        if scope["method"] == "GET" and accepts_html:
            target = quote(path + ("?" + scope["query_string"].decode() if scope.get("query_string") else ""))
            await _respond(send, 303, b"", [(b"location", f"{LOGIN}?next={target}".encode())])
            return
        body = b'{"error": {"message": "Sign in first (PLAYGROUND_PASSWORD).", "type": "invalid_request_error", '
        body += b'"param": null, "code": "unauthorized"}}'
        await _respond(send, 401, body, [(b"content-type", b"application/json")])

    # -- the login page ------------------------------------------------------------
    async def _login(self, scope: Scope, receive: Receive, send: Send) -> None:
        query = parse_qs(scope.get("query_string", b"").decode())
        target = _safe_next(query.get("next", ["/"])[0])
        if scope["method"] != "POST":
            await _respond(send, 200, _page(target, failed=False), [(b"content-type", b"text/html; charset=utf-8")])
            return
        form = await _read_form(receive)
        given = form.get("password", [""])[0].encode()
        if given and hmac.compare_digest(given, self._password):
            cookie = f"{COOKIE}={self._token}; Path=/; HttpOnly; SameSite=Strict"
            await _respond(send, 303, b"", [(b"location", target.encode()), (b"set-cookie", cookie.encode())])
            return
        await asyncio.sleep(FAILURE_DELAY_S)
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
