"""Wire vocabulary of the GA Realtime protocol: ids, server events, error events.

Errors are ``RealtimeError`` exceptions raised anywhere in a session and turned into
one ``error`` event by the dispatcher, so the session stays open (as OpenAI's does).
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

__all__ = [
    "RealtimeError",
    "error_event",
    "invalid",
    "message_item",
    "new_id",
    "server_event",
    "snapshot",
    "text_field",
]


def new_id(prefix: str) -> str:
    """OpenAI-style ids: a short prefix and 24 hex digits (``item_…``, ``resp_…``)."""
    return f"{prefix}_{uuid.uuid4().hex[:24]}"


def message_item(
    role: str, content: list[dict[str, Any]], *, item_id: str | None = None, status: str = "completed"
) -> dict[str, Any]:
    """A ``message`` item in GA shape."""
    return {
        "id": item_id or new_id("item"),
        "object": "realtime.item",
        "type": "message",
        "status": status,
        "role": role,
        "content": content,
    }


def server_event(type_: str, **fields: Any) -> dict[str, Any]:
    return {"type": type_, "event_id": new_id("event"), **fields}


def snapshot(item: dict[str, Any]) -> dict[str, Any]:
    """A copy as the item is now: a queued event must not change when the item does later."""
    return copy.deepcopy(item)


class RealtimeError(Exception):
    """A client mistake (or a refusal) reported as an ``error`` event."""

    def __init__(
        self,
        message: str,
        *,
        code: str | None = "invalid_value",
        param: str | None = None,
        type: str = "invalid_request_error",
    ):
        super().__init__(message)
        self.message, self.code, self.param, self.type = message, code, param, type


def error_event(err: RealtimeError, client_event_id: str | None = None) -> dict[str, Any]:
    """The ``error`` event; ``event_id`` inside ``error`` names the client event at fault."""
    return server_event(
        "error",
        error={
            "type": err.type,
            "code": err.code,
            "message": err.message,
            "param": err.param,
            "event_id": client_event_id,
        },
    )


def shown(value: Any, limit: int = 60) -> str:
    """A client's value as an error message quotes it: its repr, cut to ``limit`` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def invalid(param: str, message: str, code: str = "invalid_value") -> RealtimeError:
    """The error for one bad field, worded as OpenAI's: ``Invalid 'param': why``."""
    return RealtimeError(f"Invalid '{param}': {message}", param=param, code=code)


def text_field(value: Any, param: str) -> str:
    """A string field in valid Unicode (a JSON ``\\ud800`` escape is not)."""
    if not isinstance(value, str):
        raise invalid(param, "expected a string.", "invalid_type")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise invalid(param, "contains invalid Unicode (an unpaired surrogate).") from None
    return value
