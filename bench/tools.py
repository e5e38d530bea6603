"""Local tool calling: does the embedded backend call the right tool with the right arguments,
stay quiet where no tool fits, and state the result's facts in its answer?

The set is ``presets/tool_utterances.yaml``: the demo tools plus custom tools given only as
JSON schema. Each turn goes through the backend's own logic: ``tools_router.decide`` (and
``llm_arguments`` with the embedded LLM for what the rules leave), the tool run (the demo
``ToolBox``; canned results for the custom tools), then the answer as the realtime session
gives it (``llm_messages`` + ``relay_answer`` on SmolLM2). Prints the three rates with
counts and the latency per decision and per answer.
"""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import yaml

from playground.backend.realtime.conversation import Entry, llm_messages
from playground.backend.tools_router import decide, facts_of, llm_arguments, relay_answer, schema_errors
from playground.core.catalog import get_catalog, presets_dir
from playground.relay.tools import ToolBox, demo_tools


def load_set() -> dict[str, Any]:
    return yaml.safe_load((presets_dir() / "tool_utterances.yaml").read_text(encoding="utf-8"))


def _norm(value: Any) -> Any:
    if isinstance(value, str):
        v = value.lower().strip().rstrip(".").replace("’", "'")
        return v[4:] if v.startswith("the ") else v
    if isinstance(value, bool):
        return value
    return float(value)


@dataclass
class Scores:
    calls_right: int = 0
    calls: int = 0
    quiet_right: int = 0
    quiet: int = 0
    answers_right: int = 0
    answers: int = 0
    llm_kept: int = 0
    decide_ms: list[float] = field(default_factory=list)
    answer_ms: list[float] = field(default_factory=list)
    llm_fills: int = 0
    failures: list[str] = field(default_factory=list)

    def rate(self, ok: int, n: int) -> float:
        return ok / n if n else 1.0


def _run_tool(box: ToolBox, data: dict[str, Any], name: str, args: dict[str, Any]) -> str:
    canned = data["custom_results"].get(name)
    if canned is None:
        return box.run(name, json.dumps(args))
    out = {k: (args.get(v[1:-1]) if isinstance(v, str) and v.startswith("{") else v) for k, v in canned.items()}
    return json.dumps(out)


def _states(reply: str, output: str) -> bool:
    """The bench's own check: every data value of the result appears in the reply."""
    said = reply.lower()
    return all(f.lower().rstrip(".") in said for f in facts_of(output))


def evaluate(llm: Any, *, answers: bool = True) -> Scores:
    data = load_set()
    tools = demo_tools() + data["custom_tools"]
    by_name = {t["name"]: t for t in tools}
    box = ToolBox(clock=lambda: datetime(2026, 12, 7, 14, 5))
    box.notes = list(data.get("seed_notes") or [])
    instructions = str(get_catalog().local.realtime.default_instructions)
    s = Scores()
    for case in data["cases"]:
        said, want = case["say"], case.get("call")
        t0 = time.perf_counter()
        d = decide(said, tools)
        args = d.arguments
        if d.name and d.missing:
            s.llm_fills += 1
            args = llm_arguments(llm, said, by_name[d.name], args, d.missing)
        s.decide_ms.append((time.perf_counter() - t0) * 1000)
        if want is None:
            s.quiet += 1
            s.quiet_right += d.name is None
            if d.name is not None:
                s.failures.append(f"no tool fits {said!r}, called {d.name} {args}")
            continue
        s.calls += 1
        expected = case.get("args") or {}
        ok = (
            d.name == want
            and not schema_errors(args, by_name[want]["parameters"])
            and all(k in args and _norm(args[k]) == _norm(v) for k, v in expected.items())
        )
        s.calls_right += ok
        if not ok:
            s.failures.append(f"{said!r}: wanted {want} {expected}, got {d.name} {args}")
        if not answers or d.name is None:
            continue
        output = _run_tool(box, data, d.name, args)
        user = Entry(item={"type": "message", "role": "user", "content": [{"type": "input_text", "text": said}]})
        call = Entry(item={"type": "function_call", "call_id": "c1", "name": d.name, "arguments": json.dumps(args)})
        result = Entry(item={"type": "function_call_output", "call_id": "c1", "output": output})
        t0 = time.perf_counter()
        reply, kept = relay_answer(llm, llm_messages(instructions, [user, call, result]), d.name, output)
        s.answer_ms.append((time.perf_counter() - t0) * 1000)
        s.answers += 1
        s.llm_kept += kept
        good = _states(reply, output)
        s.answers_right += good
        if not good:
            s.failures.append(f"answer to {said!r} misses facts of {output}: {reply!r}")
    return s


def main() -> None:
    from playground.backend.engines.llama_llm import LlamaLLM

    llm = LlamaLLM(seed=0)
    t0 = time.perf_counter()
    llm.load()
    load_s = time.perf_counter() - t0
    s = evaluate(llm)
    p50 = statistics.median
    print("\n## Local tool calling (embedded backend, presets/tool_utterances.yaml)\n")
    print("| measure | value | target |")
    print("| --- | --- | --- |")
    calls = f"{s.rate(s.calls_right, s.calls):.1%} ({s.calls_right}/{s.calls})"
    print(f"| right tool, valid right arguments | {calls} | ≥ 90% |")
    print(f"| no call where none fits | {s.rate(s.quiet_right, s.quiet):.1%} ({s.quiet_right}/{s.quiet}) | ≥ 90% |")
    print(
        f"| answer states the result's facts | {s.rate(s.answers_right, s.answers):.1%} ({s.answers_right}/{s.answers})"
        " | ≥ 90% |"
    )
    print(f"| answers in the LLM's own words (facts verified) | {s.llm_kept}/{s.answers} | – |")
    print(f"| decisions that asked the LLM for arguments | {s.llm_fills}/{s.calls + s.quiet} | – |")
    print(f"| decision latency, median / max | {p50(s.decide_ms):.2f} / {max(s.decide_ms):.2f} ms | – |")
    if s.answer_ms:
        answer_ms = f"{p50(s.answer_ms):.0f} / {max(s.answer_ms):.0f} ms"
        print(f"| answer latency (LLM + check), median / max | {answer_ms} | – |")
    print(f"| LLM load | {load_s:.1f} s | – |")
    for f in s.failures:
        print(f"- {f}")
    llm.close()


if __name__ == "__main__":
    main()
