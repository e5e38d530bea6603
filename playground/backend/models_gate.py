"""Which model names the embedded backend answers today: the one place that decides.

A name the catalog knows is served while it is current or deprecated. From its shutdown
date on (``playground.core.lifecycle``: the catalog's dates and an injectable clock) it is
*retired* and answered as OpenAI answers a shut-down model: HTTP 404 with
``code: "model_not_found"``, ``param: "model"`` and a message naming the date and the
replacement. ``PLAYGROUND_SERVE_RETIRED=1`` keeps serving retired names (a local speech
server has no reason to stop). Every router, the realtime route and the realtime session
configuration ask here; ``/v1/models`` lists only what ``served`` allows.
"""

from __future__ import annotations

from playground.backend.errors import APIError
from playground.backend.realtime.protocol import RealtimeError
from playground.core.lifecycle import Lifecycle, lifecycle, serve_retired

__all__ = ["check_model", "realtime_refusal", "retired", "retired_message", "served"]


def retired(model: str) -> Lifecycle | None:
    """The lifecycle of ``model`` when it is retired today and not served anyway; else None."""
    life = lifecycle(model)
    if life is None or life.status != "retired" or serve_retired():
        return None
    return life


def served(model: str) -> bool:
    """False for a retired name (unless ``PLAYGROUND_SERVE_RETIRED``); unknown names are the caller's."""
    return retired(model) is None


def retired_message(model: str, life: Lifecycle) -> str:
    """OpenAI's wording for a shut-down model, with the date and what to use instead."""
    instead = f"; use {life.replacement}" if life.replacement else ""
    return (
        f"The model '{model}' does not exist or you do not have access to it. "
        f"It was shut down on {life.shutdown_date}{instead}."
    )


def check_model(model: str, *, param: str = "model") -> None:
    """Raise the 404 ``model_not_found`` envelope when ``model`` is retired (and not served anyway)."""
    life = retired(model)
    if life is not None:
        raise APIError(retired_message(model, life), status=404, param=param, code="model_not_found")


def realtime_refusal(model: str, param: str = "model") -> RealtimeError | None:
    """The realtime ``error`` for a retired ``model`` (at connect, or a session field naming one)."""
    life = retired(model)
    if life is None:
        return None
    return RealtimeError(retired_message(model, life), param=param, code="model_not_found")
