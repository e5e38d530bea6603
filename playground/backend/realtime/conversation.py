"""A session's conversation: items in order, their audio, and the text the model reads.

Items keep OpenAI's GA shape (``message`` with ``input_text`` / ``input_audio`` /
``output_text`` / ``output_audio`` parts, ``function_call``, ``function_call_output``)
so events can carry them as they are. Audio stays beside the item (16-bit, 24 kHz) for
``retrieve`` and ``truncate``, and an assistant item remembers where each sentence's
audio starts and ends, so truncation cuts its transcript where the listener stopped
hearing. Both the number of items and the audio kept are bounded by the catalog.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from playground.backend.realtime.codecs import RATE, OutputEncoder
from playground.backend.realtime.protocol import RealtimeError, invalid, new_id, shown, text_field
from playground.core.catalog import get_catalog

__all__ = ["Conversation", "Entry", "parse_item"]

ROLES = ("user", "assistant", "system")


@dataclass(eq=False)
class Entry:
    """A conversation item and what the session knows beside it."""

    item: dict[str, Any]
    #: int16 samples at 24 kHz: the user's speech, or the assistant's voice (where kept)
    audio: np.ndarray | None = None
    #: assistant audio: (start_ms, end_ms, text) per spoken sentence
    spans: list[tuple[int, int, str]] = field(default_factory=list)
    #: the user's speech being transcribed: resolves to the transcript (None: it failed)
    transcript: asyncio.Future[str | None] | None = None
    #: how much audio was sent where none is kept (the chained pipeline's replies)
    sent_ms: int = 0
    #: how long the transcription request took, where one was made
    transcribe_ms: float | None = None

    @property
    def id(self) -> str:
        return str(self.item["id"])

    @property
    def audio_ms(self) -> int:
        return self.sent_ms if self.audio is None else len(self.audio) * 1000 // RATE

    def cut_audio(self, end_ms: int) -> None:
        """Keep the audio heard by ``end_ms`` (truncation) and the sentences that began before it."""
        if self.audio is not None:
            self.audio = self.audio[: end_ms * RATE // 1000]
        self.sent_ms = min(self.sent_ms, end_ms)
        self.spans = [s for s in self.spans if s[0] < end_ms]


_fail = invalid
_text = text_field


def parse_item(raw: Any, param: str = "item") -> tuple[dict[str, Any], list[tuple[int, str]]]:
    """A client item in GA shape, checked; plus ``(content_index, base64)`` audio to decode."""
    if not isinstance(raw, dict):
        raise _fail(param, "expected an object.", "invalid_type")
    kind = raw.get("type")
    item_id = raw.get("id") or new_id("item")
    if not isinstance(item_id, str) or len(item_id) > 64:
        raise _fail(f"{param}.id", "expected a string of at most 64 characters.")
    if kind == "function_call_output":
        call_id = _text(raw.get("call_id"), f"{param}.call_id")
        output = _text(raw.get("output"), f"{param}.output")
        item = {"id": item_id, "object": "realtime.item", "type": kind, "call_id": call_id, "output": output}
        return {**item, "status": "completed"}, []
    if kind == "function_call":
        return {
            "id": item_id,
            "object": "realtime.item",
            "type": kind,
            "status": "completed",
            "call_id": _text(raw.get("call_id"), f"{param}.call_id"),
            "name": _text(raw.get("name"), f"{param}.name"),
            "arguments": _text(raw.get("arguments", "{}"), f"{param}.arguments"),
        }, []
    if kind != "message":
        raise _fail(f"{param}.type", f"must be message, function_call or function_call_output; got {shown(kind)}.")
    role = raw.get("role")
    if role not in ROLES:
        raise _fail(f"{param}.role", f"must be one of: {', '.join(ROLES)}; got {shown(role)}.")
    content = raw.get("content")
    if not isinstance(content, list) or not content:
        raise _fail(f"{param}.content", "expected a non-empty array of content parts.", "invalid_type")
    allowed = {"user": ("input_text", "input_audio", "input_image"), "system": ("input_text",)}.get(
        str(role), ("output_text", "output_audio", "text")
    )
    parts, audio = [], []
    for i, part in enumerate(content):
        where = f"{param}.content[{i}]"
        ptype = part.get("type") if isinstance(part, dict) else None
        if ptype not in allowed:
            raise _fail(f"{where}.type", f"a {role} message takes {', '.join(allowed)}; got {shown(ptype)}.")
        if ptype == "input_image":
            raise RealtimeError(
                f"Invalid '{where}': the local backend cannot see images (its language model reads text "
                "only); send a description as input_text, or use a provider with vision.",
                param=where,
                code="unsupported_content",
            )
        if ptype == "input_audio":
            data = part.get("audio")
            if not isinstance(data, str) or not data:
                raise _fail(f"{where}.audio", "expected base64 audio in the session's input format.")
            audio.append((i, data))
            parts.append({"type": "input_audio", "transcript": None})
        elif ptype == "output_audio":
            parts.append({"type": "output_audio", "transcript": _text(part.get("transcript", ""), where)})
        else:
            parts.append({"type": "output_text" if ptype == "text" else ptype, "text": _text(part.get("text"), where)})
    if len(audio) > 1:
        raise _fail(f"{param}.content", "at most one input_audio part per message.")
    item = {"id": item_id, "object": "realtime.item", "type": "message", "status": "completed", "role": role}
    return {**item, "content": parts}, audio


class Conversation:
    def __init__(self) -> None:
        self._entries: dict[str, Entry] = {}
        self._order: list[str] = []
        cat = get_catalog()
        self.max_items = cat.limits.realtime_items_max
        self.max_audio_samples = cat.limits.realtime_kept_audio_seconds * RATE
        #: the session's ``truncation`` retention ratio: past ``max_items`` the oldest items go
        #: until this fraction of ``max_items`` is left; None ("auto", "disabled"): one at a time
        self.retention: float | None = None

    def truncation(self, value: str | dict[str, Any] | None) -> None:
        """Follow the session's ``truncation`` setting."""
        self.retention = value.get("retention_ratio") if isinstance(value, dict) else None

    def __len__(self) -> int:
        return len(self._order)

    def __contains__(self, item_id: str) -> bool:
        return item_id in self._entries

    def entries(self) -> list[Entry]:
        return [self._entries[i] for i in self._order]

    def get(self, item_id: Any, param: str = "item_id") -> Entry:
        entry = self._entries.get(item_id) if isinstance(item_id, str) else None
        if entry is None:
            raise RealtimeError(f"Item with item_id not found: {shown(item_id)}.", param=param, code="item_not_found")
        return entry

    def last_id(self) -> str | None:
        return self._order[-1] if self._order else None

    def add(self, entry: Entry, previous_item_id: str | None = None) -> str | None:
        """Insert after ``previous_item_id`` (``"root"``: first; None: last); returns the id before it."""
        if entry.id in self._entries:
            raise RealtimeError(f"Item with id {entry.id!r} already exists.", param="item.id", code="duplicate_item_id")
        if previous_item_id is None:
            at = len(self._order)
        elif previous_item_id == "root":
            at = 0
        elif previous_item_id in self._entries:
            at = self._order.index(previous_item_id) + 1
        else:
            raise RealtimeError(
                f"previous_item_id not found: {shown(previous_item_id)}.",
                param="previous_item_id",
                code="item_not_found",
            )
        before = self._order[at - 1] if at > 0 else None
        self._order.insert(at, entry.id)
        self._entries[entry.id] = entry
        if len(self._order) > self.max_items:
            keep = self.max_items if self.retention is None else max(1, int(self.max_items * self.retention))
            while len(self._order) > keep:
                self._entries.pop(self._order.pop(0))
        self._bound_audio()
        return before

    def delete(self, item_id: Any) -> Entry:
        entry = self.get(item_id)
        self._order.remove(entry.id)
        del self._entries[entry.id]
        return entry

    def _bound_audio(self) -> None:
        total = sum(len(e.audio) for e in self._entries.values() if e.audio is not None)
        for item_id in self._order:
            if total <= self.max_audio_samples:
                break
            e = self._entries[item_id]
            if e.audio is not None and e.item.get("role") == "user":
                total -= len(e.audio)
                e.audio = None  # oldest first; the transcript stays

    def kept_audio(self) -> None:
        self._bound_audio()


def public(entry: Entry, *, with_audio: bool = False, fmt: str = "audio/pcm") -> dict[str, Any]:
    """The item as events carry it; ``with_audio`` adds the base64 audio (``retrieve``)."""
    item = copy.deepcopy(entry.item)
    if with_audio and entry.audio is not None:
        encoder = OutputEncoder(fmt)
        data = encoder.encode(entry.audio.astype(np.float32) / 32768.0) + encoder.finish()
        for part in item.get("content", []):
            if part.get("type") in ("input_audio", "output_audio"):
                part["audio"] = base64.b64encode(data).decode()
    return item


def cut_transcript(spans: list[tuple[int, int, str]], end_ms: int) -> str:
    """The words heard by ``end_ms``: whole sentences before it, and the share of the
    sentence it falls in (by characters, an estimate: the voice's word timing is unknown)."""
    words: list[str] = []
    for start, end, text in spans:
        if end <= end_ms:
            words.append(text)
        elif start < end_ms:
            keep = len(text) * (end_ms - start) / max(1, end - start)
            cut = text[: int(keep)].rsplit(" ", 1)[0] if " " in text[: int(keep)] else ""
            if cut:
                words.append(cut)
            break
        else:
            break
    return " ".join(w.strip() for w in words if w.strip())


def item_text(entry: Entry) -> str:
    """What the language model reads for this item."""
    item = entry.item
    if item["type"] == "function_call":
        return f"(I called the tool {item['name']} with {item['arguments']}.)"
    if item["type"] == "function_call_output":
        return str(item["output"])
    texts = []
    for part in item.get("content", []):
        if part["type"] in ("input_text", "output_text"):
            texts.append(part.get("text") or "")
        elif part["type"] in ("input_audio", "output_audio"):
            texts.append(part.get("transcript") or "")
    return " ".join(t.strip() for t in texts if t and t.strip())


def llm_messages(instructions: str, entries: list[Entry]) -> list[dict[str, str]]:
    """OpenAI chat messages for the local LLM.

    A tool's result is folded into the user's turn that asked for it, as a note in
    parentheses (the call itself is left out): measured on SmolLM2-135M, that is the
    framing it answers from ("18 degrees and sunny"), with the explicit "use these facts"
    (without it, it ignored them in one KV-cache state of four), while a separate
    assistant call and tool message made it write code about the tool instead.
    """
    out = [{"role": "system", "content": instructions}]
    names = {e.item.get("call_id"): e.item.get("name") for e in entries if e.item["type"] == "function_call"}
    for e in entries:
        item = e.item
        if item["type"] == "function_call":
            continue
        text = item_text(e)
        if item["type"] == "function_call_output":
            note = f"({names.get(item['call_id'], 'the tool')} says: {_compact(text)}. Use these facts in the answer.)"
            asked = next((m for m in reversed(out) if m["role"] == "user"), None)
            if asked is None:
                out.append({"role": "user", "content": note})
            else:
                asked["content"] = f"{asked['content']}\n\n{note}"
        elif text:
            out.append({"role": str(item["role"]), "content": text})
    return out


def _compact(output: str) -> str:
    """A tool's JSON output as short prose-like text (``temperature: 18, conditions: sunny``)."""
    try:
        data = json.loads(output)
    except (ValueError, TypeError):
        return output.strip()
    if isinstance(data, dict):
        return ", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in data.items())
    return json.dumps(data, ensure_ascii=False)
