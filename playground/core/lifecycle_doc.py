"""``docs/model-lifecycle.md``, generated from the catalog: every model, its status, replacement and local engine.

    python -m playground.core.lifecycle_doc                 # print the page (status as of today)
    python -m playground.core.lifecycle_doc --write         # write docs/model-lifecycle.md
    python -m playground.core.lifecycle_doc --as-of 2027-02-01 --write

The page states the date its status column was computed for, and that column reads from the
shutdown dates alone ("deprecated: shuts down 2027-01-20", "shut down 2026-05-07"), so the
committed file stays true on any later day. The test regenerates it with the date the
committed file states and compares, so it fails only when the catalog changed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from playground.core.catalog import Catalog, ModelEntry, get_catalog
from playground.core.lifecycle import today

__all__ = ["DOC_PATH", "DefaultReason", "as_of_of", "render", "status_text"]

DOC_PATH = Path(__file__).resolve().parents[2] / "docs" / "model-lifecycle.md"

#: the API surface each catalog section stands for, in the page's order
SURFACES = {
    "speech": "Speech (`/v1/audio/speech`)",
    "transcription": "Transcription (`/v1/audio/transcriptions`, realtime transcription)",
    "realtime": "Realtime (`/v1/realtime`)",
    "translation": "Realtime translation (`/v1/realtime/translations`)",
    "chat_audio": "Audio chat (Chat Completions with audio in and out)",
    "chat": "Chained chat (Chat Completions, text; the realtime tab's chained pipeline)",
}

#: the local LLM that answers chat, audio chat and realtime turns
LOCAL_LLM = "local LLM (SmolLM2-135M)"

_ENGINE_NAMES = {"hibari": "hibari", "piper": "Piper", "pico": "Pico", "kokoro": "Kokoro"}


@dataclass(frozen=True)
class DefaultReason:
    """Why a default is what it is: written for one model, so a changed default must change its reason."""

    setting: str
    model: str
    why: str


#: our own words on each default, keyed by its catalog setting
REASONS = (
    DefaultReason(
        "speech.default_model",
        "gpt-4o-mini-tts",
        "The only speech model that takes style instructions, and the cheapest per minute. Every model of "
        "the speech endpoint shuts down on the same day; OpenAI's replacement is gpt-realtime-2.1-mini "
        "through the Realtime API, so the speech default stays until then.",
    ),
    DefaultReason(
        "transcription.default_model",
        "gpt-transcribe",
        "The current file transcription model, with keyword and language hints; every older file model "
        "(whisper-1, gpt-4o-transcribe, gpt-4o-mini-transcribe, gpt-4o-transcribe-diarize) is deprecated.",
    ),
    DefaultReason(
        "transcription.round_trip_model",
        "gpt-transcribe",
        "What Compare transcribes the playground's own speech back with: the current file model, so the "
        "round trip keeps working after the older models shut down.",
    ),
    DefaultReason(
        "realtime.default_model",
        "gpt-realtime-2.1-mini",
        "Current, and far cheaper per token than gpt-realtime-2.1; it is also the model OpenAI names in "
        "place of the speech endpoint. Pick gpt-realtime-2.1 for harder turns.",
    ),
    DefaultReason(
        "realtime.default_transcription_model",
        "gpt-live-transcribe",
        "The current low-latency streaming model for live audio, with keyword and language hints.",
    ),
    DefaultReason(
        "translation.default_model",
        "gpt-realtime-translate",
        "The one model of live speech translation sessions.",
    ),
    DefaultReason(
        "translation.transcription_model",
        "gpt-realtime-whisper",
        "The source-language transcript beside a translation: the streaming model OpenAI recommends for it.",
    ),
    DefaultReason(
        "realtime.chained.speech_model",
        "gpt-4o-mini-tts",
        "The chained pipeline speaks through the speech endpoint, so it uses the speech default.",
    ),
    DefaultReason(
        "chat_audio.default_model",
        "gpt-audio-1.5",
        "The current audio chat model and OpenAI's named replacement for gpt-audio-mini.",
    ),
    DefaultReason(
        "chat.default_model",
        "gpt-5.4-mini",
        "Current, small and fast enough for a spoken turn; the gpt-4o and gpt-4.1 families are deprecated.",
    ),
)


def _setting(cat: Catalog, setting: str) -> str:
    value: object = cat.file
    for part in setting.split("."):
        value = getattr(value, part)
    return str(value)


def status_text(shutdown: dt.date | None, as_of: dt.date) -> str:
    """A status that stays true after ``as_of``: it names the date rather than counting days."""
    if shutdown is None:
        return "current"
    if as_of < shutdown:
        return f"deprecated: shuts down {shutdown.isoformat()}"
    return f"shut down {shutdown.isoformat()}"


def _snapshots(entry: ModelEntry, as_of: dt.date) -> str:
    out = []
    for alias in entry.aliases:
        note = ""
        if alias.own_date and alias.shutdown != entry.shutdown:
            note = f" ({status_text(alias.shutdown, as_of)})" if alias.shutdown else " (no shutdown date announced)"
        out.append(f"`{alias.id}`{note}")
    return ", ".join(out) or "—"


def _local_engine(cat: Catalog, surface: str, entry: ModelEntry) -> str:
    local = cat.local
    if surface == "speech":
        engines = list(dict.fromkeys(v.engine for v in local.voices.values()))
        return " / ".join(_ENGINE_NAMES.get(e, e) for e in engines) + " voices"
    if surface == "transcription":
        whisper = local.transcription.get(entry.id)
        if whisper is None:
            return "—"
        english = f" ({whisper.english} for English)" if whisper.english else ""
        return f"Whisper {whisper.model}{english}"
    if surface == "translation":
        voice = local.voices[local.translation.voice]
        return f"Whisper base (translates into English) + {_ENGINE_NAMES.get(voice.engine, voice.engine)} voice"
    return LOCAL_LLM


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _defaults_table(cat: Catalog, as_of: dt.date) -> list[str]:
    lines = ["| Setting | Model | Status | Why |", "| --- | --- | --- | --- |"]
    for reason in REASONS:
        model = _setting(cat, reason.setting)
        if model != reason.model:
            raise ValueError(
                f"{reason.setting} is {model!r} but its reason in playground/core/lifecycle_doc.py was "
                f"written for {reason.model!r}: update REASONS"
            )
        entry = cat.model_entry(model)
        status = status_text(entry.shutdown_of(model) if entry else None, as_of)
        lines.append(f"| `{reason.setting}` | `{model}` | {status} | {_cell(reason.why)} |")
    return lines


def _surface_table(cat: Catalog, surface: str, as_of: dt.date) -> list[str]:
    table: dict[str, ModelEntry] = cat.model_tables()[surface]
    lines = [
        "| Model | Snapshots | Status | Replacement | Local engine |",
        "| --- | --- | --- | --- | --- |",
    ]
    for entry in table.values():
        notes = []
        if surface == "transcription" and not getattr(entry, "file", True):
            notes.append("realtime only")
        if not entry.offer:
            notes.append("answered, not offered")
        name = f"`{entry.id}`" + (f" ({', '.join(notes)})" if notes else "")
        replacement = f"`{entry.replacement}`" if entry.replacement else "—"
        lines.append(
            f"| {name} | {_snapshots(entry, as_of)} | {status_text(entry.shutdown, as_of)} | {replacement} "
            f"| {_cell(_local_engine(cat, surface, entry))} |"
        )
    return lines


_AS_OF = re.compile(r"^Status as of (\d{4}-\d{2}-\d{2})", re.M)


def as_of_of(text: str) -> dt.date | None:
    """The date a generated page states its status for."""
    m = _AS_OF.search(text)
    return dt.date.fromisoformat(m.group(1)) if m else None


def render(cat: Catalog | None = None, *, as_of: dt.date) -> str:
    """The whole page, as Markdown."""
    cat = cat or get_catalog()
    out = [
        "# Model lifecycle",
        "",
        "<!-- Generated from presets/catalog.yaml by `python -m playground.core.lifecycle_doc --write`; "
        "do not edit by hand. -->",
        "",
        f"Status as of {as_of.isoformat()}, the date this page was generated with. A status names its date "
        "rather than counting days, so it stays true later: *deprecated: shuts down D* means OpenAI has "
        "announced D and the model still answers before it; *shut down D* means it stopped answering on D. "
        "The app decides the same by today's date (`playground/core/lifecycle.py`): pickers drop a model "
        "from its shutdown date on, and the embedded backend answers it with `model_not_found` "
        "(`PLAYGROUND_SERVE_RETIRED=1` keeps it serving).",
        "",
        'The dates come from the installed `openai` SDK\'s "Deprecated values" docstrings; '
        "`tests/test_sdk_lifecycle.py` fails, naming the drift, when the catalog and the SDK differ. "
        "*Snapshots* are the dated names that share the model's entry (and its date unless noted). "
        "*Local engine* is what answers the name on the embedded backend (no key, no network).",
        "",
        "## Defaults",
        "",
        *_defaults_table(cat, as_of),
    ]
    for surface, title in SURFACES.items():
        out += ["", f"## {title}", "", *_surface_table(cat, surface, as_of)]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m playground.core.lifecycle_doc", description=__doc__.split("\n")[0])
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=None, help="status date (default: today)")
    parser.add_argument("--write", action="store_true", help=f"write {DOC_PATH.relative_to(DOC_PATH.parents[1])}")
    args = parser.parse_args(argv)
    text = render(as_of=args.as_of or today())
    if args.write:
        DOC_PATH.write_text(text, encoding="utf-8")
        print(f"wrote {DOC_PATH}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
