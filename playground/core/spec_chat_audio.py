"""The audio chat spec (``/v1/chat/completions`` with audio in and/or out) and the reply
rules the embedded backend shares with it (``chat_output_problems``). Re-exported by ``specs``."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playground.core.catalog import Catalog, get_catalog
from playground.core.errors import Problem
from playground.core.spec_base import _custom_voice, _default, _one_of, _SpecBase, _voice_value


def chat_output_problems(
    modalities: list[str] | tuple[str, ...],
    voice: str | None,
    audio_format: str | None,
    catalog: Catalog | None = None,
    *,
    fields: tuple[str, str] = ("voice", "audio_format"),
) -> list[Problem]:
    """What a chat reply may be: modalities and, for a spoken reply, its voice and format.

    Shared by ``ChatAudioSpec`` and the embedded backend, so both refuse the same things;
    ``fields`` names the voice and format in the caller's terms (``audio.voice`` on the wire).
    """
    chat = (catalog or get_catalog()).chat_audio
    out: list[Problem] = []
    if tuple(modalities) not in (("text", "audio"), ("text",)):
        out.append(Problem("modalities", list(modalities), 'must be ["text", "audio"] or ["text"]'))
    if "audio" in modalities:
        voice_field, format_field = fields
        for p in (
            _one_of(voice_field, voice, list(chat.voices)),
            _one_of(format_field, audio_format, list(chat.formats)),
        ):
            if p is not None:
                out.append(p)
    return out


@dataclass(frozen=True)
class ChatAudioSpec(_SpecBase):
    """``POST /v1/chat/completions`` with audio in and/or out, one turn of a conversation.

    ``history`` holds the earlier turns, oldest first, as small dicts (so history and
    share links can store them): ``{"role": "user", "text": ..., "audio": <wav/mp3 path>}``
    and ``{"role": "assistant", "audio_id": ..., "transcript": ...}`` for a spoken reply
    (sent as ``{"audio": {"id": ...}}``, as the API expects, never resent as sound) or
    ``{"role": "assistant", "text": ...}`` for a text one. Sampling parameters left at
    None are not sent. A streamed spoken reply is PCM16 only.
    """

    prompt: str = ""
    model: str = _default("chat_audio", "default_model")
    voice: str = "alloy"
    audio_format: str = "wav"
    system: str = ""
    #: path to a wav/mp3 sent as an ``input_audio`` content part
    input_audio: str = ""
    #: ("text", "audio") for a spoken reply, ("text",) for text only
    modalities: tuple[str, ...] = ("text", "audio")
    history: tuple[dict[str, str], ...] = ()
    temperature: float | None = None
    top_p: float | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    max_completion_tokens: int | None = None
    stream: bool = False

    kind = "chat_audio"
    endpoint = "/chat/completions"

    def problems(self, catalog: Catalog | None = None) -> list[Problem]:
        cat = catalog or get_catalog()
        chat = cat.chat_audio
        out: list[Problem] = []
        if not self.prompt.strip() and not self.input_audio:
            out.append(Problem("prompt", self.prompt, "give a text prompt, an input audio file, or both"))
        if self.model not in chat.models:
            out.append(_one_of("model", self.model, list(chat.models)))
        found = chat_output_problems(self.modalities, self.voice, self.audio_format, cat)
        out.extend(p for p in found if not (p.field == "voice" and _custom_voice(self.voice)))
        if self.stream and "audio" in self.modalities and self.audio_format not in chat.stream_formats:
            allowed = ", ".join(chat.stream_formats)
            out.append(Problem("audio_format", self.audio_format, f"a streamed spoken reply must be {allowed}"))
        if self.input_audio:
            out.extend(_input_audio_problems(self.input_audio, "input_audio", chat.input_formats))
        for name, bounds in chat.parameters.items():
            value = getattr(self, name)
            if value is not None and value not in bounds:
                out.append(Problem(name, value, f"must be between {bounds.min:g} and {bounds.max:g}"))
        out.extend(self._history_problems(cat))
        return out

    def _history_problems(self, cat: Catalog) -> list[Problem]:
        limit = int(cat.limits.audio_chat_turns_max)
        out: list[Problem] = []
        users = sum(1 for turn in self.history if turn.get("role") == "user") + 1
        if users > limit:
            out.append(Problem("history", users, f"at most {limit} user turns per conversation; start a new one"))
        for i, turn in enumerate(self.history):
            where = f"history[{i}]"
            role = turn.get("role")
            if role == "user":
                if not str(turn.get("text") or "").strip() and not turn.get("audio"):
                    out.append(Problem(where, turn, "a user turn needs text, audio or both"))
                if turn.get("audio"):
                    out.extend(_input_audio_problems(turn["audio"], f"{where}.audio", cat.chat_audio.input_formats))
            elif role == "assistant":
                if not turn.get("audio_id") and not str(turn.get("text") or "").strip():
                    out.append(Problem(where, turn, "an assistant turn needs the audio_id of a spoken reply, or text"))
            else:
                out.append(_one_of(f"{where}.role", role, ["user", "assistant"]))
        return out

    def _user_message(self, text: str, audio_path: str) -> dict[str, Any]:
        if not audio_path:
            return {"role": "user", "content": text}
        path = Path(audio_path)
        parts: list[dict[str, Any]] = []
        if text:
            parts.append({"type": "text", "text": text})
        parts.append(
            {
                "type": "input_audio",
                "input_audio": {
                    # a missing file (a history entry whose audio is gone) renders, and fails validation
                    "data": base64.b64encode(path.read_bytes() if path.is_file() else b"").decode("ascii"),
                    "format": path.suffix.lower().lstrip("."),
                },
            }
        )
        return {"role": "user", "content": parts}

    def messages(self) -> list[dict[str, Any]]:
        msgs: list[dict[str, Any]] = []
        if self.system:
            msgs.append({"role": "system", "content": self.system})
        for turn in self.history:
            if turn.get("role") == "user":
                msgs.append(self._user_message(str(turn.get("text") or ""), str(turn.get("audio") or "")))
            elif turn.get("audio_id"):
                msgs.append({"role": "assistant", "audio": {"id": turn["audio_id"]}})
            else:
                msgs.append({"role": "assistant", "content": str(turn.get("text") or "")})
        msgs.append(self._user_message(self.prompt, self.input_audio))
        return msgs

    @property
    def audio_files(self) -> list[str]:
        """Every audio file the request reads, in the order it sends them (each once)."""
        paths = [str(t["audio"]) for t in self.history if t.get("role") == "user" and t.get("audio")]
        if self.input_audio:
            paths.append(self.input_audio)
        return list(dict.fromkeys(paths))

    def to_kwargs(self) -> dict[str, Any]:
        kw: dict[str, Any] = {"model": self.model, "modalities": list(self.modalities)}
        if "audio" in self.modalities:
            kw["audio"] = {"voice": _voice_value(self.voice), "format": self.audio_format}
        kw["messages"] = self.messages()
        for name in get_catalog().chat_audio.parameters:
            if getattr(self, name) is not None:
                kw[name] = getattr(self, name)
        if self.stream:
            kw["stream"] = True
            kw["stream_options"] = {"include_usage": True}
        return kw

    @property
    def file_name(self) -> str:
        return f"reply.{'pcm' if self.audio_format == 'pcm16' else self.audio_format}"


def _input_audio_problems(value: str, name: str, formats: list[str]) -> list[Problem]:
    path = Path(value)
    ext = path.suffix.lower().lstrip(".")
    if not path.is_file():
        return [Problem(name, value, "no such file")]
    if ext not in formats:
        return [Problem(name, path.name, f"format must be one of: {', '.join(formats)}")]
    return []
