"""Compare and the blind test across workflows: the Realtime API beside the speech endpoint,
handlers called directly against the real embedded backend."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from playground.core import workflows
from playground.ui import blind, compare
from playground.ui.compare_columns import WORKFLOW_NAMES

pytestmark = pytest.mark.models

SCRIPT = "Hello there, a short test."


class _Session:
    """Stands in for gr.Request: handlers only read ``session_hash``."""

    def __init__(self, session_hash: str):
        self.session_hash = session_hash


def _final(agen) -> list:
    async def drain():
        last = None
        async for out in agen:
            last = out
        return last

    return asyncio.run(drain())


def _column(ctx, **fields: Any) -> list[Any]:
    """One column's values in ``COLUMN_FIELDS`` order, on the embedded backend."""
    values = {
        "workflow": workflows.SPEECH,
        "vibe": compare.NO_VIBE,
        "instructions": "",
        "speed": 1.0,
        "model": "",
        "format": "",
        "provider": next(iter(ctx.providers_for(None))),
    } | fields
    return [values[k] for k in compare.COLUMN_FIELDS]


def _columns_of(per: int, n: int, updates: list[Any]) -> list[dict[str, Any]]:
    return [
        {k: u["value"] for k, u in zip(compare.PRESET_FIELDS, updates[i * per : (i + 1) * per], strict=True)}
        for i in range(n)
    ]


def _by_column(out: list[Any]) -> list[list[Any]]:
    per = compare.OUTPUTS_PER_COLUMN
    return [out[i * per : (i + 1) * per] for i in range(compare.MAX_VARIANTS)]


def test_same_text_through_both_workflows_fills_both_columns_and_the_export(ctx):
    updates = compare.build_both_workflows("fable", compare.NO_VIBE, "Calm.")
    n, roundtrip = updates[0]["value"], updates[1]["value"]
    assert n == 2 and roundtrip is True
    per = len(compare.PRESET_FIELDS)
    cols = _columns_of(per, 2, updates[2:])
    voice = compare.shared_voice()
    assert [c["workflow"] for c in cols] == [workflows.REALTIME, workflows.SPEECH]
    assert {c["voice"] for c in cols} == {voice}  # fable has no Realtime voice: one both have
    assert voice in workflows.get(workflows.REALTIME).voices and voice in workflows.get(workflows.SPEECH).voices
    assert cols[0]["format"] == "audio/pcm" and cols[1]["model"] == workflows.get(workflows.SPEECH).default_model
    assert all(u == {"__type__": "update"} for u in updates[2 + 2 * per :])  # columns 3–6 left alone

    tab = _Session("both-workflows")
    values = [v for c in cols for v in _column(ctx, **c)]
    out = _by_column(_final(compare.run_compare(tab, SCRIPT, n, roundtrip, *values)))
    realtime, speech = out[0], out[1]
    for col in (realtime, speech):
        assert Path(col[0]).is_file() and col[2] is not None
        assert "first audio" in col[1] and "total" in col[1]
        assert "/ min** of audio" in col[1] and "n/a / min" not in col[1]
        assert "Round trip WER" in col[1]
    assert "Realtime (" in realtime[1] and "connect" in realtime[1] and "Transcript" in realtime[1]
    assert "Speech endpoint (" in speech[1] and "connect" not in speech[1]

    exported = compare.export_comparison(tab)
    with zipfile.ZipFile(exported["value"]) as z:
        rows = list(csv.DictReader(io.StringIO(z.read("summary.csv").decode())))
        meta = json.loads(z.read("variant-1/spec.json"))
        assert "variant-1/code.py" in z.namelist()
    assert [r["workflow"] for r in rows] == [workflows.REALTIME, workflows.SPEECH]
    assert all(float(r["cost_per_min_usd"]) > 0 and r["round_trip_wer"] != "" for r in rows)
    assert rows[0]["connect_ms"] != "" and rows[0]["transcript_wer"] != "" and rows[1]["transcript_wer"] == ""
    assert meta["workflow"] == workflows.REALTIME and meta["spec"]["kind"] == "realtime_speech"


def test_a_speech_only_voice_on_a_realtime_column_is_reported_there(ctx):
    tab = _Session("fable-on-realtime")
    values = [
        *_column(ctx, workflow=workflows.REALTIME, voice="fable"),
        *_column(ctx, voice="echo", model="gpt-4o-mini-tts", format="mp3"),
    ]
    out = _by_column(_final(compare.run_compare(tab, SCRIPT, 2, False, *values)))
    assert out[0][0] is None and "fable" in out[0][1] and "not a Realtime voice" in out[0][1]
    assert "Realtime (" in out[0][1]  # the message names the column's workflow
    assert Path(out[1][0]).is_file() and "Speech endpoint (" in out[1][1]


def test_switching_a_column_to_realtime_follows_its_voices_models_and_speed(ctx):
    voice, model, fmt, speed, note = compare.workflow_changed(workflows.REALTIME, "fable", "tts-1", "mp3", 2.0)
    rt = workflows.get(workflows.REALTIME)
    assert voice["value"] == rt.default_voice and voice["choices"] == rt.voices
    assert model["value"] == rt.default_model and fmt["value"] == rt.default_format
    assert speed["maximum"] == rt.speed_max and speed["value"] == rt.speed_max
    assert "fable" in note and "Speed 2" in note
    voice, model, fmt, speed, note = compare.workflow_changed(workflows.SPEECH, "marin", "gpt-realtime-2.1-mini", "", 1)
    assert voice["value"] == "marin" and model["value"] == workflows.get(workflows.SPEECH).default_model
    assert note == ""


def test_blind_pool_mixes_workflows_and_votes_name_theirs(ctx):
    pool = blind.combo_pool()
    assert {w for w, _, _ in pool} == set(workflows.WORKFLOWS)
    realtime_voices = set(workflows.get(workflows.REALTIME).voices)
    assert all(voice in realtime_voices for w, voice, _ in pool if w == workflows.REALTIME)
    assert {w for w, _, _ in blind.combo_pool([workflows.SPEECH])} == {workflows.SPEECH}

    a, b, state, *_ = asyncio.run(blind.blind_new_round("A short blind test."))
    assert Path(a).is_file() and Path(b).is_file()
    state, *_ = blind.mark_played("a", state)
    state, *_ = blind.mark_played("b", state)
    state, reveal, rows, *_ = blind.blind_vote("tie", state)
    (vote,) = ctx.votes.all()
    for key in (vote.a, vote.b):
        workflow = key.split(" · ", 1)[0]
        assert workflow in workflows.WORKFLOWS
        assert blind.display_label(key) in reveal
        assert blind.display_label(key).startswith(WORKFLOW_NAMES[workflow] + " · ")
    assert {r[1] for r in rows} == {blind.display_label(vote.a), blind.display_label(vote.b)}


def test_old_votes_without_a_workflow_load_as_the_speech_endpoint(ctx):
    old = {"a": "coral · Help Desk Ally", "b": "ash · Comedy Warm-Up", "winner": "a", "ts": 1.0}
    new = {"a": "speech · coral · Help Desk Ally", "b": "realtime · marin · Help Desk Ally", "winner": "b", "ts": 2.0}
    ctx.votes.path.parent.mkdir(parents=True, exist_ok=True)
    ctx.votes.path.write_text("".join(json.dumps(v) + "\n" for v in (old, new)))
    rows = {r[1]: r for r in blind.leaderboard_rows()}
    assert set(rows) == {
        "Speech endpoint · coral · Help Desk Ally",
        "Speech endpoint · ash · Comedy Warm-Up",
        "Realtime · marin · Help Desk Ally",
    }
    assert rows["Speech endpoint · coral · Help Desk Ally"][6] == 2  # the old and the new vote, one combination
