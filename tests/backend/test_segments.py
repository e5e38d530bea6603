"""Segments are clamped into the audio before they become subtitles or JSON."""

from __future__ import annotations

import srt

from playground.backend.engines.base import Segment
from playground.backend.routers.transcription import MIN_CUE_S, within
from playground.backend.subtitles import to_srt


def test_segments_past_the_end_or_empty_become_valid_cues():
    raw = [
        Segment(0, -0.2, 4.0, "starts before zero"),
        Segment(1, 4.0, 9.5, "fine"),
        Segment(2, 9.5, 31.0, "runs past the end"),
        Segment(3, 12.0, 12.0, "on the last sample"),
    ]
    clamped = within(raw, 12.0)
    assert [(s.start, s.end) for s in clamped[:3]] == [(0.0, 4.0), (4.0, 9.5), (9.5, 12.0)]
    assert clamped[1] is raw[1]  # untouched segments are the same objects
    last = clamped[3]
    assert last.end <= 12.0 and last.end - last.start >= MIN_CUE_S - 1e-9
    cues = list(srt.parse(to_srt(clamped)))
    assert all(0 <= c.start.total_seconds() < c.end.total_seconds() <= 12.0 for c in cues)
    assert [c.content for c in cues] == [s.text for s in raw]
