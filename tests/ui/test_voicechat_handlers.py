"""Voice chat handlers: the settings the page applies, relay tickets, custom tools, the code panel."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from playground.ui import voicechat

MODE = next(iter(voicechat.MODES))


def values(**overrides):
    base = dict(
        model="gpt-realtime",
        voice="marin",
        instructions="Be brief.",
        speed=1.0,
        turn="server_vad",
        threshold=0.5,
        silence=500,
        prefix=300,
        eagerness="auto",
        transcription="gpt-4o-mini-transcribe",
        noise="",
        output="audio",
        interrupt=True,
        demo=[],
        custom="",
        mcp_url="",
        mcp_label="",
    )
    base.update(overrides)
    return list(base.values())


REQUEST = SimpleNamespace(session_hash="page-1")


def test_live_settings_are_the_session_the_page_sends(offline_ctx):
    cfg = json.loads(voicechat.live_config(MODE, "gpt-4o-mini", *values(speed=1.25, turn="none"), request=REQUEST))
    assert cfg["session"]["audio"]["output"]["speed"] == 1.25
    assert cfg["session"]["audio"]["input"]["turn_detection"] is None and cfg["manual"] is True
    assert cfg["session"]["instructions"] == "Be brief."
    assert cfg["prices"]["audio_output"] == 64.0 and cfg["local"] is True
    assert "ticket" not in cfg


@pytest.mark.parametrize(
    ("overrides", "field"),
    [({"speed": 2.0}, "speed"), ({"voice": "fable"}, "voice"), ({"custom": "{not json"}, "tools")],
)
def test_bad_settings_are_named_and_never_sent(offline_ctx, overrides, field):
    cfg = json.loads(voicechat.live_config(MODE, "gpt-4o-mini", *values(**overrides), request=REQUEST))
    assert set(cfg) == {"error"} and field in cfg["error"]
    connect = json.loads(voicechat.connect_config(MODE, "gpt-4o-mini", *values(**overrides), request=REQUEST))
    assert set(connect) == {"error"}


def test_connect_mints_a_one_time_ticket_with_the_tools(offline_ctx):
    custom = json.dumps([{"name": "lookup_order", "parameters": {"type": "object"}, "result": {"status": "shipped"}}])
    v = values(demo=["get_weather"], custom=custom, mcp_url="https://mcp.example.com/sse", mcp_label="docs")
    cfg = json.loads(voicechat.connect_config(MODE, "gpt-4o-mini", *v, request=REQUEST))
    tools = cfg["session"]["tools"]
    assert [t.get("name") or t["type"] for t in tools] == ["get_weather", "lookup_order", "mcp"]
    assert tools[2]["server_url"] == "https://mcp.example.com/sse"
    ticket = offline_ctx.relay.take(cfg["ticket"])
    assert ticket is not None and ticket.mode == "realtime" and ticket.session == cfg["session"]
    assert offline_ctx.relay.take(cfg["ticket"]) is None
    assert json.loads(ticket.tools.run("lookup_order", "{}")) == {"status": "shipped"}
    assert json.loads(ticket.tools.run("get_weather", '{"city": "Paris"}'))["conditions"] == "sunny"


def test_chained_mode_carries_its_chat_model(offline_ctx):
    chained = next(label for label, mode in voicechat.MODES.items() if mode == "chained")
    cfg = json.loads(voicechat.connect_config(chained, "gpt-4.1-mini", *values(), request=REQUEST))
    ticket = offline_ctx.relay.take(cfg["ticket"])
    assert ticket.mode == "chained" and ticket.chat_model == "gpt-4.1-mini" and cfg["prices"] == {}
    bad = json.loads(voicechat.connect_config(chained, "nope", *values(), request=REQUEST))
    assert "nope" in bad["error"]


@pytest.mark.parametrize(
    "text",
    [
        '[{"name": "has space"}]',
        '[{"name": "ok", "parameters": {"type": "string"}}]',
        "[1, 2]",
        json.dumps([{"name": f"t{i}"} for i in range(voicechat.CUSTOM_TOOLS_MAX + 1)]),
    ],
)
def test_custom_tools_are_checked(text):
    with pytest.raises(voicechat.SpecError):
        voicechat.custom_tools(text)


def test_code_panel_replays_an_exported_conversation(offline_ctx):
    code = voicechat.realtime_code(MODE, "gpt-4o-mini", *values(demo=["get_time"]), request=REQUEST)
    assert "client.realtime.connect" in code and voicechat.REPLAY_FILE in code and '"get_time"' in code
    assert "Fix the settings" in voicechat.realtime_code(MODE, "gpt-4o-mini", *values(speed=9), request=REQUEST)
