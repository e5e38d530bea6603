"""What every request spec shares: the base class, catalog defaults and validation helpers.

Split out of ``specs`` so each API family's spec lives in its own module; the helpers here
(allowed values, lists, Unicode, the transcription fields several specs carry) are the
rules they have in common. Import specs from ``playground.core.specs``.
"""

from __future__ import annotations

import re
from dataclasses import asdict, field
from typing import Any

from playground.core.catalog import Catalog, get_catalog
from playground.core.errors import Problem, SpecError

_ISO_639_1 = re.compile(r"^[a-z]{2}$")
#: realtime ``reasoning.effort`` and transcription ``delay`` levels
EFFORTS = ("minimal", "low", "medium", "high", "xhigh")
DELAYS = EFFORTS
TRUNCATIONS = ("auto", "disabled", "retention_ratio")
KEYWORDS_MAX = 100
KEYWORD_MAX_CHARS = 100
KNOWN_SPEAKERS_MAX = 4


def _custom_voice(voice: str) -> bool:
    """A custom voice id (``voice_…``), sent as ``{"id": ...}``."""
    return isinstance(voice, str) and voice.startswith("voice_") and len(voice) > len("voice_")


def _voice_value(voice: str) -> str | dict[str, str]:
    return {"id": voice} if _custom_voice(voice) else voice


def _list_problems(name: str, values: Any, *, limit: int, max_chars: int | None = None) -> list[Problem]:
    if not isinstance(values, list | tuple) or not all(isinstance(v, str) for v in values):
        return [Problem(name, values, "must be a list of strings")]
    if len(values) > limit:
        return [Problem(name, len(values), f"at most {limit} entries")]
    for v in values:
        if not v.strip():
            return [Problem(name, list(values), "entries must not be empty")]
        if max_chars is not None and len(v) > max_chars:
            return [Problem(name, v[:40], f"each entry at most {max_chars} characters")]
        if not _is_unicode(v):
            return [Problem(name, v[:40], "contains invalid Unicode")]
    return []


def _transcription_field_problems(
    model: Any, keywords: tuple[str, ...], languages: tuple[str, ...], *, prefix: str = "", file: bool = False
) -> list[Problem]:
    """``keywords`` / ``languages``: only for models whose catalog entry takes them."""
    out: list[Problem] = []
    cat = get_catalog()
    table = cat.file_transcription_models if file else cat.transcription_models
    for name, values, flag in (("keywords", keywords, "keywords"), ("languages", languages, "languages")):
        if not values:
            continue
        if model is not None and not getattr(model, flag):
            takers = [m.id for m in table.values() if getattr(m, flag)]
            out.append(Problem(prefix + name, list(values), f"not supported by {model.id}; use {', '.join(takers)}"))
            continue
        if name == "keywords":
            out.extend(_list_problems(prefix + name, values, limit=KEYWORDS_MAX, max_chars=KEYWORD_MAX_CHARS))
        else:
            found = _list_problems(prefix + name, values, limit=len(cat.transcription.languages) or 100)
            if not found:
                bad = [v for v in values if not _ISO_639_1.match(v)]
                if bad:
                    found = [Problem(prefix + name, bad, "must be ISO-639-1 codes such as en, de, fr")]
            out.extend(found)
    return out


def split_list(text: str | None) -> tuple[str, ...]:
    """A comma- or newline-separated box as a tuple of trimmed, non-empty entries."""
    return tuple(v.strip() for v in re.split(r"[,\n]", text or "") if v.strip())


def _is_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _default(section: str, key: str) -> Any:
    return field(default_factory=lambda: getattr(getattr(get_catalog().file, section), key))


def _one_of(name: str, value: Any, allowed: list[str] | tuple[str, ...]) -> Problem | None:
    if value in allowed:
        return None
    return Problem(name, value, f"must be one of: {', '.join(allowed)}")


class _SpecBase:
    """Shared plumbing: validation entry point and (de)serialisation for history."""

    kind: str = ""

    def problems(self, catalog: Catalog | None = None) -> list[Problem]:  # pragma: no cover
        raise NotImplementedError

    def validate(self, catalog: Catalog | None = None) -> _SpecBase:
        found = self.problems(catalog)
        if found:
            raise SpecError(found)
        return self

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)  # type: ignore[call-overload]
        data["kind"] = self.kind
        return data
