"""What the UI handlers share: providers, stores and the speech streams.

Handlers are module-level functions (testable without a browser); they reach shared
state through ``get_context()``, which ``create_ui`` sets once per process.
"""

from __future__ import annotations

import logging
import sqlite3
import tempfile
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playground.client.providers import Provider, embedded_provider
from playground.core.catalog import get_catalog
from playground.core.history import HistoryStore
from playground.core.leaderboard import VoteStore
from playground.core.specs import ChatAudioSpec, RealtimeSpeechSpec, SpeechSpec
from playground.core.vibes import Vibe, VibeStore, builtin_vibes_dir, load_vibes, user_data_dir
from playground.gate import person_of
from playground.relay.route import RelayTickets
from playground.ui.sessions import SessionProviders
from playground.ui.streaming import PendingSpeech, SpeechStreams

__all__ = ["UIContext", "get_context", "set_context"]

log = logging.getLogger(__name__)

#: rendered audio (downloads, compare players) is kept this long
OUTPUT_TTL_S = 24 * 3600


@dataclass
class UIContext:
    #: each browser session's provider (the app's default until the settings panel changes it)
    sessions: SessionProviders
    vibe_store: VibeStore
    votes: VoteStore
    streams: SpeechStreams
    builtin_vibes: list[Vibe]
    data_dir: Path
    #: every run of every tab, in SQLite under the data folder (bounded by the catalog)
    history: HistoryStore
    #: one-time tickets for the browser's realtime relay (minted per Connect)
    relay: RelayTickets = field(default_factory=RelayTickets)
    out_dir: Path = field(default_factory=lambda: Path(tempfile.gettempdir()) / "audio-playground")
    #: each browser session's last Studio output (for "use the last studio output"), bounded
    _outputs: OrderedDict[str, str] = field(default_factory=OrderedDict)
    #: each browser session's last comparison (its variants' outcomes), for "export comparison"
    _comparisons: OrderedDict[str, list[Any]] = field(default_factory=OrderedDict)

    @classmethod
    def create(
        cls, provider: Provider, *, app_url: str, data_dir: Path | None = None, local_key: str | None = None
    ) -> UIContext:
        """``local_key``: the embedded backend's bearer key, when it was started with one."""
        data = data_dir or user_data_dir()
        local = provider if provider.kind == "embedded" else embedded_provider(app_url, local_key)
        cat = get_catalog()
        builtin = load_vibes(builtin_vibes_dir(), voices=cat.voice_ids)
        ctx = cls(
            sessions=SessionProviders(provider, local, limit=cat.limits.browser_sessions_max),
            vibe_store=VibeStore(data / "vibes", voices=cat.voice_ids, reserved=[v.name for v in builtin]),
            votes=VoteStore(data / "votes.jsonl"),
            streams=SpeechStreams(),
            builtin_vibes=builtin,
            data_dir=data,
            history=HistoryStore(
                data / "history", max_bytes=cat.limits.history_max_bytes, max_runs=cat.limits.history_max_runs
            ),
        )
        ctx.prune_outputs()
        return ctx

    def prune_outputs(self, max_age_s: float = OUTPUT_TTL_S) -> int:
        """Delete rendered audio older than ``max_age_s`` so the output folder does not grow forever."""
        if not self.out_dir.is_dir():
            return 0
        cutoff = time.time() - max_age_s
        removed = 0
        for path in self.out_dir.iterdir():
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
                removed += 1
        return removed

    @property
    def provider(self) -> Provider:
        """The provider the app was started with (a session may have chosen another)."""
        return self.sessions.default

    def provider_for(self, request: object | None) -> Provider:
        """The provider of the browser session behind a Gradio request (None: the default)."""
        return self.sessions.get(getattr(request, "session_hash", None))

    def start_stream(
        self, spec: SpeechSpec | RealtimeSpeechSpec | ChatAudioSpec, request: object | None, token: str = ""
    ) -> PendingSpeech:
        """Start a run the page plays from ``/studio/pcm``, for the tab and person behind a
        Gradio request (``SpeechStreams.start``: ``token`` is the one the page made)."""
        return self.streams.start(
            spec,
            self.provider_for(request),
            token=token or "",
            owner=getattr(request, "session_hash", None),
            person=self.person_for(request),
        )

    @staticmethod
    def person_for(request: object | None) -> str:
        """Who is behind a Gradio request: their signed-in id on a shared instance (the gate
        stamps it on the request), else the loopback user. History is kept per person."""
        return person_of(request)

    @staticmethod
    def origin_for(request: object | None) -> str | None:
        """The ``Origin`` of the page behind a Gradio request (None when not sent): a relay
        ticket minted for it is refused to a socket opened from anywhere else."""
        headers = getattr(request, "headers", None)
        origin = headers.get("origin") if headers is not None and hasattr(headers, "get") else None
        return origin if isinstance(origin, str) and origin else None

    def providers_for(self, request: object | None) -> dict[str, Provider]:
        """Label -> provider a session may pick from (Compare's provider column)."""
        return self.sessions.choices(getattr(request, "session_hash", None))

    def all_vibes(self) -> list[Vibe]:
        """Built-in vibes and the user's own; a user vibe saved under a built-in's name replaces it."""
        own = self.vibe_store.list()
        mine = {v.slug for v in own}
        return [*(v for v in self.builtin_vibes if v.slug not in mine), *own]

    def vibe(self, name: str) -> Vibe | None:
        return next((v for v in self.all_vibes() if v.name == name), None)

    def remember_output(self, session: str | None, path: Path) -> None:
        if not session:
            return
        self._outputs[session] = str(path)
        self._outputs.move_to_end(session)
        while len(self._outputs) > self.sessions.limit:
            self._outputs.popitem(last=False)

    def remember_comparison(self, session: str | None, outcomes: list[Any]) -> None:
        if not session:
            return
        self._comparisons[session] = outcomes
        self._comparisons.move_to_end(session)
        while len(self._comparisons) > self.sessions.limit:
            self._comparisons.popitem(last=False)

    def last_comparison(self, session: str | None) -> list[Any]:
        return self._comparisons.get(session or "", [])

    def last_output(self, session: str | None) -> str | None:
        path = self._outputs.get(session or "")
        return path if path and Path(path).is_file() else None

    def record(self, kind: str, spec: Any, *, request: object | None = None, **fields: Any) -> None:
        """Keep a run in the history of the person behind ``request``; a failing store is
        logged, never a failed run."""
        try:
            self.history.add(kind, spec.to_dict(), owner=self.person_for(request), **fields)
        except (sqlite3.Error, OSError) as e:
            log.warning("could not record the %s run in the history: %s", kind, e)

    def output_path(self, name: str) -> Path:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        return self.out_dir / name


_CONTEXT: UIContext | None = None


def set_context(ctx: UIContext) -> None:
    global _CONTEXT
    _CONTEXT = ctx


def get_context() -> UIContext:
    if _CONTEXT is None:
        raise RuntimeError("UI context not set: build the app with playground.ui.app.create_ui()")
    return _CONTEXT
