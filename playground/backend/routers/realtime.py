"""``WS /realtime?model=...``: the GA Realtime protocol over a WebSocket.

``?intent=transcription`` (what ``client.realtime.connect(extra_query={"intent":
"transcription"})`` and the npm SDK's ``{intent: "transcription"}`` send, with no model)
opens a transcription session instead: audio in, turns transcribed, no responses.

The route owns the transport only: the key check (a bad key is refused before the
upgrade with OpenAI's 401 envelope; a live client secret from ``POST
/realtime/client_secrets`` is a good key, and its session starts as it was minted, with
``?model=`` optional), the model, the cap on open sessions, the session's 60-minute
life, the size of one event, and an outbox the session writes to without ever waiting:
a writer task sends it in order. A client that stops reading until the outbox is full
is disconnected; one that goes away ends the session and everything it started.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from fastapi import APIRouter, WebSocket
from fastapi.responses import JSONResponse
from starlette.websockets import WebSocketDisconnect, WebSocketState

from playground.backend.errors import error_body
from playground.backend.models_gate import realtime_refusal, served
from playground.backend.realtime import config as cfg
from playground.backend.realtime.core import Outbox
from playground.backend.realtime.protocol import RealtimeError, error_event
from playground.backend.realtime.session import RealtimeHub, RealtimeSession
from playground.backend.routers.client_secrets import PREFIX, Minted, fresh_config, secrets_of
from playground.core.catalog import get_catalog

router = APIRouter(tags=["realtime"])
log = logging.getLogger(__name__)

#: close codes: policy violation (bad model, oversized event, slow reader), try again later (full)
CLOSE_POLICY = 1008
CLOSE_TRY_LATER = 1013


def hub_of(ws: WebSocket) -> RealtimeHub:
    state = ws.app.state
    if getattr(state, "realtime", None) is None:
        state.realtime = RealtimeHub()
    return state.realtime


def _bearer(ws: WebSocket) -> str | None:
    scheme, _, token = ws.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def _authorised(ws: WebSocket) -> bool:
    expected = ws.app.state.settings.api_key
    if not expected:
        return True
    token = _bearer(ws)
    return token is not None and hmac.compare_digest(token.encode(), expected.encode())


def client_secret_of(ws: WebSocket) -> tuple[bool, Minted | None]:
    """``(presented, grant)``: whether the bearer token is a client secret (``ek_…``) and,
    when it is live, what it grants. A dead one is refused even where any key would do:
    its holder expects the minted session, not a default one."""
    token = _bearer(ws)
    if token is None or not token.startswith(PREFIX):
        return False, None
    return True, secrets_of(ws.app).get(token)


def _unauthorised(message: str) -> JSONResponse:
    body = error_body(message, type="invalid_request_error", code="invalid_api_key")
    return JSONResponse(body, status_code=401)


async def refuse(ws: WebSocket, err: RealtimeError, code: int) -> None:
    await ws.accept()
    await ws.send_text(json.dumps(error_event(err)))
    await ws.close(code=code, reason=err.code or "")


@dataclass(frozen=True)
class _Admitted:
    """A connection the route will serve: the session's kind, its model and its starting config."""

    kind: str
    model: str
    config: dict[str, Any] | None


@dataclass(frozen=True)
class _Refused:
    """A connection the route turns away after the upgrade, with an ``error`` event and a close code."""

    error: RealtimeError
    close_code: int = CLOSE_POLICY


@router.websocket("/realtime")
async def realtime(ws: WebSocket) -> None:
    denial = key_denial(ws)
    if denial is not None:
        await ws.send_denial_response(denial)
        return
    verdict = _admit(ws)
    if isinstance(verdict, _Refused):
        await refuse(ws, verdict.error, verdict.close_code)
        return
    await _serve(ws, verdict)


def key_denial(ws: WebSocket) -> JSONResponse | None:
    """The 401 for a connection whose key is wrong, or whose client secret is dead."""
    presented, minted = client_secret_of(ws)
    if presented and minted is None and not (ws.app.state.settings.api_key and _authorised(ws)):
        return _unauthorised(
            "The client secret is unknown or has expired; mint a new one (POST /v1/realtime/client_secrets)."
        )
    if minted is None and not _authorised(ws):
        return _unauthorised(
            "Incorrect API key provided. Set the key this server was started with (PLAYGROUND_API_KEY)."
        )
    return None


def _admit(ws: WebSocket) -> _Admitted | _Refused:
    """What the URL, the client secret and the open sessions allow: the session to start, or why not."""
    cat = get_catalog()
    _, minted = client_secret_of(ws)
    model = ws.query_params.get("model")
    intent = ws.query_params.get("intent")
    if minted is not None and minted.kind == "translation":
        return _Refused(
            RealtimeError(
                "This client secret was minted for a translation session; connect to /v1/realtime/translations "
                "with it (client.realtime.translations.connect).",
                param="model",
                code="invalid_value",
            )
        )
    if minted is not None and minted.kind == "realtime" and intent == "transcription":
        return _Refused(
            RealtimeError(
                "Invalid 'intent': this client secret was minted for a conversation (session.type 'realtime'); "
                "leave intent out, or mint a secret with a transcription session.",
                param="intent",
                code="invalid_value",
            )
        )
    if intent is not None and intent != "transcription":
        return _Refused(
            RealtimeError(
                f"Invalid 'intent': {intent!r}. The only intent served here is 'transcription'; "
                "leave it out for a conversation (?model=...).",
                param="intent",
                code="invalid_value",
            )
        )
    # a client secret decides the session's kind, and names the model itself
    transcription = intent == "transcription" or (minted is not None and minted.kind == "transcription")
    unknown = _unknown_model(model, transcription=transcription, named=bool(model) or minted is None)
    if unknown is not None:
        return _Refused(unknown)
    chosen = model or (minted.session.get("model") if minted is not None else None)
    refusal = realtime_refusal(chosen) if chosen else None
    if refusal is not None:  # a retired model: refused as an unknown one is, naming its date
        return _Refused(refusal)
    config = fresh_config(minted) if minted is not None else None
    if config is not None and not transcription and model and model != config["model"]:
        try:  # the connection's model overrides the minted one, as a session.update would
            config = cfg.update_session(config, {"model": model}, voice_locked=False)
        except RealtimeError as err:
            return _Refused(err)
    if hub_of(ws).full:
        return _Refused(
            RealtimeError(
                f"Too many realtime sessions are open ({cat.limits.realtime_sessions_max}); close one and retry.",
                code="session_limit_reached",
                type="rate_limit_exceeded",
            ),
            CLOSE_TRY_LATER,
        )
    return _Admitted("transcription" if transcription else "realtime", chosen or "", config)


def _unknown_model(model: str | None, *, transcription: bool, named: bool) -> RealtimeError | None:
    """The refusal of a model this server does not know for the session's kind (None: it knows it)."""
    cat = get_catalog()
    if transcription:
        # a transcription session needs no model; one that names a model must name a known one
        heard = cat.transcription_model(model) if model else None
        if model is None or (heard is not None and heard.id in cat.realtime.transcription_models):
            return None
        if cat.canonical_realtime_model(model) is not None:
            return None
        known = ", ".join(m for m in [*cat.realtime_models, *cat.realtime.transcription_models] if served(m))
        return RealtimeError(
            f"The model '{model}' does not exist or is not served here; known: {known}.",
            param="model",
            code="model_not_found",
        )
    if not named or (model and cat.canonical_realtime_model(model) is not None):
        return None
    known = ", ".join(m for m in cat.realtime_models if served(m))
    message = (
        f"The model '{model}' does not exist or is not served here; known: {known}."
        if model
        else f"Missing required parameter: 'model' (in the URL, ?model=...); known: {known}."
    )
    return RealtimeError(message, param="model", code="model_not_found")


class Served(Protocol):
    """What the route needs of a session of any kind."""

    def start(self) -> None: ...

    async def handle(self, text: str) -> None: ...

    def report(self, err: RealtimeError, client_event_id: str | None = None) -> None: ...

    async def close(self) -> None: ...


async def _serve(ws: WebSocket, admitted: _Admitted) -> None:
    def make(emit: Callable[[dict[str, Any]], None]) -> RealtimeSession:
        return RealtimeSession(
            ws.app.state.engines, admitted.model, emit, hub_of(ws), kind=admitted.kind, config=admitted.config
        )

    await serve_session(ws, make)


async def serve_session(
    ws: WebSocket, make: Callable[[Callable[[dict[str, Any]], None]], Served], *, done: str | None = None
) -> None:
    """Accept, then run the session ``make(emit)`` builds until the client leaves, stops reading,
    the session's life ends, or the session sets its asyncio event named ``done`` (it has said
    its last word: a translation session after ``session.closed``)."""
    cat = get_catalog()
    hub = hub_of(ws)
    await ws.accept()
    outbox: Outbox[dict[str, Any]] = Outbox(cat.limits.realtime_outbox_max_events)
    overflow = asyncio.Event()

    def emit(event: dict[str, Any]) -> None:
        if not outbox.put(event):
            overflow.set()

    session = make(emit)
    finished: asyncio.Event = getattr(session, done) if done else asyncio.Event()
    hub.sessions.add(session)
    writer = asyncio.create_task(_write(ws, outbox))
    try:
        session.start()
        lifetime = ws.app.state.settings.realtime_session_seconds or cat.limits.realtime_session_minutes * 60
        async with asyncio.timeout(lifetime):
            reader = asyncio.create_task(_read(ws, session, cat.limits.realtime_event_max_bytes))
            stalled = asyncio.create_task(overflow.wait())
            ended = asyncio.create_task(finished.wait())
            try:
                await asyncio.wait({reader, stalled, ended}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in (reader, stalled, ended):
                    task.cancel()
                await asyncio.gather(reader, stalled, ended, return_exceptions=True)
            if overflow.is_set():
                log.warning("closing a realtime session whose client stopped reading events")
            elif not finished.is_set() and reader.exception() is not None:
                raise reader.exception()  # type: ignore[misc]
    except TimeoutError:
        emit(
            error_event(
                RealtimeError(
                    f"Your session hit the maximum duration of {lifetime / 60:g} minutes.",
                    code="session_expired",
                )
            )
        )
    except WebSocketDisconnect:
        pass
    finally:
        hub.sessions.discard(session)
        await session.close()
        outbox.end()
        with contextlib.suppress(asyncio.TimeoutError, Exception):
            await asyncio.wait_for(writer, timeout=2.0)
        writer.cancel()
        if ws.client_state == WebSocketState.CONNECTED:
            with contextlib.suppress(Exception):
                await ws.close(code=CLOSE_POLICY if overflow.is_set() else 1000)


async def _read(ws: WebSocket, session: Served, max_bytes: int) -> None:
    while True:
        message = await ws.receive()
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000))
        text = message.get("text")
        if text is None:
            data = message.get("bytes") or b""
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                session.report(
                    RealtimeError("Events are JSON text; this binary frame is not UTF-8.", code="invalid_json")
                )
                continue
        if len(text) > max_bytes:
            session.report(
                RealtimeError(
                    f"The event is {len(text)} bytes; the most one event may carry is {max_bytes}.",
                    code="event_too_large",
                )
            )
            continue
        await session.handle(text)


async def _write(ws: WebSocket, outbox: Outbox[dict[str, Any]]) -> None:
    with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
        while (event := await outbox.get()) is not None:
            await ws.send_text(json.dumps(event))  # ASCII: client text may hold lone surrogates
