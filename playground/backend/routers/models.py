"""``GET /models`` and ``GET /models/{id}``: every API model name we answer to."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from playground.backend.errors import APIError
from playground.backend.localmap import chat_models, local_voices
from playground.core.catalog import get_catalog

router = APIRouter(tags=["models"])
_CREATED = 1_735_689_600  # 2025-01-01, a fixed stamp: these are aliases, not trained models


def _entries() -> dict[str, dict[str, Any]]:
    """Each API model name with what answers it locally (extra keys OpenAI clients ignore)."""
    cat = get_catalog()
    voices = {name: v.label for name, v in local_voices().items()}
    local_stt = cat.local.transcription
    out: dict[str, dict[str, Any]] = {}

    def add(mid: str, family: str, **extra: Any) -> None:
        out[mid] = {
            "id": mid,
            "object": "model",
            "created": _CREATED,
            "owned_by": "playground",
            "family": family,
            **extra,
        }

    for mid in cat.speech_models:
        add(mid, "speech", voices=voices)
    for mid in cat.transcription_models:
        add(mid, "transcription", local_model=local_stt[mid])
    for mid in cat.realtime_models:
        add(mid, "realtime")
    for mid in chat_models():
        add(mid, "chat", local_model="configured remote LLM or SmolLM2-135M-Instruct (Q4_1 GGUF)")
    return out


@router.get("/models")
async def list_models() -> dict[str, Any]:
    return {"object": "list", "data": list(_entries().values())}


@router.get("/models/{model_id:path}")
async def get_model(model_id: str) -> dict[str, Any]:
    entry = _entries().get(model_id)
    if entry is None:
        raise APIError(f"The model '{model_id}' does not exist", status=404, param="model", code="model_not_found")
    return entry
