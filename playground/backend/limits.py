"""Every request body has a ceiling, enforced before it is read in full.

A pure ASGI middleware: a declared ``Content-Length`` over the route's limit gets a 413
envelope at once, without reading a byte; a body without one (chunked transfer) is
counted as it streams in, and the moment it passes the limit the client gets the 413
and the route sees a disconnect, so no handler ever holds an oversized body.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from playground.backend.errors import error_body
from playground.core.catalog import get_catalog

__all__ = ["BodyLimit", "limit_for"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: multipart framing and the small form fields around an uploaded file
FORM_OVERHEAD = 256 * 1024


def limit_for(path: str) -> tuple[int, str]:
    """(bytes allowed, what the limit is called) for a request path."""
    cat = get_catalog()
    if path.endswith(("/audio/transcriptions", "/audio/translations")):
        return cat.limits.upload_max_bytes + FORM_OVERHEAD, "upload"
    if path.endswith("/chat/completions"):
        return cat.limits.chat_body_max_bytes, "chat request"
    return cat.limits.json_body_max_bytes, "request body"


def _too_large(limit: int, what: str) -> tuple[dict[str, Any], bytes]:
    if what == "upload":
        limit -= FORM_OVERHEAD
        param, code = "file", "file_too_large"
    else:
        param, code = None, "request_too_large"
    message = f"Maximum {what} size ({limit / 2**20:g} MiB) exceeded."
    body = json.dumps(error_body(message, type="invalid_request_error", param=param, code=code)).encode()
    start = {
        "type": "http.response.start",
        "status": 413,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),  # stop the client sending the rest
        ],
    }
    return start, body


class BodyLimit:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, what = limit_for(scope["path"])
        declared = dict(scope.get("headers") or ()).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            start, body = _too_large(limit, what)
            await send(start)
            await send({"type": "http.response.body", "body": body})
            return

        received = 0
        refused = False

        async def counted_receive() -> Message:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    refused = True
                    start, body = _too_large(limit, what)
                    await send(start)
                    await send({"type": "http.response.body", "body": body})
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            if not refused:  # once the 413 went out, the route's own answer is dropped
                await send(message)

        await self.app(scope, counted_receive, guarded_send)
