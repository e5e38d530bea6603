"""Every UI event is a named API: drive them with gradio_client against a launched app."""

from __future__ import annotations

from pathlib import Path

import httpx2 as httpx
import pytest
from gradio_client import Client

from playground.core import audio

pytestmark = pytest.mark.models

EXPECTED = {
    "/code",
    "/preview",
    "/model_changed",
    "/shuffle_vibes",
    "/apply_vibe",
    "/use_voice",
    "/clamp_speed",
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
}


@pytest.fixture(scope="module")
def client(app_url, tmp_path_factory) -> Client:
    return Client(app_url, verbose=False, download_files=str(tmp_path_factory.mktemp("downloads")))


def test_every_event_is_named(client):
    names = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert EXPECTED <= names, EXPECTED - names


def test_code_endpoint(client):
    py, _js, curl, script_count, _instr_count = client.predict(
        "Hello there.", "nova", "tts-1", "calm", 1.25, "wav", api_name="/code"
    )
    assert 'voice="nova"' in py and "speed=1.25" in py and "instructions" not in py
    assert "audio/speech" in curl and "12 / 4,096" in script_count


def test_speak_then_collect(client, app_url):
    vibe_name = client.predict(api_name="/shuffle_vibes")["choices"][0][0]
    instructions, script, name, _suggestion = client.predict(
        vibe_name, "", "echo", api_name="/apply_vibe"
    )  # the last-sample State and the button are not part of the API
    assert instructions.startswith(("Affect:", "Tone:")) and name == vibe_name
    token, _status = client.predict(script, "echo", "gpt-4o-mini-tts", instructions, 1.0, "flac", "", api_name="/speak")
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
    columns = []
    for voice in ("alloy", "echo", "onyx"):
        columns += [voice, "(none)", "", 1.0, "gpt-4o-mini-tts", "mp3", "Embedded local backend"]
    columns += ["alloy", "(none)", "", 1.0, "gpt-4o-mini-tts", "mp3", "Embedded local backend"] * 3
    out = client.predict("Three voices, one line.", 3, False, *columns, api_name="/compare")
    for i in range(3):
        audio_path, metrics = out[i * 5], out[i * 5 + 1]
        assert audio.decode(Path(audio_path).read_bytes()).duration > 0.5 and "Duration" in metrics


def test_blind_round_and_vote(client):
    a, b, state, _note, *_ = client.predict("Blind test line.", api_name="/blind_new_round")
    assert Path(a).is_file() and Path(b).is_file()
    state = client.predict(state, api_name="/played_a")  # buttons are not API outputs: just the state
    state = client.predict(state, api_name="/played_b")
    state, reveal, board = client.predict(state, api_name="/vote_tie")
    assert "tie" in reveal and "A was" in reveal
    assert board["data"] and board["data"][0][6] >= 1
