"""Model lifecycle: current, deprecated or retired, decided by the catalog's dates and a clock.

OpenAI announces a shutdown date per model (the SDK's "Deprecated values" docstrings); the
catalog copies them. A model is *current* without a date, *deprecated* before its date and
*retired* from that day on. The clock is injectable so nothing here is a time bomb: tests
pass ``today=``, and ``PLAYGROUND_TODAY=YYYY-MM-DD`` moves the whole process (the suite is run
once that way with the clock past every date). ``PLAYGROUND_SERVE_RETIRED=1`` keeps the
embedded backend serving retired names, for people who use it as a local speech server.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from typing import Literal

from playground.core.catalog import Catalog, get_catalog

__all__ = [
    "Lifecycle",
    "Status",
    "code_warning",
    "describe",
    "lifecycle",
    "offered",
    "picker_choices",
    "serve_retired",
    "today",
]

Status = Literal["current", "deprecated", "retired"]


def today() -> dt.date:
    """The playground's date: ``PLAYGROUND_TODAY`` when set (tests, a dry run of the future), else UTC today."""
    override = os.environ.get("PLAYGROUND_TODAY", "").strip()
    if override:
        try:
            return dt.date.fromisoformat(override)
        except ValueError:
            raise ValueError(f"PLAYGROUND_TODAY must be a date as YYYY-MM-DD, got {override!r}") from None
    return dt.datetime.now(dt.UTC).date()


def serve_retired() -> bool:
    """``PLAYGROUND_SERVE_RETIRED=1``: the embedded backend keeps answering retired model names."""
    return os.environ.get("PLAYGROUND_SERVE_RETIRED", "").strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True, slots=True)
class Lifecycle:
    """One model name's lifecycle on one day."""

    model: str
    canonical: str
    shutdown: dt.date | None
    replacement: str | None
    offer: bool
    on: dt.date

    @property
    def status(self) -> Status:
        if self.shutdown is None:
            return "current"
        return "retired" if self.on >= self.shutdown else "deprecated"

    @property
    def days_left(self) -> int | None:
        return None if self.shutdown is None else (self.shutdown - self.on).days

    @property
    def shutdown_date(self) -> str | None:
        return self.shutdown.isoformat() if self.shutdown else None


def lifecycle(model: str, *, on: dt.date | None = None, catalog: Catalog | None = None) -> Lifecycle | None:
    """The lifecycle of a model name (or a dated snapshot of one); None for names the catalog lacks."""
    cat = catalog or get_catalog()
    entry = cat.model_entry(model)
    if entry is None:
        return None
    return Lifecycle(
        model=model,
        canonical=entry.id,
        shutdown=entry.shutdown_of(model),
        replacement=entry.replacement,
        offer=entry.offer,
        on=on or today(),
    )


def _in_days(days: int) -> str:
    if days == 0:
        return "today"
    if days == 1:
        return "tomorrow"
    return f"in {days} days"


def describe(model: str, *, on: dt.date | None = None, catalog: Catalog | None = None) -> str:
    """A short phrase for pickers and notes: "shuts down 2027-01-20, in 45 days → gpt-realtime-2.1"."""
    life = lifecycle(model, on=on, catalog=catalog)
    if life is None or life.status == "current":
        return ""
    arrow = f" → {life.replacement}" if life.replacement else ""
    if life.status == "retired":
        return f"shut down {life.shutdown_date}{arrow}"
    return f"shuts down {life.shutdown_date}, {_in_days(life.days_left or 0)}{arrow}"


def code_warning(model: str, *, on: dt.date | None = None, catalog: Catalog | None = None) -> str:
    """The one-line warning exported code carries for a deprecated model (no comment marker); "" otherwise."""
    life = lifecycle(model, on=on, catalog=catalog)
    if life is None or life.status == "current":
        return ""
    instead = f"; move to {life.replacement}" if life.replacement else ""
    verb = "was shut down" if life.status == "retired" else "shuts down"
    return f"{model} {verb} on {life.shutdown_date}{instead}."


def offered(
    models: list[str] | tuple[str, ...], *, on: dt.date | None = None, catalog: Catalog | None = None
) -> list[str]:
    """The names a picker offers: not retired, not marked ``offer: false``.

    Retired names come back only with ``PLAYGROUND_SERVE_RETIRED`` (a local speech server);
    when nothing else is left the list is kept whole so a picker is never empty.
    """
    keep = []
    for m in models:
        life = lifecycle(m, on=on, catalog=catalog)
        if life is None:
            keep.append(m)
        elif life.offer and (life.status != "retired" or serve_retired()):
            keep.append(m)
    return keep or list(models)


def picker_choices(
    models: list[str] | tuple[str, ...], *, on: dt.date | None = None, catalog: Catalog | None = None
) -> list[tuple[str, str]]:
    """(label, id) pairs for a dropdown: each offered id, a deprecated one with its date and replacement."""
    out = []
    for m in offered(models, on=on, catalog=catalog):
        note = describe(m, on=on, catalog=catalog)
        out.append((f"{m} — {note}" if note else m, m))
    return out
