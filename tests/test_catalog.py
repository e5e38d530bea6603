from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from playground.core.catalog import default_catalog_path, get_catalog, load_catalog
from playground.core.errors import CatalogError


def _write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump(data) if not isinstance(data, str) else data)
    return path


def _base() -> dict:
    return yaml.safe_load(default_catalog_path().read_text())


def test_catalog_has_the_contract_facts():
    cat = get_catalog()
    assert cat.voice_ids == [
        "alloy",
        "ash",
        "ballad",
        "coral",
        "echo",
        "fable",
        "onyx",
        "nova",
        "sage",
        "shimmer",
        "verse",
        "marin",
        "cedar",
    ]
    assert len(cat.realtime_voices) == 10 and "fable" not in cat.realtime_voices
    assert set(cat.speech_formats) == {"mp3", "opus", "aac", "flac", "wav", "pcm"}
    assert (cat.limits.speed.min, cat.limits.speed.max) == (0.25, 4.0)
    assert (cat.limits.realtime_speed.min, cat.limits.realtime_speed.max) == (0.25, 1.5)
    assert cat.limits.speech_input_max_chars == 4096 and cat.limits.instructions_max_chars == 4096
    assert cat.limits.upload_max_bytes == 25 * 1024 * 1024
    assert not cat.speech_model("tts-1").instructions and cat.speech_model("gpt-4o-mini-tts").instructions
    assert cat.transcription_model("gpt-4o-transcribe").response_formats == ("json",)
    assert cat.price("whisper-1")["per_minute_estimate"] == 0.006


def test_aliases_resolve_to_their_model():
    cat = get_catalog()
    assert cat.realtime_model("gpt-realtime-mini-2025-10-06").id == "gpt-realtime-mini"
    assert cat.model_entry("gpt-5.4-mini-2026-03-17").id == "gpt-5.4-mini"
    assert cat.price("gpt-realtime-2.1-mini")["audio_output_per_1m_tokens"] == 20.0
    assert cat.speech_model("gpt-4o-mini-tts-2025-12-15").id == "gpt-4o-mini-tts"
    assert cat.price("gpt-4o-mini-tts-2025-12-15") == cat.price("gpt-4o-mini-tts")
    assert cat.canonical_realtime_model("gpt-realtime-2025-08-28") == "gpt-realtime"


def test_malformed_yaml_names_the_file(tmp_path):
    path = _write(tmp_path, "limits: [unclosed")
    with pytest.raises(CatalogError, match="not valid YAML") as e:
        load_catalog(path)
    assert str(path) in str(e.value)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CatalogError, match="cannot read catalog"):
        load_catalog(tmp_path / "nope.yaml")


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.pop("speech"), r"speech: missing"),
        (lambda d: d["limits"].update(speed={"min": 0.25}), r"limits.speed.max: missing"),
        (lambda d: d["limits"].update(speech_input_max_chars="many"), r"limits.speech_input_max_chars: expected int"),
        (
            lambda d: d["speech"]["models"]["tts-1"].update(instructions="no"),
            r"speech.models.tts-1.instructions: expected bool",
        ),
        (lambda d: d["speech"]["voices"].append({"id": "alloy", "character": "x"}), r"duplicate voice 'alloy'"),
        (lambda d: d["speech"].update(default_voice="robot"), r"speech.default_voice: 'robot' is not defined"),
        (lambda d: d["prices"]["whisper-1"].update(per_minute_estimate=-1), r"prices.whisper-1.per_minute_estimate"),
        (
            lambda d: d["transcription"]["models"]["whisper-1"].update(response_formats=["json", "xml"]),
            r"unknown response formats \['xml'\]",
        ),
        (lambda d: d["limits"].update(speed={"min": 1, "max": 2, "default": 3}), r"default 3 outside 1..2"),
        (lambda d: d["local"]["voices"].pop("alloy"), r"local.voices: no local voice for \['alloy'\]"),
        (lambda d: d["local"]["voices"]["ash"].pop("engine"), r"local.voices.ash.engine: missing"),
        (lambda d: d["local"]["transcription"].pop("whisper-1"), r"no local model for \['whisper-1'\]"),
        (
            lambda d: d["realtime"]["models"]["gpt-realtime"].update(shutdown="soon"),
            r"realtime.models.gpt-realtime.shutdown: expected date \(YYYY-MM-DD\), got 'soon'",
        ),
        (
            lambda d: d["realtime"]["models"]["gpt-realtime"].update(replacement="gpt-9"),
            r"realtime.models.gpt-realtime.replacement: 'gpt-9' is not defined",
        ),
        (lambda d: d["chat"]["models"]["gpt-4o"].update(retired=True), r"chat.models.gpt-4o.retired: unknown key"),
        (lambda d: d["chat"].update(default_model="gpt-9"), r"chat.default_model: 'gpt-9' is not defined"),
        (
            lambda d: d["realtime"].update(transcription_models=["gpt-9-transcribe"]),
            r"realtime.transcription_models: 'gpt-9-transcribe' is not a defined transcription model",
        ),
        (
            lambda d: d["transcription"].update(default_model="gpt-live-transcribe"),
            r"transcription.default_model: 'gpt-live-transcribe' is not a defined transcription model",
        ),
    ],
)
def test_malformed_catalog_names_the_bad_key(tmp_path, mutate, message):
    data = _base()
    mutate(data)
    with pytest.raises(CatalogError, match=message):
        load_catalog(_write(tmp_path, data))


def test_catalog_override_by_environment(tmp_path, monkeypatch):
    data = _base()
    data["limits"]["speech_input_max_chars"] = 100
    path = _write(tmp_path, data)
    monkeypatch.setenv("PLAYGROUND_CATALOG", str(path))
    assert load_catalog().limits.speech_input_max_chars == 100
