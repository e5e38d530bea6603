"""Turn detection over speech probabilities: when the user started, paused and finished.

Pure and clocked by the audio itself (frame positions), never by the wall clock, so the
same audio gives the same turns however fast a client sends it. The detector reports:

* ``Started`` when a frame's probability reaches the threshold; ``audio_start_ms``
  includes the prefix padding, as OpenAI's does;
* ``Paused`` when speech falls below the release threshold: the session may start
  transcribing speculatively while the silence timer runs;
* ``Resumed`` when speech comes back before the timer ran out (discard the speculation);
* ``Stopped`` once the silence has lasted ``silence_ms``; ``audio_end_ms`` includes
  that silence, as OpenAI's does.

For semantic VAD the required silence is not known until the transcript so far has
been judged (``finished_thought``): the session sets it with ``set_silence`` after
each ``Paused``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Paused", "Resumed", "Started", "Stopped", "TurnDetector", "finished_thought"]

#: a pause ends only when the probability drops this far below the threshold (hysteresis)
RELEASE_MARGIN = 0.15


@dataclass(frozen=True, slots=True)
class Started:
    audio_start_ms: int
    #: where the speech itself began (no padding)
    speech_ms: int


@dataclass(frozen=True, slots=True)
class Paused:
    at_ms: int


@dataclass(frozen=True, slots=True)
class Resumed:
    at_ms: int


@dataclass(frozen=True, slots=True)
class Stopped:
    audio_end_ms: int
    #: where the speech itself ended (the silence began)
    speech_end_ms: int


TurnEvent = Started | Paused | Resumed | Stopped


class TurnDetector:
    """Feed ``(frame_start_ms, frame_end_ms, probability)`` in order; get turn events."""

    def __init__(self, *, threshold: float, prefix_padding_ms: int, silence_ms: int | None):
        self.threshold = threshold
        self.release = max(0.01, threshold - RELEASE_MARGIN)
        self.prefix_padding_ms = prefix_padding_ms
        #: None until ``set_silence`` (semantic VAD waits for a verdict on each pause)
        self.silence_ms = silence_ms
        self.in_speech = False
        self._pause_at: int | None = None
        #: audio before this point belongs to a finished turn (never padding for the next)
        self.floor_ms = 0

    def set_silence(self, ms: int) -> None:
        self.silence_ms = ms

    @property
    def paused(self) -> bool:
        return self._pause_at is not None

    def feed(self, start_ms: int, end_ms: int, prob: float) -> list[TurnEvent]:
        out: list[TurnEvent] = []
        if not self.in_speech:
            if prob >= self.threshold:
                self.in_speech = True
                self._pause_at = None
                out.append(Started(max(self.floor_ms, start_ms - self.prefix_padding_ms), start_ms))
            return out
        if self._pause_at is None:
            if prob < self.release:
                self._pause_at = start_ms
                out.append(Paused(start_ms))
        elif prob >= self.threshold:
            self._pause_at = None
            out.append(Resumed(start_ms))
        if self._pause_at is not None and self.silence_ms is not None and end_ms - self._pause_at >= self.silence_ms:
            out.append(Stopped(end_ms, self._pause_at))
            self.in_speech = False
            self._pause_at = None
            self.floor_ms = end_ms
        return out

    def reset(self, at_ms: int) -> None:
        """Forget any turn in progress (the input buffer was cleared or committed by hand)."""
        self.in_speech = False
        self._pause_at = None
        self.floor_ms = at_ms


_TRAILING = re.compile(r"[\s\"')\]]+$")
#: words a finished English sentence rarely ends on: conjunctions, articles, fillers
_DANGLING = frozenset(
    "and but or so because if then that which who the a an to of for with in on at my your "
    "our their his her its is are was were um uh er like maybe also".split()
)


def finished_thought(text: str) -> bool:
    """Does a transcript read as a complete turn? Semantic VAD waits longer when not.

    A turn is finished when it ends with sentence punctuation (., !, ?) and its last word
    is not a conjunction, article or filler; Whisper writes "..." for speech that trails
    off, which reads as unfinished.
    """
    t = _TRAILING.sub("", text or "")
    if not t or t.endswith(("...", "…", ",", "-", "—", ";", ":")) or t[-1] not in ".!?":
        return False
    words = re.findall(r"[a-z']+", t.lower())
    return bool(words) and words[-1] not in _DANGLING
