"""Compare's transcription models, its handlers called directly against the real embedded backend."""

from __future__ import annotations

import asyncio
import re
import shutil
from pathlib import Path

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from playground.client.providers import Provider
from playground.core.catalog import get_catalog
from playground.core.textmetrics import word_error_rate
from playground.serving import BackgroundServer
from playground.ui import compare_stt

pytestmark = pytest.mark.models

PER = compare_stt.OUTPUTS_PER_COLUMN


class _Session:
    """Stands in for gr.Request: handlers only read ``session_hash``."""

    def __init__(self, session_hash: str):
        self.session_hash = session_hash


def _columns(*cols: dict) -> list:
    values = []
    for c in cols:
        merged = {"language": "", "prompt": "", "temperature": compare_stt.SERVER_DEFAULT_TEMPERATURE, "stream": False}
        merged |= c
        values += [merged[k] for k in compare_stt.COLUMN_FIELDS]
    return values


def _run(request, path, reference, *cols: dict) -> list[list]:
    """Every yield of the handler, drained the way Gradio drains it."""

    async def drain():
        return [
            list(out)
            async for out in compare_stt.run_stt_compare(request, path, reference, len(cols), *_columns(*cols))
        ]

    return asyncio.run(drain())


def _column(out: list, i: int) -> list:
    return out[1 + i * PER : 1 + (i + 1) * PER]


def test_three_models_side_by_side_each_with_text_wer_timings_cost_and_code(ctx, speech_dir, manifest):
    reference = manifest["jfk.flac"]["text"]
    clip = shutil.copy(speech_dir / "jfk.flac", ctx.output_path("jfk.flac"))
    runs = _run(
        _Session("three-models"),
        str(clip),
        reference,
        {"model": "whisper-1"},
        {"model": "gpt-4o-transcribe", "prompt": "A speech by John F. Kennedy.", "temperature": 0.2},
        {"model": "gpt-4o-mini-transcribe", "language": "en", "stream": True},
    )
    first, last = runs[0], runs[-1]
    assert all(_column(first, i)[1] == "Running…" for i in range(3))  # all started before any finished
    assert len(runs) == 1 + 3  # one yield as they start, then one as each column finishes
    for i, model in enumerate(["whisper-1", "gpt-4o-transcribe", "gpt-4o-mini-transcribe"]):
        text, metrics, wer, code = _column(last, i)
        assert "fellow americans" in text.lower() and "country" in text.lower(), text
        assert f"WER {100 * word_error_rate(reference, text):.1f}%" in wer and 'class="pg-diff"' in wer
        assert "**Total**" in metrics and "**Est. cost** $" in metrics
        assert "audio.transcriptions.create(" in code and f'model="{model}"' in code and 'open("jfk.flac"' in code
    assert re.search(r"\*\*First text\*\* [\d,]+ ms", _column(last, 2)[1])  # the streamed column's first delta
    assert "with the whole result" in _column(last, 0)[1]
    assert 'prompt="A speech by John F. Kennedy."' in _column(last, 1)[3] and "temperature=0.2" in _column(last, 1)[3]
    summary = last[0]
    assert summary.count("\n| ") == 3 and "whisper-1" in summary and "gpt-4o-mini-transcribe (en" in summary
    assert summary.count("%") == 3
    recorded = ctx.history.list()
    assert sorted(r.model for r in recorded) == ["gpt-4o-mini-transcribe", "gpt-4o-transcribe", "whisper-1"]
    assert all(r.kind == "transcription" and "fellow" in r.text.lower() for r in recorded)


def test_a_bad_column_names_its_field_and_the_others_still_run(ctx, speech_dir):
    out = _run(
        None,
        str(speech_dir / "jfk.flac"),
        "",
        {"model": "whisper-1", "stream": True},  # whisper-1 does not stream
        {"model": "gpt-4o-transcribe", "language": "english"},
        {"model": "gpt-4o-mini-transcribe"},
    )[-1]
    text, metrics, wer, code = _column(out, 0)
    assert text == "" and metrics.startswith("⚠️ Check this column") and "stream=True" in metrics
    assert "whisper-1" in metrics and code.startswith("# Fix the settings first")
    text, metrics, wer, code = _column(out, 1)
    assert text == "" and "language=&#x27;english&#x27;" in metrics and "ISO-639-1" in metrics
    text, metrics, wer, code = _column(out, 2)
    assert "country" in text.lower() and "**Total**" in metrics
    assert wer == ""  # no reference typed: no WER, no diff
    assert [r.model for r in ctx.history.list()] == ["gpt-4o-mini-transcribe"]


def test_no_clip_or_an_unreadable_one_gets_a_message_and_the_server_keeps_serving(ctx, tmp_path, speech_dir):
    (out,) = _run(None, None, "", {"model": "whisper-1"}, {"model": "gpt-4o-transcribe"})
    assert out[0].startswith("⚠️ Load a file")
    fake = tmp_path / "notes.wav"
    fake.write_text("this is not audio")
    out = _run(None, str(fake), "", {"model": "whisper-1"}, {"model": "gpt-4o-transcribe"})[-1]
    for i in range(2):
        text, metrics, _, _ = _column(out, i)
        assert text == "" and metrics.startswith("⚠️") and "400" in metrics, metrics
    assert out[0].count("failed") == 2
    out = _run(None, str(speech_dir / "jfk.flac"), "", {"model": "whisper-1"}, {"model": "gpt-4o-transcribe"})[-1]
    assert all("country" in _column(out, i)[0].lower() for i in range(2))


def _barrier_server(expected: int) -> FastAPI:
    """Answers a transcription only once ``expected`` requests are in at the same time: a
    comparison that sent them one after another gets a 504 in each column."""
    app = FastAPI()
    models: set[str] = set()  # distinct columns, so a retried request does not count twice
    everyone = asyncio.Event()

    @app.post("/v1/audio/transcriptions")
    async def transcribe(request: Request) -> JSONResponse:
        form = await request.form()
        models.add(str(form["model"]))
        if len(models) >= expected:
            everyone.set()
        try:
            await asyncio.wait_for(everyone.wait(), timeout=20)
        except TimeoutError:
            return JSONResponse({"error": {"message": "alone at the barrier", "type": "timeout"}}, status_code=504)
        return JSONResponse({"text": f"heard by {form['model']}"})

    return app


def test_columns_are_in_flight_at_the_same_time(ctx, speech_dir):
    tab = _Session("barrier")
    with BackgroundServer(_barrier_server(3)) as url:
        ctx.sessions.set(tab.session_hash, Provider("compatible", "Barrier server", url + "/v1", "local"))
        out = _run(
            tab,
            str(speech_dir / "jfk.flac"),
            "",
            {"model": "whisper-1"},
            {"model": "gpt-4o-transcribe"},
            {"model": "gpt-transcribe"},
        )[-1]
    assert [_column(out, i)[0] for i in range(3)] == [
        "heard by whisper-1",
        "heard by gpt-4o-transcribe",
        "heard by gpt-transcribe",
    ]
    assert "Barrier server" in {r.provider for r in ctx.history.list()}


def test_each_column_offers_streaming_only_where_its_model_streams(ctx):
    assert compare_stt.column_stream("whisper-1") == {"__type__": "update", "value": False, "interactive": False}
    assert compare_stt.column_stream("gpt-4o-transcribe")["interactive"] is True
    defaults = compare_stt.default_models()
    assert len(set(defaults)) == compare_stt.MAX_COLUMNS and defaults[0] == "gpt-transcribe"
    assert set(defaults) <= set(get_catalog().file_transcription_models)
    code = compare_stt.column_code(str(Path("/tmp/meeting.m4a")), "whisper-1", "de", "", -0.05, False)
    assert 'open("meeting.m4a"' in code and 'language="de"' in code and "temperature" not in code
