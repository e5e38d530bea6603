"""Vibe presets: a voice, a sample script and delivery instructions, stored as YAML.

Built-in vibes ship in ``presets/vibes/`` and must be valid (a broken one is a bug, so it
raises). User vibes live in a folder under :func:`user_data_dir`; a hand-edited file there
that no longer parses is skipped with a warning so it cannot stop the app from starting.
Instructions are kept per section (affect, tone, ...) so the UI can show and edit them as
one labelled text and :func:`parse_instructions_text` can split that text back.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
import unicodedata
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from playground.core.catalog import presets_dir
from playground.core.errors import PlaygroundError

__all__ = [
    "FREE",
    "SECTIONS",
    "Vibe",
    "VibeError",
    "VibeExistsError",
    "VibeStore",
    "builtin_vibes_dir",
    "load_vibe",
    "load_vibes",
    "parse_instructions_text",
    "slugify",
    "user_data_dir",
]

log = logging.getLogger(__name__)

SECTIONS = ("affect", "tone", "pacing", "emotion", "pronunciation", "pauses")
#: key for instructions text that has no section labels (user vibes only, in practice)
FREE = "free"
SLUG_MAX = 60
#: longest vibe name a user may save
NAME_MAX = 60

_LABEL = re.compile(rf"^[ \t]*({'|'.join(SECTIONS)})[ \t]*:[ \t]*(.*)$", re.IGNORECASE)


class VibeError(PlaygroundError, ValueError):
    """A vibe file or vibe name is invalid; the message names the file and field."""


class VibeExistsError(VibeError):
    """Saving would replace an existing user vibe and overwriting was not confirmed."""


@dataclass(frozen=True)
class Vibe:
    """One preset. ``slug`` is the file stem; ``user`` marks vibes from the user folder."""

    slug: str
    name: str
    description: str
    voice: str
    tags: tuple[str, ...]
    script: str
    instructions: dict[str, str]
    user: bool = False

    @property
    def instructions_text(self) -> str:
        """Instructions as one editable text: free text first, then "Affect: ..." blocks."""
        parts = []
        free = self.instructions.get(FREE, "").strip()
        if free:
            parts.append(free)
        for section in SECTIONS:
            text = self.instructions.get(section, "").strip()
            if text:
                parts.append(f"{section.capitalize()}: {text}")
        return "\n\n".join(parts)

    def to_yaml_dict(self) -> dict[str, Any]:
        """The file contents (slug and user come from where the file lives, not from it)."""
        return {
            "name": self.name,
            "description": self.description,
            "voice": self.voice,
            "tags": list(self.tags),
            "script": self.script,
            "instructions": _ordered_instructions(self.instructions),
        }


def _ordered_instructions(instructions: Mapping[str, str]) -> dict[str, str]:
    return {k: instructions[k] for k in (*SECTIONS, FREE) if k in instructions}


def parse_instructions_text(text: str) -> dict[str, str]:
    """Split labelled text ("Tone: ...") into sections; unlabelled text becomes ``{"free": ...}``.

    Labels are matched case-insensitively at the start of a line, and a section runs until the
    next label, so sections may span lines. Text before the first label is kept under "free";
    a repeated label appends to its section; empty sections are dropped. Blank text gives {}.
    """
    chunks: dict[str, list[str]] = {}
    current = FREE
    lines: list[str] = []

    def flush() -> None:
        body = "\n".join(lines).strip()
        if body:
            chunks.setdefault(current, []).append(body)

    for line in text.splitlines():
        match = _LABEL.match(line)
        if match:
            flush()
            current, lines = match.group(1).lower(), [match.group(2)]
        else:
            lines.append(line)
    flush()
    return _ordered_instructions({k: "\n\n".join(v) for k, v in chunks.items()})


def slugify(name: str) -> str:
    """A safe file stem: ascii ``[a-z0-9-]``, no leading/trailing/double hyphens, at most 60 chars."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    slug = slug[:SLUG_MAX].rstrip("-")
    if not slug:
        raise VibeError(f"vibe name {name!r}: name must contain letters or digits")
    return slug


# -- loading ---------------------------------------------------------------------


def load_vibe(path: Path, *, user: bool = False, voices: Collection[str]) -> Vibe:
    """Read and check one vibe file; raises ``VibeError`` naming the file and the bad field."""
    path = Path(path)

    def fail(where: str, why: str) -> VibeError:
        return VibeError(f"{path}: {where}: {why}")

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise VibeError(f"{path}: cannot read vibe: {e}") from e
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise VibeError(f"{path}: not valid YAML: {e}") from e
    if not isinstance(data, dict):
        raise fail("top level", f"expected a mapping, got {type(data).__name__}")

    def text(key: str, *, default: str | None = None) -> str:
        if key not in data:
            if default is None:
                raise fail(key, "missing")
            return default
        value = data[key]
        if not isinstance(value, str):
            raise fail(key, f"expected text, got {value!r}")
        return value

    name = text("name").strip()
    if not name:
        raise fail("name", "must not be empty")
    voice = text("voice")
    if voice not in voices:
        raise fail("voice", f"{voice!r} is not a known voice; valid voices: {', '.join(voices)}")
    script = text("script")
    description = text("description", default="").strip()

    tags = data.get("tags", [])
    if tags is None:
        tags = []
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise fail("tags", f"expected a list of text, got {tags!r}")

    raw = data.get("instructions")
    if "instructions" not in data:
        raise fail("instructions", "missing")
    if not isinstance(raw, dict):
        raise fail("instructions", f"expected a mapping of section to text, got {type(raw).__name__}")
    instructions = {}
    for key, value in raw.items():
        section = str(key).lower()
        if section not in SECTIONS and section != FREE:
            raise fail(f"instructions.{key}", f"unknown section; valid sections: {', '.join(SECTIONS)}")
        if not isinstance(value, str):
            raise fail(f"instructions.{key}", f"expected text, got {value!r}")
        instructions[section] = value.strip()

    return Vibe(
        slug=path.stem,
        name=name,
        description=description,
        voice=voice,
        tags=tuple(tags),
        script=script,
        instructions=_ordered_instructions(instructions),
        user=user,
    )


def load_vibes(folder: Path, *, user: bool = False, voices: Collection[str]) -> list[Vibe]:
    """Every ``*.yaml`` in a folder, sorted by name. Bad user files are skipped, bad built-ins raise."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    vibes = []
    for path in sorted(folder.glob("*.yaml")):
        if path.name.startswith(".") or not path.is_file():
            continue  # temp files from an interrupted save, editor swap files
        try:
            vibes.append(load_vibe(path, user=user, voices=voices))
        except VibeError as e:
            if not user:
                raise
            log.warning("skipping user vibe %s", e)
    return sorted(vibes, key=lambda v: (v.name.casefold(), v.slug))


def builtin_vibes_dir() -> Path:
    return presets_dir() / "vibes"


def user_data_dir() -> Path:
    """$PLAYGROUND_DATA_DIR, else $XDG_DATA_HOME/audio-playground, else ~/.local/share/... (not created)."""
    root = os.environ.get("PLAYGROUND_DATA_DIR")
    if root:
        return Path(root)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "audio-playground"


# -- user vibes ------------------------------------------------------------------


class _BlockDumper(yaml.SafeDumper):
    """Writes multi-line text as ``|`` blocks so saved files stay pleasant to hand-edit."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockDumper.add_representer(str, _represent_str)


class VibeStore:
    """User vibes, one ``<slug>.yaml`` each in ``folder``; names are slugified so paths stay inside it."""

    def __init__(self, folder: Path, *, voices: Collection[str], reserved: Collection[str] = ()):
        """``reserved``: names (built-in vibes) that only an explicit overwrite may shadow."""
        self.folder = Path(folder)
        self.voices = tuple(voices)
        self._reserved = {slugify(n): n for n in reserved}

    def path_for(self, name: str) -> Path:
        """The file a name maps to; raises ``VibeError`` when the name has no letters or digits."""
        return self.folder / f"{slugify(name)}.yaml"

    def list(self) -> list[Vibe]:
        return load_vibes(self.folder, user=True, voices=self.voices)

    def exists(self, name: str) -> bool:
        try:
            return self.path_for(name).is_file()
        except VibeError:
            return False

    def save(
        self,
        name: str,
        *,
        instructions: str,
        script: str,
        voice: str,
        description: str = "",
        overwrite: bool = False,
    ) -> Vibe:
        """Write a vibe atomically; refuses to replace an existing file, or to shadow a
        reserved (built-in) name, unless ``overwrite``."""
        name = name.strip()
        if len(name) > NAME_MAX:
            raise VibeError(f"vibe name is {len(name)} characters; at most {NAME_MAX}")
        path = self.path_for(name)
        builtin = self._reserved.get(path.stem)
        if builtin is not None and not overwrite and not path.exists():
            raise VibeExistsError(
                f"{builtin!r} is a built-in vibe; confirm overwriting to save your own version under that name"
            )
        if voice not in self.voices:
            raise VibeError(
                f"vibe {name!r}: voice {voice!r} is not a known voice; valid voices: {', '.join(self.voices)}"
            )
        if path.exists() and not overwrite:
            raise VibeExistsError(
                f"a vibe named {self._existing_name(path, name)!r} already exists ({path.name}); "
                "confirm overwriting to replace it"
            )
        vibe = Vibe(
            slug=path.stem,
            name=name,
            description=description.strip(),
            voice=voice,
            tags=(),
            script=script,
            instructions=parse_instructions_text(instructions),
            user=True,
        )
        body = yaml.dump(vibe.to_yaml_dict(), Dumper=_BlockDumper, sort_keys=False, allow_unicode=True, width=100)
        self.folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=f".{path.stem}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(body)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return vibe

    def delete(self, name: str) -> bool:
        """Remove a user vibe; False when there was none by that name."""
        try:
            path = self.path_for(name)
        except VibeError:
            return False
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        return True

    def _existing_name(self, path: Path, fallback: str) -> str:
        try:
            return load_vibe(path, user=True, voices=self.voices).name
        except VibeError:
            return fallback
