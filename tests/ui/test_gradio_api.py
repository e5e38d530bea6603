"""Every UI event is a named API: drive them with gradio_client against a launched app."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx2 as httpx
import pytest
import srt
import webvtt
from gradio_client import Client, handle_file

from playground.core import audio
from playground.core.subtitles import cue_text
from playground.core.textmetrics import word_error_rate
from tests.conftest import REPO

pytestmark = pytest.mark.models

EXPECTED = {
    "/code",
    "/preview",
    "/model_changed",
    "/shuffle_vibes",
    "/apply_vibe",
    "/use_voice",
    "/clamp_speed",
    "/workflow_changed",
    "/test_connection",
    "/use_provider",
    "/speak",
    "/collect",
    "/save_vibe",
    "/compare",
    "/build_same_text",
    "/build_same_voice",
    "/blind_new_round",
    "/played_a",
    "/played_b",
    "/vote_a",
    "/vote_b",
    "/vote_tie",
    "/transcribe",
    "/load_audio",
    "/use_studio_output",
    "/history",
    "/history_run",
    "/history_export",
    "/history_delete",
    "/history_reopen",
    "/share_studio",
    "/share_transcription",
    "/export_comparison",
    "/share_comparison",
    "/compare_transcription",
    "/live_connect",
    "/use_live_recording",
    "/audio_chat_send",
    "/audio_chat_new",
    "/audio_chat_export",
}


@pytest.fixture(scope="module")
def client(app_url, tmp_path_factory) -> Client:
    return Client(app_url, verbose=False, download_files=str(tmp_path_factory.mktemp("downloads")))


def test_every_event_is_named(client):
    names = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert EXPECTED <= names, EXPECTED - names


def test_audio_chat_turn_over_the_api(client):
    """A typed turn with a spoken reply: the reply's transcript, its audio id and the code for it."""
    out = client.predict(
        "Name a fruit, in one word.", None, "gpt-audio-mini", "audio", "alloy", "pcm16", True,
        "Answer in one short sentence.", 1.0, 1.0, 0.0, 0.0, 2048, "", api_name="/audio_chat_send",
    )  # fmt: skip
    chat, _usage, totals, py, _js, curl, status, *_inputs = out
    assert "Turn 1" in status and "audio_" in status
    assert chat[-1]["role"] == "assistant" and "est. $" in totals
    assert '"format": "pcm16"' in py and "stream=True" in py and "--no-buffer" in curl


def test_code_endpoint(client):
    py, _js, curl, script_count, _instr_count = client.predict(
        "Hello there.", "nova", "tts-1", "calm", 1.25, "wav", "speech", api_name="/code"
    )
    assert 'voice="nova"' in py and "speed=1.25" in py and "instructions" not in py
    assert "audio/speech" in curl and "12 / 4,096" in script_count


def test_speak_then_collect(client, app_url):
    vibe_name = client.predict(api_name="/shuffle_vibes")["choices"][0][0]
    instructions, script, name, _suggestion = client.predict(
        vibe_name, "", "echo", api_name="/apply_vibe"
    )  # the last-sample State and the button are not part of the API
    assert instructions.startswith(("Affect:", "Tone:")) and name == vibe_name
    token, _status = client.predict(
        script, "echo", "gpt-4o-mini-tts", instructions, 1.0, "flac", "speech", "", api_name="/speak"
    )
    pcm = httpx.get(f"{app_url}/studio/pcm/{token}", timeout=60)
    assert pcm.headers["content-type"].startswith("audio/L16") and len(pcm.content) > 24_000 * 2
    metrics, download, _plot = client.predict(token, name, api_name="/collect")
    assert "First audio heard" in metrics
    path = Path(download["value"] if isinstance(download, dict) else download)  # an update: it also shows the file
    assert path.name.startswith("echo_") and path.suffix == ".flac"
    assert audio.decode(path.read_bytes()).duration > 1.0


def test_preview_and_save_vibe(client):
    preview = client.predict("ash", "gpt-4o-mini-tts", api_name="/preview")
    assert audio.decode(Path(preview).read_bytes()).duration > 1.0
    status, _, _ = client.predict("API vibe", "Tone: crisp.", "Hi.", "ash", False, api_name="/save_vibe")
    assert status.startswith("✅")
    status, _, _ = client.predict("API vibe", "Tone: crisp.", "Hi.", "ash", False, api_name="/save_vibe")
    assert "exists" in status


def test_compare_endpoint(client):
    columns = []  # per column: workflow (Realtime by default; here the speech endpoint), then its settings
    for voice in ("alloy", "echo", "onyx"):
        columns += ["speech", voice, "(none)", "", 1.0, "gpt-4o-mini-tts", "mp3", "Embedded local backend"]
    columns += ["speech", "alloy", "(none)", "", 1.0, "gpt-4o-mini-tts", "mp3", "Embedded local backend"] * 3
    out = client.predict("Three voices, one line.", 3, False, *columns, api_name="/compare")
    for i in range(3):
        audio_path, metrics = out[i * 5], out[i * 5 + 1]
        assert audio.decode(Path(audio_path).read_bytes()).duration > 0.5 and "Duration" in metrics
    # export comparison: every variant's audio, spec JSON and snippets, and a summary table
    import csv
    import io
    import zipfile

    exported = client.predict(api_name="/export_comparison")
    with zipfile.ZipFile(exported["value"] if isinstance(exported, dict) else exported) as z:
        names = set(z.namelist())
        rows = list(csv.reader(io.StringIO(z.read("summary.csv").decode())))
        assert [r[4] for r in rows[1:]] == ["alloy", "echo", "onyx"]  # after the workflow column
        assert [r[2] for r in rows[1:]] == ["speech"] * 3
        for n, voice in enumerate(("alloy", "echo", "onyx"), start=1):
            assert {f"variant-{n}/{voice}.mp3", f"variant-{n}/spec.json", f"variant-{n}/code.py"} <= names
            assert audio.decode(z.read(f"variant-{n}/{voice}.mp3")).duration > 0.5
            assert json.loads(z.read(f"variant-{n}/spec.json"))["spec"]["voice"] == voice


def test_blind_round_and_vote(client):
    a, b, state, _note, *_ = client.predict("Blind test line.", api_name="/blind_new_round")
    assert Path(a).is_file() and Path(b).is_file()
    state = client.predict(state, api_name="/played_a")  # buttons are not API outputs: just the state
    state = client.predict(state, api_name="/played_b")
    state, reveal, board = client.predict(state, api_name="/vote_tie")
    assert "tie" in reveal and "A was" in reveal
    assert board["data"] and board["data"][0][6] >= 1


SPEECH = REPO.parent / "shared" / "testdata" / "speech"
MANIFEST = {c["file"]: c for c in json.loads((SPEECH / "manifest.json").read_text())["clips"]}
FORMATS = ["json", "text", "srt", "vtt", "verbose_json"]


def _check_content(clip: str, text: str) -> None:
    """What each clip must say: the reference within 10% WER where the manifest has one."""
    low = text.lower()
    if clip == "jfk.flac":
        assert word_error_rate(MANIFEST[clip]["text"], text) <= 0.10, text
    elif clip == "stereo_diarization.wav":  # two voices, one per channel: both heard
        reference = f"{MANIFEST[clip]['left_text']} {MANIFEST[clip]['right_text']}"
        assert word_error_rate(reference, text) <= 0.10, text
    elif clip == "hotwords.mp3":
        assert "ComfyUI" in text, text  # the prompt spells the product name
    else:
        assert "permission is hereby granted" in low and "software" in low, text


@pytest.mark.parametrize("clip", sorted(MANIFEST))
def test_transcribe_every_clip_in_every_format(client, clip, tmp_path):
    duration = audio.decode((SPEECH / clip).read_bytes()).duration
    prompt = "ComfyUI" if clip == "hotwords.mp3" else ""
    for fmt in FORMATS:
        grains = ["word", "segment"] if fmt == "verbose_json" else []
        text, metrics, timeline, words, subtitle, _wer = client.predict(
            handle_file(SPEECH / clip), "transcribe", "whisper-1", "", prompt, -0.05, fmt, grains, False, False, "",
            api_name="/transcribe",
        )  # fmt: skip
        assert "Total" in metrics, (fmt, metrics)
        if fmt == "srt":
            cues = list(srt.parse(text))
            assert cues and all(0 <= c.start.total_seconds() < c.end.total_seconds() <= duration + 0.5 for c in cues)
            sub = subtitle["value"] if isinstance(subtitle, dict) else subtitle
            assert Path(sub).suffix == ".srt"
            _check_content(clip, cue_text(text))
        elif fmt == "vtt":
            (tmp_path / "a.vtt").write_text(text)
            cues = webvtt.read(str(tmp_path / "a.vtt"))
            assert cues and all(0 <= c.start_in_seconds < c.end_in_seconds <= duration + 0.5 for c in cues)
            _check_content(clip, cue_text(text))
        else:
            _check_content(clip, text)
        if fmt == "verbose_json":
            starts = [float(x) for x in re.findall(r'data-t="([0-9.]+)"', words)]
            assert starts == sorted(starts) and 0 <= starts[0] and starts[-1] <= duration, starts
            assert isinstance(timeline, dict) and timeline.get("visible") and timeline.get("value")  # words drawn


def test_bad_inputs_get_a_clear_message_and_the_app_keeps_serving(client, tmp_path):
    import numpy as np
    import soundfile as sf

    cases = {}
    (tmp_path / "empty.wav").write_bytes(b"")
    cases["empty.wav"] = "empty"
    (tmp_path / "notes.wav").write_text("these are my meeting notes, not audio\n" * 20)
    cases["notes.wav"] = "audio"
    sf.write(tmp_path / "short.wav", np.zeros(1600, np.float32), 16000)
    cases["short.wav"] = "short"
    for name, needle in cases.items():
        text, metrics, *_ = client.predict(
            handle_file(tmp_path / name), "transcribe", "whisper-1", "", "", -0.05, "json", [], False, False, "",
            api_name="/transcribe",
        )  # fmt: skip
        assert metrics.startswith("⚠️") and needle in metrics.lower(), (name, metrics)
    # over the API's 25 MiB: refused before it is uploaded, saying the limit, and the app goes on
    with (tmp_path / "huge.wav").open("wb") as fh:
        fh.truncate(30 * 2**20)
    with pytest.raises(ValueError, match="exceeds the maximum file size of 26214400 bytes"):
        client.predict(
            handle_file(tmp_path / "huge.wav"), "transcribe", "whisper-1", "", "", -0.05, "json", [], False, False, "",
            api_name="/transcribe",
        )  # fmt: skip
    # stereo 8 kHz is fine: it is transcribed
    jfk = audio.decode((SPEECH / "jfk.flac").read_bytes())
    low = audio.resample(jfk.samples.mean(axis=1), jfk.sample_rate, 8000)
    sf.write(tmp_path / "phone.wav", np.stack([low, low], axis=1), 8000)
    text, metrics, *_ = client.predict(
        handle_file(tmp_path / "phone.wav"), "transcribe", "whisper-1", "", "", -0.05, "json", [], False, False, "",
        api_name="/transcribe",
    )  # fmt: skip
    assert word_error_rate(MANIFEST["jfk.flac"]["text"], text) <= 0.2, (text, metrics)


def test_history_keeps_runs_and_reopens_exports_and_deletes_them(client):
    import zipfile

    client.predict(
        handle_file(SPEECH / "jfk.flac"), "transcribe", "whisper-1", "", "", 0.2, "srt", [], False, False, "",
        api_name="/transcribe",
    )  # fmt: skip
    table, *_facets, note = client.predict("transcription", "whisper-1", "", "", api_name="/history")
    rows = table["value"]["data"] if "value" in table else table["data"]
    assert rows and rows[0][1] == "transcription" and "shown" in note
    run_id = rows[0][-1]
    searched, *_ = client.predict("", "", "", "ask not what your country", api_name="/history")
    assert run_id in [r[-1] for r in (searched["value"]["data"] if "value" in searched else searched["data"])]
    summary, audio_file, _trace, code = client.predict(run_id, api_name="/history_run")
    assert "whisper-1" in summary and 'response_format="srt"' in code and "temperature=0.2" in code
    assert Path(audio_file).read_bytes() == (SPEECH / "jfk.flac").read_bytes()  # the audio beside the run
    exported = client.predict(run_id, api_name="/history_export")
    with zipfile.ZipFile(exported["value"] if isinstance(exported, dict) else exported) as z:
        meta = json.loads(z.read("run.json"))
        assert meta["spec"]["response_format"] == "srt" and "sk-" not in z.read("run.json").decode()
    reopened = client.predict(run_id, "Hi.", "alloy", "tts-1", "", 1.0, "mp3", "speech", api_name="/history_reopen")
    # (the tab switch is not an API output) the Studio keeps its values; the transcription settings come back
    assert list(reopened[:7]) == ["Hi.", "alloy", "tts-1", "", 1.0, "mp3", "speech"]
    audio_back, task, model, _lang, _prompt, temperature, fmt = reopened[7:14]
    assert (task, model, temperature) == ("transcribe", "whisper-1", 0.2) and "srt" in str(fmt)
    assert Path(audio_back).read_bytes() == (SPEECH / "jfk.flac").read_bytes()
    assert "deleted" in client.predict(run_id, api_name="/history_delete").lower()
    summary, *_ = client.predict(run_id, api_name="/history_run")
    assert "Pick a run" in summary
