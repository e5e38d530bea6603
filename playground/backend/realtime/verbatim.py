"""When a realtime response is a request to read text as written, and which text.

Speech through the Realtime API (the speech endpoint's successor) sends each text as a
response whose instructions ask for it word for word, plus a style. A small local LLM
cannot be trusted with that: it rewords and rambles. So such a response is spoken by the
TTS engines directly. The rule (``docs/backend.md``, "Reading text as written"):

* A **command** is a sentence of the instructions with a verb of speaking, reading or
  repeating (read, say, speak, repeat, recite, narrate, pronounce, echo, dictate, utter,
  parrot; "voice" only at the start of a clause) that is not negated ("don't just read
  it"), together with an **exactness marker** in the same sentence (exactly, verbatim,
  word for word, as written, as is, literally, unchanged, without changing…, no changes,
  do not change…, the exact words…); or the phrase "repeat after me" / "say after me".
  "Exactly" followed by a number, "how", "why", "like"… is not a marker ("say exactly
  three words", "say exactly how it works"). A sentence conditioned on a request ("if the
  user asks you to repeat…") is not a command.
* Any unnegated **intent to produce other words** anywhere in the instructions (answer,
  respond, reply, explain, summarise, translate, paraphrase, rephrase, reword, rewrite,
  interpret, comment on, describe, discuss, analyse, continue, elaborate) rules reading
  out: "Do not answer it, comment on it or change any word" is fine, "Read the user's
  question and answer it" is not. Quoted text and the text to be read are not searched.
* **Where the text comes from**, first found wins: (1) the instructions, when the command
  is followed, through filler words only ("exactly", "the following", "this"…), by a
  quoted text or a colon and text (``Say exactly: "Hello there."``, ``Repeat after me:
  the quick brown fox``); (2) the last user message of the response's context (the
  ``input`` items of an out-of-band response, else the conversation), its audio's
  transcript for speech; (3) without a command in the instructions, that user message
  itself when it is the last item and is such a command with its text inside ("Repeat
  after me: …", ``Say exactly: "…"``), unless the instructions ask to translate,
  summarise, paraphrase or rewrite. No text found: the chat model answers, as ever.
* A response with a system note (the idle timeout's) or answering a tool's result is never
  a reading.
* **Style**: the instructions without the text read, through ``style.parse_instructions``
  as the speech endpoint reads ``instructions`` (for (3), the instructions as they are).

Everything here is pure: strings in, a :class:`Reading` (or None) out.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from playground.backend.realtime.conversation import Entry, item_text
from playground.backend.text import split_for_speech

__all__ = ["Reading", "estimate_tokens", "pieces", "reading"]

Source = Literal["instructions", "user", "user_command"]


@dataclass(frozen=True, slots=True)
class Reading:
    """Text to speak as it is written, and the style instructions to speak it with."""

    text: str
    style: str
    #: where the text was found: quoted in the instructions, the user's message, or the
    #: user's own "repeat after me" command
    source: Source


_VERB = re.compile(
    r"\b(?:read(?:ing)?|say(?:ing)?|speak(?:ing)?|repeat(?:ing)?|recit(?:e|ing)|narrat(?:e|ing)|"
    r"pronounc(?:e|ing)|echo(?:ing)?|dictat(?:e|ing)|utter(?:ing)?|parrot(?:ing)?|voic(?:e|ing))\b"
)
#: "voice" is a noun far more often than a verb: a verb only where a clause starts
_CLAUSE_START = re.compile(r"(?:^|[,:]|\band|\bthen)\s*(?:(?:please|just|simply|now)\s+)*$")
_AFTER_ME = re.compile(r"\b(?:repeat|say)\s+after\s+me\b")
_NUMBER = r"(?:\d|one|two|three|four|five|six|seven|eight|nine|ten|twenty|a|an|once|twice|like|as many)\b"
_WRITTEN = r"(?:wrote|written|writes|typed|types|said|says|sent|sends|gave|given|provided|entered|submitted|appears)"
_MARKER = re.compile(
    r"\bexactly\b(?!\s+(?:" + _NUMBER + r"|how\b|why\b|when\b|where\b|which\b|who\b|whom\b|whose\b))"
    r"(?!\s+what\b(?!(?:\s+[\w']+){0,3}?\s+" + _WRITTEN + r"\b))"
    r"|\bverbatim\b|\bword[\s-]+for[\s-]+word\b|\b(?:letter|character)[\s-]+for[\s-]+(?:letter|character)\b"
    r"|\bas[\s-]+is\b|\bas\s+(?:it\s+is\s+|it's\s+|they\s+are\s+)?(?:written|given|typed|provided|shown|entered|"
    r"sent|worded|spelled|spelt)\b|\bas\s+it\s+(?:appears|stands)\b|\bliterally\b|\bprecisely\s+as\b"
    r"|\bthe\s+(?:same|exact)\s+(?:words?|wording|text|phrase|sentence)\b|\bexact\s+(?:words?|wording|text)\b"
    r"|\bun(?:changed|altered|modified|edited)\b"
)
#: markers that are negations themselves: never negated by a "not" before them
_NEGATIVE_MARKER = re.compile(
    r"\bwithout\s+(?:any\s+|a\s+single\s+)?(?:chang|alter|modif|edit|addi|omit|paraphras|rephras|reword|"
    r"interpret|comment)\w*"
    r"|\bno\s+(?:changes|edits|alterations|modifications|additions|paraphrasing|rewording)\b"
    r"|\b(?:do\s+not|don't|dont|never)\s+(?:change|alter|modify|edit|paraphrase|rephrase|reword|add|omit|skip)\b"
    r"|\b(?:change|alter|modify|edit)\s+(?:any|a\s+single|no)\s+words?\b"
)
_BLOCKER = re.compile(
    r"\b(?:answer(?:ing)?|respond(?:ing)?|reply(?:ing)?|explain(?:ing)?|summari[sz](?:e|ing)|summary|"
    r"translat(?:e|ing|ion)|paraphras(?:e|ing)|rephras(?:e|ing)|reword(?:ing)?|rewrit(?:e|ing)|"
    r"interpret(?:ing)?|comment(?:ing)?\s+on|describe|discuss|analy[sz]e|continue|elaborate)\b"
)
#: what may come before the user's own "repeat after me": these make it a task, not a reading
_TRANSFORM = re.compile(
    r"\b(?:summari[sz](?:e|ing)|translat(?:e|ing|ion)|paraphras(?:e|ing)|rephras(?:e|ing)|reword(?:ing)?|"
    r"rewrit(?:e|ing))\b"
)
_NEG_BEFORE = re.compile(
    r"\b(?:not|don't|dont|never|no\s+need\s+to|without|nor|instead\s+of|rather\s+than|avoid|refrain\s+from)"
    r"\s+(?:[\w']+\s+){0,2}$"
)
_NEG_WORD = re.compile(r"\b(?:not|don't|dont|never|no|nor|without|avoid|refrain)\b")
_NOTHING = re.compile(r"\s+(?:nothing|none|no\s+one)\b")
_SCOPE_BREAK = re.compile(r"\b(?:but|instead|however|then|rather)\b")
_CONDITIONAL = re.compile(
    r"\b(?:if|when|whenever|unless)\s+(?:the\s+user|they|someone|somebody|i|you\s+are)\s+"
    r"(?:asks?|asked|says?|wants?|requests?|tells?)\b|\bif\s+asked\b"
)
_SENTENCE_END = re.compile(r"[.!?;]+(?=\s|$)|\n")
_QUOTE = re.compile(r'"[^"]*"|“[^”]*”|‘[^’\n]*’(?!\w)|(?<!\w)\'[^\'\n]*\'(?!\w)')
#: what may stand between a command's verb and the quoted or colon-introduced text
_FILLER = (
    "word-for-word|word|for|exactly|verbatim|precisely|literally|the|following|this|these|that|words|text|"
    "sentence|phrase|line|lines|passage|aloud|out|loud|back|just|only|as|is|it|written|me|to|please|now|"
    "below|here|exact|same|and|without|changing|changes|change|anything|any|no|a|unchanged|after"
)
_GAP = re.compile(r"(?:[\s,\-–—]+|(?:" + _FILLER + r")\b)*")


@dataclass(frozen=True, slots=True)
class _Command:
    sentence: tuple[int, int]
    #: where the verb (or "repeat after me") ends: any text of its own starts after
    verb_end: int
    after_me: bool


def _masked(text: str) -> tuple[str, list[tuple[int, int]]]:
    """Lower case, straight apostrophes, and quoted text blanked (same length), so words
    inside quotes are never read as instructions; plus the quotes' spans."""
    spans = [(m.start(), m.end()) for m in _QUOTE.finditer(text)]
    out = list(text.lower().replace("’", "'").replace("‘", "'"))
    for start, end in spans:
        out[start + 1 : end - 1] = "x" * (end - start - 2)
    return "".join(out), spans


def _sentences(masked: str) -> list[tuple[int, int]]:
    out, start = [], 0
    for m in _SENTENCE_END.finditer(masked):
        if masked[start : m.end()].strip():
            out.append((start, m.end()))
        start = m.end()
    if masked[start:].strip():
        out.append((start, len(masked)))
    return out


def _command(masked: str, sentence: tuple[int, int]) -> _Command | None:
    s, e = sentence
    text = masked[s:e]
    if _CONDITIONAL.search(text):
        return None
    after = _AFTER_ME.search(text)
    if after and not _NEG_BEFORE.search(text[max(0, after.start() - 40) : after.start()]):
        return _Command(sentence, s + after.end(), True)
    markers = [m for m in _NEGATIVE_MARKER.finditer(text)]
    markers += [m for m in _MARKER.finditer(text) if not _NEG_BEFORE.search(text[: m.start()][-24:])]
    if not markers:
        return None
    inside = [(m.start(), m.end()) for m in markers]
    for verb in _VERB.finditer(text):
        before = text[max(0, verb.start() - 40) : verb.start()]  # bounded: long texts stay linear
        if any(a <= verb.start() < b for a, b in inside) or _NEG_BEFORE.search(before):
            continue
        if verb.group().startswith("voic") and not _CLAUSE_START.search(text[: verb.start()][-40:]):
            continue
        return _Command(sentence, s + verb.end(), False)
    return None


def _blocked(masked: str, pattern: re.Pattern[str]) -> bool:
    """Whether ``pattern`` occurs un-negated: a negation earlier in its sentence, with no
    "but", "instead", "then"… between, negates it ("do not answer it, comment on it…"), as
    does "nothing" after it ("answer nothing")."""
    for sentence in _sentences(masked):
        text = masked[sentence[0] : sentence[1]]
        for m in pattern.finditer(text):
            scope = text[: m.start()]
            breaks = list(_SCOPE_BREAK.finditer(scope))
            if breaks:
                scope = scope[breaks[-1].end() :]
            if not _NEG_WORD.search(scope) and not _NOTHING.match(text, m.end()):
                return True
    return False


def _own_text(original: str, masked: str, quotes: list[tuple[int, int]], cmd: _Command) -> tuple[int, int] | None:
    """The span of the text a command carries itself: quoted, or after a colon (the rest of
    the line, or the lines below until a blank one), or after "repeat after me"."""
    starts = {a: b for a, b in quotes}
    pos = _GAP.match(masked, cmd.verb_end).end()  # type: ignore[union-attr]
    if pos in starts:
        return pos + 1, starts[pos] - 1
    if pos < len(masked) and masked[pos] == ":":
        pos += 1
    elif cmd.after_me:
        pos = cmd.verb_end + len(re.match(r"[\s,:\-–—]*", masked[cmd.verb_end :]).group())  # type: ignore[union-attr]
    else:
        return None
    while pos < len(masked) and masked[pos] in " \t":
        pos += 1
    if pos in starts:
        return pos + 1, starts[pos] - 1
    end = masked.find("\n", pos)
    if end == -1:
        end = len(masked)
    elif not masked[pos:end].strip():  # "…word for word:" then the text on the lines below
        pos = end + 1
        blank = re.compile(r"\n[ \t]*\n").search(masked, pos)
        end = blank.start() if blank else len(masked)
    return (pos, end) if original[pos:end].strip() else None


def _unquote(text: str) -> str:
    text = text.strip()
    for a, b in ('""', "“”", "''", "‘’"):
        if len(text) >= 2 and text[0] == a and text[-1] == b and b not in text[1:-1]:
            return text[1:-1].strip()
    return text


def _carried(text: str) -> tuple[str, str] | None:
    """(text to read, the rest) of a command that carries its text, e.g. "Say exactly: 'Hi.'"."""
    masked, quotes = _masked(text)
    for sentence in _sentences(masked):
        cmd = _command(masked, sentence)
        if cmd is None:
            continue
        span = _own_text(text, masked, quotes, cmd)
        if span is None:
            return None
        a, b = span
        if _blocked(masked[:a] + " " * (b - a) + masked[b:], _BLOCKER):
            return None
        wrapped = a > 0 and (a - 1, b + 1) in quotes
        cut = (a - 1, b + 1) if wrapped else (a, b)
        return _unquote(text[a:b]), (text[: cut[0]] + text[cut[1] :]).strip()
    return None


def _last_user(context: Sequence[Entry] | str | None) -> tuple[str | None, bool]:
    """(the last user message's text, whether it is the last item) of a response's context."""
    if context is None or isinstance(context, str):
        return (context.strip() or None) if context else None, True
    for i in range(len(context) - 1, -1, -1):
        item = context[i].item
        if item.get("type") == "message" and item.get("role") == "user":
            return item_text(context[i]) or None, i == len(context) - 1
    return None, False


def reading(instructions: str, context: Sequence[Entry] | str | None, *, note: str | None = None) -> Reading | None:
    """The text to read as written and its style, or None for the chat model to answer.

    ``context`` is the response's items (or just the user's message text, for tests).
    """
    items = context if context is not None and not isinstance(context, str) else ()
    if note or (items and items[-1].item.get("type") in ("function_call", "function_call_output")):
        return None
    instructions = instructions or ""
    masked, _ = _masked(instructions)
    commanded = any(_command(masked, s) is not None for s in _sentences(masked))
    user, pending = _last_user(context)
    if commanded:
        carried = _carried(instructions)
        if carried is not None:
            return Reading(carried[0], carried[1], "instructions") if carried[0] else None
        if _blocked(masked, _BLOCKER) or not user:
            return None
        return Reading(user, instructions.strip(), "user")
    if not user or not pending or _blocked(masked, _TRANSFORM):
        return None
    carried = _carried(user)
    if carried is None or not carried[0]:
        return None
    return Reading(carried[0], instructions.strip(), "user_command")


def pieces(text: str) -> list[tuple[str, str]]:
    """(transcript delta, chunk to synthesise) pairs: the chunks are the speech endpoint's
    (``split_for_speech``: the first a short clause, for fast first audio); the deltas are
    the exact spans of ``text`` they cover, so joined they give back ``text`` unchanged."""
    chunks = split_for_speech(text)
    if not chunks or _ink("".join(chunks)) != _ink(text) or any(c != c.strip() or not c for c in chunks):
        return [(text, text)] if text.strip() else []
    # where each chunk starts in ``text``: counted in non-space characters, which chunks keep
    starts, seen, at = [], 0, 0
    wanted = [0, *itertools.accumulate(len(_ink(c)) for c in chunks[:-1])]
    for target in wanted:
        while at < len(text) and (text[at].isspace() or seen < target):
            seen += not text[at].isspace()
            at += 1
        starts.append(at)
    starts[0] = 0
    ends = [*starts[1:], len(text)]
    return [(text[a:b], chunk) for a, b, chunk in zip(starts, ends, chunks, strict=True)]


def _ink(text: str) -> str:
    return "".join(text.split())


def estimate_tokens(*texts: str) -> int:
    """Text tokens where no LLM counted them: about four characters a token."""
    return sum(math.ceil(len(t) / 4) for t in texts if t)
