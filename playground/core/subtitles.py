"""The spoken text of an SRT or WebVTT file (for scoring subtitles against a reference)."""

from __future__ import annotations

import re

__all__ = ["cue_text"]

_TIMING = re.compile(r"\d+:\d{2}[:.,]\d{2}.*-->")
_TAG = re.compile(r"<[^>]+>")


def cue_text(subtitles: str) -> str:
    """Cue lines joined by spaces: no header, cue numbers, timings, NOTE blocks or tags."""
    out: list[str] = []
    for block in re.split(r"\n\s*\n", subtitles.replace("\r\n", "\n").strip()):
        lines = block.split("\n")
        if not lines or lines[0].startswith(("WEBVTT", "NOTE", "STYLE", "REGION")):
            continue
        timing = next((i for i, line in enumerate(lines) if _TIMING.search(line)), None)
        if timing is None:
            continue
        out.extend(_TAG.sub("", line).strip() for line in lines[timing + 1 :] if line.strip())
    return " ".join(out)
