"""Local tool calling on the embedded backend: the 54-turn set, generalisation to custom
tools from their schema, answers that state a result's facts, and a realtime round trip."""

from __future__ import annotations

import asyncio
import json

import pytest

from bench.tools import evaluate
from playground.backend.engines.llama_llm import LlamaLLM
from playground.backend.tools_router import (
    answer_from_result,
    decide,
    decide_all,
    pick_answer,
    schema_errors,
    states_facts,
)
from playground.relay.tools import ToolBox, demo_tools
from tests.backend.realtime_support import client_for, collect, one, types


def test_the_utterance_set_meets_the_rates():
    """Through the backend's own decision and answer code; the LLM loads only if the rules
    leave an argument to it (none in this set)."""
    llm = LlamaLLM()
    try:
        s = evaluate(llm)
    finally:
        llm.close()
    assert s.calls + s.quiet >= 40
    assert s.quiet >= 10 and s.calls >= 30
    assert s.calls_right / s.calls >= 0.9, s.failures
    assert s.quiet_right / s.quiet >= 0.9, s.failures
    assert s.answers_right / s.answers >= 0.9, s.failures


def test_custom_tools_are_routed_from_their_schema_alone():
    timer = {
        "type": "function",
        "name": "set_timer",
        "description": "Start a countdown timer.",
        "parameters": {
            "type": "object",
            "properties": {"minutes": {"type": "integer", "description": "Length in minutes"}},
            "required": ["minutes"],
            "additionalProperties": False,
        },
    }
    tools = [*demo_tools(), timer]
    d = decide("Set a timer for 10 minutes.", tools)
    assert (d.name, d.arguments) == ("set_timer", {"minutes": 10})
    assert not schema_errors(d.arguments, timer["parameters"])
    assert decide("What time is it?", tools).name == "get_time"
    assert decide("Tell me a joke.", tools).name is None
    # the turns
    d = decide("What's the weather like in Berlin right now?", tools)
    assert (d.name, d.arguments) == ("get_weather", {"city": "Berlin"})


def test_forced_choice_always_picks_a_tool():
    d = decide("Hello there", demo_tools(["get_time"]), allow_none=False)
    assert d.name == "get_time"


def test_answers_state_the_facts_or_fall_back_to_the_template():
    out = ToolBox().run("get_weather", json.dumps({"city": "Paris"}))
    assert not states_facts("Bonjour, it's a beautiful day in Paris!", out)
    text, kept = pick_answer("Bonjour, it's a beautiful day in Paris!", "get_weather", out)
    assert not kept and "18" in text and "sunny" in text and "9" in text
    assert states_facts("In Paris it is 18 degrees, sunny, wind 9 km/h.", out)
    assert not states_facts("In Paris it is 18 degrees, sunny, wind 9 km/h, rain at 40%.", out)
    assert answer_from_result("recall_notes", json.dumps({"notes": []})) == "Notes: none."
    assert "which city" in answer_from_result("get_weather", json.dumps({"error": "which city?"}))


async def _berlin(backend_url: str) -> tuple[list, list]:
    async with client_for(backend_url).realtime.connect(model="gpt-realtime") as conn:
        await collect(conn, "session.created")
        session = {"type": "realtime", "output_modalities": ["text"], "tools": demo_tools()}
        await conn.session.update(session=session)
        await collect(conn, "session.updated")
        text = "What's the weather like in Berlin right now?"
        await conn.conversation.item.create(
            item={"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}
        )
        await conn.response.create()
        first = await collect(conn, "response.done")
        call = one(first, "response.function_call_arguments.done")
        output = ToolBox().run(call.name, call.arguments)
        await conn.conversation.item.create(
            item={"type": "function_call_output", "call_id": call.call_id, "output": output}
        )
        await conn.response.create()
        second = await collect(conn, "response.done")
    return first, second


@pytest.mark.models
def test_realtime_weather_in_berlin_calls_the_tool_and_states_the_result(backend_url):
    first, second = asyncio.run(_berlin(backend_url))
    call = one(first, "response.function_call_arguments.done")
    assert call.name == "get_weather" and json.loads(call.arguments) == {"city": "Berlin"}
    assert "response.output_text.done" not in types(first)
    reply = one(second, "response.output_text.done").text.lower()
    assert "9" in reply and "overcast" in reply, reply  # presets/demo_tools.yaml: Berlin 9 °C, overcast
    assert "response.function_call_arguments.done" not in types(second)


@pytest.mark.parametrize(
    ("text", "calls"),
    [
        (
            "What's the weather in Paris and in Oslo?",
            [("get_weather", {"city": "Paris"}), ("get_weather", {"city": "Oslo"})],
        ),
        ("What's the weather in Paris and what time is it?", [("get_weather", {"city": "Paris"}), ("get_time", {})]),
        (
            "Weather in Berlin; also the weather in Rome",
            [("get_weather", {"city": "Berlin"}), ("get_weather", {"city": "Rome"})],
        ),
        ("What's the weather in Paris?", [("get_weather", {"city": "Paris"})]),
        ("What's the weather in Paris and in Paris?", [("get_weather", {"city": "Paris"})]),
        ("I like cats and dogs", []),
    ],
)
def test_one_turn_can_ask_for_several_calls(text, calls):
    found = decide_all(text, demo_tools())
    assert [(d.name, d.arguments) for d in found] == calls


async def _two_cities(backend_url: str, parallel: bool) -> tuple[list, list]:
    async with client_for(backend_url).realtime.connect(model="gpt-realtime-2") as conn:
        await collect(conn, "session.created")
        session = {
            "type": "realtime",
            "output_modalities": ["text"],
            "tools": demo_tools(["get_weather"]),
            "parallel_tool_calls": parallel,
        }
        await conn.session.update(session=session)
        await collect(conn, "session.updated")
        text = "What's the weather in Paris and in Oslo?"
        await conn.conversation.item.create(
            item={"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}
        )
        await conn.response.create()
        first = await collect(conn, "response.done")
        box = ToolBox()
        for call in (e for e in first if e.type == "response.function_call_arguments.done"):
            output = box.run(call.name, call.arguments)
            await conn.conversation.item.create(
                item={"type": "function_call_output", "call_id": call.call_id, "output": output}
            )
        await conn.response.create()
        second = await collect(conn, "response.done")
    return first, second


@pytest.mark.models
def test_parallel_tool_calls_decides_how_many_calls_one_turn_gets(backend_url):
    both, answer = asyncio.run(_two_cities(backend_url, parallel=True))
    calls = [json.loads(e.arguments) for e in both if e.type == "response.function_call_arguments.done"]
    assert calls == [{"city": "Paris"}, {"city": "Oslo"}]
    assert [o.type for o in both[-1].response.output] == ["function_call", "function_call"]
    reply = one(answer, "response.output_text.done").text
    assert "Paris" in reply and "Oslo" in reply, reply  # both results stated
    single, _ = asyncio.run(_two_cities(backend_url, parallel=False))
    calls = [json.loads(e.arguments) for e in single if e.type == "response.function_call_arguments.done"]
    assert calls == [{"city": "Paris"}]
