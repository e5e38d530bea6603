"""Chat through any OpenAI-compatible server (Ollama, vLLM, llama.cpp's server, OpenAI).

Lets users swap the tiny bundled model for a bigger one they already serve, with no
local weights. Uses the official ``openai`` SDK so auth, retries and SSE parsing are the
SDK's problem, not ours.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from playground.backend.engines.base import ChatDelta, LLMEngine

__all__ = ["PLACEHOLDER_API_KEY", "RemoteLLM"]

#: the SDK refuses to build a client without a key; local servers ignore it
PLACEHOLDER_API_KEY = "not-needed"


class RemoteLLM(LLMEngine):
    """Streams replies from ``{base_url}/chat/completions`` for one named model.

    Stateless apart from the SDK client, whose HTTP pool is thread-safe, so concurrent
    calls need no lock: the server does its own batching or queueing.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        *,
        timeout: float = 120.0,
        max_retries: int = 2,
    ) -> None:
        """``base_url`` includes the API prefix, e.g. ``http://127.0.0.1:11434/v1`` for Ollama."""
        from openai import OpenAI  # late: the SDK is slow to import and only needed here

        self.base_url = base_url
        self.model = model
        self._client = OpenAI(
            base_url=base_url,
            api_key=api_key or PLACEHOLDER_API_KEY,
            timeout=timeout,
            max_retries=max_retries,
        )

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._client.close()

    def chat(
        self,
        messages: list[dict],
        *,
        max_tokens: int = 256,
        temperature: float = 0.7,
        schema: dict | None = None,
    ) -> Iterator[ChatDelta]:
        """Stream the reply; messages go through unchanged (servers may accept image parts).

        ``schema`` becomes ``response_format: json_schema`` (strict), which Ollama, vLLM and
        llama.cpp's server honour with constrained decoding.

        Token counts come from the stream's usage chunk. Servers that reject
        ``stream_options`` are retried without it; servers that send no usage get
        estimates (prompt: ~4 characters a token; completion: one token per content chunk,
        which is how Ollama, vLLM and llama.cpp stream).
        """
        return self._stream(messages, max_tokens, temperature, schema)

    def _open(
        self, messages: list[dict], max_tokens: int, temperature: float, usage: bool, schema: dict | None = None
    ) -> Any:
        kwargs: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "max_tokens": max_tokens,
            "temperature": temperature,
            "stream": True,
        }
        if usage:
            kwargs["stream_options"] = {"include_usage": True}
        if schema is not None:
            kwargs["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "reply", "schema": schema, "strict": True},
            }
        return self._client.chat.completions.create(**kwargs)

    def _stream(
        self, messages: list[dict], max_tokens: int, temperature: float, schema: dict | None = None
    ) -> Iterator[ChatDelta]:
        from openai import BadRequestError, UnprocessableEntityError

        try:
            stream = self._open(messages, max_tokens, temperature, usage=True, schema=schema)
        except (BadRequestError, UnprocessableEntityError):
            # Older or stricter servers refuse the unknown field; the reply matters more.
            stream = self._open(messages, max_tokens, temperature, usage=False, schema=schema)

        finish: str | None = None
        prompt_tokens = completion_tokens = 0
        chunks = 0
        with stream:
            for chunk in stream:
                if chunk.usage is not None:
                    prompt_tokens = chunk.usage.prompt_tokens or 0
                    completion_tokens = chunk.usage.completion_tokens or 0
                for choice in chunk.choices:
                    if choice.index != 0:
                        continue
                    text = choice.delta.content if choice.delta else None
                    if text:
                        chunks += 1
                        yield ChatDelta(text=text)
                    if choice.finish_reason:
                        finish = choice.finish_reason
        if not prompt_tokens:
            prompt_tokens = _estimate_prompt_tokens(messages)
        if not completion_tokens:
            completion_tokens = chunks
        yield ChatDelta(
            finish_reason=finish or "stop",
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
        )


def _estimate_prompt_tokens(messages: list[dict]) -> int:
    """Rough count for servers without usage: ~4 characters a token plus a few per turn."""
    chars = 0
    for m in messages:
        content = m.get("content")
        if isinstance(content, str):
            chars += len(content)
        elif isinstance(content, list):
            chars += sum(len(str(p.get("text") or "")) for p in content if isinstance(p, dict))
    return max(1, chars // 4 + 4 * len(messages))
