"""The two ways to turn text into speech, and what each one takes.

``realtime``: a Realtime session reads the text out of band (``RealtimeSpeechSpec``); the
speech endpoint's successor and the default. ``speech``: ``POST /v1/audio/speech``
(``SpeechSpec``), whose models shut down on the date the catalog gives. The Studio, Compare,
the blind test, the CLI and the notebooks build their specs here, so voices, models,
formats and the speed range per workflow are decided in one place, from the catalog.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from playground.core.catalog import get_catalog
from playground.core.lifecycle import today
from playground.core.specs import RealtimeSpeechSpec, SpeechSpec

__all__ = [
    "DEFAULT",
    "WORKFLOWS",
    "Workflow",
    "clamp_speed",
    "describe",
    "label",
    "pick",
    "speech_shutdown",
    "tts_spec",
    "workflow_of",
]

REALTIME = "realtime"
SPEECH = "speech"
WORKFLOWS = (REALTIME, SPEECH)
DEFAULT = REALTIME

TTSSpec = SpeechSpec | RealtimeSpeechSpec


@dataclass(frozen=True)
class Workflow:
    """What one workflow offers: its voices, models, output formats and speed range."""

    id: str
    voices: list[str]
    models: list[str]
    default_model: str
    default_voice: str
    #: (id, label) of the output formats
    formats: list[tuple[str, str]]
    default_format: str
    speed_min: float
    speed_max: float


def get(workflow: str) -> Workflow:
    """The workflow by id; an unknown id is an error naming both."""
    cat = get_catalog()
    if workflow == REALTIME:
        rt = cat.realtime
        return Workflow(
            id=REALTIME,
            voices=list(rt.voices),
            models=list(cat.realtime_models),
            default_model=rt.default_model,
            default_voice=rt.default_voice,
            formats=list(rt.read_aloud.format_labels.items()),
            default_format=rt.audio_formats[0],
            speed_min=cat.limits.realtime_speed.min,
            speed_max=cat.limits.realtime_speed.max,
        )
    if workflow == SPEECH:
        d = cat.speech_defaults
        return Workflow(
            id=SPEECH,
            voices=list(cat.speech_voices),
            models=list(cat.speech_models),
            default_model=d["model"],
            default_voice=d["voice"],
            formats=[(f.id, f.label) for f in cat.speech_formats.values()],
            default_format=d["format"],
            speed_min=cat.limits.speed.min,
            speed_max=cat.limits.speed.max,
        )
    raise ValueError(f"unknown workflow {workflow!r}; use one of: {', '.join(WORKFLOWS)}")


def pick(value: str | None) -> str:
    """The workflow a widget or link value names; anything else is the default."""
    return value if value in WORKFLOWS else DEFAULT


def speech_shutdown() -> dt.date | None:
    """When the speech endpoint's default model goes (the date the workflow is labelled with)."""
    cat = get_catalog()
    entry = cat.speech_model(cat.speech_defaults["model"])
    return entry.shutdown if entry is not None else None


def label(workflow: str) -> str:
    """The picker's words: the realtime model, or the endpoint with its shutdown date."""
    if workflow == REALTIME:
        return f"Realtime ({get_catalog().realtime.default_model})"
    when = speech_shutdown()
    if when is None:
        return "Speech endpoint"
    verb = "shut down" if when <= today() else "shuts down"
    return f"Speech endpoint ({verb} {when.isoformat()})"


def describe(workflow: str) -> str:
    """One sentence on how the workflow sends the text, for notes and the CLI."""
    if workflow == REALTIME:
        return (
            "A Realtime session (client.realtime.connect) reads the text out of band, word for word, "
            "in the session's voice; the transcript that comes back shows any rewording."
        )
    return "POST /v1/audio/speech streams the audio of the text in the format you pick."


def workflow_of(spec: TTSSpec) -> str:
    return REALTIME if isinstance(spec, RealtimeSpeechSpec) else SPEECH


def clamp_speed(workflow: str, speed: float | None) -> tuple[float, str]:
    """Hold a speed to the workflow's range and say so (an empty note when it was in range)."""
    w = get(workflow)
    if speed is None:
        return 1.0, ""
    value = min(max(float(speed), w.speed_min), w.speed_max)
    if value == float(speed):
        return value, ""
    side = "above the maximum" if speed > w.speed_max else "below the minimum"
    where = "the Realtime API" if workflow == REALTIME else "the speech endpoint"
    return value, (
        f"⚠️ Speed {float(speed):g} is {side}; {where} takes {w.speed_min:g}–{w.speed_max:g}, "
        f"so it is set to **{value:g}**."
    )


def tts_spec(
    workflow: str,
    *,
    input: str,
    voice: str,
    model: str | None = None,
    instructions: str = "",
    speed: float | None = 1.0,
    fmt: str | None = None,
) -> TTSSpec:
    """The spec Play sends on ``workflow``: speed held to its range, instructions dropped
    for speech models that take none, a format or model from the other workflow replaced
    by this one's default (the voice is kept, so a wrong one is reported, not swapped)."""
    w = get(workflow)
    value, _ = clamp_speed(workflow, speed)
    fmt = fmt if fmt in {f for f, _ in w.formats} else w.default_format
    model = model or w.default_model
    text = (instructions or "").strip()
    if workflow == REALTIME:
        model = model if model in w.models or get_catalog().canonical_realtime_model(model) else w.default_model
        return RealtimeSpeechSpec(
            input=input or "", voice=voice, model=model, instructions=text, speed=value, output_format=fmt
        )
    cat = get_catalog()
    entry = cat.speech_model(model)
    if entry is None and model in cat.realtime_models:
        model, entry = w.default_model, cat.speech_model(w.default_model)
    steerable = entry is None or entry.instructions
    return SpeechSpec(
        input=input or "",
        voice=voice,
        model=model,
        instructions=text if steerable else "",
        speed=value,
        response_format=fmt,
    )
