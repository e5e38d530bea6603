"""One exception hierarchy for the playground; messages say what is valid."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["CatalogError", "PlaygroundError", "Problem", "ProviderError", "SpecError"]


class PlaygroundError(Exception):
    """Base of every error the playground raises on purpose."""


class CatalogError(PlaygroundError):
    """The catalog data file is missing or malformed."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a request spec: which field, the bad value, and why."""

    field: str
    value: Any
    message: str

    def __str__(self) -> str:
        return f"{self.field}={_short(self.value)}: {self.message}"


def _short(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…'"


class SpecError(PlaygroundError, ValueError):
    """A request spec failed validation; ``problems`` lists every issue found."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("; ".join(str(p) for p in self.problems))

    @property
    def fields(self) -> list[str]:
        return [p.field for p in self.problems]


class ProviderError(PlaygroundError):
    """A provider call failed; the message is safe to show a user (never the key)."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
