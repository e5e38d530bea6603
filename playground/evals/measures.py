"""What one turn of one run measured, and one expectation's verdict on it.

Plain dataclasses shared by the runner (which fills them), the checks (which read them)
and the report (which summarises and exports them); no I/O here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["LATENCIES", "Check", "ToolCall", "TurnResult"]

#: the per-turn latencies, in waterfall order, each milliseconds from the turn's t0
LATENCIES = ("speech_stopped_ms", "heard_ms", "response_ms", "first_audio_ms", "done_ms")


@dataclass(frozen=True)
class Check:
    """One expectation of one turn: its name (``tool_call``, ``first_audio_ms``, ...),
    whether it held, and what was seen, in words."""

    expectation: str
    passed: bool
    detail: str


@dataclass(frozen=True)
class ToolCall:
    name: str
    #: the parsed JSON object, or None when the model's arguments were not one
    arguments: dict[str, Any] | None
    raw_arguments: str = ""


@dataclass
class TurnResult:
    """One turn of one run. Times are milliseconds from t0: the end of the user's speech as
    sent (a typed turn: its ``response.create``); None where the event never came."""

    index: int
    kind: str
    #: what the user said or typed (the ``say``/``text``, an audio turn's transcript or file)
    prompt: str
    speech_stopped_ms: float | None = None
    heard_ms: float | None = None
    response_ms: float | None = None
    first_audio_ms: float | None = None
    done_ms: float | None = None
    #: barge-in turns: the start of this turn's speech → the interrupted reply's audio stopped
    stop_ms: float | None = None
    #: barge-in turns: whether the interrupted reply ended ``cancelled``
    interrupted_cancelled: bool | None = None
    #: what the server transcribed of the user's speech, and its WER against the reference
    heard: str | None = None
    heard_wer: float | None = None
    #: the reply's audio transcript and text, over every response of the turn
    reply: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    #: how each response of the turn ended (completed, cancelled, failed, ...)
    statuses: list[str] = field(default_factory=list)
    input_tokens: int = 0
    output_tokens: int = 0
    #: USD; None when a response used a token kind the catalog has no price for
    cost: float | None = None
    errors: list[str] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.errors and all(c.passed for c in self.checks)

    def latencies(self) -> dict[str, float | None]:
        return {name: getattr(self, name) for name in LATENCIES}
