"""Embedded backend figures on this machine, through the real SDK over loopback.

Prints a markdown table: transcription real-time factor per local model, chat time to
first token and tokens/s, the process's peak memory, what a 10-minute compressed upload
adds to a server's peak memory (and its real-time factor), and how a short chat fares
while another client has stopped reading its reply (ratio to the same chat alone). Targets from DESIGN.md are
printed beside each figure with the ratio measured/target (<= 1 meets it). Speech
figures, per voice, are ``python -m bench voices``.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx2 as httpx
from openai import OpenAI

from bench.common import JFK, bench_cache, median, row
from bench.long_audio import long_recording
from playground.backend.app import create_standalone_app
from playground.core import audio
from playground.core.catalog import get_catalog
from playground.serving import BackgroundServer, free_port

CAT = get_catalog()
#: the default file transcription model (local Whisper base)
STT = CAT.transcription_default_model

RUNS = 5


def _stt_rtf(client: OpenAI, model: str, language: str | None) -> float:
    data = JFK.read_bytes()
    seconds = audio.decode(data).duration
    t0 = time.perf_counter()
    kwargs = {"language": language} if language else {}
    client.audio.transcriptions.create(file=("jfk.flac", data), model=model, **kwargs)
    return (time.perf_counter() - t0) / seconds


def _chat(client: OpenAI) -> tuple[float, float]:
    t0 = time.perf_counter()
    first = None
    stream = client.chat.completions.create(
        model="smollm2",
        max_tokens=100,
        stream=True,
        stream_options={"include_usage": True},
        messages=[{"role": "user", "content": "Tell me a short story about a lighthouse keeper."}],
    )
    tokens = 0
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content and first is None:
            first = time.perf_counter() - t0
        if chunk.usage:
            tokens = chunk.usage.completion_tokens
    total = time.perf_counter() - t0
    first = first or total
    return first * 1000, tokens / max(total - first, 1e-6)


def _served_backend() -> tuple[subprocess.Popen, str]:
    """``playground serve`` in its own process, so its memory is measured alone."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "playground.cli", "serve", "--port", str(port)],
        env={**os.environ, "PLAYGROUND_WARM_START": "false"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(url + "/v1/models", timeout=1).status_code == 200:
                return proc, url
        except httpx.TransportError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("playground serve did not start")


def _peak_rss_mib(pid: int) -> float:
    """The process's peak resident memory so far (VmHWM), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/<pid>/status")


def long_upload(minutes: float = 10.0) -> tuple[float, float, float]:
    """(upload MiB, server peak memory increase MiB, RTF) for a long compressed recording."""
    data = long_recording(JFK.parent, minutes * 60)
    proc, url = _served_backend()
    try:
        client = OpenAI(base_url=url + "/v1", api_key="local", max_retries=0, timeout=1800)
        client.audio.transcriptions.create(file=("jfk.flac", JFK.read_bytes()), model=STT)  # model loaded
        before = _peak_rss_mib(proc.pid)
        t0 = time.perf_counter()
        client.audio.transcriptions.create(file=("long.ogg", data), model=STT)
        rtf = (time.perf_counter() - t0) / (minutes * 60)
        return len(data) / 2**20, _peak_rss_mib(proc.pid) - before, rtf
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def stalled_chat() -> tuple[float, float]:
    """A short chat's latency alone, and while another client streams a spoken reply and stops reading."""
    ask = [{"role": "user", "content": "Say hello in five words."}]
    proc, url = _served_backend()
    try:
        client = OpenAI(base_url=url + "/v1", api_key="local", max_retries=0, timeout=600)

        def one() -> float:
            t0 = time.perf_counter()
            client.chat.completions.create(model=CAT.chat.default_model, messages=ask, max_tokens=16, temperature=0)
            return time.perf_counter() - t0

        one()  # warm-up
        alone = median([one() for _ in range(3)])
        body = json.dumps(
            {
                "model": CAT.chat_audio.default_model,
                "messages": [{"role": "user", "content": "Tell me about lighthouses."}],
                "max_tokens": 64,
                "stream": True,
                "modalities": ["text", "audio"],
                "audio": {"voice": "marin", "format": "wav"},
            }
        ).encode()
        host, port = url.removeprefix("http://").split(":")
        stalled = socket.create_connection((host, int(port)))
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        try:
            stalled.sendall(
                b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            stalled.recv(64)  # the reply has started; never read again
            during = median([one() for _ in range(3)])
        finally:
            stalled.close()
        return alone, during
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    bench_cache()
    rows: list[str] = []
    with BackgroundServer(create_standalone_app()) as url:
        client = OpenAI(base_url=url + "/v1", api_key="local", max_retries=0, timeout=600)
        # gpt-4o-mini-transcribe (shuts down 2027-02-26) is the file model mapped to tiny.en for English
        for model, language, local in ((STT, None, "base"), ("gpt-4o-mini-transcribe", "en", "tiny.en")):
            _stt_rtf(client, model, language)  # warm-up
            rtf = median([_stt_rtf(client, model, language) for _ in range(3)])
            rows.append(
                row(
                    f"transcription real-time factor, {local} ({model}), jfk 11 s",
                    rtf,
                    "×",
                    0.15 if local == "base" else None,
                )
            )
        _chat(client)  # warm-up
        results = [_chat(client) for _ in range(3)]
        rows.append(row("chat time to first token (SmolLM2-135M)", median([r[0] for r in results]), "ms", None))
        rows.append(row("chat tokens/s (100-token reply)", median([r[1] for r in results]), "tok/s", None))
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows.append(row("peak memory (bench process incl. all engines)", peak_mib, "MiB", None))
    size, added, rtf = long_upload()
    rows.append(row(f"10-minute Opus upload ({size:.2f} MiB): server peak memory added", added, "MiB", 400))
    rows.append(row(f"transcription real-time factor, base ({STT}), that 10-minute upload", rtf, "×", 0.15))
    alone, during = stalled_chat()
    rows.append(row("short chat latency alone", alone * 1000, "ms", None, fmt=".0f"))
    rows.append(
        row("same chat while another client has stopped reading its spoken reply", during * 1000, "ms", None, fmt=".0f")
    )
    rows.append(row("stalled-client ratio (while stalled / alone)", during / alone, "×", None, fmt=".2f"))
    print(f"\nEmbedded backend on {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"(median of {RUNS} runs for first byte, 3 for the rest)\n")
    print("| measure | value | target | ratio |")
    print("|---|---|---|---|")
    print("\n".join(rows))
