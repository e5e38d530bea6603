"""Exported code makes exactly the request the runner made.

Each spec runs through the runner (official SDK) against a recording server, then its
Python snippet runs in a subprocess, its curl snippet with real curl and its JavaScript
snippet with Node and the real `openai` npm package against the same server; the
recorded requests must match field for field.
"""

from __future__ import annotations

import ast
import asyncio
import base64
import json
import os
import re
import shutil
import subprocess
import sys
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from playground.client.providers import Provider
from playground.client.runner import Runner
from playground.core.audio import resample, to_mono
from playground.core.snippets import LANGUAGES as LANGS
from playground.core.snippets import render, render_all
from playground.core.specs import (
    ChatAudioSpec,
    RealtimeSessionSpec,
    RealtimeTranscriptionSpec,
    SpeechSpec,
    TranscriptionSpec,
)
from playground.relay.tools import demo_tools
from tests.conftest import REPO, SECRET_KEY
from tests.support.recording_server import self_signed_cert, serve_tls, tone

SPEECH_SPECS = [
    SpeechSpec(input="Hello there. How are you today?"),
    SpeechSpec(
        input='Quotes "inside", an apostrophe\'s, $HOME and `ticks`\nnew line',
        voice="onyx",
        instructions="Calm, low and slow.\nPause after each sentence.",
        speed=1.25,
        response_format="wav",
    ),
    SpeechSpec(
        input="Streaming events.", voice="nova", instructions="Bright", response_format="flac", stream_format="sse"
    ),
    SpeechSpec(input="Raw samples.", model="tts-1", voice="echo", response_format="pcm", speed=0.5),
    SpeechSpec(input="Héllo wörld — ünïcode ✓", model="tts-1-hd", voice="fable", response_format="opus"),
]


def transcription_specs(audio: str) -> list[TranscriptionSpec]:
    return [
        TranscriptionSpec(file=audio),
        TranscriptionSpec(
            file=audio,
            model="whisper-1",
            response_format="verbose_json",
            timestamp_granularities=("word", "segment"),
            language="en",
            prompt="ComfyUI",
            temperature=0.2,
        ),
        TranscriptionSpec(file=audio, model="whisper-1", response_format="srt"),
        TranscriptionSpec(file=audio, model="whisper-1", response_format="text", task="translate"),
        TranscriptionSpec(
            file=audio,
            model="gpt-4o-transcribe",
            stream=True,
            include_logprobs=True,
            chunking_strategy={"type": "server_vad", "threshold": 0.4},
        ),
        TranscriptionSpec(file=audio, model="gpt-4o-mini-transcribe", chunking_strategy="auto", temperature=0.0),
        # the 2026 fields: keywords and possible languages (gpt-transcribe), known speakers (diarize)
        TranscriptionSpec(file=audio, keywords=("Kennedy", "ask not"), languages=("en", "de"), prompt="JFK"),
        TranscriptionSpec(
            file=audio,
            model="gpt-4o-transcribe-diarize",
            response_format="diarized_json",
            known_speaker_names=("president",),
            known_speaker_references=("data:audio/wav;base64,UklGRiQAAABXQVZF",),
        ),
    ]


@pytest.fixture
def runner(recorder) -> Runner:
    return Runner(Provider("compatible", "recording test server", recorder.base_url, SECRET_KEY))


@pytest.fixture
def workdir(tmp_path, speech_dir) -> Path:
    shutil.copy(speech_dir / "jfk.flac", tmp_path / "jfk.flac")
    from tests.support.recording_server import tone, wav_bytes

    (tmp_path / "question.wav").write_bytes(wav_bytes(tone(0.4)))
    return tmp_path


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env["OPENAI_API_KEY"] = SECRET_KEY
    return env


def run_python(code: str, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess:
    path = cwd / "snippet.py"
    path.write_text(code)
    proc = subprocess.run(
        [sys.executable, str(path)], cwd=cwd, env=_env(), capture_output=True, text=True, timeout=timeout
    )
    assert proc.returncode == 0, f"snippet failed:\n{code}\n---\n{proc.stderr}"
    return proc


def run_curl(code: str, cwd: Path) -> subprocess.CompletedProcess:
    if shutil.which("curl") is None:
        pytest.fail("curl is required for snippet tests (apt-get install curl)")
    # A private .curlrc makes HTTP errors fail the command without editing the snippet.
    (cwd / ".curlrc").write_text("fail-with-body\nsilent\nshow-error\n")
    env = {**_env(), "HOME": str(cwd), "CURL_HOME": str(cwd)}
    proc = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, f"curl snippet failed:\n{code}\n---\n{proc.stderr}"
    return proc


def one_request(recorder, path_suffix: str):
    matching = [r for r in recorder.requests if r.path.endswith(path_suffix)]
    assert len(matching) == 1, f"expected one request to {path_suffix}, got {[r.path for r in recorder.requests]}"
    recorder.clear()
    return matching[0]


# ----------------------------------------------------------------------- speech


@pytest.mark.parametrize("spec", SPEECH_SPECS, ids=lambda s: f"{s.model}-{s.response_format}-{s.stream_format}")
def test_speech_snippets_match_the_runner(spec, runner, recorder, workdir):
    result = runner.speech(spec)
    assert result.audio and result.ttfb_ms > 0 and result.total_ms >= result.ttfb_ms
    expected = one_request(recorder, "/audio/speech")
    assert expected.json == spec.to_kwargs()
    assert expected.authorization == f"Bearer {SECRET_KEY}"

    run_python(render(spec, "python", base_url=recorder.base_url), workdir)
    got = one_request(recorder, "/audio/speech")
    assert got.json == expected.json
    assert (workdir / spec.file_name).read_bytes() == result.audio

    (workdir / spec.file_name).unlink()
    run_curl(render(spec, "curl", base_url=recorder.base_url), workdir)
    got = one_request(recorder, "/audio/speech")
    assert got.json == expected.json
    assert got.authorization == f"Bearer {SECRET_KEY}"
    if spec.stream_format == "audio":  # curl saves the raw body; for sse that is the event stream
        assert (workdir / spec.file_name).read_bytes() == result.audio


def test_non_streaming_python_variant_matches(runner, recorder, workdir):
    spec = SPEECH_SPECS[1]
    runner.speech(spec)
    expected = one_request(recorder, "/audio/speech")
    code = render(spec, "python", base_url=recorder.base_url, streaming=False)
    assert "with_streaming_response" not in code
    run_python(code, workdir)
    assert one_request(recorder, "/audio/speech").json == expected.json


# ---------------------------------------------------------------- transcription


def test_transcription_snippets_match_the_runner(runner, recorder, workdir):
    for spec in transcription_specs(str(workdir / "jfk.flac")):
        result = runner.transcribe(spec)
        assert result.text
        expected = one_request(recorder, spec.endpoint)
        assert expected.file_name == "jfk.flac"
        for lang, run in (("python", run_python), ("curl", run_curl)):
            proc = run(render(spec, lang, base_url=recorder.base_url), workdir)
            got = one_request(recorder, spec.endpoint)
            assert sorted(got.form) == sorted(expected.form), f"{lang} form fields differ for {spec}"
            assert got.file_bytes == expected.file_bytes, f"{lang} sent a different file"
            if lang == "python":
                assert "ask not what your country" in proc.stdout


# ------------------------------------------------------------------- chat audio


@pytest.mark.parametrize("with_audio", [False, True])
def test_chat_audio_snippets_match_the_runner(with_audio, runner, recorder, workdir):
    spec = ChatAudioSpec(
        prompt='Say hi in one word, it\'s "fun" $HOME',
        system="Be brief.",
        voice="sage",
        input_audio=str(workdir / "question.wav") if with_audio else "",
    )
    result = runner.chat_audio(spec)
    assert result.text == "Hi there!" and result.audio
    expected = one_request(recorder, "/chat/completions")
    assert expected.json == spec.to_kwargs()
    for lang, run in (("python", run_python), ("curl", run_curl)):
        run(render(spec, lang, base_url=recorder.base_url), workdir)
        assert one_request(recorder, "/chat/completions").json == expected.json, lang
    assert (workdir / "reply.wav").read_bytes() == result.audio


def _chat_variants(workdir: Path) -> dict[str, ChatAudioSpec]:
    """A streamed spoken reply, a streamed text reply, and a third turn whose history
    holds two spoken user turns (files) and earlier replies by audio id and as text."""
    shutil.copy(workdir / "question.wav", workdir / "turn-1.wav")
    shutil.copy(workdir / "question.wav", workdir / "turn-2.wav")
    history = (
        {"role": "user", "text": "", "audio": str(workdir / "turn-1.wav")},
        {"role": "assistant", "audio_id": "audio_abc", "transcript": "Hello."},
        {"role": "user", "text": "and this one?", "audio": str(workdir / "turn-2.wav")},
        {"role": "assistant", "text": "A text reply."},
    )
    return {
        "streamed": ChatAudioSpec(prompt="Say hi.", audio_format="pcm16", stream=True, temperature=0.4),
        "streamed-text": ChatAudioSpec(prompt="Say hi.", modalities=("text",), stream=True, max_completion_tokens=50),
        "history": ChatAudioSpec(prompt="Thanks, and $HOME?", system="Be brief.", history=history, voice="verse"),
    }


@pytest.mark.parametrize("variant", ["streamed", "streamed-text", "history"])
def test_chat_audio_conversation_snippets_match_the_runner(variant, runner, recorder, workdir):
    spec = _chat_variants(workdir)[variant]
    result = runner.chat_audio(spec)
    expected = one_request(recorder, "/chat/completions")
    assert expected.json == spec.to_kwargs()
    for lang, run in (("python", run_python), ("curl", run_curl)):
        code = render(spec, lang, base_url=recorder.base_url)
        assert "UklGR" not in code, "audio is read from files, never inlined"
        proc = run(code, workdir)
        assert one_request(recorder, "/chat/completions").json == expected.json, lang
        if lang == "python" and variant != "streamed-text":
            assert "audio_" in proc.stdout  # what the next turn sends back
    if variant == "streamed":
        assert result.audio_id == "audio_1" and result.text == "Hi there!" and result.first_audio_ms is not None
        with wave.open(str(workdir / "reply.wav"), "rb") as w:  # the snippet wrapped the streamed PCM in a WAV
            assert w.getframerate() == 24000 and w.readframes(w.getnframes()) == result.audio


# --------------------------------------------------------------------- realtime

REALTIME_TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "Current weather",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


#: a session with the 2026 fields: reasoning, parallel tool calls, noise strength, truncation,
#: input transcription delay (gpt-realtime-whisper)
REALTIME_2026 = dict(
    reasoning_effort="low",
    parallel_tool_calls=False,
    noise_reduction="near_field",
    noise_reduction_strength=0.6,
    truncation="retention_ratio",
    retention_ratio=0.75,
    transcription_model="gpt-realtime-whisper",
    transcription_delay="minimal",
)


def test_realtime_snippets_send_the_session(recorder, workdir):
    spec = RealtimeSessionSpec(
        instructions="Answer in one sentence.",
        voice="cedar",
        tools=(REALTIME_TOOL,),
        turn_detection="semantic_vad",
        eagerness="high",
        speed=1.2,
        **REALTIME_2026,
    )
    session = spec.to_session()
    assert session["reasoning"] == {"effort": "low"} and session["parallel_tool_calls"] is False
    assert session["truncation"] == {"type": "retention_ratio", "retention_ratio": 0.75}
    assert session["audio"]["input"]["noise_reduction"] == {"type": "near_field", "strength": 0.6}
    assert session["audio"]["input"]["transcription"]["delay"] == "minimal"
    proc = run_python(render(spec, "python", base_url=recorder.base_url), workdir)
    assert "Hello!" in proc.stdout
    ws = one_request(recorder, "/realtime")
    assert ws.query == {"model": "gpt-realtime-2.1-mini"}
    assert ws.authorization == f"Bearer {SECRET_KEY}"
    assert [e["type"] for e in ws.events] == ["session.update", "conversation.item.create", "response.create"]
    assert ws.events[0]["session"] == spec.to_session()

    run_curl(render(spec, "curl", base_url=recorder.base_url), workdir)
    assert one_request(recorder, "/realtime/client_secrets").json == {"session": spec.to_session()}


def _session_in(code: str) -> dict:
    """The ``SESSION = {...}`` literal of a rendered script."""
    for node in ast.parse(code).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "SESSION":
            return ast.literal_eval(node.value)
    raise AssertionError(f"no SESSION in:\n{code}")


def _appended_audio(events: list[dict]) -> bytes:
    return b"".join(base64.b64decode(e["audio"]) for e in events if e["type"] == "input_audio_buffer.append")


@pytest.mark.parametrize("turns", ["server_vad", "semantic_vad", "none"])
def test_realtime_replay_script_renders_the_turn_handling(turns):
    spec = RealtimeSessionSpec(instructions="Answer in five words.", turn_detection=turns, tools=(REALTIME_TOOL,))
    code = render(spec, "python", base_url="http://127.0.0.1:7860/v1", file_path="my turn.wav")
    compile(code, "snippet.py", "exec")
    assert code == render_all(spec, base_url="http://127.0.0.1:7860/v1", file_path="my turn.wav")["python"]
    assert 'WAV = "my turn.wav"' in code and "import wave" in code
    assert _session_in(code) == spec.to_session()  # tools, voice and turn detection included
    assert "client.realtime.connect(" in code and "connection.session.update(session=SESSION)" in code
    assert "def handle_tool(name, arguments):" in code
    assert "# This session's function tools: get_weather." in code
    assert "not implemented in this script" in code
    assert '"function_call_output"' in code and 'with wave.open("reply.wav", "wb")' in code
    assert "conversation.item.input_audio_transcription.completed" in code
    manual = turns == "none"
    assert ("connection.input_audio_buffer.commit()" in code) is manual
    commit_then_respond = "connection.input_audio_buffer.commit()\n            connection.response.create()"
    assert (commit_then_respond in code) is manual
    assert ("1.5 s of silence" in code) is not manual
    assert "Hello! Who are you?" not in code
    for base_url in (None, "http://127.0.0.1:7860/v1"):
        code = render(spec, "python", base_url=base_url, file_path="a.wav")
        assert SECRET_KEY not in code and "sk-" not in code and "OPENAI_API_KEY" in code
        assert ("base_url=" in code) is (base_url is not None)
    # without a file the code panel keeps the typed greeting; JS and curl do not change
    assert "Hello! Who are you?" in render(spec, "python")
    assert render_all(spec, file_path="a.wav")["js"] == render(spec, "js")
    assert render_all(spec, file_path="a.wav")["curl"] == render(spec, "curl")


def test_realtime_replay_script_lists_no_tools_and_asks_when_create_response_is_off():
    code = render(RealtimeSessionSpec(create_response=False), "python", file_path="a.wav")
    assert "# This session has no function tools." in code
    assert "create_response is off" in code
    g711 = RealtimeSessionSpec(input_format="audio/pcmu", output_format="audio/pcma")
    code = render(g711, "python", file_path="a.wav")
    assert "input audio/pcmu and output audio/pcma is PCM here" in code
    session = _session_in(code)["audio"]
    assert session["input"]["format"] == session["output"]["format"] == {"type": "audio/pcm", "rate": 24000}


def test_realtime_replay_script_streams_the_wav_to_the_session(recorder, workdir):
    """Against the recording server (no VAD, canned answer): what the script sends."""
    left = tone(0.3)
    stereo = np.stack([left, np.full_like(left, 0.1)], axis=1)  # the right channel must be ignored
    sf.write(workdir / "talk.wav", stereo, 24000, subtype="PCM_16")
    left_pcm = sf.read(workdir / "talk.wav", dtype="int16")[0][:, 0].tobytes()

    manual = RealtimeSessionSpec(instructions="Answer in five words.", turn_detection="none", tools=(REALTIME_TOOL,))
    proc = run_python(render(manual, "python", base_url=recorder.base_url, file_path="talk.wav"), workdir)
    assert "assistant: Hello!" in proc.stdout and "[response completed]" in proc.stdout, proc.stdout
    ws = one_request(recorder, "/realtime")
    assert ws.query == {"model": "gpt-realtime-2.1-mini"} and ws.authorization == f"Bearer {SECRET_KEY}"
    assert ws.events[0] == {"type": "session.update", "session": manual.to_session()}
    assert {e["type"] for e in ws.events[1:-2]} == {"input_audio_buffer.append"}
    assert [e["type"] for e in ws.events[-2:]] == ["input_audio_buffer.commit", "response.create"]
    chunks = [base64.b64decode(e["audio"]) for e in ws.events[1:-2]]
    assert {len(c) for c in chunks[:-1]} == {24000 // 25 * 2}  # 40 ms each
    assert b"".join(chunks) == left_pcm
    with wave.open(str(workdir / "reply.wav")) as w:  # the canned answer has no audio
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()) == (1, 2, 24000, 0)

    vad = RealtimeSessionSpec(turn_detection="server_vad")
    run_python(render(vad, "python", base_url=recorder.base_url, file_path="talk.wav"), workdir)
    ws = one_request(recorder, "/realtime")
    assert ws.events[0]["session"] == vad.to_session()
    assert {e["type"] for e in ws.events[1:]} == {"input_audio_buffer.append"}  # the server's VAD ends turns
    sent = _appended_audio(ws.events)
    assert sent.startswith(left_pcm) and sent[len(left_pcm) :] == bytes(len(sent) - len(left_pcm))
    assert len(sent) - len(left_pcm) >= 24000 * 2 * 1.5  # trailing silence

    sf.write(workdir / "talk.wav", left, 16000, subtype="PCM_16")
    bad = subprocess.run(
        [sys.executable, "snippet.py"], cwd=workdir, env=_env(), capture_output=True, text=True, timeout=60
    )
    assert bad.returncode == 1 and "talk.wav: need 16-bit PCM at 24000 Hz, not 16-bit at 16000 Hz" in bad.stderr
    assert not recorder.requests  # it stops before connecting


@pytest.mark.models
def test_realtime_replay_script_answers_a_recording_on_the_backend(backend_url, speech_dir, tmp_path):
    """The realtime tab's code panel: the JFK clip as a 24 kHz mono WAV played into a
    session on the embedded backend (server VAD, a demo tool); the script prints what it
    heard and the answer, and saves the answer's audio."""
    samples, rate = sf.read(speech_dir / "jfk.flac", dtype="float32")
    mono = resample(to_mono(samples), rate, 24000)
    sf.write(tmp_path / "jfk.wav", mono, 24000, subtype="PCM_16")
    spec = RealtimeSessionSpec(
        instructions="Answer in five words.", turn_detection="server_vad", tools=tuple(demo_tools(["get_weather"]))
    )
    code = render(spec, "python", base_url=backend_url + "/v1", file_path="jfk.wav")
    assert SECRET_KEY not in code and "get_weather" in code
    proc = run_python(code, tmp_path, timeout=300)
    heard = [line for line in proc.stdout.splitlines() if line.startswith("you:")]
    assert any("country" in line.lower() for line in heard), proc.stdout
    assert "assistant: " in proc.stdout and "[response completed]" in proc.stdout, proc.stdout
    reply, reply_rate = sf.read(tmp_path / "reply.wav")
    assert reply_rate == 24000 and reply.ndim == 1 and len(reply) / reply_rate > 0.3, proc.stdout


@pytest.mark.models
@pytest.mark.parametrize("grains", [("word",), ("word", "segment"), ("segment",)])
def test_the_timestamp_snippet_prints_what_it_asked_for(grains, backend_url, workdir):
    """Word timestamps come in ``result.words``: the snippet prints those words (and the
    segments only when they were asked for, or when nothing else is)."""
    spec = TranscriptionSpec(
        file="jfk.flac", model="whisper-1", response_format="verbose_json", timestamp_granularities=grains
    )
    code = render(spec, "python", base_url=backend_url + "/v1", file_path="jfk.flac")
    assert ("for word in result.words" in code) == ("word" in grains), code
    assert ("for segment in result.segments" in code) == ("segment" in grains), code
    lines = [line for line in run_python(code, workdir, timeout=180).stdout.splitlines() if line.startswith("[")]
    assert lines, code
    if grains == ("word",):
        assert all(len(line.split("]", 1)[1].split()) == 1 for line in lines), lines  # one word a line
        assert any("country" in line.lower() for line in lines), lines


# ------------------------------------------------------- realtime transcription

LIVE_SPECS = [
    RealtimeTranscriptionSpec(language="en", prompt="Kennedy", noise_reduction="near_field", silence_duration_ms=700),
    RealtimeTranscriptionSpec(model="whisper-1", turn_detection="semantic_vad", eagerness="low", include_logprobs=True),
    RealtimeTranscriptionSpec(turn_detection="none"),
    RealtimeTranscriptionSpec(keywords=("Kennedy",), languages=("en",)),
    RealtimeTranscriptionSpec(model="gpt-realtime-whisper", delay="high"),
]


@pytest.mark.parametrize("spec", LIVE_SPECS, ids=lambda s: f"{s.model}-{s.turn_detection}")
def test_live_transcription_snippet_opens_the_session_the_relay_opens(spec, recorder, workdir):
    """The Transcribe tab's Live mode goes through the relay (its "runner"); the code panel's
    script must open the same session: same URL query, same session.update, then the audio."""
    from fastapi import FastAPI
    from websockets.asyncio.client import connect

    from playground.relay.route import RelayTickets, create_relay_router
    from playground.serving import BackgroundServer

    root = FastAPI()
    tickets = RelayTickets()
    root.include_router(create_relay_router(tickets))
    provider = Provider("compatible", "recording test server", recorder.base_url, SECRET_KEY)
    pcm = (tone(0.3) * 32767).astype("<i2").tobytes()
    with BackgroundServer(root) as url:
        ticket = tickets.mint(provider, spec.model, spec.to_session(), owner="tab", mode="transcription")

        async def page() -> None:
            async with connect(url.replace("http", "ws", 1) + f"/relay/realtime?ticket={ticket}") as ws:
                assert json.loads(await ws.recv())["type"] == "session.created"
                append = {"type": "input_audio_buffer.append", "audio": base64.b64encode(pcm).decode()}
                await ws.send(json.dumps(append))
                assert json.loads(await ws.recv())["type"] == "session.updated"
                deadline = asyncio.get_running_loop().time() + 60
                while len(recorder.requests[-1].events) < 2:  # until the relay has forwarded the audio
                    assert asyncio.get_running_loop().time() < deadline, "the relay never forwarded the audio"
                    await asyncio.sleep(0.02)

        asyncio.run(page())
    relayed = one_request(recorder, "/realtime")
    assert tickets.recording("tab") == pcm  # kept for file transcription afterwards

    sf.write(workdir / "recording.wav", tone(0.3), 24000, subtype="PCM_16")
    code = render(spec, "python", base_url=recorder.base_url, file_path="recording.wav")
    assert SECRET_KEY not in code
    run_python(code, workdir)
    ws = one_request(recorder, "/realtime")
    assert ws.query == relayed.query == {"intent": "transcription"}
    assert ws.authorization == relayed.authorization == f"Bearer {SECRET_KEY}"
    assert ws.events[0] == relayed.events[0] == {"type": "session.update", "session": spec.to_session()}
    sent = _appended_audio(ws.events)
    assert sent.startswith(sf.read(workdir / "recording.wav", dtype="int16")[0].tobytes())
    manual = spec.turn_detection == "none"
    assert (ws.events[-1]["type"] == "input_audio_buffer.commit") is manual
    assert (len(sent) - len(pcm) >= 24000 * 2 * 1.5) is not manual  # VAD: trailing silence ends the turn

    run_curl(render(spec, "curl", base_url=recorder.base_url), workdir)
    assert one_request(recorder, "/realtime/client_secrets").json == {"session": spec.to_session()}


@pytest.mark.models
def test_live_transcription_script_prints_each_turn_on_the_backend(backend_url, speech_dir, tmp_path):
    """The live code panel's script plays JFK into a transcription session on the embedded
    backend and prints each turn, stamped with where it starts."""
    samples, rate = sf.read(speech_dir / "jfk.flac", dtype="float32")
    sf.write(tmp_path / "recording.wav", resample(to_mono(samples), rate, 24000), 24000, subtype="PCM_16")
    spec = RealtimeTranscriptionSpec(language="en")
    proc = run_python(render(spec, "python", base_url=backend_url + "/v1", file_path="recording.wav"), tmp_path, 300)
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    assert lines and all(re.match(r"\[\d:\d\d\.\d\] \S", line) for line in lines), proc.stdout
    heard = " ".join(line.split("] ", 1)[1] for line in lines).lower()
    assert "country" in heard and "fellow" in heard, proc.stdout


# ------------------------------------------------------------------ javascript
#
# The JS snippets run with Node and the real `openai` npm package (plus `ws` for
# realtime), which `make test` installs into .venv/node when npm is on PATH. Node
# resolves ESM imports from the script's own folder upward (NODE_PATH does not apply),
# so each working folder gets a node_modules link to that install.

NODE_MODULES = REPO / ".venv" / "node" / "node_modules"
NPM_PACKAGES = ("openai", "ws")


@pytest.fixture(scope="module")
def node() -> str:
    path = shutil.which("node")
    if path is None:
        pytest.skip("node is not installed, so the JS snippets cannot run (apt-get install nodejs npm; make test)")
    missing = [name for name in NPM_PACKAGES if not (NODE_MODULES / name / "package.json").is_file()]
    if missing:
        pytest.skip(
            f"npm package(s) {', '.join(missing)} missing from {NODE_MODULES}, so the JS snippets cannot run "
            "(make test installs them when npm is on PATH)"
        )
    return path


def run_js(node: str, code: str, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    link = cwd / "node_modules"
    if not link.exists():
        link.symlink_to(NODE_MODULES, target_is_directory=True)
    path = cwd / "snippet.mjs"
    path.write_text(code)
    proc = subprocess.run([node, str(path)], cwd=cwd, env={**_env(), **env}, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, f"JS snippet failed:\n{code}\n---\n{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def tls_recorder(_recording_server, tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """The recording app over HTTPS as well: ``(base_url, certificate)``.

    The npm SDK's realtime client always connects with ``wss:`` (it rewrites even an
    ``http://`` baseURL), so the JS realtime snippet can only reach a TLS server; Node
    trusts the throwaway certificate through ``NODE_EXTRA_CA_CERTS``.
    """
    server, _ = _recording_server
    pair = self_signed_cert(tmp_path_factory.mktemp("tls"))
    if pair is None:
        pytest.skip(
            "openssl is not installed, so no certificate for the wss: realtime JS snippet (apt-get install openssl)"
        )
    cert, key = pair
    with serve_tls(server.app, cert, key) as url:
        yield url + "/v1", cert


@pytest.mark.parametrize("spec", SPEECH_SPECS, ids=lambda s: f"{s.model}-{s.response_format}-{s.stream_format}")
def test_speech_js_snippets_match_the_runner(spec, node, runner, recorder, workdir):
    result = runner.speech(spec)
    expected = one_request(recorder, "/audio/speech")
    code = render(spec, "js", base_url=recorder.base_url)
    assert SECRET_KEY not in code
    run_js(node, code, workdir)
    got = one_request(recorder, "/audio/speech")
    assert got.json == expected.json
    assert got.authorization == f"Bearer {SECRET_KEY}"
    assert (workdir / spec.file_name).read_bytes() == result.audio


def test_transcription_js_snippets_match_the_runner(node, runner, recorder, workdir):
    for spec in transcription_specs(str(workdir / "jfk.flac")):
        runner.transcribe(spec)
        expected = one_request(recorder, spec.endpoint)
        code = render(spec, "js", base_url=recorder.base_url)
        assert SECRET_KEY not in code
        proc = run_js(node, code, workdir)
        got = one_request(recorder, spec.endpoint)
        assert sorted(got.form) == sorted(expected.form), f"JS form fields differ for {spec}"
        assert got.file_name == expected.file_name
        assert got.file_bytes == expected.file_bytes, "JS sent a different file"
        assert got.authorization == f"Bearer {SECRET_KEY}"
        assert "ask not what your country" in proc.stdout


@pytest.mark.parametrize("with_audio", [False, True])
def test_chat_audio_js_snippets_match_the_runner(with_audio, node, runner, recorder, workdir):
    spec = ChatAudioSpec(
        prompt='Say hi in one word, it\'s "fun" $HOME',
        system="Be brief.",
        voice="sage",
        input_audio=str(workdir / "question.wav") if with_audio else "",
    )
    result = runner.chat_audio(spec)
    expected = one_request(recorder, "/chat/completions")
    code = render(spec, "js", base_url=recorder.base_url)
    assert SECRET_KEY not in code
    proc = run_js(node, code, workdir)
    got = one_request(recorder, "/chat/completions")
    assert got.json == expected.json
    assert got.authorization == f"Bearer {SECRET_KEY}"
    assert "Hi there!" in proc.stdout
    assert (workdir / spec.file_name).read_bytes() == result.audio


@pytest.mark.parametrize("variant", ["streamed", "streamed-text", "history"])
def test_chat_audio_conversation_js_snippets_match_the_runner(variant, node, runner, recorder, workdir):
    spec = _chat_variants(workdir)[variant]
    result = runner.chat_audio(spec)
    expected = one_request(recorder, "/chat/completions")
    proc = run_js(node, render(spec, "js", base_url=recorder.base_url), workdir)
    assert one_request(recorder, "/chat/completions").json == expected.json
    assert ("Hi!" if variant == "streamed-text" else "Hi there!") in proc.stdout
    if variant == "streamed":
        with wave.open(str(workdir / "reply.wav"), "rb") as w:
            assert w.getframerate() == 24000 and w.readframes(w.getnframes()) == result.audio


def test_realtime_js_snippet_sends_the_session(node, tls_recorder, recorder, workdir):
    spec = RealtimeSessionSpec(
        instructions="Answer in one sentence.",
        voice="cedar",
        tools=(REALTIME_TOOL,),
        turn_detection="semantic_vad",
        eagerness="high",
        speed=1.2,
        **REALTIME_2026,
    )
    base_url, cert = tls_recorder
    code = render(spec, "js", base_url=base_url)
    assert SECRET_KEY not in code
    proc = run_js(node, code, workdir, NODE_EXTRA_CA_CERTS=str(cert))
    assert "Hello!" in proc.stdout, proc.stderr  # the snippet only logs errors, so check what it printed
    ws = one_request(recorder, "/realtime")
    assert ws.query == {"model": "gpt-realtime-2.1-mini"}
    assert ws.authorization == f"Bearer {SECRET_KEY}"
    assert [e["type"] for e in ws.events] == ["session.update", "conversation.item.create", "response.create"]
    assert ws.events[0]["session"] == spec.to_session()


@pytest.mark.skipif(
    shutil.which("node") is None, reason="node is not installed; JS snippets are checked for syntax only with node"
)
def test_javascript_snippets_are_valid_modules(tmp_path):
    """Also the OpenAI variant (no baseURL), which the tests above cannot send anywhere."""
    audio = tmp_path / "a.wav"
    from tests.support.recording_server import tone, wav_bytes

    audio.write_bytes(wav_bytes(tone(0.2)))
    specs = [
        *SPEECH_SPECS,
        *transcription_specs(str(audio)),
        ChatAudioSpec(prompt="hi", input_audio=str(audio)),
        RealtimeSessionSpec(),
        RealtimeTranscriptionSpec(language="en", noise_reduction="far_field", turn_detection="semantic_vad"),
    ]
    for i, spec in enumerate(specs):
        for base_url in (None, "http://127.0.0.1:7860/v1"):
            path = tmp_path / f"s{i}.mjs"
            path.write_text(render(spec, "js", base_url=base_url))
            proc = subprocess.run(["node", "--check", str(path)], capture_output=True, text=True)
            assert proc.returncode == 0, f"{path.read_text()}\n{proc.stderr}"


# ----------------------------------------------------------------- provider lines


def test_base_url_line_only_for_non_openai_servers(tmp_path):
    spec = SpeechSpec(input="hi")
    openai_code = render_all(spec)
    assert "base_url" not in openai_code["python"] and "baseURL" not in openai_code["js"]
    assert "https://api.openai.com/v1/audio/speech" in openai_code["curl"]
    assert 'Bearer $OPENAI_API_KEY"' in openai_code["curl"]
    local = render_all(spec, base_url="http://127.0.0.1:7860/v1")
    assert 'base_url="http://127.0.0.1:7860/v1"' in local["python"]
    assert 'baseURL: "http://127.0.0.1:7860/v1"' in local["js"]
    for code in (*openai_code.values(), *local.values()):
        assert "OPENAI_API_KEY" in code


def test_output_file_names_follow_the_format():
    for fmt in ("mp3", "opus", "aac", "flac", "wav", "pcm"):
        spec = SpeechSpec(input="hi", response_format=fmt)
        for code in render_all(spec).values():
            assert f"speech.{fmt}" in code
    assert json.loads("[1]") == [1]


@pytest.mark.models
@pytest.mark.parametrize("turns", ["server_vad", "none"])
def test_the_realtime_replay_script_reproduces_a_conversation(backend_url, tmp_path, turns):
    """The voice chat tab's code: an exported stereo WAV (you on the left) played into a
    realtime session on the embedded backend, replies saved to reply.wav."""
    from openai import OpenAI

    client = OpenAI(base_url=backend_url + "/v1", api_key="local")
    spoken = client.audio.speech.create(
        model="gpt-4o-mini-tts", voice="echo", input="What is the capital of Japan?", response_format="pcm"
    ).read()
    you = np.concatenate([np.zeros(7200, "<i2"), np.frombuffer(spoken, "<i2"), np.zeros(12000, "<i2")])
    stereo = np.stack([you, np.full_like(you, 1000)], axis=1)  # the right channel must be ignored
    sf.write(tmp_path / "conversation.wav", stereo, 24000, subtype="PCM_16")
    spec = RealtimeSessionSpec(
        instructions="Answer in one short sentence.", turn_detection=turns, tools=(REALTIME_TOOL,)
    )
    code = render(spec, "python", base_url=backend_url + "/v1", file_path="conversation.wav")
    assert SECRET_KEY not in code and REALTIME_TOOL["name"] in code
    assert ("input_audio_buffer.commit()" in code) is (turns == "none")
    (tmp_path / "snippet.py").write_text(code)
    command = [sys.executable, "snippet.py"]
    proc = subprocess.run(command, cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "you:" in proc.stdout and "japan" in proc.stdout.lower(), proc.stdout
    reply, rate = sf.read(tmp_path / "reply.wav")
    assert rate == 24000 and len(reply) / rate > 0.3
    (tmp_path / "conversation.wav").write_bytes(b"RIFF")  # a bad file: a readable exit, not a traceback
    bad = subprocess.run(command, cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and "conversation.wav: not a readable WAV file" in bad.stderr, bad.stderr


# ------------------------------------------------------------------ model lifecycle


@pytest.fixture
def december_2026(monkeypatch):
    monkeypatch.setenv("PLAYGROUND_TODAY", "2026-12-07")


def _first_line(code: str) -> str:
    return code.splitlines()[0]


def test_code_for_a_deprecated_model_opens_with_one_warning_line(december_2026):
    speech = SpeechSpec(input="hi")  # gpt-4o-mini-tts: every speech model shuts down on 2027-01-06
    warning = "gpt-4o-mini-tts shuts down on 2027-01-06; move to gpt-realtime-2.1-mini."
    codes = render_all(speech)
    assert _first_line(codes["python"]) == f"# {warning}"
    assert _first_line(codes["curl"]) == f"# {warning}"
    assert _first_line(codes["js"]) == f"// {warning}"
    for code in codes.values():
        assert code.count("shuts down") == 1
    old = TranscriptionSpec(file="a.wav", model="gpt-4o-mini-transcribe")
    for lang in LANGS:
        assert "gpt-4o-mini-transcribe shuts down on 2027-02-26; move to gpt-transcribe." in _first_line(
            render(old, lang)
        )
    chat = ChatAudioSpec(prompt="hi", model="gpt-audio-mini")
    assert "gpt-audio-mini shuts down on 2027-01-20; move to gpt-audio-1.5." in _first_line(render(chat, "python"))
    live = RealtimeTranscriptionSpec(model="whisper-1")
    assert _first_line(render(live, "js")).startswith("// whisper-1 shuts down on 2027-02-26")


def test_no_warning_for_current_models(december_2026):
    for spec in (
        TranscriptionSpec(file="a.wav"),
        RealtimeSessionSpec(),
        RealtimeTranscriptionSpec(),
        ChatAudioSpec(prompt="hi"),
    ):
        for lang, code in render_all(spec).items():
            assert "shuts down" not in code and "shut down" not in code, (spec.kind, lang)
    assert _first_line(render(TranscriptionSpec(file="a.wav"), "python")) == "from openai import OpenAI"


def test_realtime_warning_names_the_session_transcription_and_chained_chat_models(december_2026):
    spec = RealtimeSessionSpec(model="gpt-realtime", transcription_model="gpt-4o-mini-transcribe")
    for lang in LANGS:
        line = _first_line(render(spec, lang))
        assert "gpt-realtime shuts down on 2027-01-20; move to gpt-realtime-2.1." in line
        assert "gpt-4o-mini-transcribe shuts down on 2027-02-26" in line
        assert render(spec, lang).splitlines()[1].lstrip("#/ ")[:3] != "gpt"  # one line, not one per model
    chained = render(RealtimeSessionSpec(), "python", file_path="conversation.wav", chat_model="gpt-4o-mini")
    assert _first_line(chained) == "# gpt-4o-mini shuts down on 2027-01-14; move to gpt-5.4-mini."
    assert "shuts down" not in render(RealtimeSessionSpec(), "python", chat_model="gpt-5.4-mini")


def test_a_retired_model_says_so(monkeypatch):
    monkeypatch.setenv("PLAYGROUND_TODAY", "2027-03-01")
    line = _first_line(render(SpeechSpec(input="hi", model="tts-1"), "curl"))
    assert line == "# tts-1 was shut down on 2027-01-06; move to gpt-realtime-2.1-mini."


def test_warned_scripts_still_run(december_2026, runner, recorder, workdir):
    """A comment line above the code changes nothing it sends."""
    spec = TranscriptionSpec(file=str(workdir / "jfk.flac"), model="whisper-1", response_format="text")
    runner.transcribe(spec)
    expected = one_request(recorder, spec.endpoint)
    for lang, run in (("python", run_python), ("curl", run_curl)):
        code = render(spec, lang, base_url=recorder.base_url)
        assert _first_line(code).startswith("# whisper-1 shuts down on 2027-02-26")
        run(code, workdir)
        assert sorted(one_request(recorder, spec.endpoint).form) == sorted(expected.form)
