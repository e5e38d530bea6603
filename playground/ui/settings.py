"""Provider settings for this browser tab: the embedded backend, OpenAI, or any compatible server.

A pasted key goes from the password box to server memory (``sessions.SessionProviders``)
and nowhere else: every handler here returns the key box emptied, and what comes back
to the page (header, status, model list) is built from ``Provider.public()``, which
never holds the key. "Test connection" lists the server's models through the SDK
without changing anything.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import gradio as gr

from playground.client.providers import Provider, compatible_provider, redact, safe_url
from playground.core.catalog import get_catalog
from playground.core.errors import PlaygroundError
from playground.core.lifecycle import lifecycle, today
from playground.core.snippets import LOCAL_KEY
from playground.ui.context import get_context
from playground.ui.standin import chat_switch, chat_target, note_html, wrap

__all__ = ["KINDS", "ListedModel", "apply_provider", "header_html", "listed_models", "provider_from", "test_connection"]

#: (label, kind) for the radio; kinds as in ``client.providers.ProviderKind``
KINDS = [
    ("Embedded backend (offline)", "embedded"),
    ("OpenAI (paste a key)", "openai"),
    ("OpenAI-compatible server", "compatible"),
]
_BADGE = {"openai": "OpenAI", "compatible": "Compatible server", "embedded": "Offline · local models"}
#: how long "test connection" waits for the server
_TEST_TIMEOUT_S = 15.0
#: models listed by "test connection" (audio ones first)
_TEST_SHOWN = 60
#: names of audio models the catalog does not know (yet)
_AUDIO_NAME = re.compile(r"tts|transcribe|whisper|realtime|audio|speech")


def header_html(provider: Provider) -> str:
    from playground import __version__

    info = provider.public()
    standin = note_html("header", provider_kind=provider.kind)
    label = info["label"].replace(f" at {info['base_url']}", "")  # the URL is shown once, as code
    return (
        '<div class="pg-header">'
        f'<div class="pg-title">Audio Playground <span class="pg-version">v{__version__}</span></div>'
        f'<div class="pg-provider" id="pg-provider" title="{html.escape(info["base_url"])}">'
        f'<span class="pg-badge pg-{info["kind"]}">{html.escape(_BADGE[info["kind"]])}</span> '
        f"{html.escape(label)} · <code>{html.escape(info['base_url'])}</code></div>"
        + wrap(standin, header=True)
        + "</div>"
    )


class SettingsError(PlaygroundError):
    """The settings do not describe a usable provider; the message says what to fix."""


def provider_from(kind: str, key: str, base_url: str) -> Provider:
    """The provider these settings describe; raises ``SettingsError`` naming what is missing."""
    key, base_url = (key or "").strip(), (base_url or "").strip().rstrip("/")
    if kind == "embedded":
        return get_context().sessions.local
    if kind == "openai":
        if not key:
            raise SettingsError("Paste an OpenAI API key (it stays in this server's memory for this tab only).")
        return Provider("openai", "OpenAI (your key, this tab only)", None, key)
    if kind == "compatible":
        parsed = urlparse(base_url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise SettingsError("Give the server's base URL, e.g. http://127.0.0.1:11434/v1")
        return compatible_provider(base_url, key)
    raise SettingsError(f"Unknown provider kind {kind!r}; choose one of: {', '.join(k for _, k in KINDS)}")


@dataclass(frozen=True)
class ListedModel:
    """One model a provider lists, with its shutdown date (the provider's, else the catalog's)."""

    id: str
    audio: bool
    shutdown: dt.date | None
    #: where the date came from: "provider", "catalog" or "" (none announced)
    source: str
    replacement: str | None

    def status(self, on: dt.date) -> str:
        if self.shutdown is None:
            return "current"
        return "retired" if on >= self.shutdown else "deprecated"

    def note(self, on: dt.date) -> str:
        status = self.status(on)
        if status == "current":
            return ""
        arrow = f" → {self.replacement}" if self.replacement else ""
        date = self.shutdown.isoformat() if self.shutdown else ""
        origin = " (catalog date)" if self.source == "catalog" else ""
        if status == "retired":
            return f"⛔ retired: shut down {date}{arrow}{origin}"
        days = (self.shutdown - on).days if self.shutdown else 0
        return f"⚠ deprecated: shuts down {date}, in {days} day{'s' if days != 1 else ''}{arrow}{origin}"


def _date(value: Any) -> dt.date | None:
    """A provider's ``shutdown_date``: an ISO date (or timestamp), or a Unix time."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return dt.datetime.fromtimestamp(value, dt.UTC).date()
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def listed_models(models: Any) -> list[ListedModel]:
    """The SDK's ``Model`` objects as ``ListedModel``: audio models first, then by name."""
    cat = get_catalog()
    audio_names = {
        name
        for table in (cat.speech_models, cat.transcription_models, cat.realtime_models, cat.chat_audio_models)
        for entry in table.values()
        for name in entry.names()
    }
    out = []
    for m in models:
        mid = str(m.id)
        life = lifecycle(mid)
        date, source = _date(getattr(m, "shutdown_date", None)), "provider"
        if date is None and life is not None and life.shutdown is not None:
            date, source = life.shutdown, "catalog"
        out.append(
            ListedModel(
                id=mid,
                audio=mid in audio_names or bool(_AUDIO_NAME.search(mid)),
                shutdown=date,
                source=source if date is not None else "",
                replacement=life.replacement if life is not None else None,
            )
        )
    return sorted(out, key=lambda x: (not x.audio, x.id))


def _models_markdown(listed: list[ListedModel], on: dt.date) -> str:
    lines = []
    for m in listed[:_TEST_SHOWN]:
        note = m.note(on)
        lines.append(f"- `{html.escape(m.id)}`" + (f" — {html.escape(note)}" if note else ""))
    if len(listed) > _TEST_SHOWN:
        lines.append(f"- … and {len(listed) - _TEST_SHOWN} more")
    return "\n".join(lines)


def test_connection(kind: str, key: str, base_url: str) -> str:
    """List the models the described server offers, without switching to it: audio models
    first, each with its shutdown date (the provider's ``shutdown_date``, else the catalog's)."""
    try:
        provider = provider_from(kind, key, base_url)
        models = provider.client().with_options(timeout=_TEST_TIMEOUT_S, max_retries=0).models.list()
        listed = listed_models(models)
    except PlaygroundError as e:
        return f"⚠️ {html.escape(str(e))}"
    except Exception as e:  # noqa: BLE001 - any SDK/network failure is a message for the user
        return f"⚠️ Could not list models: {html.escape(redact(f'{type(e).__name__}: {e}', key))}"
    on = today()
    audio = sum(m.audio for m in listed)
    deprecated = sum(m.status(on) == "deprecated" for m in listed)
    retired = sum(m.status(on) == "retired" for m in listed)
    counts = f"{len(listed)} models ({audio} audio; {deprecated} deprecated, {retired} retired)"
    where = html.escape(provider.public()["base_url"])
    return f"✅ Connected to {where}: {counts}.\n\n{_models_markdown(listed, on)}"


def apply_provider(kind: str, key: str, base_url: str, request: gr.Request | None = None) -> tuple[Any, ...]:
    """Use these settings for this browser tab. Returns (header, status, key box, base URL box)
    and one update per Compare provider column."""
    from playground.ui.compare import provider_choices

    ctx = get_context()
    session = getattr(request, "session_hash", None)
    cleared = gr.update(value="")
    try:
        provider = provider_from(kind, key, base_url)
    except PlaygroundError as e:
        return (gr.update(), f"⚠️ {html.escape(str(e))}", cleared, gr.update(), *[gr.update()] * len(provider_choices()))
    if session:
        if provider is ctx.sessions.default:
            ctx.sessions.forget(session)
        else:
            ctx.sessions.set(session, provider)
    status = f"Using **{html.escape(provider.label)}** in this tab. Studio, Compare and the code follow it."
    return (header_html(provider), status, cleared, gr.update(), *provider_choices(request))


def forget_tab(request: gr.Request | None = None) -> None:
    """The tab closed: its provider (and the key pasted into it, and its SDK clients) and its
    relay state are dropped now, not when newer tabs push them out of the bounded stores."""
    session = getattr(request, "session_hash", None)
    if session:
        ctx = get_context()
        ctx.sessions.forget(session)
        ctx.relay.forget(session)


def session_header(request: gr.Request | None = None) -> str:
    return header_html(get_context().provider_for(request))


# ------------------------------------------------- chat model server (embedded backend)

#: what the "Chat model server" status shows for the bundled LLM
_LOCAL_CHAT = "the bundled **SmolLM2-135M** (tiny, offline: short, often wrong replies)"


def chat_server_status() -> str:
    """Which LLM the embedded backend's chat answers with now (never the key)."""
    target = chat_target()
    if target.local:
        return f"Chat in the embedded backend: {_LOCAL_CHAT}."
    return (
        f"Chat in the embedded backend: **{html.escape(target.model or '')}** at "
        f"`{html.escape(safe_url(target.base_url or ''))}` (for everyone using this server)."
    )


def _self_url(base_url: str) -> bool:
    """True for the embedded backend's own address (chat would call itself forever)."""
    local = urlparse(get_context().sessions.local.base_url or "")
    there = urlparse(base_url)
    loopback = {"127.0.0.1", "localhost", "0.0.0.0", "::1"}
    same_host = there.hostname == local.hostname or {there.hostname, local.hostname} <= loopback
    return same_host and there.port == local.port


def check_chat_server(base_url: str, key: str, model: str) -> str:
    """One small chat request through the SDK; returns the model that answered, or raises
    ``SettingsError`` with a message fit for the page (key redacted)."""
    from openai import OpenAI

    base_url, key, model = (base_url or "").strip().rstrip("/"), (key or "").strip(), (model or "").strip()
    parsed = urlparse(base_url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise SettingsError("Give the chat server's base URL, e.g. http://127.0.0.1:11434/v1 (Ollama)")
    if _self_url(base_url):
        raise SettingsError("That is this app's own embedded backend: give another server's URL.")
    client = OpenAI(base_url=base_url, api_key=key or LOCAL_KEY, timeout=_TEST_TIMEOUT_S, max_retries=0)
    try:
        if not model:
            listed = [str(m.id) for m in client.models.list()]
            if not listed:
                raise SettingsError(f"{base_url} lists no models: give the model name.")
            model = listed[0]
        reply = client.chat.completions.create(
            model=model, messages=[{"role": "user", "content": "Reply with the word OK."}], max_tokens=8
        )
    except PlaygroundError:
        raise
    except Exception as e:  # noqa: BLE001 - any SDK/network failure is a message for the user
        why = redact(f"{type(e).__name__}: {e}", key)
        raise SettingsError(f"{base_url} did not answer a chat request: {why}") from None
    finally:
        client.close()
    if not reply.choices:
        raise SettingsError(f"{base_url} answered with no choices for model {model!r}.")
    return model


def apply_chat_server(base_url: str, key: str, model: str) -> tuple[Any, ...]:
    """Point the embedded backend's chat (Voice chat, Audio chat, /v1/chat) at this server after
    one test request. Returns (status, key box emptied, model box)."""
    cleared = gr.update(value="")
    switch = chat_switch()
    if switch is None:
        return "⚠️ No embedded backend runs in this process.", cleared, gr.update()
    try:
        model = check_chat_server(base_url, key, model)
    except PlaygroundError as e:
        return f"⚠️ {html.escape(str(e))}\n\n{chat_server_status()}", cleared, gr.update()
    switch.switch_llm((base_url or "").strip().rstrip("/"), model, (key or "").strip() or None)
    return f"✅ Test reply received. {chat_server_status()}", cleared, gr.update(value=model)


def reset_chat_server() -> tuple[Any, ...]:
    """Back to the bundled SmolLM2. Returns (status, key box emptied, model box emptied)."""
    switch = chat_switch()
    if switch is not None:
        switch.switch_llm(None)
    return f"↩ Reset. {chat_server_status()}", gr.update(value=""), gr.update(value="")
