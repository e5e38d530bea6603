"""Two live transcription delays on one recording (``client/live_compare``): the pure timeline
helpers, and the real thing against the embedded backend with JFK's 11 s (each run plays
the clip in real time, so it takes that long)."""

from __future__ import annotations

import pytest

from playground.backend.app import create_standalone_app
from playground.backend.settings import BackendSettings
from playground.client import live_compare as lc
from playground.client.providers import embedded_provider
from playground.core.catalog import get_catalog
from playground.core.errors import PlaygroundError
from playground.core.specs import RealtimeTranscriptionSpec
from playground.serving import BackgroundServer

RATE = 24000


def _ev(at: float, text: str, item: str = "a", kind: str = "delta") -> lc.TranscriptEvent:
    return lc.TranscriptEvent(at, kind, item, text)  # type: ignore[arg-type]


def test_the_timeline_stamps_each_word_when_it_first_shows():
    events = [
        _ev(500, "And"),
        _ev(900, " so my fel"),  # "fel" shows now; "low" only continues it
        _ev(1300, "low"),
        _ev(1700, " Americans,"),
        _ev(1750, "And so my fellow Americans,", kind="completed"),
        _ev(3000, "ask not", item="b"),
        _ev(4000, "ask not what your country", item="b", kind="completed"),  # the final decode adds the rest
    ]
    assert lc.word_timeline(events) == [
        (500, "And"), (900, "so"), (900, "my"), (900, "fel"), (1700, "Americans,"),
        (3000, "ask"), (3000, "not"), (4000, "what"), (4000, "your"), (4000, "country"),
    ]  # fmt: skip
    assert lc.first_text_ms(events) == 500
    assert lc.final_text(events) == "And so my fellow Americans, ask not what your country"
    # blank deltas are not text; no events, no first text
    assert lc.first_text_ms([_ev(100, " "), _ev(700, "Hi")]) == 700
    assert lc.first_text_ms([]) is None and lc.word_timeline([]) == [] and lc.final_text([]) == ""
    # a later turn whose text comes first still reads after the turn that began before it
    late = [_ev(0, "", "a", "started"), _ev(900, "", "b", "started"), _ev(1000, "two", "b"), _ev(1200, "one", "a")]
    assert lc.final_text(late) == "one two" and lc.first_text_ms(late) == 1000
    # events out of order are taken in time order; a revision with fewer words removes none
    assert lc.word_timeline([_ev(900, "b c", kind="completed"), _ev(400, "a b c d")]) == [
        (400, "a"), (400, "b"), (400, "c"), (400, "d"),
    ]  # fmt: skip


def test_wer_needs_a_reference_and_frames_are_40_ms():
    assert lc.score("", "anything") is None
    assert lc.score("Ask not what your country can do", "ask not what your country can do!") == 0.0
    assert lc.score("the black cat sat", "the cat sat") == 0.25
    frames = lc.pcm_frames(bytes(2 * RATE // 10 + 1), RATE)  # 100 ms and an odd byte
    assert [len(f) for f in frames] == [1920, 1920, 960]
    assert lc.delay_model() == "gpt-realtime-whisper" and lc.max_seconds() >= 60


def test_audio_and_settings_are_checked_before_any_request():
    nowhere = embedded_provider("http://127.0.0.1:9")
    with pytest.raises(PlaygroundError, match="too short"):
        lc.compare_delays(nowhere, bytes(100), ["minimal", "xhigh"])
    with pytest.raises(PlaygroundError, match="at most"):
        lc.compare_delays(nowhere, bytes(2 * RATE * (lc.max_seconds() + 1)), ["minimal", "xhigh"])
    with pytest.raises(PlaygroundError, match="delay"):
        lc.compare_delays(nowhere, bytes(2 * RATE), ["minimal", "sometime"])


def test_an_unreachable_provider_is_a_message_per_delay():
    nowhere = embedded_provider("http://127.0.0.1:9")
    result = lc.compare_delays(nowhere, bytes(2 * RATE), ["minimal", "xhigh"], reference="hello")
    assert [r.delay for r in result.runs] == ["minimal", "xhigh"]
    for run in result.runs:
        assert run.error.startswith("cannot talk to http://127.0.0.1:9/v1") and run.wer is None, run.error
        assert "Traceback" not in run.error


@pytest.mark.models
def test_minimal_shows_text_no_later_than_xhigh_and_both_are_scored(backend_url, speech_dir, manifest):
    provider = embedded_provider(backend_url)
    pcm = lc.pcm_from_file(speech_dir / "jfk.flac")
    # the models load on first use: one short session first, so neither delay pays for it
    lc.compare_delays(provider, pcm[: 2 * RATE * 3], ["minimal"], reference="and so my fellow americans")
    shares: list[float] = []
    reference = manifest["jfk.flac"]["text"]
    result = lc.compare_delays(provider, pcm, ["minimal", "xhigh"], reference=reference, on_progress=shares.append)
    assert result.reference == reference and result.reference_source == "yours"
    assert 10 < result.duration_s < 12 and shares[-1] == 1.0 and shares == sorted(shares)
    minimal, xhigh = result.runs
    assert (minimal.delay, xhigh.delay) == ("minimal", "xhigh")
    for run in result.runs:
        assert not run.error, run.error
        assert (
            run.spec.model == "gpt-realtime-whisper"
            and run.spec.to_session()["audio"]["input"]["transcription"]["delay"] == run.delay
        )
        assert "country" in run.text.lower() and run.first_text_ms is not None
        assert run.wer is not None and run.wer < 0.3, (run.wer, run.text)
        times = [t for t, _ in run.words]
        assert times == sorted(times) and len(run.words) >= 15
        assert run.completed_ms is not None and run.first_text_ms <= run.completed_ms
    # the ordering the delay promises, not a wall-clock bound
    assert minimal.first_text_ms <= xhigh.first_text_ms, (minimal.events, xhigh.events)


@pytest.mark.models
def test_minimal_goes_first_while_whisper_has_one_thread_for_both(backend_url, speech_dir, manifest):
    """Two CPU slots of one thread, so one Whisper window at a time for both sessions: the
    queue, not the delays, decides who is heard first, and each session's decodes (its
    turns' final ones too) are due within its delay, so minimal's go first."""
    del backend_url  # only for its cache folder (PLAYGROUND_CACHE_DIR)
    pcm = lc.pcm_from_file(speech_dir / "jfk.flac")
    with BackgroundServer(create_standalone_app(BackendSettings(api_key=None, cpu_slots=2, threads=1))) as url:
        provider = embedded_provider(url)
        lc.compare_delays(provider, pcm[: 2 * RATE * 3], ["minimal"], reference="and so my fellow americans")
        result = lc.compare_delays(provider, pcm, ["minimal", "xhigh"], reference=manifest["jfk.flac"]["text"])
    minimal, xhigh = result.runs
    assert not minimal.error and not xhigh.error, (minimal.error, xhigh.error)
    assert minimal.first_text_ms is not None and xhigh.first_text_ms is not None
    assert minimal.first_text_ms <= xhigh.first_text_ms, (minimal.events, xhigh.events)


@pytest.mark.models
def test_without_a_reference_the_file_default_model_gives_one(backend_url, speech_dir):
    provider = embedded_provider(backend_url)
    pcm = lc.pcm_from_file(speech_dir / "jfk.flac")[: 2 * RATE * 4]  # "And so my fellow Americans"
    base = RealtimeTranscriptionSpec(language="en")
    result = lc.compare_delays(provider, pcm, ["low", "high"], base=base)
    assert result.reference_source == get_catalog().transcription_default_model
    assert "americans" in result.reference.lower()
    assert all(not r.error and r.wer is not None for r in result.runs), result.runs
