"""Mixed load, CI-sized: ``bench.load``'s clients, fewer of them, for 15 s.

Speech streams read at playback pace, realtime text turns, file transcriptions and a
client that stalls its streams, all at once against ``playground serve`` in its own
process. It asserts what must hold on any machine: no errors, every client got through
at least one request, a chat issued after the stall finished while the stalled streams
were still held open, the server still answers after, and its memory stayed bounded.
Latency targets are the bench's business (``python -m bench load``), not a test's.
"""

from __future__ import annotations

import asyncio
import os

import pytest

from bench.load import Mix, Server, alive_after, run_load, warm

pytestmark = pytest.mark.models

MIX = Mix(speech=6, realtime=2, transcribe=1, stalled=1, seconds=15.0, grace=240.0)
#: generous: all engines loaded are ~1.5 GiB on this machine
PEAK_MIB = 3 * 1024


def test_mixed_load_no_errors_all_progress_stall_isolated(speech_dir, tmp_path_factory):
    cache = os.environ.get("PLAYGROUND_CACHE_DIR") or str(tmp_path_factory.mktemp("cache"))
    with Server(env={"PLAYGROUND_CACHE_DIR": cache}) as server:
        warm(server.url)
        report = asyncio.run(run_load(server.url, MIX))
        speech_ms, chat_ms = alive_after(server.url)
        alive = server.alive()
        peak = server.peak_rss_mib()
        log = server.log_tail()

    assert report.errors == [], "\n".join(report.errors) + f"\nserver log:\n{log}"
    for kind, per_client in report.completed.items():
        assert per_client and min(per_client) >= 1, f"{kind}: requests completed per client {per_client}"
    assert report.stall["chat_after_text"].strip(), report.stall
    assert report.stall["held_open_when_chat_done"] and report.stall["held_open_at_end"], report.stall
    assert alive and speech_ms > 0 and chat_ms > 0
    assert 0 < peak < PEAK_MIB, f"server peak memory {peak:.0f} MiB"
