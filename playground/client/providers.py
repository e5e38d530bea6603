"""Which server the playground talks to, and SDK clients for it.

Resolved once at start from the environment: ``OPENAI_API_KEY`` -> OpenAI;
``OPENAI_BASE_URL`` -> that server (with the key if one is set); neither -> the
embedded backend on the app's own port. The key lives only in the ``Provider`` object
and the SDK client: it is excluded from ``repr``, ``public()`` and every snippet.
"""

from __future__ import annotations

import asyncio
import functools
import os
import re
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from openai import AsyncOpenAI, OpenAI

from playground.core.snippets import LOCAL_KEY

__all__ = ["Provider", "ProviderKind", "embedded_provider", "redact", "resolve_provider"]

ProviderKind = Literal["openai", "compatible", "embedded"]
DEFAULT_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class Provider:
    kind: ProviderKind
    label: str
    #: None = the SDK default (api.openai.com)
    base_url: str | None
    api_key: str = field(repr=False)

    def __str__(self) -> str:
        return self.label

    @property
    def snippet_base_url(self) -> str | None:
        """The base URL snippets show: none for OpenAI itself."""
        return None if self.kind == "openai" else self.base_url

    def public(self) -> dict[str, Any]:
        """What may be shown in a page or log (never the key)."""
        return {"kind": self.kind, "label": self.label, "base_url": self.base_url or "https://api.openai.com/v1"}

    def client(self) -> OpenAI:
        return _sync_client(self.base_url, self.api_key)

    def async_client(self) -> AsyncOpenAI:
        """A client bound to the running event loop (its connection pool must not cross loops)."""
        loop = asyncio.get_running_loop()
        per_loop = _async_clients.setdefault(loop, {})
        key = (self.base_url, self.api_key)
        if key not in per_loop:
            per_loop[key] = AsyncOpenAI(
                api_key=self.api_key, base_url=self.base_url, timeout=DEFAULT_TIMEOUT_S, max_retries=1
            )
        return per_loop[key]

    def redact(self, text: str) -> str:
        return redact(text, self.api_key)


@functools.lru_cache(maxsize=16)
def _sync_client(base_url: str | None, api_key: str) -> OpenAI:
    return OpenAI(api_key=api_key, base_url=base_url, timeout=DEFAULT_TIMEOUT_S, max_retries=1)


_async_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[str | None, str], AsyncOpenAI]] = (
    weakref.WeakKeyDictionary()
)


def embedded_provider(app_url: str, api_key: str | None = None) -> Provider:
    """The built-in backend served at ``{app_url}/v1``; a key only when it was started with one."""
    return Provider("embedded", "Embedded local backend", app_url.rstrip("/") + "/v1", api_key or LOCAL_KEY)


def resolve_provider(
    env: Mapping[str, str] | None = None, *, app_url: str = "http://127.0.0.1:7860", local_key: str | None = None
) -> Provider:
    """``local_key``: the bearer key the embedded backend was started with, if any."""
    env = os.environ if env is None else env
    key = (env.get("OPENAI_API_KEY") or "").strip()
    base = (env.get("OPENAI_BASE_URL") or "").strip().rstrip("/")
    if base and base != "https://api.openai.com/v1":
        return Provider("compatible", f"OpenAI-compatible server at {base}", base, key or LOCAL_KEY)
    if key:
        return Provider("openai", "OpenAI", None, key)
    return embedded_provider(app_url, local_key)


_KEY_SHAPE = re.compile(r"\b(sk|ek|rk)-[A-Za-z0-9_\-*]{6,}")


def redact(text: str, key: str | None = None) -> str:
    """Remove a key, and anything shaped like one, from text bound for a user or a log."""
    if key and len(key) >= 8:
        text = text.replace(key, "[redacted]")
    return _KEY_SHAPE.sub(lambda m: m.group(1) + "-[redacted]", text)
