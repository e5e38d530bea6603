"""OpenAI's audio API as it stands in December 2026, served by the embedded backend through the
real SDK: every current name (and snapshot) answers, a retired name gets OpenAI's 404
``model_not_found`` naming its shutdown date and replacement (``PLAYGROUND_SERVE_RETIRED=1``
keeps serving it), and ``/v1/models`` lists what is served with ``shutdown_date``.

The backend runs in-process (``backend_url``), so the clock (``PLAYGROUND_TODAY``) and
``PLAYGROUND_SERVE_RETIRED`` set with ``monkeypatch`` reach it at request time.
"""

from __future__ import annotations

import asyncio
from typing import Any

import openai
import pytest

from playground.core.catalog import get_catalog
from tests.backend.realtime_support import client_for, collect

TODAY = "2026-12-07"
#: past every transcription model's shutdown (2027-02-26), speech's (2027-01-06) and gpt-realtime's
LATER = "2027-03-01"


@pytest.fixture
def jfk(speech_dir):
    return speech_dir / "jfk.flac"


@pytest.fixture
def real_retirement(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """Retired names are refused (the suite serves them by default), on a fixed day."""
    monkeypatch.delenv("PLAYGROUND_SERVE_RETIRED", raising=False)
    monkeypatch.setenv("PLAYGROUND_TODAY", TODAY)
    return monkeypatch


def _not_found(e: pytest.ExceptionInfo[openai.NotFoundError], model: str, date: str, instead: str) -> None:
    assert e.value.status_code == 404
    body = e.value.body
    assert set(body) == {"message", "type", "param", "code"}, body
    assert (body["code"], body["param"], body["type"]) == ("model_not_found", "model", "invalid_request_error")
    assert body["message"] == (
        f"The model '{model}' does not exist or you do not have access to it. "
        f"It was shut down on {date}; use {instead}."
    )


async def _first_event(backend_url: str, **kwargs: Any) -> Any:
    async with client_for(backend_url).realtime.connect(**kwargs) as conn:
        return await asyncio.wait_for(conn.recv(), 30)


# ------------------------------------------------------------------ new names are served


@pytest.mark.models
def test_speech_answers_the_december_snapshot(client, real_retirement):
    audio = client.audio.speech.create(
        model="gpt-4o-mini-tts-2025-12-15", voice="marin", input="Hello there.", response_format="pcm"
    ).read()
    assert len(audio) > 24000 * 2 * 0.3  # at least 0.3 s of 24 kHz s16le


@pytest.mark.parametrize("model", [n for e in get_catalog().realtime_models.values() for n in e.names()])
def test_every_realtime_name_opens_a_session(backend_url, real_retirement, model):
    """gpt-realtime-2.1-mini, gpt-realtime-2.1, gpt-realtime-2, gpt-realtime-1.5, gpt-audio-1.5 and
    every snapshot (none is retired on 2026-12-07)."""
    first = asyncio.run(_first_event(backend_url, model=model))
    assert first.type == "session.created", first
    assert first.session.model == model


def test_a_transcription_session_opens_with_each_realtime_transcription_model(backend_url, real_retirement):
    for model in get_catalog().realtime.transcription_models:
        first = asyncio.run(_first_event(backend_url, model=model, extra_query={"intent": "transcription"}))
        assert first.type == "session.created" and first.session.type == "transcription", first
        assert first.session.audio.input.transcription.model == model


@pytest.mark.parametrize("model", ["gpt-live-transcribe", "gpt-realtime-whisper"])
def test_realtime_only_transcription_models_are_refused_on_the_file_endpoint(client, jfk, model):
    """They exist (``/v1/models`` lists them) but transcribe realtime sessions only: a 400 naming
    ``model``, as OpenAI answers a known model on the wrong endpoint."""
    with pytest.raises(openai.BadRequestError) as e:
        client.audio.transcriptions.create(file=jfk.open("rb"), model=model)
    assert e.value.body["param"] == "model" and e.value.body["code"] == "invalid_value"
    assert "realtime sessions only" in e.value.body["message"] and "gpt-transcribe" in e.value.body["message"]


@pytest.mark.models
def test_the_chat_names_come_from_the_catalog(client, real_retirement):
    from playground.backend.localmap import chat_models

    assert {"gpt-5.4-mini", "gpt-5.4-mini-2026-03-17", "gpt-audio-1.5", "smollm2"} <= set(chat_models())
    out = client.chat.completions.create(
        model="gpt-5.4-mini-2026-03-17", messages=[{"role": "user", "content": "Say hi."}], max_tokens=4
    )
    assert out.model == "gpt-5.4-mini-2026-03-17" and out.choices[0].message.content


# ------------------------------------------------------------------ retired names


def test_a_retired_chat_model_is_not_found_with_its_date_and_replacement(client, real_retirement):
    with pytest.raises(openai.NotFoundError) as e:
        client.chat.completions.create(model="gpt-4o-audio-preview", messages=[{"role": "user", "content": "Hi"}])
    _not_found(e, "gpt-4o-audio-preview", "2026-05-07", "gpt-audio-1.5")
    # a snapshot with its own, earlier date
    with pytest.raises(openai.NotFoundError) as e:
        client.chat.completions.create(
            model="gpt-4o-audio-preview-2024-10-01", messages=[{"role": "user", "content": "Hi"}]
        )
    _not_found(e, "gpt-4o-audio-preview-2024-10-01", "2025-10-10", "gpt-audio-1.5")


@pytest.mark.models
def test_serve_retired_keeps_answering_a_retired_name(client, real_retirement):
    real_retirement.setenv("PLAYGROUND_SERVE_RETIRED", "1")
    out = client.chat.completions.create(
        model="gpt-4o-audio-preview", messages=[{"role": "user", "content": "Say hi."}], max_tokens=4
    )
    assert out.model == "gpt-4o-audio-preview"
    assert client.models.retrieve("gpt-4o-audio-preview").shutdown_date == "2026-05-07"


def test_after_the_shutdowns_every_surface_refuses_the_retired_names(client, backend_url, jfk, real_retirement):
    real_retirement.setenv("PLAYGROUND_TODAY", LATER)
    with pytest.raises(openai.NotFoundError) as e:
        client.audio.transcriptions.create(file=jfk.open("rb"), model="whisper-1")
    _not_found(e, "whisper-1", "2027-02-26", "gpt-transcribe")
    with pytest.raises(openai.NotFoundError) as e, pytest.warns(DeprecationWarning):
        client.audio.translations.create(file=jfk.open("rb"), model="whisper-1")
    _not_found(e, "whisper-1", "2027-02-26", "gpt-transcribe")
    with pytest.raises(openai.NotFoundError) as e:
        client.audio.speech.create(model="gpt-4o-mini-tts-2025-12-15", voice="marin", input="Hi.")
    _not_found(e, "gpt-4o-mini-tts-2025-12-15", "2027-01-06", "gpt-realtime-2.1-mini")
    with pytest.raises(openai.NotFoundError) as e:
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "Hi"}])
    _not_found(e, "gpt-4o-mini", "2027-01-14", "gpt-5.4-mini")
    with pytest.raises(openai.NotFoundError) as e:
        client.models.retrieve("whisper-1")
    _not_found(e, "whisper-1", "2027-02-26", "gpt-transcribe")
    ids = {m.id for m in client.models.list()}
    assert "whisper-1" not in ids and "gpt-realtime-2025-08-28" not in ids and "tts-1" not in ids
    assert {"gpt-transcribe", "gpt-live-transcribe", "gpt-realtime-2.1-mini", "gpt-5.4-mini"} <= ids


def test_after_the_shutdowns_a_realtime_session_is_refused_at_connect(backend_url, real_retirement):
    real_retirement.setenv("PLAYGROUND_TODAY", LATER)
    first = asyncio.run(_first_event(backend_url, model="gpt-realtime-2025-08-28"))
    assert first.type == "error", first
    assert (first.error.code, first.error.param) == ("model_not_found", "model")
    assert first.error.message == (
        "The model 'gpt-realtime-2025-08-28' does not exist or you do not have access to it. "
        "It was shut down on 2027-01-20; use gpt-realtime-2.1."
    )
    first = asyncio.run(_first_event(backend_url, model="whisper-1", extra_query={"intent": "transcription"}))
    assert first.type == "error" and first.error.code == "model_not_found" and "2027-02-26" in first.error.message


def test_after_the_shutdowns_session_fields_naming_retired_models_are_refused(backend_url, real_retirement):
    real_retirement.setenv("PLAYGROUND_TODAY", LATER)

    async def run() -> list[Any]:
        async with client_for(backend_url).realtime.connect(model="gpt-realtime-2.1-mini") as conn:
            await collect(conn, "session.created")
            await conn.session.update(session={"type": "realtime", "model": "gpt-realtime-mini"})
            errors = [(await collect(conn, "error"))[-1].error]
            await conn.session.update(
                session={"type": "realtime", "audio": {"input": {"transcription": {"model": "gpt-4o-transcribe"}}}}
            )
            errors.append((await collect(conn, "error"))[-1].error)
            await conn.session.update(session={"type": "realtime", "instructions": "Be brief."})
            await collect(conn, "session.updated")  # still open
            return errors

    model, transcription = asyncio.run(run())
    assert (model.code, model.param) == ("model_not_found", "session.model")
    assert "shut down on 2027-01-20; use gpt-realtime-2.1-mini" in model.message
    assert (transcription.code, transcription.param) == (
        "model_not_found",
        "session.audio.input.transcription.model",
    )


@pytest.mark.models
def test_serve_retired_serves_whisper_1_after_its_shutdown(client, jfk, real_retirement):
    real_retirement.setenv("PLAYGROUND_TODAY", LATER)
    real_retirement.setenv("PLAYGROUND_SERVE_RETIRED", "1")
    text = client.audio.transcriptions.create(file=jfk.open("rb"), model="whisper-1", language="en").text
    assert "country" in text.lower()
    assert "whisper-1" in {m.id for m in client.models.list()}


# ------------------------------------------------------------------ /v1/models


def test_models_list_every_served_name_with_its_shutdown_date(client, real_retirement):
    models = {m.id: m for m in client.models.list()}
    cat = get_catalog()
    # canonical names and dated snapshots alike
    for name in ("gpt-4o-mini-tts", "gpt-4o-mini-tts-2025-12-15", "gpt-realtime-2025-08-28", "gpt-live-transcribe"):
        assert name in models, name
    for entry in cat.speech_models.values():
        assert set(entry.names()) <= set(models)
    assert models["gpt-realtime"].shutdown_date == "2027-01-20"
    assert models["gpt-realtime-mini-2025-10-06"].shutdown_date is None  # the SDK gives it no date
    assert models["gpt-realtime-2.1-mini"].shutdown_date is None
    assert models["whisper-1"].shutdown_date == "2027-02-26"
    assert models["tts-1"].shutdown_date == "2027-01-06"
    # retired on 2026-12-07: not listed
    assert "gpt-4o-audio-preview" not in models and "gpt-4.1-nano" not in models
    assert "gpt-5-mini" in models and models["gpt-5-mini"].shutdown_date == "2026-12-11"  # deprecated, served
    extra = {k: models[k].model_extra for k in ("gpt-4o-mini-transcribe", "whisper-1", "gpt-5.4-mini", "tts-1")}
    assert extra["gpt-4o-mini-transcribe"]["local_engine"] == "Whisper base (tiny.en for English)"
    assert extra["whisper-1"]["local_engine"] == "Whisper base"
    assert extra["gpt-5.4-mini"]["local_engine"] == "SmolLM2-135M-Instruct"
    assert extra["tts-1"]["local_engine"] == "hibari / Piper / Pico voices"
    assert [extra[k]["family"] for k in extra] == ["transcription", "transcription", "chat", "speech"]
    assert models["gpt-realtime-2.1"].model_extra["family"] == "realtime"
    assert models["gpt-live-transcribe"].model_extra["endpoints"] == ["realtime"]
    one = client.models.retrieve("gpt-realtime-2025-08-28")
    assert one.shutdown_date == "2027-01-20" and one.model_extra["canonical"] == "gpt-realtime"
    assert one.model_extra["status"] == "deprecated"


def test_a_retired_model_is_not_found_on_retrieve(client, real_retirement):
    with pytest.raises(openai.NotFoundError) as e:
        client.models.retrieve("gpt-4o-mini-audio-preview")
    _not_found(e, "gpt-4o-mini-audio-preview", "2026-05-07", "gpt-audio-1.5")


def test_serve_retired_lists_retired_names(client, real_retirement):
    real_retirement.setenv("PLAYGROUND_SERVE_RETIRED", "1")
    models = {m.id: m for m in client.models.list()}
    assert models["gpt-4o-audio-preview"].shutdown_date == "2026-05-07"
    assert models["gpt-4o-audio-preview"].model_extra["status"] == "retired"
