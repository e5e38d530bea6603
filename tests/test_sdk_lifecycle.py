"""The catalog's model names and shutdown dates against the installed ``openai`` SDK.

The SDK's generated types are the source of truth for which names each audio surface takes
and for OpenAI's announced shutdown dates (the "Deprecated values" docstring under each
model literal). This reads them from the installed package, not from a copy, so upgrading
the SDK pin fails here, naming every drift (model, SDK date, catalog date, SDK file), until
``presets/catalog.yaml`` says the same.

Checked in both directions for dates: a date the SDK announces and the catalog lacks or
differs on, and a date the catalog gives a name the SDK leaves undated. Names the catalog
has and the SDK does not (older snapshots, ``gpt-audio-1.5`` among chat models) are fine.
"""

from __future__ import annotations

import ast
import datetime as dt
import importlib
import inspect
import itertools
import json
import re
import textwrap
import tomllib
import typing
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import openai
import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from playground.core.catalog import Catalog, ModelEntry, get_catalog, load_catalog
from tests.conftest import REPO

# -- reading the SDK ----------------------------------------------------------------

_BULLET = re.compile(r"^\s*-\s+(?P<body>.*)$")
_NAMES = re.compile(r'^\s*((?:"[^"]+"\s*,?\s*)+):')
_DATE = re.compile(r"Announced\s+shutdown\s+date:\s*(\d{4}-\d{2}-\d{2})")


def parse_deprecated(doc: str) -> dict[str, dt.date | None]:
    """Names of a "Deprecated values:" docstring, each with its announced shutdown date.

    A bullet is ``- "a", "b": Announced shutdown date: 2027-01-06. See ...`` and may wrap
    over several lines; a bullet without a date ("Not a supported model ID") maps to None.
    """
    doc = textwrap.dedent(doc)
    _, found, tail = doc.partition("Deprecated values:")
    if not found:
        return {}
    bullets: list[str] = []
    for line in tail.splitlines():
        m = _BULLET.match(line)
        if m:
            bullets.append(m.group("body"))
        elif bullets and line.strip():
            bullets[-1] += " " + line.strip()
        elif bullets and not line.strip() and bullets[-1]:
            bullets.append("")  # a blank line ends the bullet list's current bullet
    out: dict[str, dt.date | None] = {}
    for body in filter(None, bullets):
        names = _NAMES.match(body)
        if not names:
            continue
        date = _DATE.search(body[names.end() :])
        for name in re.findall(r'"([^"]+)"', names.group(1)):
            out[name] = dt.date.fromisoformat(date.group(1)) if date else None
    return out


def _strings(tp: object) -> list[str]:
    """Every string literal inside a type (Literal, Union of str and Literal, ...)."""
    if isinstance(tp, str):
        return [tp]
    out: list[str] = []
    for arg in typing.get_args(tp):
        out.extend(_strings(arg))
    return out


def _docstring_after(body: list[ast.stmt], name: str) -> str:
    """The bare string literal that follows ``name: ... = ...`` / ``name: ...`` in a body."""
    for stmt, nxt in itertools.pairwise(body):
        if (
            isinstance(stmt, ast.AnnAssign | ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == name for t in _targets(stmt))
            and isinstance(nxt, ast.Expr)
            and isinstance(nxt.value, ast.Constant)
            and isinstance(nxt.value.value, str)
        ):
            return nxt.value.value
    return ""


def _targets(stmt: ast.AnnAssign | ast.Assign) -> list[ast.expr]:
    return [stmt.target] if isinstance(stmt, ast.AnnAssign) else list(stmt.targets)


@dataclass(frozen=True)
class SdkModels:
    """One SDK literal: its names, their announced dates, and where it was read."""

    names: tuple[str, ...]
    dates: dict[str, dt.date | None]
    file: str


def sdk_models(module: str, name: str, field: str | None = None) -> SdkModels:
    """The model literal ``module.name`` (a type alias) or ``module.name.field`` (a TypedDict key)."""
    mod = importlib.import_module(module)
    obj = getattr(mod, name)
    path = Path(inspect.getsourcefile(mod) or "")
    tree = ast.parse(inspect.getsource(mod))
    if field is None:
        names = _strings(obj)
        doc = _docstring_after(tree.body, name)
    else:
        names = _strings(typing.get_type_hints(obj)[field])
        cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == name)
        doc = _docstring_after(cls.body, field)
    rel = path.relative_to(Path(openai.__file__).resolve().parent.parent) if path.is_absolute() else path
    return SdkModels(names=tuple(names), dates=parse_deprecated(doc), file=str(rel))


# -- comparing with the catalog -----------------------------------------------------

#: a catalog lookup: the entry that holds a name, or None
Lookup = Callable[[str], ModelEntry | None]


def _table_lookup(table: dict[str, ModelEntry]) -> Lookup:
    def find(name: str) -> ModelEntry | None:
        for entry in table.values():
            if name in entry.names():
                return entry
        return None

    return find


def _show(date: dt.date | None) -> str:
    return date.isoformat() if date else "no date"


def drift(
    sdk: SdkModels, lookup: Lookup, where: str, *, must_list: Callable[[str], bool] = lambda n: True
) -> list[str]:
    """Every disagreement between one SDK literal and the catalog, one line each.

    ``must_list(name)`` says whether the catalog has to hold an SDK name at all; names it
    need not hold are still checked for their date when it does hold them.
    """
    problems = []
    for name in sdk.names:
        entry = lookup(name)
        sdk_date = sdk.dates.get(name)
        if entry is None:
            if must_list(name):
                problems.append(
                    f"{name}: the SDK lists it (SDK date {_show(sdk_date)}, {sdk.file}) but {where} lacks it"
                )
            continue
        cat_date = entry.shutdown_of(name)
        if cat_date != sdk_date:
            problems.append(
                f"{name}: SDK date {_show(sdk_date)} vs catalog date {_show(cat_date)} ({where}; {sdk.file})"
            )
    return problems


def _realtime_transcription_lookup(cat: Catalog) -> Lookup:
    offered = set(cat.realtime.transcription_models)

    def find(name: str) -> ModelEntry | None:
        entry = cat.transcription_model(name)
        return entry if entry is not None and entry.id in offered else None

    return find


def all_drift(cat: Catalog) -> list[str]:
    """Every audio surface of the installed SDK against a catalog."""
    problems: list[str] = []

    speech = sdk_models("openai.types.audio.speech_model", "SpeechModel")
    problems += drift(speech, _table_lookup(cat.speech_models), "speech.models")

    audio = sdk_models("openai.types.audio_model", "AudioModel")
    problems += drift(audio, _table_lookup(cat.file_transcription_models), "transcription.models (file: true)")

    live = sdk_models("openai.types.realtime.audio_transcription_param", "AudioTranscriptionParam", "model")
    problems += drift(live, _realtime_transcription_lookup(cat), "realtime.transcription_models")

    session = sdk_models(
        "openai.types.realtime.realtime_session_create_request_param", "RealtimeSessionCreateRequestParam", "model"
    )
    problems += drift(session, _table_lookup(cat.realtime_models), "realtime.models")

    chat = sdk_models("openai.types.shared.chat_model", "ChatModel")
    audio_names = SdkModels(tuple(n for n in chat.names if "audio" in n), chat.dates, chat.file)
    problems += drift(audio_names, _table_lookup(cat.chat_audio_models), "chat_audio.models")
    problems += drift(chat, _table_lookup(cat.chat_models), "chat.models", must_list=lambda n: False)
    return problems


# -- the tests ----------------------------------------------------------------------

SYNTHETIC = """Deprecated values:

- "model-a", "model-a-2025-01-01", "model-b": Announced shutdown date:
  2027-01-06. See https://developers.openai.com/api/docs/deprecations for
  details and recommended replacements.
- "model-c": Not a supported model ID. Retained for SDK compatibility.
- "model-d", "model-d-2024-10-01",
  "model-e": Announced
  shutdown date: 2025-10-10. See
  https://developers.openai.com/api/docs/deprecations for details.
"""


def test_the_docstring_parser_reads_wrapped_bullets():
    dates = parse_deprecated(SYNTHETIC)
    assert dates == {
        "model-a": dt.date(2027, 1, 6),
        "model-a-2025-01-01": dt.date(2027, 1, 6),
        "model-b": dt.date(2027, 1, 6),
        "model-c": None,
        "model-d": dt.date(2025, 10, 10),
        "model-d-2024-10-01": dt.date(2025, 10, 10),
        "model-e": dt.date(2025, 10, 10),
    }
    # indented the way a TypedDict field's docstring is, after a paragraph of prose
    indented = "The model.\n\n    Current options are `x`.\n\n    " + SYNTHETIC.replace("\n", "\n    ")
    assert parse_deprecated(indented) == dates
    assert parse_deprecated("The model to use.") == {}


def test_the_sdk_readers_find_names_and_dates():
    """Guards against a vacuous pass: each surface yields names, and the dated ones are dated."""
    speech = sdk_models("openai.types.audio.speech_model", "SpeechModel")
    assert "gpt-4o-mini-tts" in speech.names
    assert speech.dates, speech.file
    live = sdk_models("openai.types.realtime.audio_transcription_param", "AudioTranscriptionParam", "model")
    assert "gpt-live-transcribe" in live.names and live.dates
    session = sdk_models(
        "openai.types.realtime.realtime_session_create_request_param", "RealtimeSessionCreateRequestParam", "model"
    )
    assert "gpt-realtime-2.1" in session.names and session.dates
    chat = sdk_models("openai.types.shared.chat_model", "ChatModel")
    assert any("audio" in n for n in chat.names) and len(chat.dates) > 20


def test_catalog_matches_the_installed_sdk():
    problems = all_drift(get_catalog())
    assert not problems, f"presets/catalog.yaml drifts from openai {openai.__version__}:\n" + "\n".join(problems)


def _planted(tmp_path: Path, old: str, new: str) -> Catalog:
    text = (REPO / "presets" / "catalog.yaml").read_text(encoding="utf-8")
    assert old in text, old
    path = tmp_path / "catalog.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return load_catalog(path)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        # a date that differs (the first transcription model dated 2027-02-26 is whisper-1)
        (
            "      shutdown: 2027-02-26\n",
            "      shutdown: 2027-03-01\n",
            "whisper-1: SDK date 2027-02-26 vs catalog date 2027-03-01",
        ),
        # a date the catalog gives a name the SDK leaves undated
        (
            "gpt-5.5: {label: GPT-5.5,",
            "gpt-5.5: {shutdown: 2027-05-01, label: GPT-5.5,",
            "gpt-5.5: SDK date no date vs catalog date 2027-05-01",
        ),
        # a snapshot the SDK lists and the catalog lacks
        (
            "aliases: [gpt-4o-mini-tts-2025-03-20, gpt-4o-mini-tts-2025-12-15]",
            "aliases: [gpt-4o-mini-tts-2025-03-20]",
            "gpt-4o-mini-tts-2025-12-15: the SDK lists it",
        ),
        # a snapshot's own undated entry turned into the model's date
        (
            "{id: gpt-realtime-mini-2025-10-06, shutdown: null}",
            "gpt-realtime-mini-2025-10-06",
            "gpt-realtime-mini-2025-10-06: SDK date no date vs catalog date 2027-01-20",
        ),
    ],
    ids=["date-differs", "sdk-undated", "missing-snapshot", "snapshot-date"],
)
def test_the_checker_reports_a_planted_drift(tmp_path, old, new, expected):
    problems = all_drift(_planted(tmp_path, old, new))
    assert any(expected in p for p in problems), problems
    assert all(".py" in p for p in problems), "each line names the SDK file"


def test_the_openai_pin_is_what_is_installed():
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    pins = [d for d in project["project"]["dependencies"] if re.match(r"openai\s*[~=<>!]", d)]
    assert len(pins) == 1, pins
    spec = SpecifierSet(pins[0].removeprefix("openai").strip())
    assert Version(openai.__version__) in spec, f"installed openai {openai.__version__} outside the pin {pins[0]}"


def test_the_npm_openai_pin_is_what_is_installed():
    match = re.search(r"^NPM_OPENAI\s*:?=\s*(\S+)", (REPO / "Makefile").read_text(encoding="utf-8"), re.M)
    assert match, "Makefile sets no NPM_OPENAI"
    package = REPO / ".venv" / "node" / "node_modules" / "openai" / "package.json"
    if not package.is_file():  # node packages not installed here: nothing to compare
        return
    installed = json.loads(package.read_text(encoding="utf-8"))["version"]
    assert installed == match.group(1), f"Makefile pins openai@{match.group(1)}, installed is {installed}"


# -- docs/model-lifecycle.md ----------------------------------------------------------


def test_the_lifecycle_page_is_generated_from_the_catalog():
    """The committed page equals a fresh render for the date it states (so any day passes)."""
    from playground.core.lifecycle_doc import DOC_PATH, as_of_of, render

    committed = DOC_PATH.read_text(encoding="utf-8")
    as_of = as_of_of(committed)
    assert as_of is not None, f"{DOC_PATH} states no 'Status as of' date"
    assert committed == render(get_catalog(), as_of=as_of), (
        "docs/model-lifecycle.md is stale: run `python -m playground.core.lifecycle_doc --write`"
    )


def test_the_lifecycle_page_status_names_dates():
    from playground.core.lifecycle_doc import render, status_text

    assert status_text(None, dt.date(2026, 12, 7)) == "current"
    assert status_text(dt.date(2027, 1, 20), dt.date(2026, 12, 7)) == "deprecated: shuts down 2027-01-20"
    assert status_text(dt.date(2026, 5, 7), dt.date(2026, 12, 7)) == "shut down 2026-05-07"
    assert status_text(dt.date(2027, 1, 20), dt.date(2027, 1, 20)) == "shut down 2027-01-20"
    cat = get_catalog()
    later = render(cat, as_of=dt.date(2027, 3, 1))
    assert "deprecated: shuts down" not in later.split("## Speech")[1].split("## Realtime")[0]
    assert "Status as of 2027-03-01" in later
    page = render(cat, as_of=dt.date(2026, 12, 7))
    for surface in cat.model_tables().values():
        for model_id in surface:
            assert f"`{model_id}`" in page


def test_a_changed_default_needs_a_new_reason(tmp_path):
    from playground.core.lifecycle_doc import render

    cat = _planted(tmp_path, "default_model: gpt-5.4-mini", "default_model: gpt-5.4")
    with pytest.raises(ValueError, match=r"chat\.default_model is 'gpt-5.4'"):
        render(cat, as_of=dt.date(2026, 12, 7))
