"""Run history: every run of every tab, kept locally in SQLite with its audio beside it.

A run is its request spec (as JSON, so it reopens in its tab and renders its snippet),
timings, usage, cost estimate, result text and an optional audio file in ``audio/``.
Never a key: specs hold none, and the provider is stored by its public label only.
The store is bounded (``history_max_bytes`` / ``history_max_runs`` from the catalog,
oldest runs pruned first) and survives a damaged database: the file is moved aside with
a warning and a new one is started, so a bad file never stops the app.

Every run has an ``owner``, the person who made it: on a shared instance (a password
set, ``gate.PasswordGate``) each signed-in browser's id, so reading, exporting and
deleting are per person; on loopback everyone is ``LOCAL_OWNER``, as are the runs of a
database from before owners (the column is added on open). The size cap is the
store's, not a person's: pruning drops the oldest runs whoever made them.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sqlite3
import threading
import time
import uuid
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playground.core.lifecycle import lifecycle

__all__ = ["LOCAL_OWNER", "HistoryStore", "Run"]

log = logging.getLogger(__name__)

#: the one owner when the app runs without a password (``gate.LOCAL_PERSON``)
LOCAL_OWNER = "local"

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    created REAL NOT NULL,
    kind TEXT NOT NULL,
    model TEXT NOT NULL DEFAULT '',
    voice TEXT NOT NULL DEFAULT '',
    provider TEXT NOT NULL DEFAULT '',
    spec TEXT NOT NULL,
    timings TEXT NOT NULL DEFAULT '{}',
    usage TEXT,
    cost REAL,
    text TEXT NOT NULL DEFAULT '',
    audio TEXT,
    bytes INTEGER NOT NULL DEFAULT 0,
    owner TEXT NOT NULL DEFAULT 'local'
);
CREATE INDEX IF NOT EXISTS runs_created ON runs (created);
"""
#: after the migration (an older table gets ``owner`` first)
INDEXES = "CREATE INDEX IF NOT EXISTS runs_owner ON runs (owner, created);"
COLUMNS = "id, created, kind, model, voice, provider, spec, timings, usage, cost, text, audio, bytes, owner"


@dataclass(frozen=True)
class Run:
    id: str
    created: float
    #: "speech", "transcription", "translation", "realtime" …
    kind: str
    model: str
    voice: str
    provider: str
    spec: dict[str, Any]
    timings: dict[str, float]
    usage: dict[str, Any] | None
    cost: float | None
    text: str
    #: the audio file's path, when the run has audio
    audio: Path | None
    bytes: int
    #: who made it (a person id on a shared instance, else ``LOCAL_OWNER``)
    owner: str = LOCAL_OWNER

    @property
    def workflow(self) -> str:
        """A spoken text's workflow: ``realtime`` or ``speech`` (the endpoint); "" for other runs."""
        if self.kind != "speech":
            return ""
        return "realtime" if self.spec.get("kind") == "realtime_speech" else "speech"

    def lifecycle_status(self, on: dt.date | None = None) -> str:
        """The run model's status now: current, deprecated or retired (from the clock, never stored)."""
        life = lifecycle(self.model, on=on) if self.model else None
        return life.status if life is not None else "current"

    def lifecycle_note(self, on: dt.date | None = None) -> str:
        """A note for a deprecated (⚠ shuts down 2027-01-06) or retired (⛔ shut down …) model; "" else."""
        life = lifecycle(self.model, on=on) if self.model else None
        if life is None or life.status == "current":
            return ""
        if life.status == "retired":
            return f"⛔ shut down {life.shutdown_date}"
        return f"⚠ shuts down {life.shutdown_date}"


class HistoryStore:
    def __init__(self, folder: Path, *, max_bytes: int, max_runs: int) -> None:
        self.folder = Path(folder)
        self.audio_dir = self.folder / "audio"
        self.path = self.folder / "history.sqlite3"
        self.max_bytes = max_bytes
        self.max_runs = max_runs
        self._lock = threading.Lock()  # one writer at a time inside this process
        self.audio_dir.mkdir(parents=True, exist_ok=True)
        self._open()

    # ------------------------------------------------------------ database

    def _open(self) -> None:
        try:
            with self._db() as db:
                db.executescript(SCHEMA)
                self._migrate(db)
                if db.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                    raise sqlite3.DatabaseError("quick_check failed")
        except sqlite3.DatabaseError as e:
            aside = self.path.with_name(f"{self.path.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}")
            self.path.replace(aside)
            for extra in ("-wal", "-shm"):
                Path(f"{self.path}{extra}").unlink(missing_ok=True)
            log.warning("run history %s was damaged (%s); moved it to %s and started a new one", self.path, e, aside)
            self.moved_aside = aside
            with self._db() as db:
                db.executescript(SCHEMA)
                self._migrate(db)
        else:
            self.moved_aside = None

    @staticmethod
    def _migrate(db: sqlite3.Connection) -> None:
        """A database from before owners: its runs become ``LOCAL_OWNER``'s (the loopback user's)."""
        columns = {row[1] for row in db.execute("PRAGMA table_info(runs)")}
        if "owner" not in columns:
            try:
                db.execute(f"ALTER TABLE runs ADD COLUMN owner TEXT NOT NULL DEFAULT '{LOCAL_OWNER}'")
            except sqlite3.OperationalError as e:  # another process added it just now
                if "duplicate column" not in str(e):
                    raise
        db.executescript(INDEXES)

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            with db:
                yield db
        finally:
            db.close()

    # ------------------------------------------------------------ runs

    def add(
        self,
        kind: str,
        spec: dict[str, Any],
        *,
        model: str = "",
        voice: str = "",
        provider: str = "",
        timings: dict[str, float] | None = None,
        usage: dict[str, Any] | None = None,
        cost: float | None = None,
        text: str = "",
        audio: bytes | None = None,
        audio_ext: str = "wav",
        owner: str = LOCAL_OWNER,
    ) -> Run:
        run_id = f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:8]}"
        name = None
        size = len(text.encode()) + len(json.dumps(spec))
        if audio:
            name = f"{run_id}.{audio_ext.lstrip('.')}"
            (self.audio_dir / name).write_bytes(audio)
            size += len(audio)
        row = (
            run_id, time.time(), kind, model, voice, provider, json.dumps(spec), json.dumps(timings or {}),
            json.dumps(usage) if usage is not None else None, cost, text, name, size, owner,
        )  # fmt: skip
        with self._lock:
            with self._db() as db:
                db.execute(f"INSERT INTO runs ({COLUMNS}) VALUES ({', '.join('?' * 14)})", row)
            self.prune()
        run = self.get(run_id, owner=owner)
        assert run is not None
        return run

    def get(self, run_id: str, *, owner: str = LOCAL_OWNER) -> Run | None:
        """``owner``'s run; another person's is None, as if it did not exist."""
        with self._db() as db:
            row = db.execute(f"SELECT {COLUMNS} FROM runs WHERE id = ? AND owner = ?", (run_id, owner)).fetchone()
        return self._run(row) if row else None

    def list(
        self,
        *,
        kind: str | None = None,
        model: str | None = None,
        voice: str | None = None,
        search: str | None = None,
        limit: int = 200,
        owner: str = LOCAL_OWNER,
    ) -> list[Run]:
        """``owner``'s runs, newest first; ``search`` matches the result text and the spec (case-insensitive)."""
        where, args = ["owner = ?"], [owner]
        for column, value in (("kind", kind), ("model", model), ("voice", voice)):
            if value:
                where.append(f"{column} = ?")
                args.append(value)
        if search:
            where.append("(text LIKE ? ESCAPE '\\' OR spec LIKE ? ESCAPE '\\')")
            pattern = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            args += [pattern, pattern]
        clause = f"WHERE {' AND '.join(where)}"
        with self._db() as db:
            rows = db.execute(
                f"SELECT {COLUMNS} FROM runs {clause} ORDER BY created DESC LIMIT ?", (*args, int(limit))
            ).fetchall()
        return [self._run(r) for r in rows]

    def facets(self, *, owner: str = LOCAL_OWNER) -> dict[str, list[str]]:
        """The kinds, models and voices of ``owner``'s runs, for the filters."""
        with self._db() as db:
            return {
                col: [
                    v
                    for (v,) in db.execute(
                        f"SELECT DISTINCT {col} FROM runs WHERE owner = ? AND {col} != '' ORDER BY {col}", (owner,)
                    )
                ]
                for col in ("kind", "model", "voice")
            }

    def delete(self, run_id: str, *, owner: str = LOCAL_OWNER) -> bool:
        """Delete ``owner``'s run; False when there is none of theirs by that id."""
        with self._lock, self._db() as db:
            row = db.execute("SELECT audio FROM runs WHERE id = ? AND owner = ?", (run_id, owner)).fetchone()
            if row is None:
                return False
            db.execute("DELETE FROM runs WHERE id = ? AND owner = ?", (run_id, owner))
        if row[0]:
            (self.audio_dir / row[0]).unlink(missing_ok=True)
        return True

    def export(self, run_id: str, dest: Path, *, owner: str = LOCAL_OWNER) -> Path:
        """A zip of ``owner``'s run: ``run.json`` (spec, timings, usage, cost, text) and its audio."""
        run = self.get(run_id, owner=owner)
        if run is None:
            raise KeyError(run_id)
        meta = {
            "id": run.id, "created": run.created, "kind": run.kind, "model": run.model, "voice": run.voice,
            "provider": run.provider, "spec": run.spec, "timings": run.timings, "usage": run.usage,
            "estimated_cost_usd": run.cost, "text": run.text,
        }  # fmt: skip
        with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("run.json", json.dumps(meta, indent=2))
            if run.audio is not None and run.audio.is_file():
                z.write(run.audio, run.audio.name)
        return dest

    def total_bytes(self, owner: str | None = None) -> int:
        """The size of ``owner``'s runs (None: the whole store, what the cap counts)."""
        where, args = ("WHERE owner = ?", (owner,)) if owner is not None else ("", ())
        with self._db() as db:
            return int(db.execute(f"SELECT COALESCE(SUM(bytes), 0) FROM runs {where}", args).fetchone()[0])

    def count(self, owner: str | None = None) -> int:
        """How many runs ``owner`` has (None: the whole store)."""
        where, args = ("WHERE owner = ?", (owner,)) if owner is not None else ("", ())
        with self._db() as db:
            return int(db.execute(f"SELECT COUNT(*) FROM runs {where}", args).fetchone()[0])

    def prune(self) -> int:
        """Drop the oldest runs until the store is within both limits; returns how many went."""
        removed = 0
        with self._db() as db:
            total, count = db.execute("SELECT COALESCE(SUM(bytes), 0), COUNT(*) FROM runs").fetchone()
            for run_id, size, audio in db.execute("SELECT id, bytes, audio FROM runs ORDER BY created").fetchall():
                if total <= self.max_bytes and count <= self.max_runs:
                    break
                db.execute("DELETE FROM runs WHERE id = ?", (run_id,))
                if audio:
                    (self.audio_dir / audio).unlink(missing_ok=True)
                total, count, removed = total - size, count - 1, removed + 1
        return removed

    def _run(self, row: tuple[Any, ...]) -> Run:
        run_id, created, kind, model, voice, provider, spec, timings, usage, cost, text, audio, size, owner = row
        return Run(
            run_id, created, kind, model, voice, provider, json.loads(spec), json.loads(timings),
            json.loads(usage) if usage else None, cost, text, self.audio_dir / audio if audio else None, size, owner,
        )  # fmt: skip
