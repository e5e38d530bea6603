"""Optional bearer-token check, on only when ``PLAYGROUND_API_KEY`` is set.

Tokens are compared as UTF-8 bytes: headers arrive as Latin-1 text, and
``hmac.compare_digest`` refuses non-ASCII ``str`` with a TypeError (a 500, not a 401).
"""

from __future__ import annotations

import hmac

from fastapi import Request

from playground.backend.errors import APIError

__all__ = ["require_key"]


async def require_key(request: Request) -> None:
    expected = request.app.state.settings.api_key
    if not expected:
        return
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), expected.encode()):
        raise APIError(
            "Incorrect API key provided. Set the key this server was started with (PLAYGROUND_API_KEY).",
            status=401,
            code="invalid_api_key",
        )
