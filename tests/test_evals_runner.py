"""The eval runner end to end: the official SDK against the real embedded backend, turns
played in real time, in realtime and chained mode; the report's exports; the CLI's exit codes."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from playground.client.providers import embedded_provider
from playground.evals.report import EvalReport
from playground.evals.runner import run_scenario
from playground.evals.scenario import Scenario

pytestmark = pytest.mark.models

WEATHER = {
    "name": "weather",
    "session": {
        "model": "gpt-realtime-2.1-mini",
        "instructions": "You are a concise weather assistant.",
        "tools": ["demo:get_weather"],
        "audio": {"input": {"turn_detection": {"type": "server_vad", "silence_duration_ms": 500}}},
    },
    "turns": [
        {
            "text": "What's the weather in Paris?",
            "expect": {
                "tool_call": {"name": "get_weather", "arguments": {"city": {"pattern": "(?i)paris"}}},
                "reply_matches": "(?i)paris",
            },
        },
        {
            "say": "Weather in Tokyo?",
            "expect": {
                "tool_call": {"name": "get_weather", "arguments": {"city": {"pattern": "(?i)tokyo"}}},
                "heard_wer": {"max": 0.5},
                "first_audio_ms": {"max": 30000},
            },
        },
    ],
}

#: a long reply, interrupted by speech 300 ms after its first audio
BARGE_IN = {
    "name": "barge in",
    "session": {
        "model": "gpt-realtime-2.1-mini",
        "instructions": "Tell long, detailed stories of many sentences.",
        "audio": {"input": {"turn_detection": {"type": "server_vad", "silence_duration_ms": 500}}},
    },
    "turns": [
        {"text": "Tell me a long story about a dragon.", "expect": {"reply_matches": "(?i)xylophone-zebra"}},
        {"say": "Stop please.", "barge_in_after_ms": 300, "expect": {"stops_within_ms": 10000}},
    ],
}


def run(backend_url: str, spec: dict, **kw) -> EvalReport:
    return asyncio.run(run_scenario(Scenario.model_validate(spec), embedded_provider(backend_url), **kw))


@pytest.fixture(scope="module")
def realtime(backend_url) -> tuple[EvalReport, list]:
    progress: list = []
    report = run(backend_url, WEATHER, on_progress=lambda *a: progress.append(a))
    return report, progress


def test_a_realtime_run_measures_every_turn_and_passes(realtime):
    report, progress = realtime
    assert report.passed, report.table()
    assert (report.scenario, report.mode, report.model) == ("weather", "realtime", "gpt-realtime-2.1-mini")
    assert report.provider == "Embedded local backend"
    assert any("input transcription" in n for n in report.notes)  # heard_wer needs one; the runner added it
    assert progress[-1][:2] == (2, 2) and all(total == 2 for _, total, _ in progress)
    typed, spoken = report.runs[0].turns
    for t in (typed, spoken):
        assert t.tool_calls[0].name == "get_weather" and t.statuses[-1] == "completed"
        assert 0 <= t.response_ms <= t.first_audio_ms <= t.done_ms, t
        assert t.input_tokens + t.output_tokens > 0 and t.cost is not None and t.cost > 0
        assert t.reply.strip()
    assert typed.speech_stopped_ms is None and typed.heard is None
    assert "tokyo" in spoken.heard.lower() and spoken.heard_wer is not None and spoken.heard_wer <= 0.5
    assert 0 < spoken.speech_stopped_ms <= spoken.response_ms and spoken.heard_ms is not None
    assert {c.expectation for c in spoken.checks} == {"tool_call", "heard_wer", "first_audio_ms"}


def test_the_exports(realtime):
    report, _ = realtime
    data = json.loads(json.dumps(report.to_json(), allow_nan=False))
    assert data["passed"] is True and len(data["runs"][0]["turns"]) == 2
    assert data["summary"][1]["passes"] == {"tool_call": [1, 1], "heard_wer": [1, 1], "first_audio_ms": [1, 1]}
    assert data["summary"][1]["p50"]["first_audio_ms"] == report.runs[0].turns[1].first_audio_ms

    suite = ET.fromstring(report.to_junit()).find("testsuite")
    assert suite.get("name") == "weather" and suite.get("tests") == "5" and suite.get("failures") == "0"
    cases = suite.findall("testcase")
    assert [(c.get("classname"), c.get("name")) for c in cases] == [
        ("weather.turn1", "tool_call"),
        ("weather.turn1", "reply_matches"),
        ("weather.turn2", "tool_call"),
        ("weather.turn2", "first_audio_ms"),
        ("weather.turn2", "heard_wer"),
    ]

    page = report.to_html()
    assert page.startswith("<!doctype html>") and page.count("Plotly.newPlot") == 2  # a waterfall per turn
    assert page.count("plotly.js v") == 1  # the library inline, once
    assert "first audio" in page and "response created" in page and "PASS" in page

    text = report.table()
    assert "weather" in text and "PASS" in text and "2/2" in text.splitlines()[3]


def test_chained_mode_measures_the_same_turns(backend_url):
    report = run(backend_url, WEATHER, mode="chained", chat_model="gpt-4o-mini")
    assert report.mode == "chained" and report.model == "gpt-4o-mini"
    typed, spoken = report.runs[0].turns
    for t in (typed, spoken):
        assert not t.errors, t.errors
        assert t.response_ms is not None and t.first_audio_ms <= t.done_ms and t.reply.strip()
    assert spoken.heard and spoken.heard_wer is not None and spoken.heard_ms > 0
    # the embedded chat endpoint ignores tools, so no call: a failing expectation with its reason
    assert not report.passed
    assert any(c.expectation == "tool_call" and "no tool was called" in c.detail for c in typed.checks)


def test_a_barge_in_records_the_stop_and_a_failing_expectation_fails_the_report(backend_url):
    report = run(backend_url, BARGE_IN)
    story, stop = report.runs[0].turns
    assert story.first_audio_ms is not None and story.statuses == ["cancelled"]
    assert stop.stop_ms is not None and 0 < stop.stop_ms < 10000 and stop.interrupted_cancelled is True
    assert [c.passed for c in stop.checks] == [True]

    assert not report.passed
    (failed,) = [c for c in story.checks if not c.passed]
    assert failed.expectation == "reply_matches" and "no match for (?i)xylophone-zebra" in failed.detail
    suite = ET.fromstring(report.to_junit()).find("testsuite")
    assert (suite.get("tests"), suite.get("failures")) == ("2", "1")
    failure = suite.find("testcase[@name='reply_matches']/failure")
    assert "xylophone-zebra" in failure.text and failure.get("message") == "reply_matches: 0/1 runs passed"


def cli(args: list[str], cwd, env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, "-m", "playground.cli", "eval", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


SCENARIO_YAML = """\
name: cli weather
session:
  model: gpt-realtime-2.1-mini
  tools: [demo:get_weather]
turns:
  - text: What's the weather in Berlin?
    expect:
      tool_call: {{name: get_weather, arguments: {{city: berlin}}}}
      reply_matches: "{reply}"
"""


def test_the_cli_exits_0_when_all_pass_and_1_when_one_fails(tmp_path, backend_url):
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text(SCENARIO_YAML.format(reply="(?i)berlin"))
    bad.write_text(SCENARIO_YAML.format(reply="(?i)timbuktu"))

    # the embedded backend started in-process, as with no provider variables
    passed = cli([str(good), "--junit", "out.xml", "--json", "out.json", "--html", "out.html"], tmp_path)
    assert passed.returncode == 0, passed.stderr + passed.stdout
    assert "cli weather" in passed.stdout and "PASS" in passed.stdout
    suite = ET.parse(tmp_path / "out.xml").getroot().find("testsuite")
    assert (suite.get("tests"), suite.get("failures")) == ("2", "0")
    assert json.loads((tmp_path / "out.json").read_text())["passed"] is True
    assert "Plotly.newPlot" in (tmp_path / "out.html").read_text()

    # the same backend as a compatible server, for speed
    failed = cli([str(good), str(bad), "--junit", "both.xml"], tmp_path, {"OPENAI_BASE_URL": backend_url + "/v1"})
    assert failed.returncode == 1, failed.stderr + failed.stdout
    assert "timbuktu" in failed.stdout and "1/2 scenario(s) passed" in failed.stderr
    root = ET.parse(tmp_path / "both.xml").getroot()
    assert [s.get("failures") for s in root.findall("testsuite")] == ["0", "1"]


def test_the_cli_exits_2_naming_the_file_line_and_field(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text(SCENARIO_YAML.format(reply="(?i)berlin").replace("text: What", "txet: What"))
    proc = cli([str(broken)], tmp_path)
    assert proc.returncode == 2
    assert f"{broken}:" in proc.stderr and "txet" in proc.stderr


def test_an_unreachable_provider_fails_every_turn_without_the_key():
    key = "sk" + "-evaltest" + "Q7" * 12  # built up, so no key-shaped literal sits in the tree
    scenario = Scenario.model_validate({**WEATHER, "turns": WEATHER["turns"][:1]})
    report = asyncio.run(run_scenario(scenario, embedded_provider("http://127.0.0.1:9", key), runs=2))
    assert not report.passed and [r.index for r in report.runs] == [0, 1]
    for r in report.runs:
        assert r.error and "could not run" in r.error
        assert r.turns[0].checks[0].expectation == "error" and not r.turns[0].checks[0].passed
    dumped = json.dumps(report.to_json()) + report.to_html() + report.to_junit() + report.table()
    assert key not in dumped
