"""Text that grows while the user is still speaking, without ever taking a word back.

Whisper decodes a whole 30 s window in one call, so its segments of a short turn all
arrive at once: streaming them would only split a finished result. A transcription
session instead re-transcribes the turn so far every second or so while the user
speaks, and sends as deltas the words on which two successive decodes agree (the
"local agreement" policy of streaming Whisper systems): a word heard the same way with
more audio after it rarely changes. Sent words are never revised; when the turn ends,
the final decode supplies the rest, aligned after the last sent word, so the deltas of an
item always add up to its ``completed`` transcript. Pure: no audio, no engine, no clock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rapidfuzz.distance import Levenshtein

__all__ = ["LiveText"]

_NON_WORD = re.compile(r"[^\w']+")


def _norm(word: str) -> str:
    return _NON_WORD.sub("", word.lower())


def _common_prefix(a: list[str], b: list[str]) -> int:
    """How many leading words two decodes share, case and punctuation aside."""
    n = 0
    for x, y in zip(a, b, strict=False):
        if _norm(x) != _norm(y):
            break
        n += 1
    return n


def _sent_end(sent: list[str], final: list[str]) -> int:
    """Where the words already sent end in the final decode (normalised words).

    The prefix of ``final`` closest to ``sent`` by word edit distance, where replacing a
    word costs as much as dropping one and adding another: an interim decode that misheard
    the end of the audio so far ("what you are" for "what your country") then covers only
    the words it was near, never a stretch of the final text it happens to share a later
    word with. Of equally close prefixes the longest wins, so a word the final decode put
    inside the sent ones ("my dear fellow") is not sent again after them.
    """
    best, end = None, 0
    for j in range(len(final) + 1):
        cost = Levenshtein.distance(sent, final[:j], weights=(1, 1, 2))
        if best is None or cost <= best:
            best, end = cost, j
    return end


@dataclass
class LiveText:
    """One turn's words: those already sent, and the latest interim decodes'.

    ``agree`` is how many successive decodes must agree on a word before it is sent: 2 is
    the usual local agreement; 1 sends what the latest decode heard but its last word (which
    may be cut mid-way); 3 waits for a third decode to confirm. A session's ``delay`` picks it.
    """

    item_id: str
    agree: int = 2
    sent: list[str] = field(default_factory=list)
    _recent: list[list[str]] = field(default_factory=list)

    @staticmethod
    def words(text: str) -> list[str]:
        return text.split()

    def _delta(self, new: list[str]) -> str:
        text = " ".join(new)
        return text if not self.sent else " " + text

    def interim(self, text: str) -> str | None:
        """An interim decode of the turn so far; the delta to send now, if any."""
        words = self.words(text)
        self._recent = [*self._recent, words][-max(1, self.agree) :]
        if self.agree <= 1:
            agreed = words[:-1]
        elif len(self._recent) < self.agree:
            return None
        else:
            agreed = words[: min(_common_prefix(self._recent[0], other) for other in self._recent[1:])]
        if len(agreed) <= len(self.sent) or _common_prefix(agreed, self.sent) < len(self.sent):
            return None  # nothing new agreed on, or the decodes now disagree with what was sent
        new = agreed[len(self.sent) :]
        delta = self._delta(new)
        self.sent.extend(new)
        return delta

    def final(self, text: str) -> tuple[str | None, str]:
        """The final decode of the whole turn: the last delta (if any) and the transcript.

        The transcript is the sent words followed by the final decode's words after the
        point where the sent ones end in it (``_sent_end``; case and punctuation aside). A
        word heard only in the final decode is never lost; a misheard sent word may stand
        beside the final decode's version of it, since sent words are never taken back.
        """
        words = self.words(text)
        if not self.sent:
            return (text.strip() or None), " ".join(words)
        sent, final = [_norm(w) for w in self.sent], [_norm(w) for w in words]
        rest = words[_sent_end(sent, final) :]
        delta = self._delta(rest) if rest else None
        self.sent.extend(rest)
        return delta, " ".join(self.sent)
