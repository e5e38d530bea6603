"""Read a scenario file into a ``Scenario``, or fail with the file, line and field of the mistake.

YAML is composed into nodes first (``yaml.compose``), so every value keeps the line it was
written on, and only then constructed into plain data for pydantic. A validation error's
``loc`` is walked back through those nodes to the line a person must edit. Checks that need
the world outside the file (the catalog's voices, the demo tools, recordings on disk) run
after validation and report the same way, so nothing connects before the file is sound.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from playground.core.catalog import get_catalog, presets_dir
from playground.evals.scenario import (
    AUDIO_INPUT_KEYS,
    AUDIO_OUTPUT_KEYS,
    DEMO_PREFIX,
    SESSION_KEYS,
    CannedTool,
    Scenario,
    ScenarioError,
)

__all__ = ["load_scenario", "parse_scenario", "shipped_scenarios"]

#: the name ``parse_scenario`` reports when the text has no file behind it
INLINE = "<scenario>"

Loc = tuple[str | int, ...]


def shipped_scenarios() -> list[Path]:
    """The scenarios that come with the playground (``presets/evals/*.yaml``), by name."""
    return sorted((presets_dir() / "evals").glob("*.yaml"))


def load_scenario(path: str | Path) -> Scenario:
    """Read and check one scenario file; recordings are found relative to it."""
    path = Path(path)
    limit = get_catalog().limits.eval_file_max_bytes
    try:
        size = path.stat().st_size
        if size > limit:
            raise ScenarioError(str(path), None, "", f"the file is {size} bytes; a scenario may have {limit}")
        raw = path.read_bytes()
    except OSError as e:
        raise ScenarioError(str(path), None, "", f"cannot read the file: {e.strerror or e}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ScenarioError(str(path), None, "", "not UTF-8 text") from None
    return parse_scenario(text, str(path))


def parse_scenario(text: str, path: str = INLINE) -> Scenario:
    """Check scenario text; ``path`` names it in errors and anchors its recordings (cwd when inline)."""
    limit = get_catalog().limits.eval_file_max_bytes
    size = len(text.encode("utf-8"))
    if size > limit:
        raise ScenarioError(path, None, "", f"the text is {size} bytes; a scenario may have {limit}")
    root = _compose(text, path)
    try:
        data = yaml.SafeLoader("").construct_document(root)
    except yaml.MarkedYAMLError as e:  # a tag SafeLoader refuses (!!python/object ...)
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark is not None else None
        raise ScenarioError(path, line, "", f"not valid YAML: {e.problem or e}") from None
    if not isinstance(data, dict):
        kind = "a list" if isinstance(root, SequenceNode) else f"{type(data).__name__} {data!r}"[:60]
        why = f"the top level must be a mapping (name, session, turns), not {kind}"
        raise ScenarioError(path, _line(root), "", why)
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as e:
        loc, message = _first_error(e, data)
        line, field = _locate(root, loc)
        raise ScenarioError(path, line, field, message) from None
    source = None if path == INLINE else Path(path)
    scenario = scenario.model_copy(update={"source": source})
    _check_world(scenario, root, path)
    return scenario


# -- YAML with line numbers ---------------------------------------------------------


def _compose(text: str, path: str) -> Node:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark is not None else None
        why = " ".join(p for p in (e.context, e.problem) if p) or "not valid YAML"
        raise ScenarioError(path, line, "", f"not valid YAML: {why}") from None
    except yaml.YAMLError as e:
        raise ScenarioError(path, None, "", f"not valid YAML: {e}") from None
    if root is None:
        raise ScenarioError(path, None, "", "the file is empty; a scenario needs name, session and turns")
    _no_duplicate_keys(root, path, ())
    return root


def _line(node: Node) -> int:
    return node.start_mark.line + 1


def _no_duplicate_keys(node: Node, path: str, loc: Loc) -> None:
    """YAML quietly keeps the last of two equal keys; in a scenario that hides a mistake."""
    if isinstance(node, MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            name = key.value if isinstance(key, ScalarNode) else None
            if name is not None and name in seen:
                raise ScenarioError(path, _line(key), _dotted((*loc, name)), "given twice")
            if name is not None:
                seen.add(name)
            _no_duplicate_keys(value, path, (*loc, name) if name is not None else loc)
    elif isinstance(node, SequenceNode):
        for i, item in enumerate(node.value):
            _no_duplicate_keys(item, path, (*loc, i))


def _child(node: Node, key: str | int) -> tuple[Node, int] | None:
    """The node under ``key`` and the line that names it (the key's line, or the list item's)."""
    if isinstance(node, MappingNode) and not isinstance(key, int):
        for k, v in node.value:
            if isinstance(k, ScalarNode) and k.value == key:
                return v, _line(k)
    if isinstance(node, SequenceNode) and isinstance(key, int) and 0 <= key < len(node.value):
        item = node.value[key]
        return item, _line(item)
    return None


def _locate(root: Node, loc: Loc) -> tuple[int, str]:
    """The line and dotted field of ``loc``. Parts the file does not have are either the last
    one (a missing field: reported on its parent's line) or pydantic's union-member tags
    (``Pattern``, ``str``), which are skipped."""
    node, line, kept = root, _line(root), []
    for i, part in enumerate(loc):
        found = _child(node, part)
        if found is not None:
            node, line = found
            kept.append(part)
        elif i == len(loc) - 1:
            kept.append(part)
    return line, _dotted(tuple(kept))


def _dotted(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


# -- pydantic errors -----------------------------------------------------------------


def _clean(error: dict[str, Any]) -> str:
    kind = error["type"]
    if kind == "missing":
        return "required, but not given"
    if kind == "extra_forbidden":
        return "unknown field"
    return str(error["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")


def _first_error(e: ValidationError, data: dict[str, Any]) -> tuple[Loc, str]:
    """The error to report, its ``loc`` made exact, and its message."""
    errors = e.errors()
    first = errors[0]
    loc: Loc = tuple(first["loc"])
    if first["type"] == "missing":
        # a misspelt key shows as the key it should have been (missing) plus itself (extra):
        # the misspelling is what to point at
        for other in errors[1:]:
            if other["type"] == "extra_forbidden" and tuple(other["loc"])[:-1] == loc[:-1]:
                return tuple(other["loc"]), f"unknown field (expected {loc[-1]!r})"
    if loc and loc[0] == "session" and isinstance(data.get("session"), dict):
        return _session_error(data["session"], first)
    return loc, _clean(first)


def _session_error(session: dict[str, Any], error: dict[str, Any]) -> tuple[Loc, str]:
    """``session`` is checked by one validator, so pydantic's ``loc`` stops at it; find the key."""
    message = _clean(error)
    model = session.get("model")
    if not isinstance(model, str) or not model:
        return ("session", "model"), message
    unknown = sorted(set(session) - SESSION_KEYS)
    if unknown:
        return ("session", unknown[0]), message
    audio = session.get("audio") or {}
    if not isinstance(audio, dict):
        return ("session", "audio"), message
    for side, keys in (("input", AUDIO_INPUT_KEYS), ("output", AUDIO_OUTPUT_KEYS)):
        part = audio.get(side) or {}
        if not isinstance(part, dict):
            return ("session", "audio", side), message
        extra = sorted(set(part) - keys)
        if extra:
            return ("session", "audio", side, extra[0]), message
    tools = session.get("tools") or []
    if not isinstance(tools, list):
        return ("session", "tools"), message
    for i, tool in enumerate(tools):
        if isinstance(tool, str) and tool.startswith(DEMO_PREFIX):
            continue
        if isinstance(tool, dict):
            try:
                CannedTool.model_validate(tool)
            except ValidationError as inner:
                sub = inner.errors()[0]
                return ("session", "tools", i, *sub["loc"]), _clean(sub)
            continue
        return ("session", "tools", i), message
    return tuple(error["loc"]), message


# -- what the file refers to -----------------------------------------------------------


def _check_world(scenario: Scenario, root: Node, path: str) -> None:
    """Demo tools that exist, voices the catalog has, recordings that are on disk."""
    from playground.relay.tools import demo_tools

    demo = {t["name"] for t in demo_tools()}
    for i, tool in enumerate(scenario.session.get("tools") or []):
        if isinstance(tool, str) and tool.removeprefix(DEMO_PREFIX) not in demo:
            line, field = _locate(root, ("session", "tools", i))
            raise ScenarioError(path, line, field, f"no demo tool {tool!r}; there are {sorted(demo)}")
    voices = get_catalog().voice_ids
    for i, turn in enumerate(scenario.turns):
        if turn.voice is not None and turn.voice not in voices:
            line, field = _locate(root, ("turns", i, "voice"))
            raise ScenarioError(path, line, field, f"unknown voice {turn.voice!r}; the catalog has {voices}")
        if turn.audio is not None:
            recording = scenario.recording(turn)
            if not recording.is_file():
                line, field = _locate(root, ("turns", i, "audio"))
                # named as the file gave it: the server's own folders are nobody's business
                raise ScenarioError(path, line, field, f"no recording {turn.audio!r} next to the scenario file")
