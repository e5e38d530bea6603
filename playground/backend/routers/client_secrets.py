"""``POST /realtime/client_secrets``: mint a short-lived key (``ek_…``) carrying a session.

What OpenAI's GA endpoint does, so the exported curl snippets (and any server that hands
a browser or phone a key of its own) work against the local backend: the body's
``session`` (a realtime or a transcription session) is checked by the same code as the
WebSocket's ``session.update`` (``realtime.config``), so a bad field is refused with the
400 envelope naming it (``session.audio.output.voice``); the answer is the secret, when
it expires, and the full session as ``session.created`` will show it.

``WS /realtime`` takes a live secret as its bearer key, even when the backend has an API
key, and starts the session with the minted configuration (``?model=`` may be left out).
Secrets live in memory only, in a bounded store keyed by their SHA-256 digest, so neither
the store nor any log ever holds the value itself.
"""

from __future__ import annotations

import copy
import hashlib
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import APIRouter, FastAPI, Request
from pydantic import BaseModel, ConfigDict, Field

from playground.backend.errors import APIError
from playground.backend.models_gate import realtime_refusal, served
from playground.backend.realtime import config as cfg
from playground.backend.realtime.protocol import RealtimeError, new_id
from playground.core.catalog import get_catalog

__all__ = [
    "ClientSecretBody",
    "Minted",
    "SecretStore",
    "api_error",
    "fresh_config",
    "mint_session",
    "router",
    "secrets_of",
]

router = APIRouter(tags=["realtime"])

#: OpenAI's range for ``expires_after.seconds`` and its default (10 minutes)
EXPIRES_MIN_S, EXPIRES_MAX_S, EXPIRES_DEFAULT_S = 10, 7200, 600
#: live secrets kept at once; minting one more drops the oldest. A module constant, not a
#: catalog limit: a secret lives 2 hours at most and each holds one small session dict, so
#: a few hundred covers any local use while bounding what a minting loop can pile up.
SECRETS_MAX = 256
#: the prefix OpenAI's ephemeral keys carry; a bearer token with it is looked up here
PREFIX = "ek_"


@dataclass(frozen=True, slots=True)
class Minted:
    """One client secret's grant: the session it opens and when it stops opening sessions."""

    expires_at: int
    session: dict[str, Any]

    @property
    def kind(self) -> str:
        return str(self.session["type"])


class SecretStore:
    """Live client secrets, oldest first, at most ``SECRETS_MAX``; expired ones are dropped
    on every visit. Keyed by digest, so the values themselves are never kept."""

    def __init__(self, capacity: int = SECRETS_MAX) -> None:
        self.capacity = capacity
        self._grants: OrderedDict[bytes, Minted] = OrderedDict()
        self._lock = threading.Lock()  # the app and a test thread may both reach it

    @staticmethod
    def _digest(value: str) -> bytes:
        return hashlib.sha256(value.encode("utf-8", "surrogatepass")).digest()

    def _drop_expired(self, now: float) -> None:
        for key in [k for k, m in self._grants.items() if m.expires_at <= now]:
            del self._grants[key]

    def mint(self, session: dict[str, Any], seconds: int) -> tuple[str, Minted]:
        """A new unguessable secret (128 random bits) for ``session``, live for ``seconds``."""
        value = PREFIX + secrets.token_hex(16)
        now = time.time()
        grant = Minted(expires_at=int(now) + seconds, session=copy.deepcopy(session))
        with self._lock:
            self._drop_expired(now)
            self._grants[self._digest(value)] = grant
            while len(self._grants) > self.capacity:
                self._grants.popitem(last=False)
        return value, grant

    def get(self, value: str) -> Minted | None:
        """The grant of a live secret, or None (unknown, dropped or expired)."""
        with self._lock:
            self._drop_expired(time.time())
            return self._grants.get(self._digest(value))

    def __len__(self) -> int:
        with self._lock:
            self._drop_expired(time.time())
            return len(self._grants)


def secrets_of(app: FastAPI) -> SecretStore:
    """The backend's store (made on first use, like the realtime hub)."""
    state = app.state
    if getattr(state, "client_secrets", None) is None:
        state.client_secrets = SecretStore()
    return state.client_secrets


class ExpiresAfter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    anchor: Literal["created_at"] = "created_at"
    seconds: int = Field(default=EXPIRES_DEFAULT_S, ge=EXPIRES_MIN_S, le=EXPIRES_MAX_S, strict=True)


class ClientSecretBody(BaseModel):
    """The outer shape only; ``session`` is checked field by field by ``realtime.config``."""

    model_config = ConfigDict(extra="forbid")

    session: Any = None
    expires_after: ExpiresAfter | None = None


def api_error(err: RealtimeError) -> APIError:
    """The realtime ``error`` as the HTTP envelope: 404 for a model not served, else 400."""
    status = 404 if err.code == "model_not_found" else 400
    return APIError(err.message, status=status, param=err.param, code=err.code, type=err.type)


def _realtime_model(session: dict[str, Any]) -> str:
    """The session's model (the catalog's default when left out), refused as the WebSocket
    refuses an unknown or retired one: 404 ``model_not_found`` naming ``session.model``."""
    cat = get_catalog()
    model = session.get("model", cat.realtime.default_model)
    if not isinstance(model, str):
        return str(cat.realtime.default_model)  # the type error is update_session's to report
    if cat.canonical_realtime_model(model) is None:
        known = ", ".join(m for m in cat.realtime_models if served(m))
        raise APIError(
            f"The model '{model}' does not exist or is not served here; known: {known}.",
            status=404,
            param="session.model",
            code="model_not_found",
        )
    refusal = realtime_refusal(model, "session.model")
    if refusal is not None:
        raise api_error(refusal)
    return model


def mint_session(session: Any) -> dict[str, Any]:
    """The full session a secret opens: the defaults with ``session`` applied exactly as a
    ``session.update`` would apply it; raises the 400/404 ``APIError`` naming the bad field."""
    if session is None:
        session = {"type": "realtime"}
    if not isinstance(session, dict):
        raise APIError("Invalid 'session': expected an object.", param="session", code="invalid_type")
    kind = session.get("type")
    if kind is None:
        raise APIError(
            "Missing required parameter: 'session.type' ('realtime' or 'transcription').",
            param="session.type",
            code="missing_required_parameter",
        )
    try:
        if kind == "realtime":
            return cfg.update_session(cfg.default_session(_realtime_model(session)), session, voice_locked=False)
        if kind == "transcription":
            return cfg.update_transcription_session(cfg.default_transcription_session(), session)
    except RealtimeError as err:
        raise api_error(err) from None
    raise APIError(
        f"Invalid 'session.type': must be 'realtime' or 'transcription'; got {kind!r}.",
        param="session.type",
        code="invalid_value",
    )


def fresh_config(grant: Minted) -> dict[str, Any]:
    """The minted session for one connection: a secret opens many, each with its own id and life."""
    config = copy.deepcopy(grant.session)
    config["id"] = new_id("sess")
    config["expires_at"] = int(time.time()) + get_catalog().limits.realtime_session_minutes * 60
    return config


@router.post("/realtime/client_secrets")
async def create_client_secret(body: ClientSecretBody, request: Request) -> dict[str, Any]:
    session = mint_session(body.session)
    seconds = body.expires_after.seconds if body.expires_after is not None else EXPIRES_DEFAULT_S
    value, grant = secrets_of(request.app).mint(session, seconds)
    return {"value": value, "expires_at": grant.expires_at, "session": session}
