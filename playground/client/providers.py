"""Which server the playground talks to, and SDK clients for it.

Resolved once at start from the environment: ``OPENAI_API_KEY`` -> OpenAI;
``OPENAI_BASE_URL`` -> that server (with the key if one is set); neither -> the
embedded backend on the app's own port. The key lives only in the ``Provider`` object
and the SDK client: it is excluded from ``repr``, ``public()`` and every snippet.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import re
import threading
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from openai import AsyncOpenAI, OpenAI

from playground.core.snippets import LOCAL_KEY

__all__ = [
    "Provider",
    "ProviderKind",
    "compatible_provider",
    "embedded_provider",
    "redact",
    "resolve_provider",
    "safe_url",
]

ProviderKind = Literal["openai", "compatible", "embedded"]
DEFAULT_TIMEOUT_S = 120.0
#: how a request tells the embedded backend it is bulk work (``backend/scheduling.py`` reads it)
BULK_HEADERS = {"X-Playground-Priority": "bulk"}


@dataclass(frozen=True, eq=False)
class Provider:
    kind: ProviderKind
    label: str
    #: None = the SDK default (api.openai.com)
    base_url: str | None
    api_key: str = field(repr=False)
    #: requests through this provider are bulk work (a compare batch): the embedded backend
    #: serves realtime turns and Play clicks first
    bulk: bool = False

    def __str__(self) -> str:
        return self.label

    @property
    def snippet_base_url(self) -> str | None:
        """The base URL snippets show: none for OpenAI itself, and never its credentials."""
        return None if self.kind == "openai" or self.base_url is None else safe_url(self.base_url)

    def public(self) -> dict[str, Any]:
        """What may be shown in a page or log (never the key, nor credentials in the URL)."""
        return {
            "kind": self.kind,
            "label": self.label,
            "base_url": safe_url(self.base_url or "https://api.openai.com/v1"),
        }

    def as_bulk(self) -> Provider:
        """The same provider, its requests marked as bulk work (only the embedded backend is told)."""
        return dataclasses.replace(self, bulk=True)

    @property
    def _client_args(self) -> dict[str, Any]:
        headers = dict(BULK_HEADERS) if self.bulk and self.kind == "embedded" else None
        return {
            "api_key": self.api_key,
            "base_url": self.base_url,
            "timeout": DEFAULT_TIMEOUT_S,
            "max_retries": 1,
            "default_headers": headers,
        }

    def client(self) -> OpenAI:
        """This provider's SDK client, made once and kept only as long as the provider is.

        Clients hold the key, so they live beside the provider that owns it (a tab's
        settings, a "test connection"), not in a cache keyed by the key: when the tab's
        provider is forgotten, its client and key go with it."""
        with _CLIENTS_LOCK:
            made = _sync_clients.get(self)
            if made is None:
                made = OpenAI(**self._client_args)
                _sync_clients[self] = made
            return made

    def async_client(self) -> AsyncOpenAI:
        """A client bound to the running event loop (its connection pool must not cross loops),
        kept, like ``client()``, only as long as both the provider and the loop are."""
        loop = asyncio.get_running_loop()
        with _CLIENTS_LOCK:
            per_loop = _async_clients.setdefault(self, weakref.WeakKeyDictionary())
            made = per_loop.get(loop)
            if made is None:
                made = AsyncOpenAI(**self._client_args)
                per_loop[loop] = made
            return made

    def redact(self, text: str) -> str:
        return redact(text, self.api_key)


#: each provider's clients, dropped with the provider (they hold its key)
_CLIENTS_LOCK = threading.Lock()
_sync_clients: weakref.WeakKeyDictionary[Provider, OpenAI] = weakref.WeakKeyDictionary()
_async_clients: weakref.WeakKeyDictionary[
    Provider, weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AsyncOpenAI]
] = weakref.WeakKeyDictionary()


def embedded_provider(app_url: str, api_key: str | None = None) -> Provider:
    """The built-in backend served at ``{app_url}/v1``; a key only when it was started with one."""
    return Provider("embedded", "Embedded local backend", app_url.rstrip("/") + "/v1", api_key or LOCAL_KEY)


def compatible_provider(base_url: str, key: str | None = None) -> Provider:
    """Any OpenAI-compatible server; its label shows the URL without credentials."""
    return Provider("compatible", f"OpenAI-compatible server at {safe_url(base_url)}", base_url, key or LOCAL_KEY)


#: query parameters that carry credentials in a compatible server's URL
_SECRET_PARAMS = frozenset(
    {"api_key", "api-key", "apikey", "key", "token", "access_token", "secret", "password", "sig"}
)


def safe_url(url: str) -> str:
    """``url`` without credentials: no ``user:password@``, no ``?api_key=`` (and the like)."""
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return redact(url)
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        netloc += f":{parts.port}"
    query = urlencode(
        [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k.lower() not in _SECRET_PARAMS]
    )
    return redact(urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment)))


def resolve_provider(
    env: Mapping[str, str] | None = None, *, app_url: str = "http://127.0.0.1:7860", local_key: str | None = None
) -> Provider:
    """``local_key``: the bearer key the embedded backend was started with, if any."""
    env = os.environ if env is None else env
    key = (env.get("OPENAI_API_KEY") or "").strip()
    base = (env.get("OPENAI_BASE_URL") or "").strip().rstrip("/")
    if base and base != "https://api.openai.com/v1":
        return compatible_provider(base, key)
    if key:
        return Provider("openai", "OpenAI", None, key)
    return embedded_provider(app_url, local_key)


#: every key shape OpenAI issues: secret keys (``sk-``, ``sk-proj-``, ``sk-svcacct-``,
#: ``sk-admin-``), restricted keys (``rk-``) and Realtime client secrets (``ek_``)
_KEY_SHAPE = re.compile(r"\b(sk-|rk-|ek_|ek-)[A-Za-z0-9_\-*]{6,}")


def redact(text: str, key: str | None = None) -> str:
    """Remove a key, and anything shaped like one, from text bound for a user or a log."""
    if key and len(key) >= 8:
        text = text.replace(key, "[redacted]")
    return _KEY_SHAPE.sub(lambda m: m.group(1) + "[redacted]", text)
