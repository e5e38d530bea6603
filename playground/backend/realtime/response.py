"""One model response: the local LLM's reply streamed as text, or spoken sentence by sentence.

A response runs as one asyncio task. One that asks for a text to be read as written
(``verbatim.reading``: "read this word for word", then a style) never reaches the LLM: the
text is spoken in the speech endpoint's chunks, styled from the rest of the instructions,
and is its own transcript. Otherwise text comes from the LLM worker thread (which never
waits on us); each sentence, the first cut short at a clause, is synthesised as soon as
it is complete and sent as small ``response.output_audio.delta`` events, with its words
as a transcript delta just before its audio. With tools configured the turn is first
routed by ``tools_router`` (the tool, or none, from the tool definitions; arguments by
rules, the rest by the LLM under a grammar from that tool's schema); the answer after a
tool result must state the result's facts, or a sentence built from them is said. Being
cancelled (``response.cancel``, the user talking over it, the client leaving) closes the
LLM stream, which stops generation at the next token, and still ends with the closing
events and ``response.done``.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
from collections.abc import AsyncGenerator
from typing import Any, Protocol

import numpy as np
from starlette.concurrency import iterate_in_threadpool

from playground.backend.engines.base import ChatDelta, EngineBusyError
from playground.backend.engines.manager import EngineManager
from playground.backend.localmap import local_voice
from playground.backend.realtime import config as cfg
from playground.backend.realtime.codecs import RATE, OutputEncoder, bytes_per_second
from playground.backend.realtime.conversation import Entry, item_text, llm_messages
from playground.backend.realtime.protocol import RealtimeError, message_item
from playground.backend.realtime.response_core import Part, ResponseCore, ResponseHost, text_usage
from playground.backend.realtime.verbatim import estimate_tokens, pieces, reading
from playground.backend.style import Prosody, parse_instructions
from playground.backend.synthesis import Synthesizer
from playground.backend.text import SentenceBuffer
from playground.backend.tools_router import (
    PHRASE_MAX_TOKENS,
    PHRASE_WITH_LLM,
    answer_from_result,
    decide,
    decide_all,
    llm_arguments,
    pick_answer,
)
from playground.core.catalog import get_catalog

__all__ = ["LocalHost", "Response"]

log = logging.getLogger(__name__)

#: temperature of spoken replies: some variety, little rambling
REPLY_TEMPERATURE = 0.6


class LocalHost(ResponseHost, Protocol):
    """What a local response needs of its session beyond the protocol's four things."""

    engines: EngineManager
    #: how long the latest transcription of the user's speech took
    last_stt_seconds: float

    def voice_used(self) -> None:
        """The first audio left: the session's voice is fixed from now on."""


class Response(ResponseCore):
    """Build with the session and the response's settings; ``await run()``."""

    def __init__(
        self,
        host: LocalHost,
        params: dict[str, Any],
        *,
        context: list[Entry],
        model: str | None = None,
        note: str | None = None,
        timing: dict[str, float] | None = None,
    ):
        super().__init__(host, params, context=context)
        self.host: LocalHost = host
        self.model = model
        self.note = note
        self.timing = timing if timing is not None else {}
        self.audio_seconds = 0.0
        self._prompt_tokens = 0
        self._completion_tokens = 0
        #: set once the first audio left: the voice is fixed from then on
        self.spoke = False

    def usage(self) -> dict[str, Any]:
        """Tokens as OpenAI bills them: user speech and the voice as audio tokens, at the model's rates."""
        audio_ms = sum(e.audio_ms for e in self.context if e.item.get("role") == "user")
        audio_in = round(audio_ms / 1000 * _rate(self.model, "user_audio_tokens_per_second"))
        audio_out = round(self.audio_seconds * _rate(self.model, "assistant_audio_tokens_per_second"))
        return text_usage(self._prompt_tokens, self._completion_tokens, audio_in=audio_in, audio_out=audio_out)

    UNEXPECTED = ("The local model failed while answering", "engine_failure")

    def failure(self, e: Exception) -> tuple[RealtimeError, bool]:
        if isinstance(e, EngineBusyError):
            return RealtimeError(str(e), code="engine_busy", type="rate_limit_exceeded"), True
        return super().failure(e)

    def finished(self) -> None:
        self.timing["done"] = time.perf_counter()

    # -- the run --------------------------------------------------------------------

    async def body(self) -> None:
        p = self.params
        for entry in self.context:  # the user's speech must be heard before answering
            if entry.transcript is not None and not entry.transcript.done():
                await asyncio.shield(entry.transcript)
        self.timing["heard"] = time.perf_counter()
        self.timing["stt_seconds"] = self.host.last_stt_seconds
        instructions = p["instructions"] or str(get_catalog().local.realtime.default_instructions)
        read = reading(instructions, self.context, note=self.note)
        if read is not None:  # no LLM: the text is spoken, and shown, as it is written
            said = [item_text(e) for e in self.context if not e.audio_ms]
            self._prompt_tokens = estimate_tokens(instructions, *said)
            self._completion_tokens = estimate_tokens(read.text)
            await self._reply(_listed(pieces(read.text)), parse_instructions(read.style))
            return
        messages = llm_messages(instructions, self.context)
        if self.note:
            messages.append({"role": "system", "content": self.note})
        tools = p["tools"]
        choice = p["tool_choice"]
        last = self.context[-1].item if self.context else {}
        wants_route = tools and choice != "none" and (last.get("role") == "user" or choice != "auto")
        if wants_route:
            forced = [t for t in tools if isinstance(choice, dict) and t["name"] == choice["name"]]
            several = not forced and p.get("parallel_tool_calls", True) is not False
            picked = await self._route(forced or tools, allow_none=choice == "auto", several=several)
            for name, arguments in picked:
                await self._call(name, arguments)
            if picked:
                return
        spoken = p["output_modalities"] == ["audio"]
        await self._reply(self._llm_pieces(messages, spoken), parse_instructions(p["instructions"] or ""))

    async def _llm_text(self, messages: list[dict[str, str]], **kwargs: Any) -> list[ChatDelta]:
        llm = self.host.engines.llm()
        deltas = llm.chat(messages, **kwargs)
        try:
            return [d async for d in iterate_in_threadpool(deltas)]
        finally:
            close = getattr(deltas, "close", None)
            if close is not None:
                close()

    async def _route(self, tools: list[dict[str, Any]], *, allow_none: bool, several: bool) -> list[tuple[str, str]]:
        """The calls the last user turn needs, by ``tools_router``: every one it asks for when
        ``several`` (``parallel_tool_calls``), else the best one. Arguments the rules cannot
        read from the turn are asked of the LLM, held to the tool's schema."""
        said = next((item_text(e) for e in reversed(self.context) if e.item.get("role") == "user"), "")
        if several:
            decisions = decide_all(said, tools, allow_none=allow_none)
        else:
            decisions = [d for d in (decide(said, tools, allow_none=allow_none),) if d.name is not None]
        out = []
        for decision in decisions:
            args = decision.arguments
            if decision.missing:
                tool = next(t for t in tools if t["name"] == decision.name)
                llm = self.host.engines.llm()
                try:
                    args = await asyncio.to_thread(llm_arguments, llm, said, tool, args, decision.missing)
                except ValueError as e:  # a parameters schema the grammar converter cannot take
                    raise RealtimeError(str(e), param="tools", code="invalid_tool_schema") from e
            out.append((str(decision.name), json.dumps(args, ensure_ascii=False)))
        return out

    async def _call(self, name: str, arguments: str) -> None:
        item = self.call_item(name)
        self.call_delta(item, arguments)
        self.finish_call(item)

    async def _reply(self, source: AsyncGenerator[tuple[str, str], None], prosody: Prosody) -> None:
        """One assistant message from ``source``'s (transcript delta, text to speak) pairs:
        the deltas as text, or each piece spoken (its delta sent as its audio starts)."""
        spoken = self.params["output_modalities"] == ["audio"]
        item = message_item("assistant", [], status="in_progress")
        index = self.start_item(item)
        entry = self.current
        assert entry is not None
        part = self.open_part(item, index, spoken)
        voice = Voice(self, entry, part, prosody) if spoken else None
        try:
            async for delta, speech in source:
                self.timing.setdefault("first_piece", time.perf_counter())
                if voice is None:
                    part.said.append(delta)
                    self.emit("response.output_text.delta", delta=delta, **part.ids)
                else:
                    await voice.say(speech, delta)
            if voice is not None:
                voice.finish()
        finally:
            await source.aclose()
        self.close_part(part)
        self.finish_item(item, "completed")

    async def _llm_pieces(self, messages: list[dict[str, str]], spoken: bool) -> AsyncGenerator[tuple[str, str], None]:
        """The LLM's reply as ``_reply`` pieces: its deltas as they come for text; for speech,
        sentences (the first cut short at a clause) as soon as each is complete."""
        p = self.params
        cap = cfg.reply_token_cap(p)  # the catalog's reply_max_tokens, scaled by reasoning effort
        mot = p["max_output_tokens"]
        max_tokens = min(cap, mot) if isinstance(mot, int) else cap
        llm = self.host.engines.llm()
        # relaying a tool's result is a factual answer: greedy decoding keeps the small model
        # on the facts it was handed (sampled, it drifts off them now and then)
        relay = bool(self.context) and self.context[-1].item["type"] == "function_call_output"
        if relay:
            deltas: Any = iter([await self._relay_answer(messages, min(max_tokens, PHRASE_MAX_TOKENS))])
        else:
            deltas = llm.chat(messages, max_tokens=max_tokens, temperature=REPLY_TEMPERATURE)
        sentences = SentenceBuffer()
        lead = ""  # a space before every sentence but the first, so the deltas join into the transcript
        try:
            async for d in iterate_in_threadpool(deltas):
                if d.text:
                    self.timing.setdefault("llm_first_token", time.perf_counter())
                    if not spoken:
                        yield d.text, d.text
                    for sentence in sentences.feed(d.text) if spoken else ():
                        if not lead:  # the first words are out: the rest need not outrank other replies
                            getattr(deltas, "first_words_out", _nothing)()
                        yield lead + sentence, sentence
                        lead = " "
                if d.finish_reason:
                    self.finish = d.finish_reason
                    self._prompt_tokens += d.prompt_tokens
                    self._completion_tokens += d.completion_tokens
            for sentence in sentences.flush():
                yield lead + sentence, sentence
                lead = " "
        finally:
            close = getattr(deltas, "close", None)
            if close is not None:
                close()  # stops generation at the next token when we were cancelled

    async def _relay_answer(self, messages: list[dict[str, str]], max_tokens: int) -> ChatDelta:
        """The answer to a tool's result, whole: the LLM's (greedy) if it states the result's
        facts and no number of its own, else a sentence built from the result's fields."""
        out = self.context[-1].item
        names = {e.item.get("call_id"): e.item.get("name") for e in self.context if e.item["type"] == "function_call"}
        name = str(names.get(out.get("call_id")) or "the tool")
        results = _latest_outputs(self.context)
        if len(results) > 1:  # parallel calls: each result stated, in the order they were asked for
            answers = [answer_from_result(str(names.get(r.get("call_id")) or "the tool"), r["output"]) for r in results]
            return ChatDelta(text=" ".join(answers), finish_reason="stop")
        text = None
        if PHRASE_WITH_LLM:
            deltas = await self._llm_text(messages, max_tokens=max_tokens, temperature=0.0)
            text = "".join(d.text for d in deltas)
            if deltas:
                self._prompt_tokens += deltas[-1].prompt_tokens
                self._completion_tokens += deltas[-1].completion_tokens
        answer, kept = pick_answer(text, name, str(out.get("output", "")))
        if not kept:
            log.info("tool answer: the LLM missed the result's facts (%r); said the template", (text or "")[:120])
        return ChatDelta(text=answer, finish_reason="stop")


class Voice:
    """Speaks a reply's sentences into audio deltas and keeps the item's audio and timing."""

    def __init__(self, response: Response, entry: Entry, part: Part, prosody: Prosody):
        p = response.params
        self.response = response
        self.entry = entry
        self.ids = part.ids
        self.said = part.said
        self.voice = local_voice(p["voice"])
        self.speed = float(p["speed"])
        self.prosody = prosody
        self.encoder = OutputEncoder(p["format"]["type"])
        per_second = bytes_per_second(p["format"]["type"])
        ms = int(get_catalog().local.realtime.audio_delta_ms)
        self.delta_bytes = max(2, per_second * ms // 1000 // 2 * 2)
        self.pcm: list[np.ndarray] = []
        self.samples = 0
        #: when the first audio went out (``time.monotonic()``): later sentences are due by it
        self.heard_from: float | None = None

    async def say(self, sentence: str, delta: str) -> None:
        """Speak ``sentence``; ``delta`` is its transcript delta, sent as its audio starts."""
        r = self.response
        synth = Synthesizer(
            r.host.engines,
            self.voice,
            sentence,
            speed=self.speed,
            prosody=self.prosody,
            heard_from=self.heard_from,
            ahead_s=self.samples / RATE,
        )
        start_ms = self.samples * 1000 // RATE
        heard = False
        try:
            async for chunk in synth.stream():
                if not heard:
                    r.timing.setdefault("tts_first_chunk", time.perf_counter())
                    if self.heard_from is None:
                        self.heard_from = time.monotonic()
                    if self.samples and self.prosody.pause_ms:  # the style's pause after each sentence
                        self._push(np.zeros(RATE * self.prosody.pause_ms // 1000, np.float32))
                        start_ms = self.samples * 1000 // RATE
                    self.said.append(delta)
                    r.emit("response.output_audio_transcript.delta", delta=delta, **self.ids)
                    heard = True
                self._push(chunk)
        finally:
            # also when cancelled mid-sentence: truncation needs what was actually sent
            if heard:
                self.entry.spans.append((start_ms, self.samples * 1000 // RATE, sentence))
                self._join()

    def _push(self, chunk: np.ndarray) -> None:
        self._send(self.encoder.encode(chunk))
        pcm = (np.clip(chunk, -1.0, 1.0) * 32767.0).astype(np.int16)
        self.pcm.append(pcm)
        self.samples += len(pcm)
        self.response.audio_seconds = self.samples / RATE

    def _join(self) -> None:
        if len(self.pcm) > 1:
            self.pcm = [np.concatenate(self.pcm)]
        self.entry.audio = self.pcm[0] if self.pcm else None

    def _send(self, data: bytes) -> None:
        r = self.response
        for i in range(0, len(data), self.delta_bytes):
            if not r.spoke:
                r.spoke = True
                r.timing.setdefault("first_audio", time.perf_counter())
                r.host.voice_used()
            r.emit(
                "response.output_audio.delta",
                delta=base64.b64encode(data[i : i + self.delta_bytes]).decode(),
                **self.ids,
            )

    def finish(self) -> None:
        self._send(self.encoder.finish())
        self._join()


def _nothing() -> None:
    pass


async def _listed(items: list[tuple[str, str]]) -> AsyncGenerator[tuple[str, str], None]:
    for piece in items:
        yield piece


def _latest_outputs(context: list[Entry]) -> list[dict[str, Any]]:
    """The tool results that answer the latest calls: the run of outputs since the last message."""
    out: list[dict[str, Any]] = []
    for entry in reversed(context):
        kind = entry.item["type"]
        if kind == "message":
            break
        if kind == "function_call_output":
            out.append(entry.item)
    return out[::-1]


def _rate(model: str | None, key: str) -> float:
    """Audio tokens per second for the session's model (the default's where it has no price entry)."""
    cat = get_catalog()
    found = cat.price(model or "").get(key)
    return float(found if found is not None else cat.price(cat.realtime.default_model).get(key, 0.0))
