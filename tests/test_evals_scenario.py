"""Scenario files: the shipped ones load, and each kind of mistake names its file, line and field."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

from playground.core.catalog import get_catalog
from playground.evals.loader import load_scenario, parse_scenario, shipped_scenarios
from playground.evals.scenario import RUNS_MAX, CannedTool, Pattern, Scenario, ScenarioError

REALTIME_DEFAULT = get_catalog().realtime.default_model


def test_every_shipped_scenario_loads():
    paths = shipped_scenarios()
    assert {p.stem for p in paths} >= {"weather", "notes", "interruption", "noisy", "push_to_talk"}
    for path in paths:
        scenario = load_scenario(path)
        assert scenario.source == path
        assert scenario.model == REALTIME_DEFAULT, path
        assert scenario.description and "\n" not in scenario.description
        for turn in scenario.turns:
            if turn.audio is not None:
                assert scenario.recording(turn).is_file()


def test_shipped_scenarios_cover_what_the_issue_asks():
    by_stem = {p.stem: load_scenario(p) for p in shipped_scenarios()}
    assert not by_stem["weather"].manual_turns and all(t.kind == "say" for t in by_stem["weather"].turns)
    assert any(t.barge_in_after_ms is not None and t.expect.stops_within_ms for t in by_stem["interruption"].turns)
    assert any(t.noise_snr_db is not None and t.expect.heard_wer for t in by_stem["noisy"].turns)
    ptt = by_stem["push_to_talk"]
    assert ptt.manual_turns
    recorded = [t for t in ptt.turns if t.kind == "audio"]
    assert recorded and all(t.transcript for t in recorded)
    for turn in recorded:
        path = ptt.recording(turn)
        assert path.suffix in {".flac", ".wav"} and path.stat().st_size < 150_000
    notes = by_stem["notes"]
    assert [t.expect.tool_call.name for t in notes.turns if t.expect.tool_call] == ["remember_note", "recall_notes"]


def _write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def _error(tmp_path: Path, text: str) -> ScenarioError:
    path = _write(tmp_path, text)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    err = caught.value
    assert err.path == str(path) and str(err).startswith(str(path))
    return err


VALID = """
    name: ok
    session:
      model: gpt-realtime-2.1-mini
    turns:
      - say: hello
"""

# each mistake: the scenario, the line the error must name, the field, and a word of the message
MISTAKES = {
    "yaml syntax": (
        """
        name: broken
        session: {model: gpt-realtime-2.1-mini
        turns: []
        """,
        3,
        "",
        "YAML",
    ),
    "unknown field": (
        """
        name: typo
        session: {model: gpt-realtime-2.1-mini}
        turns:
          - say: hi
            expect:
              reply_matchs: hello
        """,
        6,
        "turns[0].expect.reply_matchs",
        "unknown field",
    ),
    "two sources in a turn": (
        """
        name: two
        session: {model: gpt-realtime-2.1-mini}
        turns:
          - say: hi
          - say: hello
            text: hello
        """,
        5,
        "turns[1]",
        "exactly one of say, audio or text",
    ),
    "bad regex": (
        """
        name: regex
        session: {model: gpt-realtime-2.1-mini}
        turns:
          - text: hi
            expect: {reply_matches: "(unclosed"}
        """,
        5,
        "turns[0].expect.reply_matches",
        "regular expression",
    ),
    "unknown demo tool": (
        """
        name: tools
        session:
          model: gpt-realtime-2.1-mini
          tools:
            - demo:get_weather
            - demo:order_pizza
        turns:
          - text: hi
        """,
        6,
        "session.tools[1]",
        "demo:order_pizza",
    ),
    "missing recording": (
        """
        name: walk
        session: {model: gpt-realtime-2.1-mini}
        turns:
          - say: first
          - audio: recordings/absent.wav
            transcript: second
        """,
        5,
        "turns[1].audio",
        "absent.wav",
    ),
    "unknown voice": (
        """
        name: voice
        session: {model: gpt-realtime-2.1-mini}
        turns:
          - say: hi
            voice: robot
        """,
        5,
        "turns[0].voice",
        "robot",
    ),
    "missing session.model": (
        """
        name: nomodel
        description: the session forgot its model
        session:
          instructions: be brief
        turns:
          - say: hi
        """,
        3,
        "session.model",
        "session.model is required",
    ),
    "runs over the max": (
        f"""
        name: many
        session: {{model: gpt-realtime-2.1-mini}}
        turns:
          - say: hi
        runs: {RUNS_MAX + 1}
        """,
        5,
        "runs",
        str(RUNS_MAX),
    ),
    "empty file": ("# only a comment\n", None, "", "empty"),
    "non-mapping top level": (
        """
        - say: hi
        - say: there
        """,
        1,
        "",
        "mapping",
    ),
    "missing field of a tool call": (
        """
        name: call
        session: {model: gpt-realtime-2.1-mini, tools: [demo:get_weather]}
        turns:
          - say: weather?
            expect:
              tool_call:
                arguments: {city: Paris}
        """,
        6,
        "turns[0].expect.tool_call.name",
        "required",
    ),
    "misspelt pattern": (
        """
        name: call
        session: {model: gpt-realtime-2.1-mini, tools: [demo:get_weather]}
        turns:
          - say: weather?
            expect:
              tool_call:
                name: get_weather
                arguments:
                  city: {patern: paris}
        """,
        9,
        "turns[0].expect.tool_call.arguments.city.patern",
        "'pattern'",
    ),
    "unknown session field": (
        """
        name: session
        session:
          model: gpt-realtime-2.1-mini
          voise: marin
        turns:
          - say: hi
        """,
        4,
        "session.voise",
        "voise",
    ),
    "unknown audio.input field": (
        """
        name: session
        session:
          model: gpt-realtime-2.1-mini
          audio:
            input:
              turn_detecton: null
        turns:
          - say: hi
        """,
        6,
        "session.audio.input.turn_detecton",
        "turn_detecton",
    ),
    "bad canned tool": (
        """
        name: canned
        session:
          model: gpt-realtime-2.1-mini
          tools:
            - demo:get_weather
            - name: lookup order
              result: {status: shipped}
        turns:
          - say: hi
        """,
        6,
        "session.tools[1].name",
        "pattern",
    ),
    "duplicate key": (
        """
        name: one
        session: {model: gpt-realtime-2.1-mini}
        name: two
        turns:
          - say: hi
        """,
        3,
        "name",
        "twice",
    ),
    "no turns": (
        """
        name: silent
        session: {model: gpt-realtime-2.1-mini}
        """,
        1,
        "turns",
        "required",
    ),
}


@pytest.mark.parametrize("case", list(MISTAKES))
def test_a_mistake_names_file_line_and_field(tmp_path, case):
    text, line, field, word = MISTAKES[case]
    err = _error(tmp_path, text)
    assert (err.line, err.field) == (line, field), str(err)
    assert word in err.message, str(err)
    assert "Value error" not in err.message


def test_a_file_over_the_limit_is_refused_before_parsing(tmp_path):
    limit = get_catalog().limits.eval_file_max_bytes
    path = _write(tmp_path, VALID + "#" * limit)
    with pytest.raises(ScenarioError, match=f"may have {limit}"):
        load_scenario(path)


def test_an_unreadable_file_is_a_scenario_error(tmp_path):
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenario(tmp_path / "absent.yaml")


def test_a_recording_is_found_beside_the_file(tmp_path):
    (tmp_path / "recordings").mkdir()
    (tmp_path / "recordings" / "hi.wav").write_bytes(b"RIFF")
    path = _write(
        tmp_path,
        """
        name: walk
        session: {model: gpt-realtime-2.1-mini}
        turns:
          - audio: recordings/hi.wav
            transcript: hi
            expect: {heard_wer: {max: 0.3}}
        """,
    )
    scenario = load_scenario(path)
    assert scenario.recording(scenario.turns[0]) == tmp_path / "recordings" / "hi.wav"


INLINE = """
name: round trip
description: every kind of turn and expectation
session:
  model: gpt-realtime-2.1-mini
  instructions: Be brief.
  tools:
    - demo:get_weather
    - name: lookup_order
      description: Find an order by number.
      parameters: {type: object, properties: {order: {type: string}}, required: [order]}
      result: {status: shipped, eta_days: 2}
  audio:
    input: {turn_detection: {type: semantic_vad, eagerness: high}}
turns:
  - say: What's the weather in Paris?
    voice: marin
    noise_snr_db: 15
    expect:
      tool_call: {name: get_weather, arguments: {city: {pattern: "(?i)paris"}, units: metric}}
      reply_matches: "(?i)degrees"
      first_audio_ms: {max: 8000}
      done_ms: {min: 10, max: 30000}
      heard_wer: {max: 0.4}
  - text: Where is order 42?
    barge_in_after_ms: 300
    expect:
      stops_within_ms: 1500
      tool_call: {name: lookup_order}
      reply_not_matches: "(?i)i don't know"
  - text: Thanks.
    expect: {no_tool_call: true}
runs: 3
"""


def test_an_inline_scenario_round_trips():
    scenario = parse_scenario(INLINE)
    assert scenario.source is None and scenario.runs == 3
    weather, canned = scenario.session["tools"]
    assert weather == "demo:get_weather" and isinstance(canned, CannedTool)
    assert canned.result == {"status": "shipped", "eta_days": 2}
    city = scenario.turns[0].expect.tool_call.arguments["city"]
    assert isinstance(city, Pattern) and city.pattern == "(?i)paris"
    assert [t.kind for t in scenario.turns] == ["say", "text", "text"]
    again = parse_scenario(yaml.safe_dump(scenario.model_dump(mode="json"), sort_keys=False))
    assert again == scenario
    assert Scenario.model_validate(scenario.model_dump()) == scenario


def test_parse_names_the_path_it_is_given(tmp_path):
    with pytest.raises(ScenarioError) as caught:
        parse_scenario("name: x\n", "edited.yaml")
    assert str(caught.value).startswith("edited.yaml:1: session: required")
    scenario = parse_scenario(textwrap.dedent(VALID), str(tmp_path / "mine.yaml"))
    assert scenario.source == tmp_path / "mine.yaml"
