"""Text-to-speech specs: the speech endpoint (``SpeechSpec``) and the Realtime API
(``RealtimeSpeechSpec``), with the text checks both make. Re-exported by ``specs``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from playground.core.catalog import Catalog, get_catalog
from playground.core.errors import Problem
from playground.core.spec_base import _custom_voice, _default, _is_unicode, _one_of, _SpecBase, _voice_value


@dataclass(frozen=True)
class SpeechSpec(_SpecBase):
    """``POST /v1/audio/speech``.

    ``speed`` 1.0, no ``instructions`` and ``stream_format`` "audio" are the API's
    defaults and are left out of the request, so snippets stay minimal.
    """

    input: str
    voice: str = _default("speech", "default_voice")
    model: str = _default("speech", "default_model")
    #: style prompt; only for steerable models (not tts-1 / tts-1-hd)
    instructions: str = ""
    #: 0.25–4.0, 1.0 = normal pace
    speed: float = 1.0
    response_format: str = _default("speech", "default_format")
    #: "audio" (chunked bytes) or "sse" (base64 events with usage)
    stream_format: Literal["audio", "sse"] = "audio"

    kind = "speech"
    endpoint = "/audio/speech"

    def problems(self, catalog: Catalog | None = None) -> list[Problem]:
        cat = catalog or get_catalog()
        out: list[Problem] = []
        # NULs are not text: they reached the engines and came back as silence
        out.extend(_text_problems("input", self.input, cat.limits.speech_input_max_chars))
        model = cat.speech_model(self.model)
        if model is None:
            out.append(_one_of("model", self.model, list(cat.speech_models)))
        if not _custom_voice(self.voice) and self.voice not in cat.speech_voices:
            out.append(
                Problem("voice", self.voice, f"must be one of: {', '.join(cat.voice_ids)} (or a custom voice_… id)")
            )
        if self.instructions:
            if model is not None and not model.instructions:
                steerable = [m.id for m in cat.speech_models.values() if m.instructions]
                out.append(
                    Problem(
                        "instructions",
                        self.instructions,
                        f"not supported by {model.id}; use {', '.join(steerable)} or leave it empty",
                    )
                )
            if len(self.instructions) > cat.limits.instructions_max_chars:
                out.append(
                    Problem(
                        "instructions",
                        f"<{len(self.instructions)} chars>",
                        f"at most {cat.limits.instructions_max_chars} characters",
                    )
                )
        if isinstance(self.speed, bool) or self.speed not in cat.limits.speed:
            out.append(Problem("speed", self.speed, f"must be between {cat.limits.speed} (1.0 = normal)"))
        if (p := _one_of("response_format", self.response_format, list(cat.speech_formats))) is not None:
            out.append(p)
        if self.stream_format not in ("audio", "sse"):
            out.append(_one_of("stream_format", self.stream_format, ["audio", "sse"]))  # type: ignore[arg-type]
        elif model is not None and self.stream_format not in model.stream_formats:
            out.append(
                Problem("stream_format", self.stream_format, f"{model.id} supports: {', '.join(model.stream_formats)}")
            )
        return out

    def to_kwargs(self) -> dict[str, Any]:
        kw: dict[str, Any] = {
            "model": self.model,
            "voice": _voice_value(self.voice),
            "input": self.input,
        }
        if self.instructions:
            kw["instructions"] = self.instructions
        if self.speed != 1.0:
            kw["speed"] = self.speed
        kw["response_format"] = self.response_format
        if self.stream_format == "sse":
            kw["stream_format"] = "sse"
        return kw

    @property
    def file_name(self) -> str:
        return f"speech.{get_catalog().speech_formats.get(self.response_format, _FallbackFmt).ext}"


class _FallbackFmt:
    ext = "bin"


def read_aloud_instructions(style: str) -> str:
    """The response instructions that ask for a text word for word, then the user's style."""
    ra = get_catalog().realtime.read_aloud
    style = (style or "").strip()
    return f"{ra.instructions}\n\n{ra.style_prefix}{style}" if style else ra.instructions


@dataclass(frozen=True)
class RealtimeSpeechSpec(_SpecBase):
    """Text to speech through the Realtime API: the speech endpoint's successor.

    One session carries the voice, speed and output format (``session.update``); the text
    goes in as an out-of-band response (``conversation: "none"``) whose instructions ask for
    it word for word, followed by the style. The audio comes back as
    ``response.output_audio.delta`` and what was said as its transcript.
    """

    input: str
    voice: str = _default("realtime", "default_voice")
    model: str = _default("realtime", "default_model")
    #: the style (a vibe's instructions); the read-aloud request is put in front of it
    instructions: str = ""
    #: 0.25–1.5, 1.0 = normal pace
    speed: float = 1.0
    #: audio/pcm (24 kHz PCM16), audio/pcmu or audio/pcma (G.711 at 8 kHz)
    output_format: str = "audio/pcm"

    kind = "realtime_speech"
    endpoint = "/realtime"

    def problems(self, catalog: Catalog | None = None) -> list[Problem]:
        cat = catalog or get_catalog()
        rt = cat.realtime
        out = _text_problems("input", self.input, cat.limits.speech_input_max_chars)
        if cat.canonical_realtime_model(self.model) is None:
            out.append(_one_of("model", self.model, list(cat.realtime_models)))
        if not _custom_voice(self.voice) and self.voice not in rt.voices:
            where = " (it is a speech endpoint voice)" if self.voice in cat.speech_voices else ""
            out.append(Problem("voice", self.voice, f"not a Realtime voice{where}; use one of: {', '.join(rt.voices)}"))
        if len(self.instructions or "") > cat.limits.instructions_max_chars:
            out.append(
                Problem(
                    "instructions",
                    f"<{len(self.instructions)} chars>",
                    f"at most {cat.limits.instructions_max_chars} characters",
                )
            )
        speed = cat.limits.realtime_speed
        if isinstance(self.speed, bool) or not isinstance(self.speed, int | float) or self.speed not in speed:
            out.append(Problem("speed", self.speed, f"must be between {speed} on the Realtime API (1.0 = normal)"))
        if (p := _one_of("output_format", self.output_format, rt.audio_formats)) is not None:
            out.append(p)
        return out

    @property
    def response_format(self) -> str:
        """What the run keeps: the audio as a WAV file (G.711 decoded to 16-bit)."""
        return "wav"

    @property
    def file_name(self) -> str:
        return "speech.wav"

    def to_kwargs(self) -> dict[str, Any]:
        """``client.realtime.connect(**kwargs)``."""
        return {"model": self.model}

    def to_session(self) -> dict[str, Any]:
        """The ``session`` object for ``session.update``: voice, speed and format, audio out."""
        fmt: dict[str, Any] = {"type": self.output_format}
        if self.output_format == "audio/pcm":
            fmt["rate"] = get_catalog().realtime.pcm_rate
        output: dict[str, Any] = {"format": fmt, "voice": _voice_value(self.voice)}
        if self.speed != 1.0:
            output["speed"] = self.speed
        return {"type": "realtime", "model": self.model, "output_modalities": ["audio"], "audio": {"output": output}}

    def to_response(self) -> dict[str, Any]:
        """The ``response`` object for ``response.create``: the text, out of band."""
        return {
            "conversation": "none",
            "output_modalities": ["audio"],
            "instructions": read_aloud_instructions(self.instructions),
            "input": [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": self.input}]}],
        }


def _text_problems(name: str, text: Any, limit: int) -> list[Problem]:
    """A text to speak: present, within the limit, real Unicode, no NULs."""
    text = text if isinstance(text, str) else ""
    if not text.strip():
        return [Problem(name, text, "must not be empty")]
    if len(text) > limit:
        return [Problem(name, f"<{len(text)} chars>", f"at most {limit} characters")]
    if not _is_unicode(text):
        return [Problem(name, "<text>", "contains invalid Unicode (an unpaired surrogate)")]
    if "\x00" in text:
        return [Problem(name, "<text>", "contains NUL characters")]
    return []
