"""Composition root: one ASGI app on one port.

``/`` is the Gradio UI, ``/v1`` the embedded OpenAI-compatible backend (always
mounted, so the local models can be compared with any other provider; its voices load
in the background right after start), ``/healthz`` a readiness probe, and
``/relay/realtime`` the browser's realtime WebSocket, relayed to the provider with the
key kept here. With a ``password`` (required beyond loopback) ``gate.PasswordGate``
guards every route, and ``/v1`` takes the password as its bearer key unless
``PLAYGROUND_API_KEY`` sets another.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from playground.client.providers import Provider, resolve_provider
from playground.core.catalog import get_catalog

__all__ = ["create_app", "public_host"]

log = logging.getLogger(__name__)

#: the page's own scripts (studio player, audio worklets)
STATIC_DIR = Path(__file__).resolve().parent / "static"
STATIC_URL = "/pg-static"


def public_host(host: str) -> str:
    """The address a browser on this machine should use for a bind address."""
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host


def create_app(
    *, host: str = "127.0.0.1", port: int = 7860, provider: Provider | None = None, password: str | None = None
) -> FastAPI:
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    import gradio as gr

    from playground.backend.app import create_backend_app, warm_up
    from playground.backend.settings import BackendSettings
    from playground.gate import PasswordGate
    from playground.relay.route import create_relay_router
    from playground.ui.app import create_ui
    from playground.ui.context import get_context
    from playground.ui.standin import attach_backend
    from playground.ui.streaming import create_stream_router
    from playground.ui.theme import CSS, create_theme

    app_url = f"http://{public_host(host)}:{port}"
    settings = BackendSettings()
    if password and not settings.api_key:
        settings.api_key = password
    provider = provider or resolve_provider(app_url=app_url, local_key=settings.api_key)
    log.info("provider: %s", provider.label)  # the label never contains the key

    backend = create_backend_app(settings)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        warm_up(backend)  # background thread: the page answers at once, engines load behind it
        yield

    root = FastAPI(title="Audio playground", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    root.state.provider = provider
    root.mount("/v1", backend)

    @root.get("/healthz")
    async def healthz() -> dict:
        return {"status": "ok", "provider": provider.public()}

    attach_backend(backend.state.engines)  # the Provider tab's chat model server switch, the stand-in notes
    blocks = create_ui(provider, app_url=app_url, local_key=settings.api_key)
    root.include_router(create_stream_router(get_context().streams))
    root.include_router(create_relay_router(get_context().relay))
    root.mount(STATIC_URL, StaticFiles(directory=STATIC_DIR), name="pg-static")
    if password:
        root.add_middleware(PasswordGate, password=password, open_paths=("/v1",))
    return gr.mount_gradio_app(
        root,
        blocks,
        path="/",
        show_error=True,
        theme=create_theme(),
        css=CSS,
        head=(
            f'<script src="{STATIC_URL}/pg-common.js" defer></script>'
            f'<script src="{STATIC_URL}/studio.js" defer></script>'
            f'<script src="{STATIC_URL}/realtime.js" defer></script>'
            f'<script src="{STATIC_URL}/transcribe.js" defer></script>'
            f'<script src="{STATIC_URL}/translate.js" defer></script>'
        ),
        ssr_mode=False,
        footer_links=["api"],
        allowed_paths=[str(get_context().data_dir / "previews"), str(get_context().out_dir)],
        # refused before it is stored: the API's file limit, the largest any tab takes
        max_file_size=get_catalog().limits.upload_max_bytes,
    )
