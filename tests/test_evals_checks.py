"""The pure expectation checks: each kind passes on what it asks for and fails with a
detail that says what was seen."""

from __future__ import annotations

import pytest

from playground.evals.checks import evaluate
from playground.evals.measures import ToolCall, TurnResult
from playground.evals.scenario import Expect


def turn(**kw) -> TurnResult:
    return TurnResult(index=0, kind="say", prompt="What's the weather in Paris?", **kw)


def one(expect: dict, result: TurnResult):
    (check,) = evaluate(Expect.model_validate(expect), result)
    return check


PARIS = ToolCall("get_weather", {"city": "Paris", "days": 2, "metric": True}, '{"city": "Paris"}')


def test_no_expectations_no_checks():
    assert evaluate(Expect(), turn()) == []


@pytest.mark.parametrize(
    "arguments",
    [
        {},
        {"city": {"pattern": "(?i)^par"}},
        {"city": "PARIS"},  # strings compare case-insensitively
        {"days": 2, "metric": True},
        {"city": "paris", "days": {"pattern": "^2$"}},  # a pattern on a number reads its JSON
    ],
)
def test_tool_call_passes(arguments):
    check = one({"tool_call": {"name": "get_weather", "arguments": arguments}}, turn(tool_calls=[PARIS]))
    assert check.passed and check.expectation == "tool_call" and "city='Paris'" in check.detail


@pytest.mark.parametrize(
    ("expect", "calls", "said"),
    [
        ({"name": "get_weather"}, [], "no tool was called"),
        ({"name": "get_time"}, [PARIS], "name is 'get_weather'"),
        ({"name": "get_weather", "arguments": {"city": {"pattern": "(?i)oslo"}}}, [PARIS], "matching (?i)oslo"),
        ({"name": "get_weather", "arguments": {"city": "London"}}, [PARIS], "expected city = 'London'"),
        ({"name": "get_weather", "arguments": {"days": 3}}, [PARIS], "days=2"),
        ({"name": "get_weather", "arguments": {"metric": 1}}, [PARIS], "metric=True"),  # a bool is not a number
        ({"name": "get_weather", "arguments": {"units": "c"}}, [PARIS], "no argument 'units'"),
        ({"name": "get_weather", "arguments": {"city": "x"}}, [ToolCall("get_weather", None, "{oops")], "not a JSON"),
    ],
)
def test_tool_call_fails_with_what_was_seen(expect, calls, said):
    check = one({"tool_call": expect}, turn(tool_calls=calls))
    assert not check.passed and said in check.detail


def test_any_of_several_calls_may_match():
    calls = [ToolCall("get_time", {}), PARIS]
    assert one({"tool_call": {"name": "get_weather", "arguments": {"city": "paris"}}}, turn(tool_calls=calls)).passed


def test_no_tool_call():
    assert one({"no_tool_call": True}, turn()).passed
    check = one({"no_tool_call": True}, turn(tool_calls=[PARIS]))
    assert not check.passed and "get_weather" in check.detail


def test_reply_matches_and_not_matches():
    reply = "In Paris it is 18 degrees and sunny."
    assert one({"reply_matches": r"(?i)\bsunny\b"}, turn(reply=reply)).passed
    miss = one({"reply_matches": "(?i)rain"}, turn(reply=reply))
    assert not miss.passed and "no match for (?i)rain" in miss.detail and "18 degrees" in miss.detail
    assert one({"reply_not_matches": "(?i)i don't know"}, turn(reply=reply)).passed
    hit = one({"reply_not_matches": r"\d+ degrees"}, turn(reply=reply))
    assert not hit.passed and "'18 degrees'" in hit.detail
    assert "(empty reply)" in one({"reply_matches": "x"}, turn()).detail


@pytest.mark.parametrize("name", ["first_audio_ms", "done_ms"])
def test_latency_bounds(name):
    assert one({name: {"max": 1500}}, turn(**{name: 900.0})).passed
    assert one({name: {"min": 100, "max": 1500}}, turn(**{name: 100.0})).passed
    late = one({name: {"max": 1500}}, turn(**{name: 2400.0}))
    assert not late.passed and late.detail == "2400ms, expected <= 1500ms"
    early = one({name: {"min": 200}}, turn(**{name: 50.0}))
    assert not early.passed and ">= 200ms" in early.detail
    missing = one({name: {"max": 1500}}, turn())
    assert not missing.passed and "never came" in missing.detail


def test_heard_wer():
    assert one({"heard_wer": {"max": 0.2}}, turn(heard="what's the weather in paris", heard_wer=0.0)).passed
    bad = one({"heard_wer": {"max": 0.2}}, turn(heard="what's the feather in peru", heard_wer=0.4))
    assert not bad.passed and "0.40" in bad.detail and "feather" in bad.detail
    none = one({"heard_wer": {"max": 0.2}}, turn())
    assert not none.passed and "no input transcription" in none.detail


def test_stops_within_ms():
    ok = one({"stops_within_ms": 500}, turn(stop_ms=320.0, interrupted_cancelled=True))
    assert ok.passed and "320ms" in ok.detail and "cancelled" in ok.detail
    slow = one({"stops_within_ms": 500}, turn(stop_ms=900.0, interrupted_cancelled=False))
    assert not slow.passed and "not cancelled" in slow.detail
    never = one({"stops_within_ms": 500}, turn())
    assert not never.passed and "no stop measured" in never.detail


def test_an_error_adds_a_failing_check_and_fails_the_turn():
    result = turn(errors=["timed out after 60 s waiting for the reply"], tool_calls=[PARIS])
    result.checks = evaluate(Expect.model_validate({"tool_call": {"name": "get_weather"}}), result)
    assert [c.expectation for c in result.checks] == ["error", "tool_call"]
    assert not result.checks[0].passed and "timed out" in result.checks[0].detail
    assert result.checks[1].passed and not result.passed


def test_checks_come_in_a_fixed_order():
    expect = {
        "stops_within_ms": 500,
        "heard_wer": {"max": 1},
        "done_ms": {"max": 1},
        "first_audio_ms": {"max": 1},
        "reply_not_matches": "x",
        "reply_matches": "x",
        "no_tool_call": True,
        "tool_call": {"name": "a"},
    }
    names = [c.expectation for c in evaluate(Expect.model_validate(expect), turn())]
    assert names == list(reversed(expect))
