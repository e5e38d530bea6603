"""Voice-agent eval scenarios: one scripted conversation per YAML file.

A scenario names the session (exactly what ``session.update`` takes, plus the model), the
user's turns (spoken by a playground voice, replayed from a recording, or typed) and what
each reply must do. Parsing is strict: an unknown field, a turn with two sources or a
regular expression that does not compile is an error naming the file, the line and the
field (``ScenarioError``), before anything connects.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from openai.types.realtime.realtime_audio_config_input_param import RealtimeAudioConfigInputParam
from openai.types.realtime.realtime_audio_config_output_param import RealtimeAudioConfigOutputParam
from openai.types.realtime.realtime_session_create_request_param import RealtimeSessionCreateRequestParam
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "Bound",
    "CannedTool",
    "Expect",
    "Pattern",
    "Scenario",
    "ScenarioError",
    "ToolCallExpect",
    "Turn",
]

#: the keys ``session.update`` takes, from the installed SDK's request type
SESSION_KEYS = frozenset(RealtimeSessionCreateRequestParam.__annotations__)
AUDIO_INPUT_KEYS = frozenset(RealtimeAudioConfigInputParam.__annotations__)
AUDIO_OUTPUT_KEYS = frozenset(RealtimeAudioConfigOutputParam.__annotations__)
DEMO_PREFIX = "demo:"
RUNS_MAX = 20


class ScenarioError(ValueError):
    """A mistake in a scenario file: where it is (file, line, field) and what is wrong."""

    def __init__(self, path: str, line: int | None, field: str, message: str) -> None:
        self.path, self.line, self.field, self.message = path, line, field, message
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {field}: {message}" if field else f"{where}: {message}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _compiles(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as e:
        raise ValueError(f"not a valid regular expression ({e})") from None
    return pattern


class Pattern(_Strict):
    """A tool argument that must match a regular expression (``re.search``)."""

    pattern: str

    _check = field_validator("pattern")(classmethod(lambda cls, v: _compiles(v)))


#: an expected argument: an exact value, or ``{pattern: ...}``
ArgExpect = Pattern | str | int | float | bool | None


class ToolCallExpect(_Strict):
    name: str
    #: only the named arguments are checked; extra arguments the model adds are allowed
    arguments: dict[str, ArgExpect] = Field(default_factory=dict)


class Bound(_Strict):
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _some(self) -> Bound:
        if self.min is None and self.max is None:
            raise ValueError("give min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min is above max")
        return self


class Expect(_Strict):
    """What one turn's reply must do; every field is optional."""

    tool_call: ToolCallExpect | None = None
    #: the reply calls no tool at all
    no_tool_call: bool = False
    reply_matches: str | None = None
    reply_not_matches: str | None = None
    #: end of the user's speech (or the typed turn's response.create) to the first audio delta
    first_audio_ms: Bound | None = None
    #: ... to response.done
    done_ms: Bound | None = None
    #: a barge-in turn: from the start of its speech to the moment the interrupted reply's
    #: audio stopped coming (the server heard the speech, or its last delta arrived)
    stops_within_ms: float | None = Field(default=None, gt=0)
    #: word error rate of what the server heard against ``say`` (or ``transcript``), 0..1
    heard_wer: Bound | None = None

    _regex = field_validator("reply_matches", "reply_not_matches")(
        classmethod(lambda cls, v: v if v is None else _compiles(v))
    )


class Turn(_Strict):
    """One user turn: exactly one of ``say`` (synthesised), ``audio`` (a file) or ``text``."""

    say: str | None = None
    audio: str | None = None
    text: str | None = None
    #: the playground voice that speaks ``say`` (default: the catalog's)
    voice: str | None = None
    #: what ``audio`` says, to score what the server heard (``heard_wer``)
    transcript: str | None = None
    #: start this turn this long after the previous reply's first audio, while it still plays
    barge_in_after_ms: int | None = Field(default=None, ge=0)
    #: mix white noise under the speech at this signal-to-noise ratio (dB)
    noise_snr_db: float | None = Field(default=None, ge=-10, le=60)
    expect: Expect = Field(default_factory=Expect)

    @model_validator(mode="after")
    def _one_source(self) -> Turn:
        given = [k for k in ("say", "audio", "text") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "a turn needs exactly one of say, audio or text" + (f" (got {', '.join(given)})" if given else "")
            )
        if self.text is not None and (self.noise_snr_db is not None or self.voice or self.transcript):
            raise ValueError("voice, transcript and noise_snr_db apply to spoken turns only")
        if self.say is not None and self.transcript is not None:
            raise ValueError("a say turn is scored against its own text; transcript is for audio turns")
        if self.expect.heard_wer is not None and self.text is not None:
            raise ValueError("heard_wer needs a spoken turn")
        if self.expect.heard_wer is not None and self.audio is not None and self.transcript is None:
            raise ValueError("heard_wer on an audio turn needs its transcript")
        return self

    @property
    def kind(self) -> Literal["say", "audio", "text"]:
        return "say" if self.say is not None else "audio" if self.audio is not None else "text"

    @property
    def reference(self) -> str | None:
        """What the user said, for scoring what the server heard."""
        return self.say if self.say is not None else self.transcript


class CannedTool(_Strict):
    """A full function tool whose call is answered with ``result`` (any JSON value)."""

    type: Literal["function"] = "function"
    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
    description: str = ""
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})
    result: Any = None

    def declaration(self) -> dict[str, Any]:
        """The tool as ``session.update`` takes it (the canned result stays here)."""
        return {"type": "function", "name": self.name, "description": self.description, "parameters": self.parameters}


class Scenario(_Strict):
    name: str
    description: str = ""
    #: ``session.update``'s session, plus ``model``; ``tools`` may name demo tools (``demo:get_weather``)
    session: dict[str, Any]
    turns: list[Turn] = Field(min_length=1)
    runs: int = Field(default=1, ge=1, le=RUNS_MAX)
    #: the file it came from (set by the loader; recordings are found relative to it)
    source: Path | None = Field(default=None, exclude=True)

    @field_validator("session")
    @classmethod
    def _session(cls, session: dict[str, Any]) -> dict[str, Any]:
        model = session.get("model")
        if not isinstance(model, str) or not model:
            raise ValueError("session.model is required (the realtime model to connect to)")
        unknown = sorted(set(session) - SESSION_KEYS)
        if unknown:
            raise ValueError(f"unknown session field {unknown[0]!r}; session.update takes {sorted(SESSION_KEYS)}")
        audio = session.get("audio") or {}
        if not isinstance(audio, dict):
            raise ValueError("session.audio must be a mapping")
        for side, keys in (("input", AUDIO_INPUT_KEYS), ("output", AUDIO_OUTPUT_KEYS)):
            part = audio.get(side) or {}
            if not isinstance(part, dict):
                raise ValueError(f"session.audio.{side} must be a mapping")
            extra = sorted(set(part) - keys)
            if extra:
                raise ValueError(f"unknown field audio.{side}.{extra[0]}; it takes {sorted(keys)}")
        tools = session.get("tools") or []
        if not isinstance(tools, list):
            raise ValueError("session.tools must be a list")
        parsed: list[str | CannedTool] = []
        for tool in tools:
            if isinstance(tool, str):
                if not tool.startswith(DEMO_PREFIX):
                    raise ValueError(f"tool {tool!r}: name a demo tool as 'demo:<name>', or give a function tool")
                parsed.append(tool)
            elif isinstance(tool, dict):
                parsed.append(CannedTool.model_validate(tool))
            else:
                raise ValueError("each tool is 'demo:<name>' or a function tool mapping")
        return {**session, "tools": parsed} if tools else session

    # -- what the runner needs -----------------------------------------------------
    @property
    def model(self) -> str:
        return str(self.session["model"])

    @property
    def manual_turns(self) -> bool:
        """No turn detection: each spoken turn is committed and answered by the client (push to talk)."""
        audio = self.session.get("audio") or {}
        td = (audio.get("input") or {}).get("turn_detection", "unset")
        return td is None

    def recording(self, turn: Turn) -> Path:
        """A turn's recording, relative to the scenario file."""
        assert turn.audio is not None
        path = Path(turn.audio)
        return path if path.is_absolute() or self.source is None else self.source.parent / path
