"""``GET /models`` and ``GET /models/{id}``: every API model name we answer to today.

Each name (canonical and dated snapshot alike) is listed as OpenAI lists a model, with
``shutdown_date`` as OpenAI gives it (``"2027-01-20"`` or null, from the catalog), plus
keys OpenAI clients ignore: ``family`` (speech, transcription, realtime, chat),
``local_engine`` (what answers it here), ``canonical`` (the model a snapshot belongs to)
and ``status`` (current / deprecated / retired on the playground's clock); speech models also list
``voices`` (each API voice's local voice). Retired names
are left out, and answered 404 ``model_not_found``, unless ``PLAYGROUND_SERVE_RETIRED``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from playground.backend.errors import APIError
from playground.backend.localmap import chat_models, local_voices
from playground.backend.models_gate import check_model, served
from playground.core.catalog import get_catalog
from playground.core.lifecycle import lifecycle
from playground.core.standin import LOCAL_LLM, SPEECH_ENGINE, whisper_label

router = APIRouter(tags=["models"])
_CREATED = 1_735_689_600  # 2025-01-01, a fixed stamp: these are aliases, not trained models

#: what answers each family locally (speech: the voices' engines)
REALTIME_ENGINE = "Silero VAD + Whisper + {llm} + " + SPEECH_ENGINE
_whisper = whisper_label  # the same words as the UI's stand-in notes (core.standin)


def _llm(request: Request) -> str:
    settings = request.app.state.settings
    if settings.llm_base_url:
        return f"remote LLM '{settings.llm_model}' at {settings.llm_base_url}"
    return LOCAL_LLM


def _entries(request: Request) -> dict[str, dict[str, Any]]:
    """Each served API model name with what answers it locally (extra keys OpenAI clients ignore)."""
    cat = get_catalog()
    local_stt = cat.local.transcription
    llm = _llm(request)
    voices = {name: v.label for name, v in local_voices().items()}
    out: dict[str, dict[str, Any]] = {}

    def add(names: tuple[str, ...] | list[str], family: str, engine: str, **extra: Any) -> None:
        for mid in names:
            if mid in out or not served(mid):
                continue
            life = lifecycle(mid)
            out[mid] = {
                "id": mid,
                "object": "model",
                "created": _CREATED,
                "owned_by": "playground",
                "shutdown_date": life.shutdown_date if life else None,
                "family": family,
                "local_engine": engine,
                "canonical": life.canonical if life else mid,
                "status": life.status if life else "current",
                **extra,
            }

    for entry in cat.speech_models.values():
        add(entry.names(), "speech", SPEECH_ENGINE, voices=voices)
    for entry in cat.transcription_models.values():
        w = local_stt[entry.id]
        endpoints = ["audio.transcriptions", "realtime"] if entry.file else ["realtime"]
        add(entry.names(), "transcription", _whisper(w.model, w.english), endpoints=endpoints)
    for entry in cat.realtime_models.values():
        add(entry.names(), "realtime", REALTIME_ENGINE.format(llm=llm))
    add(chat_models(), "chat", llm)
    return out


@router.get("/models")
async def list_models(request: Request) -> dict[str, Any]:
    return {"object": "list", "data": list(_entries(request).values())}


@router.get("/models/{model_id:path}")
async def get_model(model_id: str, request: Request) -> dict[str, Any]:
    check_model(model_id)
    entry = _entries(request).get(model_id)
    if entry is None:
        raise APIError(
            f"The model '{model_id}' does not exist or you do not have access to it.",
            status=404,
            param="model",
            code="model_not_found",
        )
    return entry
