"""The notebooks' helpers for the two text-to-speech workflows, against the embedded backend:
one text through a Realtime session and the speech endpoint, transcribed back and compared."""

from __future__ import annotations

import pytest

from playground import lab
from playground.client.providers import embedded_provider
from playground.core import audio, workflows
from playground.core.specs import RealtimeSpeechSpec, SpeechSpec

TEXT = "The ferry leaves at noon from the north pier, and the last one comes back at six."


@pytest.fixture
def embedded(backend_url, monkeypatch):
    monkeypatch.setattr(lab, "_PROVIDER", embedded_provider(backend_url))


@pytest.mark.models
def test_one_text_goes_through_both_workflows_and_is_heard_back(embedded):
    vibe = next(v for v in lab.vibes() if v.name == "Gate Announcement")
    runs = lab.compare_workflows(TEXT, "ash", vibe)

    assert [r.workflow for r in runs] == ["realtime", "speech"]
    assert [r.label for r in runs] == [workflows.label("realtime"), workflows.label("speech")]
    realtime, speech = runs
    assert isinstance(realtime.result.spec, RealtimeSpeechSpec) and isinstance(speech.result.spec, SpeechSpec)
    assert realtime.result.spec.voice == speech.result.spec.voice == "ash"
    # the same style on both: the endpoint's instructions, the realtime response after its read-aloud request
    assert speech.result.spec.instructions == vibe.instructions_text.strip()
    assert realtime.result.spec.to_response()["instructions"].endswith(vibe.instructions_text.strip())
    for run in runs:
        sound = audio.decode(run.result.audio, "wav")
        assert sound.duration > 2.0 and abs(sound.duration - run.result.duration_s) < 0.05
        assert run.heard and run.round_trip_wer <= 0.25, (run.workflow, run.heard)
        assert run.cost_per_minute == pytest.approx(run.result.est_cost / run.result.duration_s * 60)
    assert realtime.result.transcript and realtime.reworded_wer is not None and realtime.reworded_wer <= 0.25
    assert speech.reworded_wer is None

    rows = [r.row() for r in runs]
    assert [row["workflow"] for row in rows] == [r.label for r in runs]
    for row in rows:
        assert 0 < row["first audio (ms)"] <= row["total (ms)"]
        assert row["audio (s)"] > 2.0 and row["est. cost ($)"] > 0 and row["$ / min of audio"] > 0
    assert rows[0]["transcript vs text WER"] is not None and rows[1]["transcript vs text WER"] is None

    # a realtime summary says how much of the first audio was connecting; the endpoint's has none
    assert "connecting took" in lab.summary(realtime.result) and "connecting" not in lab.summary(speech.result)
    assert lab.summary(speech.result).startswith(f"first audio {speech.result.ttfb_ms:.0f} ms")

    players = lab.workflow_players(runs)
    assert len(players.children) == 2
    for card, run in zip(players.children, runs, strict=True):
        title, player = card.children
        assert run.label in title.value and player.value == run.result.audio

    fig = lab.workflow_figure(runs)
    first, total, per_minute = fig.data
    assert list(first.x) == [r.label for r in runs] and list(first.y) == [r.result.ttfb_ms for r in runs]
    assert list(total.y) == [r.result.total_ms for r in runs]
    assert list(per_minute.y) == pytest.approx([r.cost_per_minute for r in runs])


@pytest.mark.models
def test_a_speed_past_realtimes_range_is_held_there_and_kept_on_the_endpoint(embedded):
    runs = lab.compare_workflows("One, two, three, four, five.", "coral", "Brisk.", speed=2.0)
    realtime, speech = runs
    assert realtime.result.spec.speed == workflows.get("realtime").speed_max == 1.5
    assert speech.result.spec.speed == 2.0 and speech.result.spec.instructions == "Brisk."
    assert speech.result.duration_s < realtime.result.duration_s  # twice the pace is shorter than 1.5×


def test_a_voice_only_one_workflow_has_is_refused_before_anything_is_sent():
    with pytest.raises(ValueError, match="not on realtime") as err:
        lab.compare_workflows(TEXT, "nova")
    assert "coral" in str(err.value) and "nova" not in str(err.value).split("have:")[1]
