"""Stream speech to the browser's own <audio> element through our server.

Gradio's streaming audio needs a system ffmpeg and adds HLS latency, so the studio
plays from ``GET /studio/stream/{token}`` instead: the Play handler registers a spec
and starts the run at once in a worker thread (the key stays on the server); the
route replays the chunks received so far and follows the rest as they arrive, so
playback starts with the first sentence. The finished ``SpeechResult`` is then picked
up by the handler that fills metrics and the download.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from fastapi import APIRouter
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.concurrency import iterate_in_threadpool

from playground.client.providers import Provider
from playground.client.results import SpeechResult
from playground.client.runner import Runner
from playground.core.catalog import get_catalog
from playground.core.encode import wav_stream_header
from playground.core.errors import PlaygroundError
from playground.core.specs import SpeechSpec

__all__ = ["PendingSpeech", "SpeechStreams", "create_stream_router"]

KEEP_SECONDS = 15 * 60


@dataclass
class PendingSpeech:
    token: str
    spec: SpeechSpec
    provider: Provider
    created: float = field(default_factory=time.monotonic)
    chunks: list[bytes] = field(default_factory=list)
    done: bool = False
    result: SpeechResult | None = None
    error: str | None = None
    cond: threading.Condition = field(default_factory=threading.Condition)

    def run(self) -> None:
        try:
            stream = Runner(self.provider).stream_speech(self.spec)
            for chunk in stream:
                with self.cond:
                    self.chunks.append(chunk)
                    self.cond.notify_all()
            result, error = stream.result, None
        except PlaygroundError as e:
            result, error = None, str(e)
        except Exception as e:  # noqa: BLE001 - reported to the page, never raised into a worker
            result, error = None, self.provider.redact(f"{type(e).__name__}: {e}")
        with self.cond:
            self.result, self.error, self.done = result, error, True
            self.cond.notify_all()

    def follow(self) -> Iterator[bytes]:
        """Every chunk from the first, blocking for new ones until the run ends."""
        if self.spec.response_format == "pcm":
            yield wav_stream_header(24_000)
        sent = 0
        while True:
            with self.cond:
                while sent >= len(self.chunks) and not self.done:
                    self.cond.wait(timeout=30)
                fresh = self.chunks[sent:]
                finished = self.done
            yield from fresh
            sent += len(fresh)
            if finished and sent >= len(self.chunks):
                return

    def wait(self, timeout: float = 600) -> tuple[SpeechResult | None, str | None]:
        deadline = time.monotonic() + timeout
        with self.cond:
            while not self.done:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None, "timed out waiting for the speech to finish"
                self.cond.wait(timeout=left)
        return self.result, self.error


class SpeechStreams:
    """Registry of in-flight and recent speech runs, keyed by unguessable tokens."""

    def __init__(self) -> None:
        self._items: dict[str, PendingSpeech] = {}
        self._lock = threading.Lock()

    def start(self, spec: SpeechSpec, provider: Provider) -> PendingSpeech:
        spec.validate()
        pending = PendingSpeech(secrets.token_urlsafe(16), spec, provider)
        with self._lock:
            self._prune()
            self._items[pending.token] = pending
        threading.Thread(target=pending.run, name=f"speech-{pending.token[:6]}", daemon=True).start()
        return pending

    def get(self, token: str) -> PendingSpeech | None:
        with self._lock:
            return self._items.get(token)

    def _prune(self) -> None:
        cutoff = time.monotonic() - KEEP_SECONDS
        for token in [t for t, p in self._items.items() if p.done and p.created < cutoff]:
            del self._items[token]


def create_stream_router(streams: SpeechStreams) -> APIRouter:
    router = APIRouter()

    @router.get("/studio/stream/{token}", response_model=None)
    async def stream(token: str) -> StreamingResponse | JSONResponse:
        pending = streams.get(token)
        if pending is None:
            return JSONResponse({"error": "unknown or expired stream"}, status_code=404)
        fmt = pending.spec.response_format
        # browsers cannot play headerless PCM: ``follow`` sends the same samples as streamed WAV
        media = get_catalog().speech_formats["wav" if fmt == "pcm" else fmt].mime
        return StreamingResponse(
            iterate_in_threadpool(pending.follow()), media_type=media, headers={"cache-control": "no-store"}
        )

    return router
