"""Judge one turn's measures against its ``Expect``: pure functions, no I/O.

Every expectation a turn names becomes one ``Check`` with a detail that says what was
seen, so a failing CI run reads as a sentence ("get_weather called with city='Oslo';
expected city matching (?i)paris"). A turn that hit an error gets one more check,
``error``, that fails: its other measures may be missing for that reason.
"""

from __future__ import annotations

import re
from typing import Any

from playground.evals.measures import Check, ToolCall, TurnResult
from playground.evals.scenario import Bound, Expect, Pattern, ToolCallExpect

__all__ = ["evaluate", "in_bound", "match_tool_call"]

#: how much of a reply a detail quotes
QUOTE_CHARS = 120


def evaluate(expect: Expect, turn: TurnResult) -> list[Check]:
    """Every expectation ``expect`` names, judged on ``turn``, in a fixed order."""
    checks: list[Check] = []
    if turn.errors:
        checks.append(Check("error", False, "; ".join(turn.errors)))
    if expect.tool_call is not None:
        checks.append(_tool_call(expect.tool_call, turn.tool_calls))
    if expect.no_tool_call:
        names = ", ".join(c.name for c in turn.tool_calls)
        checks.append(Check("no_tool_call", not turn.tool_calls, f"called {names}" if names else "no tool called"))
    if expect.reply_matches is not None:
        found = re.search(expect.reply_matches, turn.reply) is not None
        checks.append(Check("reply_matches", found, _reply_detail(expect.reply_matches, turn.reply, found)))
    if expect.reply_not_matches is not None:
        hit = re.search(expect.reply_not_matches, turn.reply)
        detail = f"found {hit.group(0)!r} in {_quote(turn.reply)}" if hit else f"no match in {_quote(turn.reply)}"
        checks.append(Check("reply_not_matches", hit is None, detail))
    for name in ("first_audio_ms", "done_ms"):
        bound = getattr(expect, name)
        if bound is not None:
            checks.append(_bound(name, bound, getattr(turn, name), "ms"))
    if expect.heard_wer is not None:
        checks.append(_bound("heard_wer", expect.heard_wer, turn.heard_wer, "", heard=turn.heard))
    if expect.stops_within_ms is not None:
        checks.append(_stops(expect.stops_within_ms, turn))
    return checks


def in_bound(value: float, bound: Bound) -> bool:
    return (bound.min is None or value >= bound.min) and (bound.max is None or value <= bound.max)


def match_tool_call(expected: ToolCallExpect, call: ToolCall) -> list[str]:
    """Why ``call`` is not the expected one (empty when it is)."""
    if call.name != expected.name:
        return [f"name is {call.name!r}"]
    if expected.arguments and call.arguments is None:
        return [f"arguments are not a JSON object: {call.raw_arguments!r}"]
    problems = []
    for key, want in expected.arguments.items():
        if key not in (call.arguments or {}):
            problems.append(f"no argument {key!r}")
            continue
        got = (call.arguments or {})[key]
        if not _arg_ok(want, got):
            shown = f"matching {want.pattern}" if isinstance(want, Pattern) else f"= {want!r}"
            problems.append(f"{key}={got!r}, expected {key} {shown}")
    return problems


def _arg_ok(want: Any, got: Any) -> bool:
    if isinstance(want, Pattern):
        return re.search(want.pattern, got if isinstance(got, str) else _json_text(got)) is not None
    if isinstance(want, str) and isinstance(got, str):
        return want.casefold() == got.casefold()
    if isinstance(want, bool) or isinstance(got, bool):
        return want is got
    return bool(want == got)


def _json_text(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)


def _tool_call(expected: ToolCallExpect, calls: list[ToolCall]) -> Check:
    if not calls:
        return Check("tool_call", False, f"expected {expected.name}; no tool was called")
    reasons = []
    for call in calls:
        problems = match_tool_call(expected, call)
        if not problems:
            return Check("tool_call", True, f"{call.name}({_args(call)})")
        reasons.append(f"{call.name}({_args(call)}): {'; '.join(problems)}")
    return Check("tool_call", False, f"expected {expected.name}; got " + " | ".join(reasons))


def _args(call: ToolCall) -> str:
    if call.arguments is None:
        return call.raw_arguments
    return ", ".join(f"{k}={v!r}" for k, v in call.arguments.items())


def _bound(name: str, bound: Bound, value: float | None, unit: str, *, heard: str | None = None) -> Check:
    want = " and ".join(
        part for part in (f">= {bound.min:g}{unit}" if bound.min is not None else "",
                          f"<= {bound.max:g}{unit}" if bound.max is not None else "") if part
    )  # fmt: skip
    if value is None:
        missing = "nothing was heard (no input transcription)" if name == "heard_wer" else "the event never came"
        return Check(name, False, f"no value: {missing}; expected {want}")
    shown = f"{value:.2f}" if name == "heard_wer" else f"{value:.0f}{unit}"
    extra = f" (heard {_quote(heard)})" if heard is not None else ""
    return Check(name, in_bound(value, bound), f"{shown}, expected {want}{extra}")


def _stops(limit: float, turn: TurnResult) -> Check:
    if turn.stop_ms is None:
        why = "nothing was interrupted, or the server never heard the speech"
        detail = f"no stop measured ({why}); expected <= {limit:g}ms"
        return Check("stops_within_ms", False, detail)
    ended = {True: "; the reply ended cancelled", False: "; the reply was not cancelled"}.get(
        turn.interrupted_cancelled, ""
    )  # type: ignore[call-overload]
    return Check("stops_within_ms", turn.stop_ms <= limit, f"{turn.stop_ms:.0f}ms, expected <= {limit:g}ms{ended}")


def _reply_detail(pattern: str, reply: str, found: bool) -> str:
    hit = re.search(pattern, reply)
    return f"found {hit.group(0)!r}" if found and hit else f"no match for {pattern} in {_quote(reply)}"


def _quote(text: str | None) -> str:
    text = (text or "").strip()
    if not text:
        return "(empty reply)"
    return repr(text if len(text) <= QUOTE_CHARS else text[: QUOTE_CHARS - 1] + "…")
