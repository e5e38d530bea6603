"""Which provider each browser session uses, held in server memory only.

The settings panel lets a person switch, for their own tab, between the embedded
backend, OpenAI with a key they paste, and any OpenAI-compatible server. The choice
lives here keyed by Gradio's session hash: never in the page, never on disk, never
in a log, and gone when the server stops. At most ``limit`` sessions are remembered
(least recently used go first), so the store is bounded.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from playground.client.providers import Provider

__all__ = ["SessionProviders"]


class SessionProviders:
    def __init__(self, default: Provider, local: Provider, *, limit: int) -> None:
        """``default``: the provider the app was started with; ``local``: the embedded backend."""
        self.default = default
        self.local = local
        self.limit = limit
        self._chosen: OrderedDict[str, Provider] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, session: str | None) -> Provider:
        if not session:
            return self.default
        with self._lock:
            provider = self._chosen.get(session)
            if provider is None:
                return self.default
            self._chosen.move_to_end(session)
            return provider

    def set(self, session: str, provider: Provider) -> None:
        with self._lock:
            self._chosen[session] = provider
            self._chosen.move_to_end(session)
            while len(self._chosen) > self.limit:
                self._chosen.popitem(last=False)

    def forget(self, session: str) -> None:
        with self._lock:
            self._chosen.pop(session, None)

    def choices(self, session: str | None) -> dict[str, Provider]:
        """Label -> provider for a session: its own first, then the app's, then the embedded one."""
        out: dict[str, Provider] = {}
        for provider in (self.get(session), self.default, self.local):
            out.setdefault(provider.label, provider)
        return out
