"""The embedded backend under ``/v1`` with the browser relay beside it, as the app mounts them."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from fastapi import FastAPI

from playground.backend.app import create_backend_app
from playground.backend.settings import BackendSettings
from playground.relay.route import RelayTickets, create_relay_router
from playground.serving import BackgroundServer


@contextlib.contextmanager
def serve_relay(key: str) -> Iterator[tuple[str, RelayTickets, FastAPI]]:
    """(url, the relay's tickets, the backend app), served on loopback for the block."""
    backend = create_backend_app(BackendSettings(api_key=key, warm_start=False))
    root = FastAPI()
    root.mount("/v1", backend)
    tickets = RelayTickets()
    root.include_router(create_relay_router(tickets))
    with BackgroundServer(root) as url:
        yield url, tickets, backend
