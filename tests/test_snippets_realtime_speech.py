"""The realtime TTS workflow's exported code does what Play does.

Play (``Runner.realtime_speech``), the Python script and the Node script all talk to the
real embedded backend through a recording WebSocket proxy: each must send the same
``session.update`` and ``response.create``, event for event and field for field, and get
audio back. The curl script mints a client secret for the same session: the recording
server checks the exact JSON it sends, the embedded backend that it mints a working secret.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import json
import re
import subprocess
import sys
import tomllib
import wave
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import pytest
from fastapi import FastAPI, WebSocket
from openai.types.realtime import ClientSecretCreateResponse
from websockets.asyncio.client import connect

from playground.client.providers import Provider
from playground.client.runner import Runner
from playground.core import workflows
from playground.core.audio import session_audio_to_pcm16
from playground.core.snippet_templates import environment, speech_file_name
from playground.core.snippets import LANGUAGES, render, render_all
from playground.core.specs import RealtimeSpeechSpec
from playground.serving import BackgroundServer
from tests.conftest import REPO, SECRET_KEY
from tests.support.recording_server import self_signed_cert, serve_tls
from tests.test_snippets import NODE_MODULES, _env, run_curl, run_python

LOCAL = "http://127.0.0.1:7860/v1"
#: quotes, an apostrophe, a dash, a newline, non-ASCII, shell and JS template syntax, backticks
TRICKY = 'He said "don\'t" — \n naïve ${x} $(rm -rf /) `` ` ``` \\n\ttab \u2028 ✓'


def spec_of(**kw: Any) -> RealtimeSpeechSpec:
    """What Play builds for the realtime workflow."""
    args = {"input": "The quick brown fox jumps over the lazy dog.", "voice": "marin", **kw}
    spec = workflows.tts_spec(workflows.REALTIME, **args)
    assert isinstance(spec, RealtimeSpeechSpec)
    return spec.validate()


# ------------------------------------------------------------------- the proxy


@dataclass
class Relayed:
    """One WebSocket connection through the proxy."""

    query: dict[str, str]
    authorization: str | None
    #: the client's events as sent (text frames), in order
    sent: list[str] = field(default_factory=list)
    #: the server's events, parsed
    received: list[dict[str, Any]] = field(default_factory=list)

    @property
    def events(self) -> list[dict[str, Any]]:
        return [json.loads(text) for text in self.sent]

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.received if e.get("type") == kind]


class RecordingProxy:
    """Relays ``/v1/realtime`` to the embedded backend, keeping every frame both ways."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.replace("http", "ws", 1)
        self.connections: list[Relayed] = []
        self.app = FastAPI()
        self.app.add_api_websocket_route("/v1/realtime", self._relay)

    def take(self) -> Relayed:
        assert len(self.connections) == 1, f"expected one connection, got {len(self.connections)}"
        return self.connections.pop()

    async def _relay(self, ws: WebSocket) -> None:
        rec = Relayed(dict(ws.query_params), ws.headers.get("authorization"))
        self.connections.append(rec)
        headers = {"Authorization": rec.authorization} if rec.authorization else {}
        url = f"{self.upstream}/v1/realtime?{ws.url.query}"
        async with connect(url, additional_headers=headers, max_size=None) as up:
            await ws.accept()

            async def upward() -> None:
                while True:
                    message = await ws.receive()
                    if message["type"] == "websocket.disconnect":
                        return
                    text = message.get("text")
                    if text is not None:
                        rec.sent.append(text)
                        await up.send(text)

            async def downward() -> None:
                async for text in up:
                    rec.received.append(json.loads(text))
                    await ws.send_text(text if isinstance(text, str) else text.decode())

            tasks = [asyncio.create_task(upward()), asyncio.create_task(downward())]
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in tasks:
                task.cancel()
            with contextlib.suppress(Exception):
                await ws.close()


@pytest.fixture(scope="module")
def proxy(backend_url: str, tmp_path_factory) -> Iterator[tuple[RecordingProxy, str, str, Path]]:
    """``(proxy, http base_url, https base_url, certificate)`` in front of the embedded backend.

    The npm SDK's realtime client always connects with ``wss:``, so Node gets the proxy
    over TLS; Python (Play and the script) talks to it in the clear.
    """
    pair = self_signed_cert(tmp_path_factory.mktemp("tls"))
    if pair is None:
        pytest.skip("openssl is not installed, so no certificate for the wss: JS snippet (apt-get install openssl)")
    cert, key = pair
    relay = RecordingProxy(backend_url)
    with BackgroundServer(relay.app) as url, serve_tls(relay.app, cert, key) as tls_url:
        yield relay, url + "/v1", tls_url + "/v1", cert


@pytest.fixture(scope="module")
def node() -> str:
    import shutil

    path = shutil.which("node")
    if path is None:
        pytest.skip("node is not installed, so the JS snippets cannot run (apt-get install nodejs npm; make test)")
    missing = [name for name in ("openai", "ws") if not (NODE_MODULES / name / "package.json").is_file()]
    if missing:
        pytest.skip(f"npm package(s) {', '.join(missing)} missing from {NODE_MODULES} (make test installs them)")
    return path


def run_js(node: str, code: str, cwd: Path, *, ok: bool = True, **env: str) -> subprocess.CompletedProcess:
    """The script with Node and the pinned npm SDK (a node_modules link in its folder)."""
    link = cwd / "node_modules"
    if not link.exists():
        link.symlink_to(NODE_MODULES, target_is_directory=True)
    (cwd / "snippet.mjs").write_text(code)
    proc = subprocess.run(
        [node, "snippet.mjs"], cwd=cwd, env={**_env(), **env}, capture_output=True, text=True, timeout=300
    )
    if ok:
        assert proc.returncode == 0, f"JS snippet failed:\n{code}\n---\n{proc.stderr}"
    return proc


def play(spec: RealtimeSpeechSpec, base_url: str):
    """What Play does: the runner, with the test key."""
    return Runner(Provider("compatible", "proxy to the embedded backend", base_url, SECRET_KEY)).realtime_speech(spec)


def wav_seconds(path: Path) -> float:
    with wave.open(str(path), "rb") as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 24000)
        return w.getnframes() / w.getframerate()


def assert_same_run(got: Relayed, expected: Relayed, spec: RealtimeSpeechSpec) -> None:
    """The same connection, events and session as Play's, and the backend took the session."""
    assert got.query == expected.query == {"model": spec.model}
    assert got.authorization == expected.authorization == f"Bearer {SECRET_KEY}"
    assert got.events == expected.events
    assert not got.of_type("error"), got.of_type("error")
    (updated,) = got.of_type("session.updated")
    output = updated["session"]["audio"]["output"]
    assert output["voice"] == spec.to_session()["audio"]["output"]["voice"]
    assert output["format"]["type"] == spec.output_format
    (done,) = got.of_type("response.done")
    assert done["response"]["status"] == "completed"


def sent_text(rec: Relayed) -> str:
    (create,) = [e for e in rec.events if e["type"] == "response.create"]
    return create["response"]["input"][0]["content"][0]["text"]


# ---------------------------------------------------------- executed: the backend


@pytest.mark.models
def test_the_scripts_send_what_play_sends_and_write_the_audio(proxy, node, recorder, backend_url, tmp_path):
    relay, base_url, tls_url, cert = proxy
    spec = spec_of(voice="cedar", speed=1.2, instructions="Calm and warm, like a bedtime story.")
    result = play(spec, base_url)
    expected = relay.take()
    assert expected.events == [
        {"type": "session.update", "session": spec.to_session()},
        {"type": "response.create", "response": spec.to_response()},
    ]
    assert result.duration_s > 0.5

    proc = run_python(render(spec, "python", base_url=base_url), tmp_path, timeout=300)
    assert_same_run(relay.take(), expected, spec)
    assert wav_seconds(tmp_path / "speech.wav") > 0.5
    transcript, summary = proc.stdout.strip().splitlines()[-2:]
    assert transcript.strip() and re.fullmatch(r"speech\.wav: \d+\.\d s", summary), proc.stdout

    (tmp_path / "speech.wav").unlink()
    proc = run_js(node, render(spec, "js", base_url=tls_url), tmp_path, NODE_EXTRA_CA_CERTS=str(cert))
    assert_same_run(relay.take(), expected, spec)
    assert wav_seconds(tmp_path / "speech.wav") > 0.5
    assert proc.stdout.strip().splitlines()[0].strip(), proc.stdout

    # curl: a client secret for the same session; exactly that JSON, and the backend mints it
    proc = run_curl(render(spec, "curl", base_url=recorder.base_url), tmp_path)
    (minted,) = [r for r in recorder.requests if r.path.endswith("/realtime/client_secrets")]
    assert minted.json == {"session": expected.events[0]["session"]}
    assert minted.authorization == f"Bearer {SECRET_KEY}"
    assert json.loads(proc.stdout)["value"].startswith("ek_")
    session = expected.events[0]["session"]
    proc = run_curl(render(spec, "curl", base_url=backend_url + "/v1"), tmp_path)
    secret = ClientSecretCreateResponse.model_validate(json.loads(proc.stdout))
    assert secret.value.startswith("ek_") and secret.session.model == session["model"]
    out = secret.session.audio.output
    assert (out.voice, out.speed, out.format.type) == ("cedar", 1.2, session["audio"]["output"]["format"]["type"])


@pytest.mark.models
def test_a_tricky_text_arrives_byte_for_byte_and_g711_is_written_raw(proxy, node, tmp_path):
    relay, base_url, tls_url, cert = proxy
    spec = spec_of(input=TRICKY, fmt="audio/pcmu", instructions='Say it "plainly"; it\'s fine.\nNo ${drama}.')
    play(spec, base_url)
    expected = relay.take()
    assert sent_text(expected).encode() == TRICKY.encode()

    run_python(render(spec, "python", base_url=base_url), tmp_path, timeout=300)
    got = relay.take()
    assert_same_run(got, expected, spec)
    assert sent_text(got).encode() == TRICKY.encode()
    raw = (tmp_path / "speech.ulaw").read_bytes()
    pcm, rate = session_audio_to_pcm16(raw, "audio/pcmu")
    assert rate == 8000 and len(pcm) / 2 / rate > 0.5
    assert not (tmp_path / "speech.wav").exists()

    (tmp_path / "speech.ulaw").unlink()
    run_js(node, render(spec, "js", base_url=tls_url), tmp_path, NODE_EXTRA_CA_CERTS=str(cert))
    got = relay.take()
    assert_same_run(got, expected, spec)
    assert sent_text(got).encode() == TRICKY.encode()
    assert len((tmp_path / "speech.ulaw").read_bytes()) > 0.5 * 8000


@pytest.mark.models
def test_an_error_event_ends_the_scripts_with_its_message(proxy, node, tmp_path):
    """The backend refuses a custom voice (it lives in an OpenAI account): both scripts say so and fail."""
    relay, base_url, tls_url, cert = proxy
    spec = spec_of(voice="voice_not_here")
    proc = subprocess.run(
        [sys.executable, "-c", render(spec, "python", base_url=base_url)],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    relay.take()
    assert proc.returncode == 1 and "voice_not_here" in proc.stderr and "error (" in proc.stderr, proc.stderr
    assert not (tmp_path / "speech.wav").exists()
    js = run_js(node, render(spec, "js", base_url=tls_url), tmp_path, ok=False, NODE_EXTRA_CA_CERTS=str(cert))
    relay.take()
    assert js.returncode == 1 and "voice_not_here" in js.stderr, js.stderr
    assert not (tmp_path / "speech.wav").exists()


# ---------------------------------------------------------- executed: curl quoting


def test_curl_sends_a_custom_voice_with_shell_characters_exactly(recorder, tmp_path):
    spec = spec_of(input=TRICKY, voice='voice_o\'neil "$(x)" `y` ${z}', speed=0.8, fmt="audio/pcma")
    proc = run_curl(render(spec, "curl", base_url=recorder.base_url), tmp_path)
    (minted,) = recorder.requests
    assert minted.json == {"session": spec.to_session()}
    assert minted.json["session"]["audio"]["output"]["voice"] == {"id": 'voice_o\'neil "$(x)" `y` ${z}'}
    assert json.loads(proc.stdout)["value"].startswith("ek_")


# ------------------------------------------------------------------- rendering


def _literal(code: str, name: str) -> Any:
    for node in ast.parse(code).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == name:
            return ast.literal_eval(node.value)
    raise AssertionError(f"no {name} in:\n{code}")


def _commented_json(code: str) -> Any:
    """The response.create event shown in the curl script's comments."""
    lines = code.split("\n")
    start = next(i for i, line in enumerate(lines) if line == "#   {")
    end = next(i for i in range(start, len(lines)) if lines[i] == "#   }")
    return json.loads("\n".join(line.removeprefix("#   ") for line in lines[start : end + 1]))


SPECS = {
    "pcm": spec_of(),
    "pcmu": spec_of(fmt="audio/pcmu", speed=1.5, voice="voice_abc123"),
    "pcma": spec_of(input=TRICKY, fmt="audio/pcma", speed=0.25, instructions='Whisper.\n"Softly"'),
}


@pytest.mark.parametrize("name", list(SPECS))
@pytest.mark.parametrize("base_url", [None, LOCAL])
def test_each_language_carries_the_session_and_the_response(name, base_url):
    spec = SPECS[name]
    code = render_all(spec, base_url=base_url)
    assert set(code) == set(LANGUAGES)
    py = code["python"]
    compile(py, "snippet.py", "exec")
    assert _literal(py, "SESSION") == spec.to_session()
    assert _literal(py, "RESPONSE") == spec.to_response()
    assert f"client.realtime.connect(model={json.dumps(spec.model)})" in py
    assert "connection.session.update(session=SESSION)" in py
    assert "connection.response.create(response=RESPONSE)" in py
    assert 'elif event.type == "error":\n            sys.exit(' in py
    assert 'rt.send({ type: "session.update", session })' in code["js"]
    assert 'from "openai/realtime/ws"' in code["js"]
    assert _commented_json(code["curl"]) == {"type": "response.create", "response": spec.to_response()}
    assert '"session": {' in code["curl"] and "/realtime/client_secrets" in code["curl"]
    for lang, text in code.items():
        assert SECRET_KEY not in text and "sk-" not in text and "OPENAI_API_KEY" in text, lang
        assert (LOCAL in text) is (base_url is not None), lang
        assert text.endswith("\n") and not text.endswith("\n\n"), lang
        assert "\n\n\n\n" not in text, lang
    if base_url is None:
        assert "client = OpenAI()  # reads OPENAI_API_KEY" in py
        assert 'Bearer $OPENAI_API_KEY"' in code["curl"]
        assert "wss://api.openai.com/v1/realtime?model=" in code["curl"]
    else:
        assert 'os.environ.get("OPENAI_API_KEY", "local")' in py
        assert 'Bearer ${OPENAI_API_KEY:-local}"' in code["curl"]


def test_g711_is_written_raw_with_how_to_play_it():
    for fmt, out, law in (("audio/pcmu", "speech.ulaw", "mulaw"), ("audio/pcma", "speech.alaw", "alaw")):
        spec = spec_of(fmt=fmt)
        assert speech_file_name(spec) == out
        py, js = render(spec, "python"), render(spec, "js")
        assert f'with open("{out}", "wb") as out:' in py and "import wave" not in py and 'speech.wav"' not in py
        assert f"ffplay -f {law} -ar 8000 {out}" in py and f"ffplay -f {law} -ar 8000 {out}" in js
        assert f'fs.writeFileSync("{out}", data);' in js and "function wav(" not in js
        assert "at 8000 Hz" in render(spec, "curl")
    pcm = spec_of()
    assert speech_file_name(pcm) == "speech.wav" == pcm.file_name
    py, js = render(pcm, "python"), render(pcm, "js")
    assert 'with wave.open("speech.wav", "wb") as out:' in py and "out.setframerate(24000)" in py
    assert 'fs.writeFileSync("speech.wav", wav(data, 24000));' in js


def test_speed_one_is_left_out_like_the_session_leaves_it_out():
    normal, quick = spec_of(), spec_of(speed=1.3)
    assert "speed" not in normal.to_session()["audio"]["output"]
    for lang, code in render_all(normal).items():
        assert '"speed"' not in code and "speed:" not in code, lang
    code = render_all(quick)
    assert '"speed": 1.3,' in code["python"] and "speed: 1.3," in code["js"] and '"speed": 1.3' in code["curl"]


def test_a_custom_voice_goes_as_its_id():
    spec = spec_of(voice="voice_abc123")
    code = render_all(spec)
    assert _literal(code["python"], "SESSION")["audio"]["output"]["voice"] == {"id": "voice_abc123"}
    assert 'voice: { id: "voice_abc123" },' in code["js"]
    assert '"id": "voice_abc123"' in code["curl"]


def test_quoting_is_literal_in_every_language():
    spec = spec_of(input=TRICKY)
    py = render(spec, "python")
    assert _literal(py, "RESPONSE")["input"][0]["content"][0]["text"] == TRICKY
    (line,) = [line for line in render(spec, "js").splitlines() if line.lstrip().startswith("text: ")]
    assert json.loads(line.strip().removeprefix("text: ").removesuffix(",")) == TRICKY  # a plain "..." string
    curl = render(spec, "curl")
    for code in (py, curl, render(spec, "js")):
        assert "\u2028" not in code and "\\u2028" in code  # escaped: no editor takes it for a line break
    assert _commented_json(curl)["response"]["input"][0]["content"][0]["text"] == TRICKY
    # every line of the shell script outside the -d body is a comment or part of the command
    head = curl.split(" \\\n", 1)[0].splitlines()
    assert all(line.startswith("#") for line in head[:-1]) and head[-1].startswith("curl -X POST ")


@pytest.mark.parametrize("base_url", [None, LOCAL])
def test_js_modules_parse(tmp_path, base_url):
    import shutil

    if shutil.which("node") is None:
        pytest.skip("node is not installed; the JS snippets are checked for syntax with node")
    for name, spec in SPECS.items():
        path = tmp_path / f"{name}.mjs"
        path.write_text(render(spec, "js", base_url=base_url))
        proc = subprocess.run(["node", "--check", str(path)], capture_output=True, text=True)
        assert proc.returncode == 0, f"{path.read_text()}\n{proc.stderr}"


def test_bash_parses_the_curl_script(tmp_path):
    for spec in SPECS.values():
        proc = subprocess.run(["bash", "-n", "-c", render(spec, "curl")], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr


def test_a_deprecated_realtime_model_opens_the_code_with_one_warning_line(monkeypatch):
    monkeypatch.setenv("PLAYGROUND_TODAY", "2026-12-07")
    old = spec_of(model="gpt-realtime")
    for lang in LANGUAGES:
        first, second = render(old, lang).splitlines()[:2]
        mark = "//" if lang == "js" else "#"
        assert first == f"{mark} gpt-realtime shuts down on 2027-01-20; move to gpt-realtime-2.1.", lang
        assert "shuts down" not in second
    for lang, code in render_all(spec_of()).items():
        assert "shuts down" not in code and "shut down" not in code, lang


def test_templates_fail_loudly_on_a_missing_value_and_ship_in_the_wheel():
    with pytest.raises(jinja2.UndefinedError):
        environment().get_template("realtime_speech.py.j2").render({})
    data = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    package = REPO / "playground" / "core"
    shipped = {p for pattern in data["playground.core"] for p in package.glob(pattern)}
    templates = set((package / "templates").iterdir()) - {package / "templates" / "__pycache__"}
    assert templates and templates <= shipped
    assert "jinja2" in " ".join(tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"])
