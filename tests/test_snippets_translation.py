"""The live translation session's exported code works against the embedded backend.

The Python script (official SDK, ``client.realtime.translations.connect``) and the Node
script (the npm SDK's ``OpenAIRealtimeTranslationWS``) play a few seconds of German into
a translation session on the real embedded backend, through a recording WebSocket relay:
each must send the spec's ``session.update``, the audio in 200 ms appends and
``session.close``, print both transcripts and write the translated speech to
``translated.wav``. An output language the local backend does not serve must end the
script with the server's error, not hang it. The curl script mints a working client secret.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import re
import shutil
import subprocess
import sys
import wave
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from fastapi import FastAPI, WebSocket
from openai.types.realtime import RealtimeTranslationClientSecretCreateResponse
from websockets.asyncio.client import connect

from playground.core.audio import resample, to_mono
from playground.core.catalog import get_catalog
from playground.core.snippets import render
from playground.core.specs import RealtimeTranslationSpec
from playground.serving import BackgroundServer
from tests.conftest import SECRET_KEY
from tests.support.recording_server import self_signed_cert, serve_tls
from tests.test_snippets import NODE_MODULES, _env, run_curl

RATE = 24000
CLIP = "german.wav"
#: what the local backend answers for any output language but English
REFUSAL = "error (invalid_request_error): Invalid 'session.audio.output.language'"


# ------------------------------------------------------------------- the relay


@dataclass
class Relayed:
    """One translation WebSocket through the relay."""

    query: dict[str, str]
    authorization: str | None
    #: the client's events, parsed, in order
    sent: list[dict[str, Any]] = field(default_factory=list)
    #: the server's events, parsed, in order
    received: list[dict[str, Any]] = field(default_factory=list)

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.received if e.get("type") == kind]


class TranslationRelay:
    """Relays ``/v1/realtime/translations`` to the embedded backend, keeping every event both ways."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.replace("http", "ws", 1)
        self.connections: list[Relayed] = []
        self.app = FastAPI()
        self.app.add_api_websocket_route("/v1/realtime/translations", self._relay)

    def take(self) -> Relayed:
        assert len(self.connections) == 1, f"expected one connection, got {len(self.connections)}"
        return self.connections.pop()

    async def _relay(self, ws: WebSocket) -> None:
        rec = Relayed(dict(ws.query_params), ws.headers.get("authorization"))
        self.connections.append(rec)
        headers = {"Authorization": rec.authorization} if rec.authorization else {}
        url = f"{self.upstream}/v1/realtime/translations?{ws.url.query}"
        async with connect(url, additional_headers=headers, max_size=None) as up:
            await ws.accept()

            async def upward() -> None:
                while True:
                    message = await ws.receive()
                    if message["type"] == "websocket.disconnect":
                        return
                    text = message.get("text")
                    if text is not None:
                        rec.sent.append(json.loads(text))
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
def relay(backend_url: str, tmp_path_factory) -> Iterator[tuple[TranslationRelay, str, str, Path]]:
    """``(relay, http base_url, https base_url, certificate)`` in front of the embedded backend.

    The npm SDK's translation client connects only with ``wss:``, so Node gets the relay
    over TLS; the Python script talks to it in the clear.
    """
    pair = self_signed_cert(tmp_path_factory.mktemp("tls"))
    if pair is None:
        pytest.skip("openssl is not installed, so no certificate for the wss: JS snippet (apt-get install openssl)")
    cert, key = pair
    front = TranslationRelay(backend_url)
    with BackgroundServer(front.app) as url, serve_tls(front.app, cert, key) as tls_url:
        yield front, url + "/v1", tls_url + "/v1", cert


@pytest.fixture(scope="module")
def node() -> str:
    path = shutil.which("node")
    if path is None:
        pytest.skip("node is not installed, so the JS snippets cannot run (apt-get install nodejs npm; make test)")
    missing = [name for name in ("openai", "ws") if not (NODE_MODULES / name / "package.json").is_file()]
    if missing:
        pytest.skip(f"npm package(s) {', '.join(missing)} missing from {NODE_MODULES} (make test installs them)")
    return path


# -------------------------------------------------------------------- the clip


@pytest.fixture(scope="module")
def german(speech_dir: Path) -> np.ndarray:
    """Four seconds of the licence's German half at 24 kHz, with a 0.7 s pause put in
    where the reader breathes (two phrases: the transcripts grow in more than one delta)."""
    samples, rate = sf.read(speech_dir / "multilingual.mp3", dtype="float32")
    x = resample(to_mono(samples), rate, RATE)[32 * RATE : 36 * RATE]
    cut = int(1.3 * RATE)
    return np.concatenate([x[:cut], np.zeros(int(0.7 * RATE), np.float32), x[cut:]])


def run_script(argv: list[str], cwd: Path, timeout: float = 300, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        argv, cwd=cwd, env={**_env(), **env}, capture_output=True, text=True, timeout=timeout, check=False
    )


def run_py(code: str, cwd: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    (cwd / "snippet.py").write_text(code)
    return run_script([sys.executable, "snippet.py", *args], cwd, timeout)


def run_js(
    node: str, code: str, cwd: Path, cert: Path, *args: str, timeout: float = 300
) -> subprocess.CompletedProcess:
    link = cwd / "node_modules"
    if not link.exists():
        link.symlink_to(NODE_MODULES, target_is_directory=True)
    (cwd / "snippet.mjs").write_text(code)
    return run_script([node, "snippet.mjs", *args], cwd, timeout, NODE_EXTRA_CA_CERTS=str(cert))


def transcript(stdout: str, label: str) -> str:
    """One transcript as printed: its lines (``label: text``) joined."""
    return " ".join(line.split(":", 1)[1].strip() for line in stdout.splitlines() if line.startswith(label + ":"))


def wav_seconds(path: Path) -> float:
    with wave.open(str(path), "rb") as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, RATE)
        return w.getnframes() / RATE


def assert_translated(proc: subprocess.CompletedProcess, rec: Relayed, spec: RealtimeTranslationSpec, cwd: Path):
    """Exit 0, both transcripts printed, the speech written; and on the wire: the spec's
    session, 200 ms appends in real time, session.close, and the server's session.closed."""
    assert proc.returncode == 0, f"the script failed:\n{proc.stdout}\n---\n{proc.stderr}"
    assert not rec.of_type("error"), rec.of_type("error")
    translation, source = transcript(proc.stdout, "translation"), transcript(proc.stdout, "source")
    assert "software" in translation.lower(), proc.stdout
    assert "Software" in source and "Dokumentation" in source, proc.stdout
    # deltas are printed as they are: the printed text is exactly what the server sent
    sent_text = "".join(e["delta"] for e in rec.of_type("session.output_transcript.delta"))
    assert " ".join(sent_text.split()) == translation
    summary = proc.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"translated\.wav: \d+\.\d s of translated speech", summary), proc.stdout
    assert 1.0 < wav_seconds(cwd / "translated.wav") < 30

    assert rec.query == {"model": spec.model}
    assert rec.authorization == f"Bearer {SECRET_KEY}"
    assert rec.sent[0] == {"type": "session.update", "session": spec.to_session()}
    assert rec.sent[-1] == {"type": "session.close"}
    appends = rec.sent[1:-1]
    assert {e["type"] for e in appends} == {"session.input_audio_buffer.append"}
    sizes = [len(base64.b64decode(e["audio"])) for e in appends]
    frame = RATE * get_catalog().translation.frame_ms // 1000 * 2
    assert all(size == frame for size in sizes[:-1]) and 0 < sizes[-1] <= frame
    assert sum(sizes) / 2 / RATE > 4.7 + 1.4  # the clip, then about 1.5 s of silence
    assert rec.received[-1]["type"] == "session.closed"
    assert rec.of_type("session.updated")[0]["session"]["audio"]["output"]["language"] == "en"


# ---------------------------------------------------------- executed: the backend


@pytest.mark.models
def test_python_script_translates_german_and_writes_the_speech(relay, german, tmp_path):
    front, base_url, _, _ = relay
    sf.write(tmp_path / CLIP, german, RATE, subtype="PCM_16")
    spec = RealtimeTranslationSpec(output_language="en").validate()
    code = render(spec, "python", base_url=base_url, file_path=CLIP)
    assert SECRET_KEY not in code
    proc = run_py(code, tmp_path)
    assert_translated(proc, front.take(), spec, tmp_path)


@pytest.mark.models
def test_node_script_translates_a_resampled_stereo_file(relay, node, german, tmp_path):
    """The file given as the argument, at 16 kHz in stereo: the script mixes it down and
    resamples it to 24 kHz itself."""
    front, _, tls_url, cert = relay
    mono16k = resample(german, RATE, 16000)
    sf.write(tmp_path / "stereo16k.wav", np.stack([mono16k, mono16k], axis=1), 16000, subtype="PCM_16")
    spec = RealtimeTranslationSpec(output_language="en", noise_reduction="near_field").validate()
    code = render(spec, "js", base_url=tls_url)
    assert SECRET_KEY not in code
    proc = run_js(node, code, tmp_path, cert, "stereo16k.wav")
    assert_translated(proc, front.take(), spec, tmp_path)


@pytest.mark.models
def test_an_output_language_the_backend_lacks_ends_both_scripts_with_its_error(relay, node, german, tmp_path):
    front, base_url, tls_url, cert = relay
    sf.write(tmp_path / CLIP, german, RATE, subtype="PCM_16")
    spec = RealtimeTranslationSpec(output_language="es").validate()
    runs = {
        "python": lambda: run_py(render(spec, "python", base_url=base_url, file_path=CLIP), tmp_path, timeout=60),
        "js": lambda: run_js(node, render(spec, "js", base_url=tls_url, file_path=CLIP), tmp_path, cert, timeout=60),
    }
    for language, run in runs.items():
        proc = run()
        assert proc.returncode == 1, f"{language}: {proc.returncode}\n{proc.stdout}\n---\n{proc.stderr}"
        assert REFUSAL in proc.stderr and "English only" in proc.stderr, f"{language}: {proc.stderr}"
        assert "'es' (Spanish)" in proc.stderr
        assert not (tmp_path / "translated.wav").exists()
        rec = front.take()
        assert rec.sent[0] == {"type": "session.update", "session": spec.to_session()}
        (error,) = rec.of_type("error")
        assert error["error"]["param"] == "session.audio.output.language"


def test_curl_mints_a_translation_client_secret(backend_url, tmp_path):
    spec = RealtimeTranslationSpec(output_language="en", noise_reduction="far_field", noise_reduction_strength=0.5)
    proc = run_curl(render(spec.validate(), "curl", base_url=backend_url + "/v1"), tmp_path)
    secret = RealtimeTranslationClientSecretCreateResponse.model_validate(json.loads(proc.stdout))
    assert secret.value.startswith("ek_")
    assert secret.session.model == spec.model
    assert secret.session.audio.output.language == "en"
    assert secret.session.audio.input.transcription.model == spec.transcription_model
    assert secret.session.audio.input.noise_reduction.type == "far_field"


def test_javascript_translation_snippets_are_valid_modules(tmp_path):
    if shutil.which("node") is None:
        pytest.skip("node is not installed; JS snippets are checked for syntax only with node")
    for i, base_url in enumerate((None, "http://127.0.0.1:7860/v1")):
        path = tmp_path / f"t{i}.mjs"
        path.write_text(render(RealtimeTranslationSpec(), "js", base_url=base_url))
        proc = subprocess.run(["node", "--check", str(path)], capture_output=True, text=True, check=False)
        assert proc.returncode == 0, f"{path.read_text()}\n{proc.stderr}"
