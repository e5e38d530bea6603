"""CLI one-shots run the real runner end to end and print the matching snippet."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from playground.core.audio import decode
from playground.core.snippets import render
from playground.core.specs import SpeechSpec, TranscriptionSpec
from tests.conftest import REPO, SECRET_KEY


def cli(args: list[str], env_extra: dict[str, str], cwd) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env.update(env_extra)
    return subprocess.run(
        [sys.executable, "-m", "playground.cli", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
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
    proc = cli(["tts", "hi", "--model", "tts-1", "--instructions", "calm", "--speed", "7"], {}, tmp_path)
    assert proc.returncode == 2
    assert "instructions" in proc.stderr and "not supported by tts-1" in proc.stderr
    assert "speed=7.0" in proc.stderr and "between 0.25 and 4" in proc.stderr


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
    proc = cli(["tts", "Hi.", "--model", "tts-1", "--format", "mp3", "-o", "a.mp3"], env, tmp_path)
    assert proc.returncode == 0, proc.stderr
    warnings = [line for line in proc.stderr.splitlines() if line.startswith("warning:")]
    assert warnings == ["warning: tts-1 shuts down on 2027-01-06; move to gpt-realtime-2.1-mini."]
    (tmp_path / "clip.wav").write_bytes(_tone_wav())
    ok = cli(["transcribe", "clip.wav"], env, tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert "warning:" not in ok.stderr  # gpt-transcribe is current


def _tone_wav() -> bytes:
    from tests.support.recording_server import tone, wav_bytes

    return wav_bytes(tone(0.4))
