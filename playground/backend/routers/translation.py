"""``WS /realtime/translations?model=...`` and ``POST /realtime/translations/client_secrets``.

What ``client.realtime.translations.connect(model="gpt-realtime-translate")`` and
``client.realtime.translations.client_secrets.create(session=...)`` reach. The socket
shares the conversation route's transport (key check before the upgrade, the cap on open
sessions, the session's life, the event size, the outbox): only the admission differs. A
translation client secret opens a translation session and nothing else; a conversation's
secret is refused here, as a translation secret is at ``/realtime``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request, WebSocket

from playground.backend.errors import APIError
from playground.backend.models_gate import realtime_refusal, served
from playground.backend.realtime.protocol import RealtimeError
from playground.backend.realtime.translation import TranslationSession
from playground.backend.realtime.translation_config import (
    default_translation_session,
    local_refusal,
    update_translation_session,
)
from playground.backend.routers.client_secrets import (
    EXPIRES_DEFAULT_S,
    ClientSecretBody,
    api_error,
    fresh_config,
    secrets_of,
)
from playground.backend.routers.realtime import (
    CLOSE_POLICY,
    CLOSE_TRY_LATER,
    client_secret_of,
    hub_of,
    key_denial,
    refuse,
    serve_session,
)
from playground.core.catalog import get_catalog

__all__ = ["mint_translation", "router", "ws_router"]

#: the POST goes behind the backend's key check; the socket checks the key itself
router = APIRouter(tags=["realtime"])
ws_router = APIRouter(tags=["realtime"])


def _unknown(model: Any, param: str) -> RealtimeError | None:
    """The refusal of a name that is not a translation model served here (None: it is one)."""
    cat = get_catalog()
    if isinstance(model, str) and cat.translation_model(model) is not None:
        return realtime_refusal(model, param)
    known = ", ".join(m for m in cat.translation_models if served(m))
    shown = f"The model '{model}' does not exist or is not served here" if model else "Missing required parameter"
    return RealtimeError(
        f"{shown}: '{param}' must name a translation model; known: {known}.", param=param, code="model_not_found"
    )


@ws_router.websocket("/realtime/translations")
async def translations(ws: WebSocket) -> None:
    denial = key_denial(ws)
    if denial is not None:
        await ws.send_denial_response(denial)
        return
    _, minted = client_secret_of(ws)
    model = ws.query_params.get("model")
    if minted is not None and minted.kind != "translation":
        message = (
            f"This client secret was minted for a {minted.kind} session; connect to /v1/realtime with it, "
            "or mint one at /v1/realtime/translations/client_secrets."
        )
        await refuse(ws, RealtimeError(message, param="model", code="invalid_value"), CLOSE_POLICY)
        return
    if minted is None or model:
        unknown = _unknown(model, "model")
        if unknown is not None:
            await refuse(ws, unknown, CLOSE_POLICY)
            return
    if minted is not None:
        config = fresh_config(minted)
        if model:
            config["model"] = get_catalog().translation_model(model).id  # type: ignore[union-attr]
    else:
        config = default_translation_session(get_catalog().translation_model(model).id)  # type: ignore[arg-type,union-attr]
    if hub_of(ws).full:
        cap = get_catalog().limits.realtime_sessions_max
        full = RealtimeError(
            f"Too many realtime sessions are open ({cap}); close one and retry.",
            code="session_limit_reached",
            type="rate_limit_exceeded",
        )
        await refuse(ws, full, CLOSE_TRY_LATER)
        return

    def make(emit: Callable[[dict[str, Any]], None]) -> TranslationSession:
        return TranslationSession(ws.app.state.engines, emit, hub_of(ws), config=config)

    await serve_session(ws, make, done="finished")


def mint_translation(session: Any) -> dict[str, Any]:
    """The translation session a secret opens, checked as the socket's ``session.update`` is."""
    if not isinstance(session, dict):
        raise APIError("Invalid 'session': expected an object.", param="session", code="invalid_type")
    rest = dict(session)
    if rest.pop("type", "translation") != "translation":
        raise APIError(
            f"Invalid 'session.type': a translation session's type is 'translation'; got {session['type']!r}.",
            param="session.type",
            code="invalid_value",
        )
    model = rest.pop("model", None)
    unknown = _unknown(model, "session.model")
    if unknown is not None:
        raise api_error(unknown)
    try:
        config = update_translation_session(default_translation_session(str(model)), rest)
    except RealtimeError as err:
        raise api_error(err) from None
    refused = local_refusal(config)
    if refused is not None:
        raise api_error(refused)
    config["model"] = get_catalog().translation_model(str(model)).id  # type: ignore[union-attr]
    return config


@router.post("/realtime/translations/client_secrets")
async def create_translation_secret(body: ClientSecretBody, request: Request) -> dict[str, Any]:
    session = mint_translation(body.session)
    seconds = body.expires_after.seconds if body.expires_after is not None else EXPIRES_DEFAULT_S
    value, grant = secrets_of(request.app).mint(session, seconds)
    return {"value": value, "expires_at": grant.expires_at, "session": session}
