"""CLI one-shots run the real runner end to end and print the matching snippet.

``playground tts`` speaks through a Realtime session by default (``--workflow realtime``)
and through the speech endpoint with ``--workflow speech``; both are checked against the
recording server (exact requests) and the embedded backend (real audio).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from playground.core.audio import decode
from playground.core.snippets import render
from playground.core.specs import RealtimeSpeechSpec, SpeechSpec, TranscriptionSpec
from tests.conftest import REPO, SECRET_KEY

#: the base URL the code shows for the embedded backend (`playground run`'s default port)
EMBEDDED = "http://127.0.0.1:7860/v1"


def cli(args: list[str], env_extra: dict[str, str], cwd, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env.update(env_extra)
    return subprocess.run(
        [sys.executable, "-m", "playground.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_help_lists_commands(tmp_path):
    proc = cli(["--help"], {}, tmp_path)
    assert proc.returncode == 0
    for word in ("run", "serve", "tts", "transcribe"):
        assert word in proc.stdout
    run_help = cli(["run", "--help"], {}, tmp_path)
    assert "--host" in run_help.stdout and "--port" in run_help.stdout


def test_tts_one_shot_writes_audio_and_prints_code(recorder, tmp_path):
    env = {"OPENAI_BASE_URL": recorder.base_url, "OPENAI_API_KEY": SECRET_KEY}
    proc = cli(
        [
            "tts",
            "Hello from the command line.",
            "--workflow",
            "speech",
            "--voice",
            "coral",
            "--instructions",
            "Warm and upbeat",
            "--speed",
            "1.2",
            "--format",
            "wav",
            "-o",
            "out.wav",
            "--show-code",
            "python",
        ],
        env,
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    spec = SpeechSpec(
        input="Hello from the command line.",
        voice="coral",
        instructions="Warm and upbeat",
        speed=1.2,
        response_format="wav",
    )
    assert proc.stdout.strip() == render(spec, "python", base_url=recorder.base_url).strip()
    assert recorder.requests[-1].json == spec.to_kwargs()
    audio = decode((tmp_path / "out.wav").read_bytes())
    assert audio.duration > 0.1
    assert "first byte" in proc.stderr and SECRET_KEY not in proc.stdout + proc.stderr


def test_tts_validation_error_is_clear(tmp_path):
    args = ["tts", "hi", "--workflow", "speech", "--model", "tts-1", "--instructions", "calm", "--speed", "7"]
    proc = cli(args, {}, tmp_path)
    assert proc.returncode == 2
    assert "instructions" in proc.stderr and "not supported by tts-1" in proc.stderr
    assert "Speed 7 is above the maximum; the speech endpoint takes 0.25–4" not in proc.stderr  # refused first


def _ws(recorder):
    (ws,) = [r for r in recorder.requests if r.path.endswith("/realtime")]
    return ws


def test_tts_speaks_through_a_realtime_session_by_default(recorder, tmp_path):
    """Against the recording server: exactly Play's session and response, the code for that
    spec, a WAV file, the transcript (the server's canned "Hello!") and the rewording note."""
    env = {"OPENAI_BASE_URL": recorder.base_url, "OPENAI_API_KEY": SECRET_KEY}
    args = ["tts", 'Say "this", then that.', "--voice", "cedar", "--instructions", "Calm", "--format", "pcmu"]
    proc = cli([*args, "--speed", "1.2", "--show-code", "js"], env, tmp_path)
    assert proc.returncode == 0, proc.stderr
    spec = RealtimeSpeechSpec(
        input='Say "this", then that.', voice="cedar", instructions="Calm", speed=1.2, output_format="audio/pcmu"
    )
    assert proc.stdout.strip() == render(spec, "js", base_url=recorder.base_url).strip()
    ws = _ws(recorder)
    assert ws.query == {"model": "gpt-realtime-2.1-mini"} and ws.authorization == f"Bearer {SECRET_KEY}"
    assert ws.events == [
        {"type": "session.update", "session": spec.to_session()},
        {"type": "response.create", "response": spec.to_response()},
    ]
    assert (tmp_path / "speech.wav").read_bytes()[:4] == b"RIFF"  # G.711 is decoded: always a WAV file
    assert "transcript: Hello!" in proc.stderr
    assert "note: the transcript differs from the text" in proc.stderr and "reworded" in proc.stderr
    assert SECRET_KEY not in proc.stdout + proc.stderr


def test_tts_speed_outside_the_workflow_range_is_held_to_it_with_a_note(recorder, tmp_path):
    env = {"OPENAI_BASE_URL": recorder.base_url, "OPENAI_API_KEY": SECRET_KEY}
    proc = cli(["tts", "Quick.", "--speed", "3", "-o", "quick.wav"], env, tmp_path)
    assert proc.returncode == 0, proc.stderr
    note = "note: Speed 3 is above the maximum; the Realtime API takes 0.25–1.5, so it is set to 1.5."
    assert note in proc.stderr.splitlines()
    assert _ws(recorder).events[0]["session"]["audio"]["output"]["speed"] == 1.5
    assert (tmp_path / "quick.wav").is_file()
    recorder.clear()
    proc = cli(["tts", "Slow.", "--workflow", "speech", "--speed", "0.1", "--format", "wav"], env, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "note: Speed 0.1 is below the minimum; the speech endpoint takes 0.25–4, so it is set to 0.25." in (
        proc.stderr.splitlines()
    )
    assert recorder.requests[-1].json["speed"] == 0.25


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--voice", "fable"],
            "voice='fable': not a Realtime voice (it is a speech endpoint voice); use one of: alloy,",
        ),
        (["--workflow", "speech", "--voice", "maple"], "voice='maple'"),
        (["--model", "tts-1"], "tts-1 is for --workflow speech"),
        (["--workflow", "speech", "--model", "gpt-realtime-2.1-mini"], "is for --workflow realtime"),
        (["--format", "mp3"], "mp3 is for --workflow speech"),
        (["-o", "out.mp3"], "writes WAV: name a .wav file, not out.mp3 (or --workflow speech --format mp3)"),
        (["--stream-format", "sse"], "--stream-format is for --workflow speech"),
    ],
)
def test_tts_refuses_what_the_workflow_does_not_take(args, message, tmp_path):
    proc = cli(["tts", "Hello.", *args], {}, tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr and proc.stderr.startswith("error: "), proc.stderr
    assert not list(tmp_path.iterdir())  # refused before anything ran


@pytest.mark.parametrize("workflow", ["realtime", "speech"])
def test_tts_refuses_empty_and_too_long_texts(workflow, tmp_path):
    empty = cli(["tts", "  ", "--workflow", workflow], {}, tmp_path)
    assert empty.returncode == 2 and "input='  ': must not be empty" in empty.stderr, empty.stderr
    long = cli(["tts", "a" * 4097, "--workflow", workflow], {}, tmp_path)
    assert long.returncode == 2 and "input='<4097 chars>': at most 4096 characters" in long.stderr, long.stderr


@pytest.mark.models
def test_tts_realtime_end_to_end_on_the_embedded_backend(tmp_path):
    text = "Hello from the command line."
    proc = cli(["tts", text, "--voice", "cedar", "--speed", "1.2", "--show-code", "python"], {}, tmp_path, 300)
    assert proc.returncode == 0, proc.stderr
    spec = RealtimeSpeechSpec(input=text, voice="cedar", speed=1.2)
    assert proc.stdout.strip() == render(spec, "python", base_url=EMBEDDED).strip()
    audio = decode((tmp_path / "speech.wav").read_bytes())
    assert audio.sample_rate == 24000 and audio.channels == 1 and audio.duration > 0.5
    (transcript,) = [line for line in proc.stderr.splitlines() if line.startswith("transcript: ")]
    assert transcript.removeprefix("transcript: ").strip()
    assert "wrote speech.wav" in proc.stderr and "first byte" in proc.stderr


@pytest.mark.models
def test_tts_speech_end_to_end_on_the_embedded_backend(tmp_path):
    text = "Hello from the speech endpoint."
    proc = cli(["tts", text, "--workflow", "speech", "--show-code", "curl"], {}, tmp_path, 300)
    assert proc.returncode == 0, proc.stderr
    spec = SpeechSpec(input=text)
    assert proc.stdout.strip() == render(spec, "curl", base_url=EMBEDDED).strip()
    assert decode((tmp_path / "speech.mp3").read_bytes()).duration > 0.5
    assert "transcript:" not in proc.stderr


def test_transcribe_one_shot_srt(recorder, tmp_path, speech_dir):
    shutil.copy(speech_dir / "jfk.flac", tmp_path / "jfk.flac")
    env = {"OPENAI_BASE_URL": recorder.base_url}
    proc = cli(
        ["transcribe", "jfk.flac", "--model", "whisper-1", "--format", "srt", "--show-code", "curl"], env, tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    spec = TranscriptionSpec(file=str(tmp_path / "jfk.flac"), model="whisper-1", response_format="srt")
    assert render(spec, "curl", base_url=recorder.base_url).strip() in proc.stdout
    assert "00:00:00,000 -->" in proc.stdout
    assert dict(recorder.requests[-1].form) == {"model": "whisper-1", "response_format": "srt"}


def test_transcribe_missing_file(tmp_path):
    proc = cli(["transcribe", "nothing.wav"], {}, tmp_path)
    assert proc.returncode == 2 and "file='nothing.wav': no such file" in proc.stderr


def test_app_py_help(tmp_path):
    proc = subprocess.run([sys.executable, str(REPO / "app.py"), "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "--port" in proc.stdout


def test_model_help_shows_the_lifecycle(tmp_path):
    proc = cli(["tts", "--help"], {"PLAYGROUND_TODAY": "2026-12-07", "COLUMNS": "300"}, tmp_path)
    assert proc.returncode == 0
    assert "gpt-4o-mini-tts (default) [shuts down 2027-01-06, in 30 days → gpt-realtime-2.1-mini]" in proc.stdout
    tr = cli(["transcribe", "--help"], {"PLAYGROUND_TODAY": "2026-12-07", "COLUMNS": "300"}, tmp_path)
    assert "gpt-transcribe (default);" in tr.stdout and "whisper-1 [shuts down 2027-02-26" in tr.stdout
    assert "gpt-live-transcribe" not in tr.stdout  # realtime only: not a file transcription model


def test_a_deprecated_model_warns_on_stderr(recorder, tmp_path):
    env = {"OPENAI_BASE_URL": recorder.base_url, "OPENAI_API_KEY": SECRET_KEY, "PLAYGROUND_TODAY": "2026-12-07"}
    args = ["tts", "Hi.", "--workflow", "speech", "--model", "tts-1", "--format", "mp3", "-o", "a.mp3"]
    proc = cli(args, env, tmp_path)
    assert proc.returncode == 0, proc.stderr
    warnings = [line for line in proc.stderr.splitlines() if line.startswith("warning:")]
    assert warnings == ["warning: tts-1 shuts down on 2027-01-06; move to gpt-realtime-2.1-mini."]
    realtime = cli(["tts", "Hi.", "--model", "gpt-realtime"], env, tmp_path)
    assert realtime.returncode == 0, realtime.stderr
    warnings = [line for line in realtime.stderr.splitlines() if line.startswith("warning:")]
    assert warnings == ["warning: gpt-realtime shuts down on 2027-01-20; move to gpt-realtime-2.1."]
    (tmp_path / "clip.wav").write_bytes(_tone_wav())
    ok = cli(["transcribe", "clip.wav"], env, tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert "warning:" not in ok.stderr  # gpt-transcribe is current


def _tone_wav() -> bytes:
    from tests.support.recording_server import tone, wav_bytes

    return wav_bytes(tone(0.4))
