"""Split text into speakable chunks so audio can stream sentence by sentence.

Sentence boundaries come from ``pysbd`` (rule-based, abbreviation-, decimal-, initial-
and quote-aware: "Dr. Smith met Mr. Jones at 3 p.m." stays one sentence). The first
chunk is kept short (a clause of a few words when the first sentence is long) because
it alone decides time to first audio; later chunks are whole sentences, with over-long
ones cut at commas or spaces so no chunk exceeds the engine's comfort.
"""

from __future__ import annotations

import functools
import re
import threading

__all__ = ["SentenceBuffer", "split_for_speech", "split_sentences"]

_CLAUSE = re.compile(r"(?<=[,;:—–])\s+")
_PARAGRAPHS = re.compile(r"\n\s*\n|\n")
FIRST_CHUNK_WORDS = 10
MAX_CHARS = 280

_segmenter_lock = threading.Lock()


@functools.cache
def _segmenter():
    import pysbd

    return pysbd.Segmenter(language="en", clean=False)


def split_sentences(text: str) -> list[str]:
    """Sentences in reading order; line breaks always end one."""
    out: list[str] = []
    for paragraph in _PARAGRAPHS.split(text):
        if not paragraph.strip():
            continue
        with _segmenter_lock:  # pysbd keeps per-call state on the segmenter
            pieces = _segmenter().segment(paragraph)
        out.extend(p.strip() for p in pieces if p.strip())
    return out


def _cut_long(sentence: str, limit: int) -> list[str]:
    if len(sentence) <= limit:
        return [sentence]
    out: list[str] = []
    current = ""
    for piece in _CLAUSE.split(sentence):
        while len(piece) > limit:  # no punctuation to cut at: cut at the last space
            cut = piece.rfind(" ", 0, limit)
            cut = cut if cut > 0 else limit
            if current:
                out.append(current)
                current = ""
            out.append(piece[:cut].strip())
            piece = piece[cut:].strip()
        if current and len(current) + 1 + len(piece) > limit:
            out.append(current)
            current = piece
        else:
            current = f"{current} {piece}".strip()
    if current:
        out.append(current)
    return [c for c in out if c]


def split_for_speech(text: str, *, first_words: int = FIRST_CHUNK_WORDS, max_chars: int = MAX_CHARS) -> list[str]:
    """Chunks in reading order; joined with spaces they give back the text's words."""
    chunks: list[str] = []
    for s in split_sentences(text):
        chunks.extend(_cut_long(s, max_chars))
    if chunks and len(chunks[0].split()) > first_words:
        clauses = _CLAUSE.split(chunks[0], maxsplit=1)
        if len(clauses) == 2 and 2 <= len(clauses[0].split()) <= first_words:
            chunks[0:1] = clauses
    return chunks


class SentenceBuffer:
    """Text that arrives in pieces (an LLM's deltas), released as speakable chunks.

    A sentence is released once the next one has begun, so a period inside "3.14" or
    "Dr." never cuts early; the very first chunk may also go as soon as a clause of
    ``first_words`` or more has ended with , ; or : because it alone decides how soon
    the listener hears anything. ``flush()`` releases the rest at the end.
    """

    def __init__(self, *, first_words: int = 3) -> None:
        self._text = ""
        self._first_words = first_words
        self._released = False

    def feed(self, text: str) -> list[str]:
        self._text += text
        ready: list[str] = []
        sentences = split_sentences(self._text)
        if len(sentences) > 1:
            ready = sentences[:-1]
            self._text = self._text[self._text.rfind(sentences[-1]) :]
        elif not self._released:
            clause = _CLAUSE.split(self._text.lstrip(), maxsplit=1)
            if len(clause) == 2 and len(clause[0].split()) >= self._first_words:
                ready = [clause[0].strip()]
                self._text = clause[1]
        if ready:
            self._released = True
        return ready

    def flush(self) -> list[str]:
        rest, self._text = self._text.strip(), ""
        return split_sentences(rest) if rest else []
