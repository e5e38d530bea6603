"""``GET /models`` and ``GET /models/{id}``: every API model name we answer to."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from playground.backend.errors import APIError
from playground.core.catalog import get_catalog

router = APIRouter(tags=["models"])
_CREATED = 1_735_689_600  # 2025-01-01, a fixed stamp: these are aliases, not trained models


def _entries() -> dict[str, dict[str, Any]]:
    cat = get_catalog()
    out: dict[str, dict[str, Any]] = {}
    groups = (
        ("speech", cat.speech_models),
        ("transcription", cat.transcription_models),
        ("realtime", cat.realtime_models),
        ("chat", cat.chat_audio["models"]),
    )
    for family, models in groups:
        for mid in models:
            out[mid] = {"id": mid, "object": "model", "created": _CREATED, "owned_by": "playground", "family": family}
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
