"""The embedded OpenAI-compatible backend as a FastAPI app.

Routes live at the root (``/models``, ``/audio/speech``…); the app is mounted at
``/v1`` inside the playground, or wrapped by ``create_standalone_app`` for
``playground serve``. It imports nothing from the UI, client or realtime layers.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import AsyncIterator

from fastapi import Depends, FastAPI

from playground.backend.auth import require_key
from playground.backend.engines.manager import EngineManager
from playground.backend.errors import install_error_handlers
from playground.backend.limits import BodyLimit
from playground.backend.localmap import stt_model_for, warm_order
from playground.backend.realtime.session import RealtimeHub
from playground.backend.routers import chat, client_secrets, models, realtime, speech, transcription, translation
from playground.backend.scheduling import PriorityHeader, hand_over_the_gil_sooner
from playground.backend.settings import BackendSettings
from playground.core.catalog import get_catalog

__all__ = ["create_backend_app", "create_standalone_app", "warm_up"]


def create_backend_app(settings: BackendSettings | None = None) -> FastAPI:
    app = FastAPI(title="Audio playground backend", version="1", docs_url="/docs", openapi_url="/openapi.json")
    app.state.settings = settings or BackendSettings()
    app.state.engines = EngineManager(app.state.settings)
    hand_over_the_gil_sooner()  # the engines' worker threads wait on it between steps
    install_error_handlers(app)
    app.add_middleware(BodyLimit)
    app.add_middleware(PriorityHeader)
    auth = [Depends(require_key)]
    for router in (
        models.router,
        speech.router,
        transcription.router,
        chat.router,
        client_secrets.router,
        translation.router,
    ):
        app.include_router(router, dependencies=auth)
    app.state.realtime = RealtimeHub()
    app.state.client_secrets = client_secrets.SecretStore()
    # the sockets check the key themselves: a WebSocket has no 401 response
    app.include_router(realtime.router)
    app.include_router(translation.ws_router)
    return app


def create_standalone_app(settings: BackendSettings | None = None, *, warm: bool = False) -> FastAPI:
    """The backend alone, under ``/v1`` as OpenAI clients expect; ``warm`` loads engines at start."""
    backend = create_backend_app(settings)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if warm:
            warm_up(backend)
        yield

    root = FastAPI(title="Audio playground backend", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    install_error_handlers(root)
    root.mount("/v1", backend)
    return root


def warm_up(backend: FastAPI) -> threading.Thread | None:
    """Load the voices' engines in the background (the default voice's first), if enabled."""
    if not backend.state.settings.warm_start:
        return None
    cat = get_catalog()
    # live turns are heard in English; a file comes without a language, so its model is the multilingual one
    return backend.state.engines.warm(
        warm_order(),
        stt_model=stt_model_for(cat.local.realtime.hearing, "en"),
        file_model=stt_model_for(cat.transcription_default_model, None),
    )
