"""Honest approximation of ``instructions`` for local TTS engines.

Local voices cannot act, but they can change pace, pitch, loudness and pauses. We look
for cue words ("slow", "whisper", "deep", "energetic", "dramatic pauses"…) and turn
them into prosody settings, skipping negated cues ("not too fast"). What was applied is
reported back (response header ``x-playground-instructions-applied``) so users see
exactly which parts of their prompt had an effect.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["Prosody", "parse_instructions"]

#: cue -> (rate multiplier, pitch semitones, gain dB, extra pause ms)
_CUES: dict[str, tuple[float, float, float, int]] = {
    # pace
    "very slow": (0.75, 0, 0, 0),
    "slow": (0.85, 0, 0, 0),
    "slowly": (0.85, 0, 0, 0),
    "unhurried": (0.88, 0, 0, 0),
    "leisurely": (0.88, 0, 0, 0),
    "measured": (0.92, 0, 0, 0),
    "relaxed": (0.92, 0, 0, 0),
    "very fast": (1.3, 0, 0, 0),
    "fast": (1.15, 0, 0, 0),
    "quick": (1.15, 0, 0, 0),
    "quickly": (1.15, 0, 0, 0),
    "rapid": (1.2, 0, 0, 0),
    "brisk": (1.1, 0, 0, 0),
    "hurried": (1.2, 0, 0, 0),
    "urgent": (1.15, 0, 2, 0),
    # pitch
    "deep": (1.0, -2, 0, 0),
    "low-pitched": (1.0, -2, 0, 0),
    "low pitch": (1.0, -2, 0, 0),
    "gravelly": (1.0, -2, 0, 0),
    "baritone": (1.0, -2, 0, 0),
    "high-pitched": (1.0, 2, 0, 0),
    "high pitch": (1.0, 2, 0, 0),
    "squeaky": (1.0, 3, 0, 0),
    "bright": (1.0, 1, 0, 0),
    # volume
    "whisper": (0.95, 0, -10, 0),
    "whispering": (0.95, 0, -10, 0),
    "whispered": (0.95, 0, -10, 0),
    "hushed": (0.95, 0, -8, 0),
    "quiet": (1.0, 0, -6, 0),
    "quietly": (1.0, 0, -6, 0),
    "soft": (1.0, 0, -4, 0),
    "softly": (1.0, 0, -4, 0),
    "gentle": (0.95, 0, -3, 0),
    "loud": (1.0, 0, 4, 0),
    "loudly": (1.0, 0, 4, 0),
    "booming": (1.0, -1, 5, 0),
    "shout": (1.05, 1, 6, 0),
    "shouting": (1.05, 1, 6, 0),
    "projecting": (1.0, 0, 3, 0),
    # mood
    "energetic": (1.1, 1, 2, 0),
    "excited": (1.12, 2, 2, 0),
    "enthusiastic": (1.1, 1, 2, 0),
    "cheerful": (1.05, 1, 1, 0),
    "upbeat": (1.08, 1, 1, 0),
    "calm": (0.92, 0, -1, 100),
    "soothing": (0.88, -1, -3, 150),
    "serene": (0.9, 0, -2, 120),
    "sad": (0.88, -1, -2, 150),
    "melancholy": (0.88, -1, -2, 150),
    "somber": (0.9, -1, -2, 150),
    "sombre": (0.9, -1, -2, 150),
    "authoritative": (0.95, -1, 2, 0),
    # pauses
    "dramatic": (0.95, 0, 0, 300),
    "pause": (1.0, 0, 0, 250),
    "pauses": (1.0, 0, 0, 250),
    "pausing": (1.0, 0, 0, 250),
    "deliberate": (0.92, 0, 0, 200),
    "take your time": (0.9, 0, 0, 200),
}

_NEGATIONS = {"not", "no", "never", "don't", "dont", "without", "avoid", "isn't", "aren't"}
#: words that make a pause cue ask for *less* pausing, not more
_SHORT = {"short", "brief", "minimal", "tiny", "quick", "few", "little", "clipped"}
_PAUSE_CUES = {"pause", "pauses", "pausing"}
#: the section labels of vibe presets ("Pauses: ...") are headings, not cues
_LABELS = re.compile(r"^\s*(affect|tone|pacing|emotion|pronunciation|pauses|voice|delivery)\s*:", re.MULTILINE)
_PATTERN = re.compile(r"\b(" + "|".join(sorted((re.escape(c) for c in _CUES), key=len, reverse=True)) + r")\b")
_WORD = re.compile(r"[a-z']+")

RATE_RANGE = (0.7, 1.4)
PITCH_RANGE = (-4.0, 4.0)
GAIN_RANGE = (-12.0, 6.0)
PAUSE_MAX_MS = 600


@dataclass(frozen=True, slots=True)
class Prosody:
    """Settings a local engine can honour. Neutral values change nothing."""

    #: speaking-rate multiplier (>1 faster)
    rate: float = 1.0
    #: pitch shift in semitones
    pitch: float = 0.0
    #: loudness change in dB
    gain_db: float = 0.0
    #: silence added after each sentence (ms)
    pause_ms: int = 0
    #: the cue words that produced these settings, in prompt order
    cues: tuple[str, ...] = field(default=())

    def describe(self) -> str:
        """Header value: what was applied and from which cues; "none" if nothing."""
        parts = []
        if abs(self.rate - 1.0) > 1e-3:
            parts.append(f"pace={self.rate:.2f}x")
        if abs(self.pitch) > 1e-3:
            parts.append(f"pitch={self.pitch:+.1f}st")
        if abs(self.gain_db) > 1e-3:
            parts.append(f"volume={self.gain_db:+.0f}dB")
        if self.pause_ms:
            parts.append(f"pauses=+{self.pause_ms}ms")
        if not parts:
            return "none"
        return "; ".join(parts) + f" (from: {', '.join(self.cues)})"


def _negated(text: str, start: int) -> bool:
    before = _WORD.findall(text[max(0, start - 24) : start])
    return any(w in _NEGATIONS for w in before[-2:])


def _softened(text: str, start: int) -> bool:
    before = _WORD.findall(text[max(0, start - 32) : start])
    return any(w in _SHORT for w in before[-3:])


def parse_instructions(instructions: str) -> Prosody:
    """Read cue words from free-form style instructions."""
    text = _LABELS.sub(" ", (instructions or "").lower())
    rate, pitch, gain, pause = 1.0, 0.0, 0.0, 0
    cues: list[str] = []
    for match in _PATTERN.finditer(text):
        cue = match.group(1)
        if cue in cues or _negated(text, match.start()):
            continue
        if cue in _PAUSE_CUES and _softened(text, match.start()):
            continue
        r, p, g, ms = _CUES[cue]
        rate, pitch, gain, pause = rate * r, pitch + p, gain + g, pause + ms
        cues.append(cue)
    return Prosody(
        rate=round(min(max(rate, RATE_RANGE[0]), RATE_RANGE[1]), 3),
        pitch=min(max(pitch, PITCH_RANGE[0]), PITCH_RANGE[1]),
        gain_db=min(max(gain, GAIN_RANGE[0]), GAIN_RANGE[1]),
        pause_ms=min(pause, PAUSE_MAX_MS),
        cues=tuple(cues),
    )
