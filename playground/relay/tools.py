"""Demo function tools for realtime sessions, run by the playground itself.

Their definitions and the canned weather live in ``presets/demo_tools.yaml``; each
browser session has its own ``ToolBox`` (the notes memory), bounded in size. Outputs
are JSON strings, ready for a ``function_call_output`` item.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import yaml

from playground.core import jsonsafe
from playground.core.catalog import presets_dir

__all__ = ["MAX_NOTES", "ToolBox", "ToolRunner", "demo_tools"]

MAX_NOTES = 50
MAX_NOTE_CHARS = 500


@functools.cache
def _table() -> dict[str, Any]:
    return yaml.safe_load((presets_dir() / "demo_tools.yaml").read_text(encoding="utf-8"))


def demo_tools(names: list[str] | None = None) -> list[dict[str, Any]]:
    """GA function tool definitions (``session.tools``), all or the ``names`` given, in file order."""
    table = _table()
    chosen = list(table) if names is None else [n for n in table if n in names]
    return [
        {"type": "function", "name": n, "description": table[n]["description"], "parameters": table[n]["parameters"]}
        for n in chosen
    ]


class ToolBox:
    """Runs the demo tools for one conversation; unknown tools and bad arguments become
    an ``{"error": ...}`` output the model can read, never an exception."""

    def __init__(self, clock: Callable[[], datetime] = datetime.now) -> None:
        self.notes: list[str] = []
        self._clock = clock

    def run(self, name: str, arguments: str) -> str:
        try:
            args = jsonsafe.loads(arguments or "{}")
        except ValueError:
            return json.dumps({"error": f"arguments for {name} are not valid JSON"})
        if not isinstance(args, dict):
            return json.dumps({"error": f"arguments for {name} must be an object"})
        handler = getattr(self, f"_{name}", None)
        if name not in _table() or handler is None:
            return json.dumps({"error": f"no demo tool named {name!r}"})
        return json.dumps(handler(args), ensure_ascii=False)

    def _get_weather(self, args: dict[str, Any]) -> dict[str, Any]:
        city = str(args.get("city", "")).strip()
        if not city:
            return {"error": "which city?"}
        weather = _table()["get_weather"]
        data = weather["canned"].get(city.lower(), weather["fallback"])
        return {"city": city, **data, "note": "demo data, not a real forecast"}

    def _remember_note(self, args: dict[str, Any]) -> dict[str, Any]:
        note = str(args.get("note", "")).strip()[:MAX_NOTE_CHARS]
        if not note:
            return {"error": "the note is empty"}
        self.notes.append(note)
        del self.notes[:-MAX_NOTES]
        return {"saved": note, "notes_saved": len(self.notes)}

    def _recall_notes(self, _: dict[str, Any]) -> dict[str, Any]:
        return {"notes": list(self.notes)}

    def _get_time(self, _: dict[str, Any]) -> dict[str, Any]:
        now = self._clock()
        return {"date": now.strftime("%A %d %B %Y"), "time": now.strftime("%H:%M")}


class ToolRunner:
    """What the relay calls for a ``function_call``: the demo tools, plus custom tools
    the user defined in the UI with a canned result (there is no code behind them)."""

    def __init__(self) -> None:
        self.box = ToolBox()
        self.canned: dict[str, str] = {}

    def set_custom(self, results: dict[str, str]) -> None:
        self.canned = dict(results)

    def run(self, name: str, arguments: str) -> str:
        if name in self.canned:
            return self.canned[name]
        return self.box.run(name, arguments)
