"""Audio chat: time to first audio per turn of a spoken chat over Chat Completions.

One conversation of three user turns on the embedded backend, through the real SDK,
every reply streamed as speech (``modalities ["text", "audio"]``, voice alloy, pcm16,
``stream_options.include_usage``) with the catalog's ``chat_audio.default_model``:
a typed question, then a spoken turn (jfk.flac as a WAV ``input_audio`` part, which
the backend transcribes before the model starts), then a typed follow-up where both
earlier replies are carried only as ``{"role": "assistant", "audio": {"id": ...}}``.
The user's clip is resent with the follow-up, as OpenAI requires; the backend hears
it once (it keeps transcripts of recent audio parts by a hash), so the third turn
does not wait for the clip to be transcribed again.
For each turn the clock starts when the request is sent and stops at the first
``delta.audio`` with sound (the headline "time to first audio"), the first with
transcript text, and the end of the stream; the seconds of sound returned and the
usage's audio and text tokens come with it. One warm-up conversation loads the models
(no background warm-up competing with the timed turns), then the conversation is
repeated and medians are printed; "first audio / full reply" shows what streaming
each sentence as soon as it is written saves over waiting for the whole reply.
"""

from __future__ import annotations

import base64
import io
import os
import platform
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
import openai
import soundfile as sf
from openai import OpenAI

from bench.common import bench_cache, row
from playground.backend.app import create_standalone_app
from playground.backend.settings import BackendSettings
from playground.core import audio
from playground.core.catalog import get_catalog
from playground.serving import BackgroundServer

RATE = 24000  # pcm16 replies: 24 kHz mono
SPEECH = Path(__file__).resolve().parents[2] / "shared" / "testdata" / "speech"
CLIP = "jfk.flac"
REPEATS = 3
VOICE = "alloy"
MAX_TOKENS = 80
SYSTEM = "You are a friendly voice assistant. Answer in at most two short sentences."
QUESTION = "In two sentences, why do lighthouses flash their lights instead of shining steadily?"
FOLLOW_UP = "Thanks. Which of your two answers was more useful, in one sentence?"
TURNS = ("typed question", f"spoken ({CLIP})", "typed follow-up, replies by id")


class BenchError(Exception):
    """A failure worth one readable line instead of a traceback."""


def _spoken_wav(take: int = 0) -> tuple[str, float]:
    """The clip as base64 WAV (chat takes wav and mp3, the clip is FLAC), and its seconds.

    Each ``take`` starts with ``take`` ms more silence: another recording to the backend,
    which hears a resent clip only once, so every conversation's spoken turn is heard anew.
    """
    path = SPEECH / CLIP
    try:
        samples = audio.decode_mono(path.read_bytes(), 16000)
    except (OSError, ValueError) as e:
        raise BenchError(f"cannot read the test clip {path}: {e}") from e
    samples = np.concatenate([np.zeros(16 * take, np.float32), samples])
    buf = io.BytesIO()
    sf.write(buf, samples, 16000, format="WAV", subtype="PCM_16")
    return base64.b64encode(buf.getvalue()).decode("ascii"), len(samples) / 16000


def _field(obj: Any, name: str) -> Any:
    """A field of a ``delta.audio`` (a dict, or an SDK object that keeps it in model_extra)."""
    if obj is None:
        return None
    if isinstance(obj, dict):
        return obj.get(name)
    value = getattr(obj, name, None)
    if value is None:
        value = (getattr(obj, "model_extra", None) or {}).get(name)
    return value


def _tokens(details: Any, name: str) -> int:
    return int(getattr(details, name, None) or 0) if details is not None else 0


def _turn(client: OpenAI, model: str, messages: list[dict[str, Any]]) -> dict[str, Any]:
    """Stream one spoken reply; its timings (s from sending), sound, id and usage."""
    t0 = time.perf_counter()
    stream = client.chat.completions.create(
        model=model,
        messages=messages,  # type: ignore[arg-type]
        modalities=["text", "audio"],
        audio={"voice": VOICE, "format": "pcm16"},
        max_completion_tokens=MAX_TOKENS,
        stream=True,
        stream_options={"include_usage": True},
    )
    first_audio = first_text = None
    ids: set[str] = set()
    pcm = bytearray()
    words: list[str] = []
    usage = None
    for chunk in stream:
        now = time.perf_counter()
        if chunk.usage is not None:
            usage = chunk.usage
        if not chunk.choices:
            continue
        delta = chunk.choices[0].delta
        part = getattr(delta, "audio", None) or (delta.model_extra or {}).get("audio")
        if part is None:
            continue
        if _field(part, "id"):
            ids.add(_field(part, "id"))
        if data := _field(part, "data"):
            pcm += base64.b64decode(data)
            if first_audio is None:
                first_audio = now - t0
        if text := _field(part, "transcript"):
            words.append(text)
            if first_text is None:
                first_text = now - t0
    end = time.perf_counter() - t0
    if first_audio is None or not pcm:
        raise BenchError(f"the reply had no audio (transcript: {''.join(words).strip()[:80]!r})")
    if len(ids) != 1:
        raise BenchError(f"expected one audio id per reply, got {sorted(ids)}")
    if usage is None:
        raise BenchError("no usage chunk although stream_options.include_usage was set")
    prompt, completion = usage.prompt_tokens_details, usage.completion_tokens_details
    return {
        "id": ids.pop(),
        "first_audio": first_audio,
        "first_text": first_text if first_text is not None else end,
        "end": end,
        "seconds": len(pcm) / 2 / RATE,
        "transcript": "".join(words).strip(),
        "out_audio_tokens": _tokens(completion, "audio_tokens"),
        "out_text_tokens": _tokens(completion, "text_tokens"),
        "in_audio_tokens": _tokens(prompt, "audio_tokens"),
        "in_text_tokens": _tokens(prompt, "text_tokens"),
    }


def _conversation(client: OpenAI, model: str, wav: str) -> list[dict[str, Any]]:
    """The three turns; later turns carry earlier replies by their audio id only."""
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": QUESTION},
    ]
    turns = [_turn(client, model, messages)]
    messages += [
        {"role": "assistant", "audio": {"id": turns[0]["id"]}},
        {"role": "user", "content": [{"type": "input_audio", "input_audio": {"data": wav, "format": "wav"}}]},
    ]
    turns.append(_turn(client, model, messages))
    messages += [
        {"role": "assistant", "audio": {"id": turns[1]["id"]}},
        {"role": "user", "content": FOLLOW_UP},
    ]
    turns.append(_turn(client, model, messages))
    return turns


def _run() -> tuple[list[list[dict[str, Any]]], float, float, str]:
    """(REPEATS conversations, the warm-up's seconds, the clip's seconds, the model)."""
    model = get_catalog().chat_audio.default_model
    wav, clip_seconds = _spoken_wav()
    with BackgroundServer(create_standalone_app(BackendSettings(api_key=None))) as url:
        client = OpenAI(base_url=url + "/v1", api_key="local", max_retries=0, timeout=300)
        t0 = time.perf_counter()
        _conversation(client, model, wav)  # loads the LLM, the transcriber and the voice
        warm = time.perf_counter() - t0
        print(f"warm-up conversation: {warm:.1f} s", flush=True)
        runs = []
        for n in range(REPEATS):
            runs.append(_conversation(client, model, _spoken_wav(n + 1)[0]))
            turns = ", ".join(f"{t['first_audio'] * 1000:.0f}" for t in runs[-1])
            print(f"conversation {n + 1}/{REPEATS}: first audio {turns} ms", flush=True)
    return runs, warm, clip_seconds, model


def main() -> None:
    bench_cache()
    try:
        runs, warm, clip_seconds, model = _run()
    except BenchError as e:
        raise SystemExit(f"audio_chat bench failed: {e}") from None
    except openai.APIStatusError as e:
        said = e.body.get("message") if isinstance(e.body, dict) else None
        raise SystemExit(
            f"audio_chat bench failed: the backend answered {e.status_code}: {said or e.message}"
        ) from None
    except openai.APIError as e:  # connection, timeout, a malformed stream
        raise SystemExit(f"audio_chat bench failed: {type(e).__name__}: {e}") from None
    except RuntimeError as e:  # the server did not start
        raise SystemExit(f"audio_chat bench failed: {e}") from None

    def med(n: int, key: str, scale: float = 1000) -> float:
        return statistics.median(run[n][key] * scale for run in runs)

    rows = []
    for n, label in enumerate(TURNS):
        name = f"turn {n + 1} ({label})"
        ratio = statistics.median(run[n]["first_audio"] / run[n]["end"] for run in runs)
        rows += [
            row(f"{name}: request → first audio delta, median", med(n, "first_audio"), "ms", None, fmt=".0f"),
            row("  request → first transcript delta, median", med(n, "first_text"), "ms", None, fmt=".0f"),
            row("  request → stream end, median", med(n, "end"), "ms", None, fmt=".0f"),
            row("  first audio / full reply time, median", ratio, "", None, fmt=".2f"),
            row("  audio returned, median", med(n, "seconds", 1), "s", None, fmt=".1f"),
            row(
                "  usage: completion audio / text tokens, median",
                med(n, "out_audio_tokens", 1),
                f"/ {med(n, 'out_text_tokens', 1):.0f}",
                None,
                fmt=".0f",
            ),
            row(
                "  usage: prompt audio / text tokens, median",
                med(n, "in_audio_tokens", 1),
                f"/ {med(n, 'in_text_tokens', 1):.0f}",
                None,
                fmt=".0f",
            ),
        ]
    every = [t for run in runs for t in run]
    rows += [
        row(
            "all turns: request → first audio delta, median",
            statistics.median(t["first_audio"] * 1000 for t in every),
            "ms",
            None,
            fmt=".0f",
        ),
        row(
            "all turns: first audio / full reply time (streaming gain), median",
            statistics.median(t["first_audio"] / t["end"] for t in every),
            "",
            None,
            fmt=".2f",
        ),
    ]
    print(
        f"\nAudio chat on the embedded backend ({model}, voice {VOICE}, pcm16 streamed), {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}: {REPEATS} conversations of "
        f"{len(TURNS)} turns after a warm-up one ({warm:.1f} s); the spoken turn is {CLIP} ({clip_seconds:.1f} s)\n"
    )
    print("| measure | value | target | ratio |")
    print("|---|---|---|---|")
    print("\n".join(rows))
    sample = runs[-1]
    print("\nLast conversation's replies:")
    for n, t in enumerate(sample):
        print(f"- turn {n + 1}: {t['transcript'][:160]!r}")


if __name__ == "__main__":
    main()
