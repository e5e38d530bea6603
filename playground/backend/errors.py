"""OpenAI's error envelope for every failure, so any OpenAI client understands us.

``{"error": {"message", "type", "param", "code"}}`` with OpenAI's status codes. Routes
raise ``APIError``; validation errors, unknown routes and unexpected exceptions are
translated here so no input produces FastAPI's ``{"detail": ...}`` or a bare 500.
Messages may echo what the client sent; lone surrogates in it (a JSON ``"\\ud800"``
escape) are replaced, since they cannot be encoded and would turn a 4xx into a 500.
"""

from __future__ import annotations

import logging
import re

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

__all__ = ["APIError", "custom_voice_message", "engine_failure", "error_body", "install_error_handlers", "spec_error"]

log = logging.getLogger(__name__)

_TYPES = {
    400: "invalid_request_error",
    401: "invalid_request_error",
    403: "invalid_request_error",
    404: "invalid_request_error",
    405: "invalid_request_error",
    413: "invalid_request_error",
    415: "invalid_request_error",
    429: "rate_limit_exceeded",
}
_SURROGATE = re.compile("[\ud800-\udfff]")


class APIError(Exception):
    def __init__(
        self,
        message: str,
        *,
        status: int = 400,
        param: str | None = None,
        code: str | None = None,
        type: str | None = None,
    ):
        super().__init__(message)
        self.message, self.status, self.param, self.code = message, status, param, code
        self.type = type or _TYPES.get(status, "server_error")


def _text(value: str | None) -> str | None:
    return None if value is None else _SURROGATE.sub("\ufffd", value)


def error_body(message: str, *, type: str, param: str | None = None, code: str | None = None) -> dict:
    return {"error": {"message": _text(message), "type": type, "param": _text(param), "code": code}}


def _response(err: APIError) -> JSONResponse:
    return JSONResponse(error_body(err.message, type=err.type, param=err.param, code=err.code), status_code=err.status)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(APIError)
    async def _api_error(_: Request, exc: APIError) -> JSONResponse:
        return _response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        loc = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "form")]
        param = ".".join(loc) or None
        msg, kind = first.get("msg", "invalid request"), first.get("type")
        if kind == "json_invalid":  # loc is the character offset, not a parameter
            where = first.get("loc", ("body", "?"))[-1]
            detail = (first.get("ctx") or {}).get("error", "invalid JSON")
            msg = f"We could not parse the JSON body of your request: {detail}: character {where}."
            return _response(APIError(msg, status=400, code="invalid_json"))
        if kind == "missing" and not param:
            msg = "The request body is empty; expected a JSON object."
        elif kind == "missing":
            msg = f"Missing required parameter: '{param}'."
        elif kind == "extra_forbidden":
            msg = f"Unrecognized request argument supplied: {param}"
            return _response(APIError(msg, status=400, param=param, code="unknown_parameter"))
        elif param:
            msg = f"Invalid value for '{param}': {msg}"
        return _response(APIError(msg, status=400, param=param, code="invalid_value" if param else None))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else "request failed"
        if exc.status_code == 404:
            message = "Unknown request URL. Please check the URL and method."
        code = "unknown_url" if exc.status_code in (404, 405) else None
        return _response(APIError(message, status=exc.status_code, code=code))

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error in backend")
        return _response(APIError("The server had an error while processing your request.", status=500))


def engine_failure(what: str) -> APIError:
    """A 500 for a failed engine. The exception is logged by the caller; its text never
    reaches the client (it can hold paths, library internals or user data)."""
    return APIError(
        f"The local {what} failed while processing your request; the server log has the details.",
        status=500,
        type="server_error",
    )


def spec_error(problems: list) -> APIError:
    """An ``APIError`` for spec problems: 404 for an unknown model, else 400 on the first field."""
    first = problems[0]
    message = "; ".join(f"Invalid '{p.field}': {p.message}" for p in problems)
    if first.field == "model":
        return APIError(
            f"The model '{first.value}' does not exist or is not served here; {first.message}",
            status=404,
            param="model",
            code="model_not_found",
        )
    return APIError(message, status=400, param=first.field, code="invalid_value")


def custom_voice_message(voice: object, param: str, voices: int) -> str | None:
    """The refusal of a custom voice (``{"id": "voice_..."}`` or a bare ``voice_...`` id), or None.

    Custom voices live in an OpenAI account, so the local backend names the field and says
    so, rather than calling the voice unknown. ``voices``: how many built-in voices it speaks.
    """
    vid = voice.get("id") if isinstance(voice, dict) else voice
    if not isinstance(voice, dict) and not (isinstance(vid, str) and vid.startswith("voice_")):
        return None
    shown = vid if isinstance(vid, str) and vid.startswith("voice_") else "voice_…"
    return (
        f"Invalid '{param}': custom voices ({_text(shown)}) live in your OpenAI account; "
        f"the local backend speaks the {voices} built-in voices only."
    )
