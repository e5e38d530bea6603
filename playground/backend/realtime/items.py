"""The ``conversation.item.*`` client events, shared by every session kind that has a conversation.

A session mixes ``ItemEvents`` into its ``SessionCore`` and adds ``ITEM_HANDLERS`` (or the
ones it takes) to its handler table. Two hooks say what differs: ``check_item`` refuses
content before it is parsed (the chained pipeline's chat model reads text only), and
``item_audio`` decodes an item's audio and returns what to start once it is in the
conversation (the embedded backend transcribes it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from playground.backend.realtime.conversation import Entry, cut_transcript, parse_item, public
from playground.backend.realtime.core import SessionCore
from playground.backend.realtime.protocol import RealtimeError, server_event, shown

__all__ = ["ITEM_HANDLERS", "ItemEvents"]


class ItemEvents(SessionCore):
    """``conversation.item.create`` / ``delete`` / ``truncate`` (and ``retrieve``, where audio is kept)."""

    def check_item(self, raw: Any) -> None:
        """Refuse an item's content before it is parsed (nothing is refused by default)."""

    async def item_audio(self, entry: Entry, audio: list[tuple[int, str]]) -> Callable[[], None] | None:
        """Take an item's ``(content_index, base64)`` audio; returns what to start once it is added."""
        if audio:
            raise RealtimeError("Audio items are not supported here.", param="item.content", code="unsupported_content")
        return None

    def audio_format(self, entry: Entry) -> str:
        """The wire format of an item's audio for ``retrieve``."""
        return "audio/pcm"

    async def _item_create(self, event: dict[str, Any]) -> None:
        raw = event.get("item")
        self.check_item(raw)
        item, audio = parse_item(raw)
        previous = event.get("previous_item_id")
        if previous is not None and not isinstance(previous, str):
            raise RealtimeError("Invalid 'previous_item_id': expected a string.", param="previous_item_id")
        if item["type"] == "function_call_output" and not any(
            e.item["type"] == "function_call" and e.item.get("call_id") == item["call_id"]
            for e in self.conversation.entries()
        ):
            raise RealtimeError(
                f"No function_call with call_id {shown(item['call_id'])} in this conversation.",
                param="item.call_id",
                code="invalid_value",
            )
        entry = Entry(item=item)
        start = await self.item_audio(entry, audio)
        before = self.conversation.add(entry, previous)
        if start is not None:
            start()
        self.emit(server_event("conversation.item.added", previous_item_id=before, item=public(entry)))
        self.emit(server_event("conversation.item.done", previous_item_id=before, item=public(entry)))

    async def _item_retrieve(self, event: dict[str, Any]) -> None:
        entry = self.conversation.get(event.get("item_id"))
        fmt = self.audio_format(entry)
        self.emit(server_event("conversation.item.retrieved", item=public(entry, with_audio=True, fmt=fmt)))

    async def _item_delete(self, event: dict[str, Any]) -> None:
        entry = self.conversation.get(event.get("item_id"))
        if self.in_progress(entry):
            raise RealtimeError(
                "Cannot delete an item while its response is in progress; cancel it first.",
                param="item_id",
                code="item_in_progress",
            )
        self.conversation.delete(entry.id)
        self.emit(server_event("conversation.item.deleted", item_id=entry.id))

    async def _item_truncate(self, event: dict[str, Any]) -> None:
        """Cut an assistant message where the listener stopped hearing it: its audio, and
        its transcript (whole sentences heard, and the heard share of the one cut)."""
        entry = self.conversation.get(event.get("item_id"))
        item = entry.item
        if item["type"] != "message" or item.get("role") != "assistant":
            raise RealtimeError("Only assistant messages can be truncated.", param="item_id", code="invalid_value")
        index = event.get("content_index")
        parts = item.get("content", [])
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < max(1, len(parts)):
            raise RealtimeError(
                f"Invalid 'content_index': the item has {len(parts)} content part(s).", param="content_index"
            )
        end = event.get("audio_end_ms")
        if isinstance(end, bool) or not isinstance(end, int) or end < 0:
            raise RealtimeError("Invalid 'audio_end_ms': expected a non-negative integer.", param="audio_end_ms")
        if parts and parts[index]["type"] != "output_audio":
            raise RealtimeError("Invalid 'content_index': that part has no audio.", param="content_index")
        if self.in_progress(entry):
            await self.cancel_response("client_cancelled")  # stop producing what is being cut
        if end > entry.audio_ms:
            raise RealtimeError(
                f"Audio content of {entry.audio_ms}ms is already shorter than {end}ms.",
                param="audio_end_ms",
                code="invalid_value",
            )
        if parts:
            parts[index]["transcript"] = cut_transcript(entry.spans, end)
        entry.cut_audio(end)
        self.emit(server_event("conversation.item.truncated", item_id=entry.id, content_index=index, audio_end_ms=end))


ITEM_HANDLERS: dict[str, Callable[[Any, dict[str, Any]], Any]] = {
    "conversation.item.create": ItemEvents._item_create,
    "conversation.item.retrieve": ItemEvents._item_retrieve,
    "conversation.item.delete": ItemEvents._item_delete,
    "conversation.item.truncate": ItemEvents._item_truncate,
}
