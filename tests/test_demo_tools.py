"""The realtime demo tools: definitions the backend accepts, outputs the model can read."""

from __future__ import annotations

import json
from datetime import datetime

from playground.backend.realtime.config import default_session, update_session
from playground.relay.tools import MAX_NOTES, ToolBox, demo_tools


def test_definitions_pass_the_backends_session_validation():
    tools = demo_tools()
    assert [t["name"] for t in tools] == ["get_weather", "remember_note", "recall_notes", "get_time"]
    session = update_session(default_session("gpt-realtime"), {"tools": tools}, voice_locked=False)
    assert [t["name"] for t in session["tools"]] == [t["name"] for t in tools]
    assert [t["name"] for t in demo_tools(["get_time", "get_weather"])] == ["get_weather", "get_time"]


def test_weather_is_canned_and_says_so():
    box = ToolBox()
    paris = json.loads(box.run("get_weather", '{"city": "Paris"}'))
    assert paris["temperature_c"] == 18 and paris["conditions"] == "sunny" and "demo" in paris["note"]
    elsewhere = json.loads(box.run("get_weather", '{"city": "Reykjavik"}'))
    assert elsewhere["city"] == "Reykjavik" and "conditions" in elsewhere
    assert "error" in json.loads(box.run("get_weather", "{}"))


def test_notes_are_remembered_per_conversation_and_bounded():
    box, other = ToolBox(), ToolBox()
    for i in range(MAX_NOTES + 5):
        box.run("remember_note", json.dumps({"note": f"note {i}"}))
    notes = json.loads(box.run("recall_notes", "{}"))["notes"]
    assert len(notes) == MAX_NOTES and notes[-1] == f"note {MAX_NOTES + 4}"
    assert json.loads(other.run("recall_notes", "{}"))["notes"] == []


def test_clock_and_bad_calls():
    box = ToolBox(clock=lambda: datetime(2026, 11, 22, 9, 5))
    assert json.loads(box.run("get_time", "{}")) == {"date": "Sunday 22 November 2026", "time": "09:05"}
    assert "error" in json.loads(box.run("launch_rocket", "{}"))
    assert "error" in json.loads(box.run("get_weather", "{not json"))
    assert "error" in json.loads(box.run("get_weather", "[1]"))
