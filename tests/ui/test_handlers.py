"""UI handlers called directly, against the real embedded backend (no browser)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import gradio as gr
import pytest

from playground.client.providers import Provider
from playground.core import audio
from playground.core.catalog import get_catalog
from playground.serving import BackgroundServer
from playground.ui import compare, studio
from tests.support.recording_server import RecordingServer
from tests.support.streaming import heard

pytestmark = pytest.mark.models


def settings(**overrides):
    values = {
        "script": "Hello there. This is a test.",
        "voice": "echo",
        "model": "gpt-4o-mini-tts",
        "instructions": "Calm and slow.",
        "speed": 1.0,
        "fmt": "mp3",
        "workflow": "speech",
    }
    values.update(overrides)
    return [values[k] for k in ("script", "voice", "model", "instructions", "speed", "fmt", "workflow")]


# ------------------------------------------------------------------------ studio


def test_code_panel_follows_settings(ctx):
    py, js, curl, script_count, instr_count = studio.update_code(*settings(voice="onyx", speed=1.5, fmt="wav"))
    assert 'voice="onyx"' in py and "speed=1.5" in py and "speech.wav" in py
    assert 'voice: "onyx"' in js and '"speed": 1.5' in curl
    assert ctx.provider.base_url in py  # embedded provider: base_url line present
    assert "28 / 4,096" in script_count and "14 / 4,096" in instr_count
    py, *_ = studio.update_code(*settings(model="tts-1"))
    assert "instructions" not in py  # dropped for a model that takes none
    py, *_ = studio.update_code(*settings(script=""))
    assert py.startswith("# Fix before running: input=''")


def test_model_without_instructions_disables_the_box(ctx):
    update = studio.model_changed("tts-1")
    assert update["interactive"] is False and "gpt-4o-mini-tts" in update["info"]
    assert studio.model_changed("gpt-4o-mini-tts")["interactive"] is True


def test_vibes_fill_instructions_and_suggest_a_voice_without_switching(ctx):
    realtime = get_catalog().realtime.voices
    vibe = next(v for v in ctx.builtin_vibes if v.voice != "marin" and v.voice in realtime)
    instructions, script, sample, name, suggestion, button = studio.apply_vibe(vibe.name, "", "", "marin")
    assert instructions == vibe.instructions_text and name == vibe.name
    assert script == vibe.script.strip() == sample
    # the vibe only suggests its voice; the apply handler has no voice output at all
    assert vibe.voice in suggestion and "marin" in suggestion
    assert button["visible"] is True and button["value"] == f"Use {vibe.voice}"
    voice, note, hidden = studio.accept_suggestion(name)  # only when the user asks
    assert voice["value"] == vibe.voice and hidden["visible"] is False and vibe.voice in note
    other = ctx.builtin_vibes[1]
    _, script2, *_ = studio.apply_vibe(other.name, script, sample, "marin")  # still the previous sample: replaced
    assert script2 == other.script.strip()
    _, mine, *_ = studio.apply_vibe(other.name, "My own words.", sample, "marin")  # user text is kept
    assert mine == "My own words."
    *_, same_voice = studio.apply_vibe(other.name, "", "", other.voice)
    assert same_voice["visible"] is False
    # a vibe written for a voice the Realtime API lacks names it, with no button to switch
    endpoint_only = next(v for v in ctx.builtin_vibes if v.voice not in realtime)
    *_, note, button = studio.apply_vibe(endpoint_only.name, "", "", "marin", "realtime")
    assert endpoint_only.voice in note and "does not have" in note and button["visible"] is False
    *_, button = studio.apply_vibe(endpoint_only.name, "", "", "marin", "speech")
    assert button["visible"] is True
    chips = studio.shuffle_vibes()
    assert 1 <= len(chips["choices"]) <= studio.CHIPS
    assert set(chips["choices"]) <= {v.name for v in ctx.all_vibes()}


def test_speed_outside_the_range_is_clamped_visibly_and_the_code_follows(ctx):
    # plain values, never updates: an update would rebuild the slider without its pass-through
    value, note = studio.clamp_speed(10, "speech")
    assert value == 4.0 and "10" in note and "maximum" in note and "4" in note
    value, note = studio.clamp_speed(0, "speech")
    assert value == 0.25 and "minimum" in note
    assert studio.clamp_speed(1.5, "speech") == (1.5, "")
    assert studio.clamp_speed(None, "speech") == (get_catalog().limits.speed.default, "")
    py, *_ = studio.update_code(*settings(speed=10))
    assert "speed=4.0" in py and "Fix before running" not in py
    token, _ = studio.start_speech(*settings(speed=10))
    assert ctx.streams.get(token).spec.speed == 4.0  # what plays is what the code says


def test_saved_vibes_come_back_on_page_load(ctx):
    studio.save_vibe("Reload survivor", "Tone: steady.", "Hi.", "ash", False)
    chips, everything = studio.refresh_vibes()
    assert "Reload survivor" in everything["choices"] and len(chips["choices"]) <= studio.CHIPS


def test_vibe_names_are_bounded_and_builtins_need_overwrite(ctx):
    status, *_ = studio.save_vibe("x" * 61, "Tone: dry.", "Hi.", "ash", False)
    assert status.startswith("⚠️") and "60" in status
    builtin = ctx.builtin_vibes[0]
    status, *_ = studio.save_vibe(builtin.name, "Tone: mine.", "Hi.", "ash", False)
    assert status.startswith("⚠️") and "built-in" in status and "Overwrite" in status
    status, *_ = studio.save_vibe(builtin.name, "Tone: mine.", "Hi.", "ash", True)
    assert status.startswith("✅")
    mine = ctx.vibe(builtin.name)
    assert mine.user and "mine" in mine.instructions_text
    assert [v.name for v in ctx.all_vibes()].count(builtin.name) == 1  # the user's version replaces it


def test_save_vibe_asks_before_overwriting(ctx):
    status, names, _ = studio.save_vibe("My ../Vibe!", "Tone: dry.\n\nPacing: quick.", "Hi.", "ash", False)
    assert status.startswith("✅") and "My ../Vibe!" in names["choices"]
    saved = ctx.vibe("My ../Vibe!")
    assert saved is not None and saved.user and saved.voice == "ash"
    assert next(iter((ctx.data_dir / "vibes").iterdir())).parent == ctx.data_dir / "vibes"
    status, *_ = studio.save_vibe("My ../Vibe!", "Tone: warm.", "Hi.", "ash", False)
    assert status.startswith("⚠️") and "exists" in status
    status, *_ = studio.save_vibe("My ../Vibe!", "Tone: warm.", "Hi.", "ash", True)
    assert status.startswith("✅") and "warm" in ctx.vibe("My ../Vibe!").instructions_text


def test_play_streams_pcm_then_collects_metrics_and_file(ctx):
    vibe = ctx.builtin_vibes[0]
    instructions, script, *_ = studio.apply_vibe(vibe.name, "", "", vibe.voice)
    # the page makes one with its stream key on the click, and is already fetching it
    page_token = f"{ctx.streams.key_for(ctx.person_for(None))}.{'A' * 22}"
    token, _status = studio.start_speech(
        script, vibe.voice, "gpt-4o-mini-tts", instructions, 1.0, "mp3", "speech", page_token
    )
    assert token == page_token
    pcm = heard(ctx.streams, token)
    metrics, download, figure = studio.finish_speech(token, vibe.name)
    data = Path(download["value"]).read_bytes()
    full = audio.decode(data)
    # the page heard the decoded bytes of exactly this file
    assert abs(len(pcm) / 2 / 24_000 - full.duration) < 0.1 and full.duration > 1.0
    name = Path(download["value"]).name
    assert name.startswith(f"{vibe.voice}_") and name.endswith(".mp3") and "custom" not in name
    assert "First audio heard" in metrics and "server first byte" in metrics and "Est. cost" in metrics
    assert "Local backend applied" in metrics and figure is not None


def test_page_tokens_are_checked(ctx):
    token, _ = studio.start_speech(*settings(), "../../etc/passwd")
    assert token != "../../etc/passwd" and len(token) >= 22
    keyless, _ = studio.start_speech(*settings(), "B" * 22)  # no stream key: the server's own token
    assert keyless != "B" * 22
    again, _ = studio.start_speech(*settings(), token)  # taken: a fresh one is issued
    assert again != token


def test_play_refuses_bad_settings_in_words_under_play(ctx):
    """A refusal is a note for the box under Play (no exception: Gradio would show only
    "Error" on the metrics); the token is empty, the step after it clears the last results,
    and collecting it changes nothing (it may run after the next Play's collect)."""
    token, note = studio.start_speech("Hi", "robot", "gpt-4o-mini-tts", "", 1.0, "mp3", "speech")
    assert token == "" and note.startswith("⚠️ Check your settings") and "voice" in note
    token, note = studio.start_speech(*settings(script=""))
    assert token == "" and "must not be empty" in note
    limit = get_catalog().limits.speech_input_max_chars
    token, note = studio.start_speech(*settings(script="x" * (limit + 904)))
    assert token == "" and f"at most {limit:,}".replace(",", "") in note.replace(",", "")
    metrics, download, figure = studio.clear_after_refusal("")
    assert metrics == "" and download["visible"] is False and download["value"] is None and figure is None
    assert all(update == gr.update() for update in studio.finish_speech("", None))
    assert all(update == gr.update() for update in studio.clear_after_refusal("a-token"))
    token, note = studio.start_speech(*settings())
    assert token and note == ""  # a good run clears the last refusal
    studio.finish_speech(token, None)


def test_the_vibe_note_follows_the_voice(ctx):
    vibe = ctx.all_vibes()[0]
    other = next(v for v in get_catalog().speech_voices if v != vibe.voice)
    note, button = studio.voice_changed(vibe.name, other, "speech")
    assert f"**{vibe.voice}**" in note and f"**{other}**" in note and button["visible"] is True
    assert button["value"] == f"Use {vibe.voice}"
    note, button = studio.voice_changed(vibe.name, vibe.voice, "speech")
    assert "you are on" not in note and f"**{vibe.voice}**" in note and button["visible"] is False
    assert studio.voice_changed("", other) == ("", {"__type__": "update", "visible": False})


class _Session:
    """Stands in for gr.Request: handlers only read ``session_hash``."""

    def __init__(self, session_hash: str):
        self.session_hash = session_hash


def test_provider_error_is_shown_not_raised(ctx):
    failing = RecordingServer(fail_with=(401, "Incorrect API key provided: sk-abc123456789xyz."))
    tab = _Session("tab-with-a-bad-key")
    with BackgroundServer(failing.app) as url:
        ctx.sessions.set(tab.session_hash, Provider("compatible", "Bad key server", url + "/v1", "sk-abc123456789xyz"))
        token, _ = studio.start_speech("Hello.", "echo", "gpt-4o-mini-tts", "", 1.0, "mp3", "speech", "", tab)
        metrics, download, figure = studio.finish_speech(token, None)
    assert metrics.startswith("⚠️") and "401" in metrics and "Incorrect API key" in metrics
    assert "sk-abc123456789xyz" not in metrics and figure is None
    assert download == {"__type__": "update", "value": None, "visible": False}  # the last run's file goes


def test_voice_preview_is_cached(ctx):
    first = studio.preview_voice("sage", "gpt-4o-mini-tts")
    stamp = Path(first).stat().st_mtime_ns
    assert studio.preview_voice("sage", "gpt-4o-mini-tts") == first
    assert Path(first).stat().st_mtime_ns == stamp
    assert audio.decode(Path(first).read_bytes()).duration > 1.0


# ----------------------------------------------------------------------- compare


def _columns(*cols: dict) -> list:
    values = []
    for c in cols:
        merged = {
            "workflow": "speech",  # columns now pick a workflow (Realtime by default); these test the endpoint
            "voice": "echo",
            "vibe": compare.NO_VIBE,
            "instructions": "",
            "speed": 1.0,
            "model": "gpt-4o-mini-tts",
            "fmt": "mp3",
            "provider": next(iter(get_context_providers())),
        } | c
        values += [merged["fmt" if k == "format" else k] for k in compare.COLUMN_FIELDS]
    return values


def get_context_providers():
    from playground.ui.context import get_context

    return get_context().providers_for(None)


def _final(agen) -> list:
    async def drain():
        last = None
        async for out in agen:
            last = out
        return last

    return asyncio.run(drain())


def test_compare_runs_all_and_isolates_errors(ctx):
    failing = RecordingServer(fail_with=(429, "Rate limit reached for requests"))
    tab = _Session("tab-with-a-busy-server")
    with BackgroundServer(failing.app) as url:
        busy = Provider("compatible", "Busy server", url + "/v1", "local")
        ctx.sessions.set(tab.session_hash, busy)
        assert list(ctx.providers_for(tab)) == ["Busy server", "Embedded local backend"]
        cols = _columns(
            {"voice": "echo", "fmt": "pcm"},
            {"voice": "ash", "instructions": "x" * 5000},
            {"voice": "onyx", "provider": "Busy server"},
            {"voice": "echo", "fmt": "wav"},
        )
        out = _final(compare.run_compare(tab, "Two voices, one script.", 4, True, *cols))
    per = compare.OUTPUTS_PER_COLUMN
    col = [out[i * per : (i + 1) * per] for i in range(4)]
    assert Path(col[0][0]).suffix == ".wav"  # raw PCM wrapped for the browser
    assert "Round trip WER" in col[0][1] and col[0][2] is not None and col[0][3] is not None
    assert "instructions" in col[1][1] and "4096" in col[1][1] and col[1][0] is None
    assert "429" in col[2][1] and col[2][0] is None
    assert Path(col[3][0]).is_file() and "Duration" in col[3][1]
    assert 'voice="echo"' in col[3][4]


def test_builders_fill_columns(ctx):
    updates = compare.build_same_text(["alloy", "nova", "cedar"])
    assert updates[0]["value"] == 3 and updates[1]["value"] == "alloy" and updates[7]["value"] == "cedar"
    names = [v.name for v in ctx.builtin_vibes[:2]]
    updates = compare.build_same_voice("coral", names)
    assert updates[1]["value"] == "coral" and updates[2]["value"] == names[0]
    assert updates[3]["value"] == ctx.vibe(names[0]).instructions_text
    with pytest.raises(gr.Error):
        compare.build_same_text(["alloy"])


def test_blind_round_vote_only_after_both_played(ctx):
    a, b, state, note, *buttons = asyncio.run(compare.blind_new_round("A short blind test."))
    assert Path(a).is_file() and Path(b).is_file() and "both" in note
    assert all(btn["interactive"] is False for btn in buttons)
    with pytest.raises(gr.Error, match="Listen to both"):
        compare.blind_vote("a", state)
    state, *buttons = compare.mark_played("a", state)
    assert buttons[0]["interactive"] is False
    state, *buttons = compare.mark_played("b", state)
    assert buttons[0]["interactive"] is True
    state, reveal, rows, *_ = compare.blind_vote("a", state)
    assert "A was" in reveal and "B was" in reveal
    assert rows and rows[0][6] == 1 and len(ctx.votes.all()) == 1
    with pytest.raises(gr.Error, match="already voted"):
        compare.blind_vote("b", state)


def test_catalog_drives_voice_cards(ctx):
    labels = studio.voice_choices("speech")
    assert [v for _, v in labels] == get_catalog().voice_ids
    realtime = studio.voice_choices("realtime")
    assert [v for _, v in realtime] == get_catalog().voice_ids  # every card, marked where Realtime lacks it
    marked = {v for label, v in realtime if "endpoint only" in label.split("\n")[0]}
    assert marked == set(get_catalog().voice_ids) - set(get_catalog().realtime.voices)


def test_old_outputs_are_pruned(ctx):
    import os
    import time

    old, fresh = ctx.output_path("old.mp3"), ctx.output_path("fresh.mp3")
    old.write_bytes(b"x")
    fresh.write_bytes(b"y")
    os.utime(old, (time.time() - 2 * 24 * 3600,) * 2)
    assert ctx.prune_outputs() == 1
    assert not old.exists() and fresh.exists()


# ---------------------------------------------------------------------- settings


def test_settings_switch_this_tab_only_and_never_echo_the_key(ctx, recorder):
    from playground.ui import settings as panel
    from tests.conftest import SECRET_KEY

    tab, other = _Session("tab-a"), _Session("tab-b")
    out = panel.apply_provider("compatible", SECRET_KEY, recorder.base_url, tab)
    header, status, key_box, _url_box, *columns = out
    assert key_box == {"__type__": "update", "value": ""}  # the key box is emptied
    assert "Compatible server" in header and recorder.base_url in header and "this tab" in status
    assert columns[0]["choices"][0] == f"OpenAI-compatible server at {recorder.base_url}"
    assert all(SECRET_KEY not in str(part) for part in out)
    assert ctx.provider_for(tab).api_key == SECRET_KEY and ctx.provider_for(other) is ctx.provider
    py, js, curl, *_ = studio.update_code(*settings(), tab)
    assert recorder.base_url in py and SECRET_KEY not in py + js + curl
    token, _ = studio.start_speech(*settings(), "", tab)
    ctx.streams.get(token).wait()
    sent = recorder.requests[-1]
    assert sent.path.endswith("/audio/speech") and sent.authorization == f"Bearer {SECRET_KEY}"
    panel.apply_provider("embedded", "", "", tab)
    assert ctx.provider_for(tab) is ctx.sessions.local


def test_settings_explain_what_is_missing(ctx):
    from playground.ui import settings as panel

    _, status, *_ = panel.apply_provider("openai", "  ", "", _Session("t"))
    assert status.startswith("⚠️") and "key" in status
    _, status, *_ = panel.apply_provider("compatible", "", "not a url", _Session("t"))
    assert status.startswith("⚠️") and "base URL" in status
    assert panel.test_connection("compatible", "", "http://127.0.0.1:9/v1").startswith("⚠️ Could not list models")


def test_test_connection_lists_models(ctx, backend_url):
    from playground.ui import settings as panel

    status = panel.test_connection("compatible", "", backend_url + "/v1")
    assert status.startswith("✅") and "whisper-1" in status and "gpt-4o-mini-tts" in status


def test_a_pasted_key_leaves_memory_with_its_tab(offline_ctx):
    """The SDK clients that hold a key live as long as the provider that owns it; when the tab
    closes (Gradio's unload) its provider, its unused relay tickets and so the key are gone."""
    import gc
    import weakref
    from types import SimpleNamespace

    from playground.ui.settings import apply_provider, forget_tab

    tab = SimpleNamespace(session_hash="tab-1")
    key = "pasted-key-for-this-tab-only"
    apply_provider("openai", key, "", tab)
    provider = offline_ctx.sessions.get("tab-1")
    assert provider.api_key == key and provider.client() is provider.client()  # one client per provider
    token = offline_ctx.relay.mint(provider, "gpt-realtime", {}, owner="tab-1")  # a ticket holds it too
    owner, client = weakref.ref(provider), weakref.ref(provider.client())
    del provider
    gc.collect()
    assert owner() is not None  # the tab is open: its settings stay

    forget_tab(tab)
    gc.collect()
    assert owner() is None and client() is None  # nothing keeps the key now
    assert offline_ctx.sessions.get("tab-1") is offline_ctx.sessions.default
    assert offline_ctx.relay.take(token) is None
