"""What every response shares, whoever writes it: envelope, output items, content parts, the run.

A response talks to its session through ``ResponseHost``, four things and no more: queue
an event, report an error, the conversation, and the conversation's id. Subclasses write
``body()`` (hear, answer, speak) and say how their failures read (``failure``); the
envelope, the item and part events and their closing, and ``response.done`` (always
sent, also when cancelled or failed) are here, so both session kinds produce the same
event sequence.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from playground.backend.realtime.conversation import Conversation, Entry
from playground.backend.realtime.protocol import RealtimeError, new_id, server_event, snapshot

__all__ = ["Part", "ResponseCore", "ResponseHost", "failed", "text_usage"]

log = logging.getLogger(__name__)


class ResponseHost(Protocol):
    """What a response needs of its session."""

    conversation: Conversation
    conversation_id: str

    def emit(self, event: dict[str, Any]) -> None: ...

    def report(self, err: RealtimeError, client_event_id: str | None = None) -> None: ...


@dataclass
class Part:
    """The content part being written: its event ids, the part in the item, and what was said."""

    ids: dict[str, Any]
    content: dict[str, Any]
    spoken: bool
    said: list[str] = field(default_factory=list)
    closed: bool = False

    @property
    def text(self) -> str:
        return "".join(self.said).strip()


def failed(kind: str, code: str | None) -> dict[str, Any]:
    return {"type": "failed", "error": {"type": kind, "code": code}}


def text_usage(prompt: int, completion: int, cached: int = 0, audio_in: int = 0, audio_out: int = 0) -> dict[str, Any]:
    """Realtime usage in OpenAI's shape from token counts."""
    return {
        "total_tokens": prompt + audio_in + completion + audio_out,
        "input_tokens": prompt + audio_in,
        "output_tokens": completion + audio_out,
        "input_token_details": {
            "text_tokens": prompt,
            "audio_tokens": audio_in,
            "cached_tokens": cached,
            "image_tokens": 0,
        },
        "output_token_details": {"text_tokens": completion, "audio_tokens": audio_out},
    }


class ResponseCore:
    """One response's protocol side. Build with the host and the checked response settings."""

    #: what an unexpected failure says (before "; the server log has the details."), and its code
    UNEXPECTED = ("The response failed", "internal_error")

    def __init__(self, host: ResponseHost, params: dict[str, Any], *, context: list[Entry]) -> None:
        self.host = host
        self.params = params
        self.context = context
        self.id = new_id("resp")
        self.output: list[dict[str, Any]] = []
        self.cancel_reason = "client_cancelled"
        self.in_conversation = params["conversation"] == "auto"
        #: the model's finish reason; "length" ends the response as incomplete
        self.finish = "stop"
        #: the item being written (the one ``conversation.item.delete`` must not take)
        self.current: Entry | None = None
        self._open: list[Callable[[], None]] = []  # closers for parts and items still in progress

    # -- what subclasses write -------------------------------------------------------

    async def body(self) -> None:
        raise NotImplementedError

    def usage(self) -> dict[str, Any]:
        raise NotImplementedError

    def failure(self, e: Exception) -> tuple[RealtimeError, bool]:
        """What an unexpected exception from ``body`` means: the error, and whether to report it.

        A ``RealtimeError`` never gets here (it is reported as it is); what does not say
        what it means is logged with its traceback and reported as ``UNEXPECTED`` says.
        """
        log.error("%s: a response failed", type(self).__name__, exc_info=e)
        message, code = self.UNEXPECTED
        return RealtimeError(f"{message}; the server log has the details.", code=code, type="server_error"), True

    def finished(self) -> None:
        """Called once the response has ended, just before ``response.done``."""

    # -- events ---------------------------------------------------------------------

    def emit(self, type_: str, **fields: Any) -> None:
        self.host.emit(server_event(type_, **fields))

    def envelope(self, status: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
        p = self.params
        return {
            "id": self.id,
            "object": "realtime.response",
            "status": status,
            "status_details": details,
            "output": [snapshot(i) for i in self.output],
            "conversation_id": self.host.conversation_id if self.in_conversation else None,
            "output_modalities": p["output_modalities"],
            "max_output_tokens": p["max_output_tokens"],
            "audio": {"output": {"format": p["format"], "voice": p["voice"]}},
            "usage": None if status == "in_progress" else self.usage(),
            "metadata": p["metadata"],
        }

    # -- the run --------------------------------------------------------------------

    async def run(self) -> None:
        self.emit("response.created", response=self.envelope("in_progress"))
        status, details = "completed", None
        try:
            await self.body()
            if self.finish == "length":
                status, details = "incomplete", {"type": "incomplete", "reason": "max_output_tokens"}
        except asyncio.CancelledError:
            status, details = "cancelled", {"type": "cancelled", "reason": self.cancel_reason}
        except RealtimeError as e:
            status, details = "failed", failed(e.type, e.code)
            self.host.report(e)
        except Exception as e:  # noqa: BLE001 -- ``failure`` says what it means, and logs the unexpected
            err, said = self.failure(e)
            status, details = "failed", failed(err.type, err.code)
            if said:
                self.host.report(err)
        finally:
            for close in reversed(self._open):
                close()
            self._open.clear()
        self.finished()
        self.emit("response.done", response=self.envelope(status, details))

    # -- output items ---------------------------------------------------------------

    def start_item(self, item: dict[str, Any]) -> int:
        """An output item: in the response (and the conversation), announced as added."""
        entry = Entry(item=item)
        self.current = entry
        before = self.host.conversation.add(entry) if self.in_conversation else None
        self.output.append(item)
        index = len(self.output) - 1
        self.emit("response.output_item.added", response_id=self.id, output_index=index, item=snapshot(item))
        if self.in_conversation:
            self.emit("conversation.item.added", previous_item_id=before, item=snapshot(item))
        self._open.append(lambda: self.finish_item(item, "incomplete"))
        return index

    def finish_item(self, item: dict[str, Any], status: str) -> None:
        if item.get("status") != "in_progress":
            return
        item["status"] = status
        index = self.output.index(item)
        self.emit("response.output_item.done", response_id=self.id, output_index=index, item=snapshot(item))
        if self.in_conversation:
            self.emit("conversation.item.done", item=snapshot(item))

    def call_item(self, name: str, call_id: str | None = None) -> dict[str, Any]:
        """A function call item, started; its arguments grow with ``call_delta``."""
        item = {
            "id": new_id("item"),
            "object": "realtime.item",
            "type": "function_call",
            "status": "in_progress",
            "call_id": call_id or new_id("call"),
            "name": name,
            "arguments": "",
        }
        self.start_item(item)
        return item

    def call_ids(self, item: dict[str, Any]) -> dict[str, Any]:
        index = self.output.index(item)
        return {"response_id": self.id, "item_id": item["id"], "output_index": index, "call_id": item["call_id"]}

    def call_delta(self, item: dict[str, Any], arguments: str) -> None:
        item["arguments"] += arguments
        self.emit("response.function_call_arguments.delta", delta=arguments, **self.call_ids(item))

    def finish_call(self, item: dict[str, Any]) -> None:
        item["arguments"] = item["arguments"] or "{}"
        self.emit(
            "response.function_call_arguments.done",
            arguments=item["arguments"],
            name=item["name"],
            **self.call_ids(item),
        )
        self.finish_item(item, "completed")

    # -- the assistant message's one content part ----------------------------------------

    def open_part(self, item: dict[str, Any], index: int, spoken: bool) -> Part:
        """The message's content part (audio with its transcript, or text), announced as added."""
        ids = {"response_id": self.id, "item_id": item["id"], "output_index": index, "content_index": 0}
        self.emit(
            "response.content_part.added",
            part={"type": "audio", "transcript": ""} if spoken else {"type": "text", "text": ""},
            **ids,
        )
        content = {"type": "output_audio", "transcript": ""} if spoken else {"type": "output_text", "text": ""}
        item["content"].append(content)
        part = Part(ids, content, spoken)
        self._open.append(lambda: self.close_part(part))
        return part

    def close_part(self, part: Part) -> None:
        """The part's closing events, with what was really said (or written); once."""
        if part.closed:
            return
        part.closed = True
        text = part.text
        if part.spoken:
            part.content["transcript"] = text
            self.emit("response.output_audio.done", **part.ids)
            self.emit("response.output_audio_transcript.done", transcript=text, **part.ids)
            wire = {"type": "audio", "transcript": text}
        else:
            part.content["text"] = text
            self.emit("response.output_text.done", text=text, **part.ids)
            wire = {"type": "text", "text": text}
        self.emit("response.content_part.done", part=wire, **part.ids)
