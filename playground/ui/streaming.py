"""Stream speech to the page as PCM, so playback starts with the first sentence.

Gradio's streaming audio needs a system ffmpeg and adds HLS latency, and a plain
``<audio>`` element buffers the whole clip before it plays. So the Play handler
registers a spec and starts the run at once in a worker thread (the key stays on the
server); the encoded bytes the API returns are decoded as they arrive
(``core.stream_decode``) and ``GET /studio/pcm/{token}`` sends the page raw 16-bit PCM,
which ``static/studio.js`` plays through an AudioWorklet. The route replays what was
decoded so far and follows the rest, and the finished ``SpeechResult`` (the exact
file, for the download) is picked up by the handler that fills the metrics.

The realtime workflow (a ``RealtimeSpeechSpec``) is the same to the page: its session
audio deltas are turned into PCM at the page's rate as they come, and its transcript kept
in ``text``. The Audio chat tab plays its replies through the same route: a ``ChatAudioSpec`` run
sends the streamed reply's PCM16 deltas as they come (or decodes a whole reply in
another format once it is there), and keeps the transcript so far in ``text`` for the
handler that shows it beside the player.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse
from itsdangerous import BadSignature, URLSafeTimedSerializer

from playground.client.providers import Provider
from playground.client.results import ChatAudioResult, SpeechResult
from playground.client.runner import Runner
from playground.core.catalog import get_catalog
from playground.core.errors import PlaygroundError
from playground.core.specs import ChatAudioSpec, RealtimeSpeechSpec, SpeechSpec
from playground.core.stream_decode import PcmStreamDecoder, SessionAudioDecoder
from playground.gate import LOCAL_PERSON, person_of

__all__ = ["PendingSpeech", "SpeechStreams", "create_stream_router"]

#: finished runs stay collectable this long (their PCM is kept for replays)
KEEP_SECONDS = 15 * 60
#: a token the page made itself: its stream key (``GET /studio/key``), a dot, and 128
#: random bits (base64url); anything else gets a server token
_PAGE_TOKEN = re.compile(r"^(?P<key>[A-Za-z0-9_.-]{16,200})\.(?P<nonce>[A-Za-z0-9_-]{22,64})$")
#: how long the PCM route waits for a run whose token the page announced first
REGISTER_WAIT_S = 5.0
#: signs stream keys apart from any other signed value
_KEY_SALT = "playground-stream-key"
#: how often a request that came before its Play looks for the run
AWAIT_STEP_S = 0.02


@dataclass
class PendingSpeech:
    token: str
    spec: SpeechSpec | RealtimeSpeechSpec | ChatAudioSpec
    provider: Provider
    #: the browser tab that started it (Gradio's session hash), if known
    owner: str | None = None
    #: who started it (``gate.person_of``): only they may follow it
    person: str = LOCAL_PERSON
    created: float = field(default_factory=time.monotonic)
    #: decoded PCM (s16le mono at the catalog's PCM rate), in arrival order
    pcm: list[bytes] = field(default_factory=list)
    pcm_done: bool = False
    done: bool = False
    result: SpeechResult | ChatAudioResult | None = None
    error: str | None = None
    #: a chat reply's transcript (or text) so far
    text: list[str] = field(default_factory=list)
    cond: threading.Condition = field(default_factory=threading.Condition)
    #: pages following the PCM on an event loop, woken when more arrives
    _wakers: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = field(default_factory=list)

    @property
    def rate(self) -> int:
        return get_catalog().pcm_sample_rate

    @property
    def fmt(self) -> str:
        """The encoding of what the provider sends (``pcm``: raw PCM16)."""
        if isinstance(self.spec, SpeechSpec):
            return self.spec.response_format
        if isinstance(self.spec, RealtimeSpeechSpec):
            return self.spec.output_format
        return "pcm" if self.spec.stream or self.spec.audio_format == "pcm16" else self.spec.audio_format

    def _on_text(self, piece: str) -> None:
        with self.cond:
            self.text.append(piece)
            self.cond.notify_all()

    def _on_pcm(self, data: bytes) -> None:
        with self.cond:
            if data:
                self.pcm.append(data)
            else:
                self.pcm_done = True
            wakers = list(self._wakers)
        for loop, event in wakers:
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:  # that follower's loop has closed
                pass

    def run(self) -> None:
        decoder: PcmStreamDecoder | SessionAudioDecoder
        if isinstance(self.spec, RealtimeSpeechSpec):
            decoder = SessionAudioDecoder(self.spec.output_format, self.rate, self._on_pcm)
        else:
            decoder = PcmStreamDecoder(self.fmt, self.rate, self._on_pcm)
        result: SpeechResult | ChatAudioResult | None
        try:
            if isinstance(self.spec, ChatAudioSpec):
                result = Runner(self.provider).chat_audio(self.spec, on_audio=decoder.feed, on_text=self._on_text)
            elif isinstance(self.spec, RealtimeSpeechSpec):
                result = Runner(self.provider).realtime_speech(
                    self.spec, on_audio=decoder.feed, on_transcript=self._on_text
                )
            else:
                stream = Runner(self.provider).stream_speech(self.spec)
                for chunk in stream:
                    decoder.feed(chunk)
                result = stream.result
            error = None
        except PlaygroundError as e:
            result, error = None, str(e)
        except Exception as e:  # noqa: BLE001 - reported to the page, never raised into a worker
            result, error = None, self.provider.redact(f"{type(e).__name__}: {e}")
        finally:
            decoder.end()
        with self.cond:
            self.result, self.error, self.done = result, error, True
            self.cond.notify_all()

    async def follow_pcm(self) -> AsyncIterator[bytes]:
        """Every PCM chunk from the first, then each new one until decoding ends; on the
        event loop, so a page listening to a slow stream holds no worker thread (the
        engines' thread pool is the same one)."""
        event = asyncio.Event()
        waker = (asyncio.get_running_loop(), event)
        with self.cond:
            self._wakers.append(waker)
        sent = 0
        try:
            while True:
                event.clear()
                with self.cond:
                    fresh = self.pcm[sent:]
                    finished = self.pcm_done
                if fresh:
                    yield b"".join(fresh)
                    sent += len(fresh)
                elif finished:
                    return
                else:
                    await event.wait()
        finally:
            with self.cond:
                self._wakers.remove(waker)

    def text_so_far(self, timeout: float) -> tuple[str, bool]:
        """A chat reply's text so far, after waiting up to ``timeout`` for more; and whether it is done."""
        with self.cond:
            seen = len(self.text)
            self.cond.wait_for(lambda: self.done or len(self.text) > seen, timeout=timeout)
            return "".join(self.text), self.done

    def wait(self, timeout: float = 600) -> tuple[SpeechResult | ChatAudioResult | None, str | None]:
        deadline = time.monotonic() + timeout
        with self.cond:
            while not self.done:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None, "timed out waiting for the speech to finish"
                self.cond.wait(timeout=left)
        return self.result, self.error


class SpeechStreams:
    """In-flight and recent speech runs, keyed by unguessable tokens; at most ``limit`` kept."""

    def __init__(self, limit: int | None = None, per_tab: int | None = None) -> None:
        limits = get_catalog().limits
        self.limit = limit or limits.recent_runs_max
        self.per_tab = per_tab or limits.tab_runs_max
        self._items: dict[str, PendingSpeech] = {}
        self._lock = threading.Lock()
        #: signs each person's stream key; per process, so a restart retires every key
        self._keys = URLSafeTimedSerializer(secrets.token_bytes(32), salt=_KEY_SALT)
        #: how long a key is good for (the page fetches a fresh one well before)
        self.key_max_age = int(limits.login_max_age_seconds)

    # -- page tokens -----------------------------------------------------------------
    def key_for(self, person: str) -> str:
        """The stream key a page of ``person`` prefixes its own tokens with."""
        return self._keys.dumps(person)

    def _page_token_of(self, token: str, person: str) -> bool:
        """``token`` was made by a page of ``person`` with a key this process issued and
        that has not expired: the only tokens worth waiting for before their run exists."""
        match = _PAGE_TOKEN.match(token or "")
        if match is None:
            return False
        try:
            return self._keys.loads(match["key"], max_age=self.key_max_age) == person
        except BadSignature:
            return False

    def start(
        self,
        spec: SpeechSpec | RealtimeSpeechSpec | ChatAudioSpec,
        provider: Provider,
        *,
        token: str = "",
        owner: str | None = None,
        person: str = LOCAL_PERSON,
    ) -> PendingSpeech:
        """Register and start a run. ``token``: one the page generated and is already
        fetching (saves a round trip); one that is malformed, taken, or not made with this
        ``person``'s stream key is replaced. ``owner``: the browser tab, which may have
        ``per_tab`` runs in flight (a click-happy tab cannot take every slot the server has)."""
        spec.validate()
        with self._lock:
            self._prune()
            running = [p for p in self._items.values() if not p.done]
            if len(running) >= self.limit:
                raise PlaygroundError(
                    f"{len(running)} plays are still in progress on this server (the most at once is "
                    f"{self.limit}); try again when one has finished."
                )
            if owner is not None and sum(1 for p in running if p.owner == owner) >= self.per_tab:
                raise PlaygroundError(f"This tab already has {self.per_tab} plays in progress; wait for one to finish.")
            if not self._page_token_of(token, person) or token in self._items:
                token = secrets.token_urlsafe(16)
            pending = PendingSpeech(token, spec, provider, owner=owner, person=person)
            self._items[pending.token] = pending
        threading.Thread(target=pending.run, name=f"speech-{pending.token[:6]}", daemon=True).start()
        return pending

    def get(self, token: str, person: str | None = None) -> PendingSpeech | None:
        """The run for ``token``; given ``person``, only if they started it."""
        with self._lock:
            pending = self._items.get(token)
        return pending if pending is None or person is None or pending.person == person else None

    async def await_for(
        self, token: str, person: str = LOCAL_PERSON, timeout: float = REGISTER_WAIT_S
    ) -> PendingSpeech | None:
        """``person``'s run for ``token``. A token their page made with its key may come
        before Play has registered its run, so that one is waited for, briefly, on the
        event loop (holding none of the worker threads the engines need); any other
        unknown token, or another person's run, is answered at once."""
        pending = self.get(token)
        if pending is None and self._page_token_of(token, person):
            deadline = time.monotonic() + timeout
            while (pending := self.get(token)) is None and time.monotonic() < deadline:
                await asyncio.sleep(AWAIT_STEP_S)
        return self.get(token, person) if pending is not None else None

    def _prune(self) -> None:
        cutoff = time.monotonic() - KEEP_SECONDS
        for token in [t for t, p in self._items.items() if p.done and p.created < cutoff]:
            del self._items[token]
        finished = sorted((p.created, t) for t, p in self._items.items() if p.done)
        while len(self._items) >= self.limit and finished:  # oldest finished runs go first
            del self._items[finished.pop(0)[1]]


def create_stream_router(streams: SpeechStreams) -> APIRouter:
    router = APIRouter()

    @router.get("/studio/key")
    async def key(request: Request) -> JSONResponse:
        """This person's stream key: the page prefixes the tokens it makes with it."""
        return JSONResponse(
            {"key": streams.key_for(person_of(request)), "max_age_s": streams.key_max_age},
            headers={"cache-control": "no-store"},
        )

    @router.get("/studio/pcm/{token}", response_model=None)
    async def pcm(token: str, request: Request) -> StreamingResponse | JSONResponse:
        pending = await streams.await_for(token, person_of(request))
        if pending is None:
            return JSONResponse({"error": "unknown or expired stream"}, status_code=404)
        return StreamingResponse(
            pending.follow_pcm(),
            media_type=f"audio/L16;rate={pending.rate};channels=1",
            headers={"cache-control": "no-store", "x-playground-format": pending.fmt},
        )

    return router
