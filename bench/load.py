"""Mixed load on the embedded backend: many kinds of client at once, through the real SDK.

For ``BENCH_LOAD_SECONDS`` (default 60; ``--quick`` or ``BENCH_LOAD_QUICK=1``: 20) against
``playground serve`` in its own process (so its memory is its own), the clients arriving
over the first ``BENCH_LOAD_RAMP`` seconds (default 2; 0 starts all at once): 16 clients stream
speech and read it at playback pace, 4 realtime sessions take text turns, 2 clients
transcribe files, and 1 client starts a chat stream and a speech stream, reads the first
chunk of each and then never reads again. Figures (targets from issue 25) are first
audio p50/p90 per kind, errors, the server's peak memory, and whether it still answers
after. Requests in flight at the end are let finish, so every client's last one counts.
The functions are parametrised by ``Mix`` so ``tests/test_mixed_load.py`` runs a CI-sized
version of the same load.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
from openai import AsyncOpenAI, OpenAI

from bench.common import QUESTIONS, bench_cache, median, p90, row
from playground.core.catalog import get_catalog
from playground.serving import free_port

try:
    import psutil
except ImportError:  # VmHWM alone then
    psutil = None

CAT = get_catalog()
SPEECH_MODEL = "gpt-4o-mini-tts"
REALTIME_MODEL = "gpt-realtime"
TRANSCRIBE_MODEL = "gpt-4o-mini-transcribe"
SPEECH_DIR = Path(__file__).resolve().parents[2] / "shared" / "testdata" / "speech"
#: English clips of the manifest with one voice each (the stereo one is diarized, a different path)
CLIPS = ("jfk.flac", "hotwords.mp3")
#: 24 kHz PCM16 mono
BYTES_PER_SECOND = 48_000
#: how far a player reads ahead of what it plays, in seconds
PLAYER_BUFFER = 0.3

#: issue 25's targets
TARGET_SPEECH_P90_MS = 400
TARGET_REALTIME_P90_MS = 800

TEXTS = [
    "Welcome to the audio playground. Every voice you hear is made on this machine. Try another one next.",
    "The train to the coast leaves at nine. Bring a coat, because the wind is cold by the water.",
    "Thank you for calling. Your order has shipped and should arrive on Thursday. Is there anything else?",
    "Preheat the oven to two hundred degrees. Mix the flour and butter, then add the milk slowly.",
    "The library opens early on weekdays. Quiet rooms are on the second floor, and the cafe is by the door.",
    "Here is today's weather. Sunny in the morning, with showers later in the afternoon and a mild evening.",
    "Turn left at the next corner. Keep going for three hundred metres, and the museum is on your right.",
    "Good morning. You have two meetings today, one at ten and one after lunch. Both are in room four.",
]
STORY = [{"role": "user", "content": "Tell me a long story about a lighthouse keeper and a storm."}]


@dataclass(frozen=True)
class Mix:
    """How many clients of each kind, for how long."""

    speech: int = 16
    realtime: int = 4
    transcribe: int = 2
    stalled: int = 1
    seconds: float = 60.0
    #: how long requests in flight at the end may take to finish before they count as errors
    grace: float = 180.0
    #: each client starts at a random moment in this many seconds, as users arrive, rather
    #: than all in the same millisecond (0: the thundering herd, every first request at once)
    ramp: float = 2.0


@dataclass
class Report:
    """What the clients saw; latencies in ms, completed requests per client."""

    speech_first_byte: list[float] = field(default_factory=list)
    realtime_first_audio: list[float] = field(default_factory=list)
    transcribe: list[float] = field(default_factory=list)
    completed: dict[str, list[int]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    #: times a speech player ran dry (a chunk came after the audio before it had played)
    underruns: int = 0
    #: the stalled client's story: when it stalled, the chat issued after, the stalled streams still open
    stall: dict[str, Any] = field(default_factory=dict)
    wall: float = 0.0

    def error(self, who: str, exc: BaseException | str) -> None:
        text = exc if isinstance(exc, str) else f"{type(exc).__name__}: {exc}"
        self.errors.append(f"{who}: {text}"[:300])


class LoadError(Exception):
    """An error event or a malformed reply: counts as an error like any exception."""


class Server:
    """``playground serve`` in a child process, with its peak memory sampled.

    VmHWM is the kernel's own peak of the main process; the sampler adds any children
    (ffmpeg and the like) to the total, every 0.2 s, when psutil is installed.
    """

    def __init__(self, env: dict[str, str] | None = None, log: Path | None = None, source: Path | None = None):
        #: another checkout's ``playground`` to serve (a baseline to compare against); default this one
        self.source = source
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log or Path(tempfile.mkstemp(prefix="bench-load-server-", suffix=".log")[1])
        self._env = {k: v for k, v in {**os.environ, **(env or {})}.items() if k != "PLAYGROUND_API_KEY"}
        self.proc: subprocess.Popen | None = None
        self._sampled_peak = 0.0
        self._stop = threading.Event()

    def __enter__(self) -> Server:
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "playground.cli", "serve", "--port", str(self.port)],
                env=self._env,
                cwd=self.source,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"playground serve exited {self.proc.returncode}: {self.log_tail()}")
            with contextlib.suppress(httpx2.TransportError):
                if httpx2.get(self.url + "/v1/models", timeout=1).status_code == 200:
                    threading.Thread(target=self._sample, daemon=True).start()
                    return self
            time.sleep(0.2)
        self.__exit__(None, None, None)
        raise RuntimeError("playground serve did not answer /v1/models in 300 s")

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def rss_mib(self) -> float:
        """Resident memory now, the process and its children."""
        if psutil is None or not self.alive():
            return _status_mib(self.proc.pid, "VmRSS:") if self.alive() else 0.0
        with contextlib.suppress(psutil.Error):
            main = psutil.Process(self.proc.pid)
            total = main.memory_info().rss
            for child in main.children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    total += child.memory_info().rss
            return total / 2**20
        return 0.0

    def cpu_seconds(self) -> float:
        """CPU time the server (and its children) used so far; 0 without psutil."""
        if psutil is None or not self.alive():
            return 0.0
        with contextlib.suppress(psutil.Error):
            times = psutil.Process(self.proc.pid).cpu_times()
            return times.user + times.system + times.children_user + times.children_system
        return 0.0

    def peak_rss_mib(self) -> float:
        hwm = _status_mib(self.proc.pid, "VmHWM:") if self.alive() else 0.0
        return max(hwm, self._sampled_peak)

    def log_tail(self, lines: int = 20) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def _sample(self) -> None:
        while not self._stop.wait(0.2):
            self._sampled_peak = max(self._sampled_peak, self.rss_mib())


def _status_mib(pid: int, key: str) -> float:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1]) / 1024
    return 0.0


def _client(url: str, **kwargs: Any) -> AsyncOpenAI:
    """One client per simulated user: its own connection pool, as separate programs would have."""
    return AsyncOpenAI(base_url=url + "/v1", api_key="local", max_retries=0, timeout=300, **kwargs)


def _voices() -> list[str]:
    return list(CAT.speech_voices)


async def _speech_once(client: AsyncOpenAI, voice: str, text: str) -> tuple[float, int]:
    """(first byte ms, underruns) of one reply read like a player: never more than
    ``PLAYER_BUFFER`` ahead of playback, and the whole reply heard before returning."""
    t0 = time.perf_counter()
    first = None
    play_end = 0.0  # when the audio received so far will have played
    received = underruns = 0
    async with client.audio.speech.with_streaming_response.create(
        model=SPEECH_MODEL, voice=voice, input=text, response_format="pcm"
    ) as response:
        async for chunk in response.iter_bytes():
            if not chunk:
                continue
            now = time.perf_counter()
            if first is None:
                first = play_end = now
            elif now > play_end:
                underruns += 1
                play_end = now
            play_end += len(chunk) / BYTES_PER_SECOND
            received += len(chunk)
            await asyncio.sleep(max(0.0, play_end - PLAYER_BUFFER - time.perf_counter()))
    if first is None or received % 2:
        raise LoadError(f"speech reply of {received} bytes")
    await asyncio.sleep(max(0.0, play_end - time.perf_counter()))
    return (first - t0) * 1000, underruns


async def speech_client(url: str, n: int, deadline: float, report: Report, rng: random.Random) -> None:
    """Speech requests with a short think time between them, a voice per client."""
    client = _client(url)
    voices = _voices()
    voice = voices[n % len(voices)]
    try:
        while time.perf_counter() < deadline:
            try:
                ms, underruns = await _speech_once(client, voice, rng.choice(TEXTS))
                report.speech_first_byte.append(ms)
                report.underruns += underruns
                report.completed["speech"][n] += 1
            except Exception as exc:  # noqa: BLE001 - any failure is an error of the run, counted
                report.error(f"speech {n} ({voice})", exc)
                await asyncio.sleep(1)
            await asyncio.sleep(rng.uniform(0.5, 2.0))
    finally:
        await client.close()


async def _next_event(conn: Any, timeout: float) -> Any:
    event = await asyncio.wait_for(conn.recv(), timeout)
    if event.type == "error":
        raise LoadError(f"error event {event.error.type}: {event.error.message}")
    return event


async def realtime_session(conn: Any, voice: str) -> None:
    """Wait for the session, then give it a voice."""
    while (await _next_event(conn, 60)).type != "session.created":
        pass
    await conn.session.update(session={"type": "realtime", "audio": {"output": {"voice": voice}}})
    while (await _next_event(conn, 60)).type != "session.updated":
        pass


async def realtime_turn(conn: Any, text: str) -> float:
    """One text turn: ms from sending response.create to the first audio delta."""
    await conn.conversation.item.create(
        item={"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}
    )
    t0 = time.perf_counter()
    await conn.response.create()
    first = None
    while True:
        event = await _next_event(conn, 180)
        if event.type == "response.output_audio.delta" and first is None:
            first = time.perf_counter()
        elif event.type == "response.done":
            break
    details = event.response.status_details
    # a reply the server stopped at its token cap is a whole turn, as on OpenAI's API
    capped = event.response.status == "incomplete" and getattr(details, "reason", None) == "max_output_tokens"
    if (event.response.status != "completed" and not capped) or first is None:
        raise LoadError(f"response {event.response.status}, audio: {first is not None}")
    return (first - t0) * 1000


async def realtime_client(url: str, n: int, deadline: float, report: Report, rng: random.Random) -> None:
    """One session taking text turns; a dropped session is an error, then a new one."""
    client = _client(url)
    voices = list(CAT.realtime_voices)
    voice = voices[n % len(voices)]
    try:
        while time.perf_counter() < deadline:
            try:
                async with client.realtime.connect(model=REALTIME_MODEL) as conn:
                    await realtime_session(conn, voice)
                    while time.perf_counter() < deadline:
                        report.realtime_first_audio.append(await realtime_turn(conn, rng.choice(QUESTIONS)))
                        report.completed["realtime"][n] += 1
                        await asyncio.sleep(rng.uniform(1.0, 3.0))
            except Exception as exc:  # noqa: BLE001 - any failure is an error of the run, counted
                report.error(f"realtime {n}", exc)
                await asyncio.sleep(1)
    finally:
        await client.close()


async def transcribe_client(url: str, n: int, deadline: float, report: Report, rng: random.Random) -> None:
    """File transcriptions back to back (with a short pause), each checked for text."""
    client = _client(url)
    clips = [(name, (SPEECH_DIR / name).read_bytes()) for name in CLIPS]
    try:
        while time.perf_counter() < deadline:
            name, data = rng.choice(clips)
            try:
                t0 = time.perf_counter()
                result = await client.audio.transcriptions.create(model=TRANSCRIBE_MODEL, file=(name, data))
                if not result.text.strip():
                    raise LoadError(f"empty transcript of {name}")
                report.transcribe.append((time.perf_counter() - t0) * 1000)
                report.completed["transcribe"][n] += 1
            except Exception as exc:  # noqa: BLE001 - any failure is an error of the run, counted
                report.error(f"transcribe {n} ({name})", exc)
                await asyncio.sleep(1)
            await asyncio.sleep(rng.uniform(0.5, 2.0))
    finally:
        await client.close()


async def stalled_client(url: str, n: int, deadline: float, report: Report, rng: random.Random) -> None:
    """A chat stream and a speech stream read one chunk each, then held unread to the end.

    Its socket's receive buffer is small, so the server's writes back up at once rather
    than filling megabytes of kernel buffer first. Once stalled, it issues one short chat
    on a fresh client: the stall must not keep that from finishing.
    """
    small = [(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)]
    http = httpx2.AsyncClient(transport=httpx2.AsyncHTTPTransport(socket_options=small), timeout=300)
    client = _client(url, http_client=http)
    other = _client(url)
    who = f"stalled {n}"
    try:
        async with contextlib.AsyncExitStack() as held:
            chat = await client.chat.completions.create(
                model=CAT.chat.default_model, messages=STORY, max_tokens=400, stream=True
            )
            held.push_async_callback(chat.close)
            await chat.__anext__()
            speech = await held.enter_async_context(
                client.audio.speech.with_streaming_response.create(
                    model=SPEECH_MODEL, voice="onyx", input=" ".join(TEXTS[:4]), response_format="pcm"
                )
            )
            # held: an abandoned iterator would be finalised, and that closes the response
            speech_bytes = speech.iter_bytes()
            await speech_bytes.__anext__()
            report.stall["stalled_at"] = time.perf_counter()
            t0 = time.perf_counter()
            answer = await other.chat.completions.create(
                model=CAT.chat.default_model, messages=[{"role": "user", "content": "Say hello."}], max_tokens=16
            )
            report.stall["chat_after_ms"] = (time.perf_counter() - t0) * 1000
            report.stall["chat_after_text"] = answer.choices[0].message.content or ""
            # the held streams were never read past their first chunk, and stay open to the end
            report.stall["held_open_when_chat_done"] = _open(speech, chat)
            report.completed["stalled"][n] += 1
            await asyncio.sleep(max(0.0, deadline - time.perf_counter()))
            report.stall["held_open_at_end"] = _open(speech, chat)
            await speech_bytes.aclose()
    except Exception as exc:  # noqa: BLE001 - any failure is an error of the run, counted
        report.error(who, exc)
    finally:
        await other.close()
        await client.close()


def _open(*responses: Any) -> bool:
    """Neither stream has been read to its end nor closed."""
    return not any((getattr(r, "http_response", None) or r.response).is_closed for r in responses)


KINDS = {
    "speech": speech_client,
    "realtime": realtime_client,
    "transcribe": transcribe_client,
    "stalled": stalled_client,
}


async def run_load(url: str, mix: Mix, *, seed: int = 25) -> Report:
    """Every client of ``mix`` at once until ``mix.seconds`` pass, then their last requests finish."""
    report = Report()
    start = time.perf_counter()
    deadline = start + mix.seconds
    tasks: dict[asyncio.Task, str] = {}
    for kind, run in KINDS.items():
        count = getattr(mix, kind)
        report.completed[kind] = [0] * count
        for n in range(count):
            rng = random.Random(f"{seed}-{kind}-{n}")
            client = run(url, n, deadline, report, rng)
            tasks[asyncio.create_task(_after(rng.uniform(0, mix.ramp), client))] = f"{kind} {n}"
    done, pending = await asyncio.wait(tasks, timeout=mix.seconds + mix.grace)
    for task in pending:
        report.error(tasks[task], f"still busy {mix.grace:.0f} s after the end")
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    for task in done:
        if task.exception():
            report.error(tasks[task], task.exception())
    report.wall = time.perf_counter() - start
    return report


async def _after(delay: float, client: Any) -> None:
    await asyncio.sleep(delay)
    await client


def warm(url: str) -> float:
    """One request of each kind, every voice once: what a warm server has already done. Seconds."""
    t0 = time.perf_counter()
    client = OpenAI(base_url=url + "/v1", api_key="local", max_retries=0, timeout=300)
    for voice in _voices():
        client.audio.speech.create(model=SPEECH_MODEL, voice=voice, input="Ready.", response_format="pcm").read()
    for name in CLIPS:
        client.audio.transcriptions.create(model=TRANSCRIBE_MODEL, file=(name, (SPEECH_DIR / name).read_bytes()))
    client.chat.completions.create(model=CAT.chat.default_model, messages=STORY, max_tokens=8)

    async def turn() -> None:
        async with _client(url) as rt, rt.realtime.connect(model=REALTIME_MODEL) as conn:
            await realtime_session(conn, "marin")
            await realtime_turn(conn, "Hello!")

    asyncio.run(turn())
    return time.perf_counter() - t0


def alive_after(url: str) -> tuple[float, float]:
    """(speech first byte ms, chat ms) of a fresh client once the load is over."""
    client = OpenAI(base_url=url + "/v1", api_key="local", max_retries=0, timeout=60)
    t0 = time.perf_counter()
    with client.audio.speech.with_streaming_response.create(
        model=SPEECH_MODEL, voice="coral", input="Still here.", response_format="pcm"
    ) as response:
        next(response.iter_bytes())
    speech = (time.perf_counter() - t0) * 1000
    t0 = time.perf_counter()
    answer = client.chat.completions.create(
        model=CAT.chat.default_model, messages=[{"role": "user", "content": "Say hello."}], max_tokens=16
    )
    if not answer.choices[0].message.content:
        raise LoadError("empty chat reply after the load")
    return speech, (time.perf_counter() - t0) * 1000


def _seconds(argv: list[str]) -> float:
    if "--quick" in argv or os.environ.get("BENCH_LOAD_QUICK", "").lower() in ("1", "true", "yes"):
        return 20.0
    return float(os.environ.get("BENCH_LOAD_SECONDS", "60"))


def main(argv: list[str] | None = None) -> None:
    bench_cache()
    # BENCH_LOAD_MIX="speech=0,realtime=4": one kind alone, to see what the others cost it
    counts = dict(part.split("=") for part in os.environ.get("BENCH_LOAD_MIX", "").split(",") if "=" in part)
    mix = Mix(
        seconds=_seconds(sys.argv[1:] if argv is None else argv),
        ramp=float(os.environ.get("BENCH_LOAD_RAMP", "2")),
        **{k: int(v) for k, v in counts.items()},
    )
    source = os.environ.get("BENCH_LOAD_SOURCE")
    with Server(source=Path(source) if source else None) as server:
        warm_seconds = warm(server.url)
        rss_warm, cpu0, load0 = server.rss_mib(), server.cpu_seconds(), os.getloadavg()[0]
        report = asyncio.run(run_load(server.url, mix))
        rss_end, cpu1, load1 = server.rss_mib(), server.cpu_seconds(), os.getloadavg()[0]
        try:
            after: tuple[float, float] | None = alive_after(server.url)
        except Exception as exc:  # noqa: BLE001 - reported as not alive
            report.error("alive after", exc)
            after = None
        peak = server.peak_rss_mib()
        tracebacks = server.log.read_text(errors="replace").count("Traceback")

    def pair(name: str, values: list[float], target: float | None) -> list[str]:
        if not values:
            return [f"| {name} | none completed | – | – |"]
        return [
            row(f"{name}, p50", median(values), "ms", None, fmt=".0f"),
            row(f"{name}, p90", p90(values), "ms", target, fmt=".0f"),
        ]

    done, stall = report.completed, report.stall
    counts = ", ".join(f"{kind} {sum(c)} (fewest per client {min(c, default=0)})" for kind, c in done.items())
    rows = [
        *pair("speech first byte", report.speech_first_byte, TARGET_SPEECH_P90_MS),
        *pair("realtime response.create → first audio delta", report.realtime_first_audio, TARGET_REALTIME_P90_MS),
        *pair("transcription latency (jfk 11 s / hotwords)", report.transcribe, None),
        f"| errors | {len(report.errors)} | 0 | {'meets' if not report.errors else 'misses'} |",
        row("speech player underruns (chunk after the audio before it played)", report.underruns, "", None, fmt=".0f"),
        row("chat issued after the stall began", stall.get("chat_after_ms", float("nan")), "ms", None, fmt=".0f"),
        f"| stalled streams still held open when that chat finished / at the end | "
        f"{stall.get('held_open_when_chat_done')} / {stall.get('held_open_at_end')} | True | – |",
        row("server peak memory (VmHWM, children sampled)", peak, "MiB", None, fmt=".0f"),
        f"| server memory after warm-up → after the load | {rss_warm:.0f} → {rss_end:.0f} MiB | – | – |",
        "| alive after: fresh speech first byte / chat | "
        + (f"{after[0]:.0f} / {after[1]:.0f} ms" if after else "no")
        + " | answers | "
        + ("meets" if after else "misses")
        + " |",
    ]
    print(
        f"\nMixed load on the embedded backend (playground serve, own process), {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}: {mix.speech} speech clients at playback pace, "
        f"arriving over {mix.ramp:g} s, "
        f"{mix.realtime} realtime sessions, {mix.transcribe} transcribers, {mix.stalled} stalled client, "
        f"{mix.seconds:.0f} s (+ {report.wall - mix.seconds:.1f} s for the last requests); warm-up took "
        f"{warm_seconds:.0f} s\n"
    )
    print(f"Completed: {counts}")
    # the machine is shared: a server that got little of it was starved, not slow
    print(
        f"Server CPU {cpu1 - cpu0:.0f} s in {report.wall:.0f} s wall = {(cpu1 - cpu0) / report.wall:.2f} of "
        f"{os.cpu_count()} cores; 1-min load average {load0:.1f} before, {load1:.1f} after "
        "(anything above ~2 beyond the server is other work on this machine)\n"
    )
    print("| measure | value | target | ratio |")
    print("|---|---|---|---|")
    print("\n".join(rows))
    if report.errors:
        print(f"\nErrors ({len(report.errors)}):")
        print("\n".join(f"- {e}" for e in report.errors))
    if tracebacks:
        print(f"\nServer log {server.log}: {tracebacks} tracebacks")


if __name__ == "__main__":
    main()
