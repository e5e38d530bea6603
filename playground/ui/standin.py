"""Stand-in notes ("what answers here"): which local engine stands in for an OpenAI model, and what to expect.

Offline, the embedded backend answers under OpenAI's names (Whisper for every transcription
model, local voices for every speech model, SmolLM2-135M for chat). A tab calls ``note(surface,
*pickers)`` where the note belongs; the note follows its pickers, and ``create_ui`` refreshes
every note on load and when this browser tab's provider or the chat model server changes.
Notes are hidden unless this browser tab talks to the embedded backend.

The words come from ``playground.core.standin`` (shared with ``/v1/models``'s ``local_engine``);
``attach_backend`` hands this module the in-process backend's engine manager, whose chat
target (never its key) the notes name.
"""

from __future__ import annotations

import html
import os
from dataclasses import dataclass, field
from typing import Any

import gradio as gr

from playground.client.providers import safe_url
from playground.core.catalog import get_catalog
from playground.core.standin import (
    LOCAL_LLM_SHORT,
    SPEECH_ENGINE,
    ChatTarget,
    same_text_models,
    transcription_engine,
    voice_engine,
    voices_by_engine,
)
from playground.ui.context import get_context

__all__ = [
    "SURFACES",
    "attach_backend",
    "begin",
    "chat_switch",
    "chat_target",
    "components",
    "follow",
    "note",
    "note_html",
    "refresh_all",
    "wrap",
]

SURFACES = ("header", "studio", "compare", "compare_stt", "transcribe", "live", "voicechat", "audiochat")

#: opens the Provider tab (the top-level tab bar) and scrolls to the chat model server settings
_OPEN_PROVIDER = (
    "for(const b of document.querySelectorAll('#pg-tabs [role=tab]'))"
    "if(b.textContent.trim()==='Provider'){b.click();"
    "setTimeout(()=>document.getElementById('pg-llm')?.scrollIntoView({block:'center'}),150);break}"
    "return false"
)
LINK = (
    f'<a href="#pg-llm" class="pg-standin-link" onclick="{html.escape(_OPEN_PROVIDER)}">'
    "point chat at a real model →</a>"
)

#: inline, so the notes need no stylesheet: a quiet amber bar under the pickers, a full-width line in the header
_STYLE = (
    "font-size:0.86rem;line-height:1.35;padding:6px 10px;margin:2px 0;border-left:3px solid #d97706;"
    "background:rgba(217,119,6,0.08);border-radius:4px"
)
_HEADER_STYLE = "flex-basis:100%;font-size:0.8rem;line-height:1.3;opacity:0.92"

_SWITCH: Any = None


def wrap(text: str, *, header: bool = False) -> str:
    """The note as page HTML ("" stays "")."""
    if not text:
        return ""
    style, where = (_HEADER_STYLE, ' id="pg-standin-header"') if header else (_STYLE, "")
    return f'<div class="pg-standin"{where} style="{style}">{text}</div>'


def attach_backend(engines: Any) -> None:
    """The in-process backend's ``EngineManager`` (``chat_target`` / ``switch_llm``); None detaches."""
    global _SWITCH
    _SWITCH = engines


def chat_switch() -> Any:
    return _SWITCH


def chat_target() -> ChatTarget:
    """What answers chat in the embedded backend now (no key)."""
    if _SWITCH is not None:
        base_url, model = _SWITCH.chat_target()
        return ChatTarget(base_url, model)
    base_url = os.environ.get("PLAYGROUND_LLM_BASE_URL") or None
    return ChatTarget(base_url, os.environ.get("PLAYGROUND_LLM_MODEL", "smollm2") if base_url else None)


def _code(name: str) -> str:
    return f"<code>{html.escape(str(name))}</code>"


def _names(names: list[str]) -> str:
    shown = [_code(n) for n in names]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]


def _replies(target: ChatTarget) -> str:
    if target.local:
        return f"replies come from <b>{LOCAL_LLM_SHORT}</b>, a tiny local model: short, often wrong; {LINK}"
    return (
        f"replies come from {_code(target.model or '')} at {_code(safe_url(target.base_url or ''))} "
        "(the chat model server set in the Provider tab)"
    )


def _hearing(model: str) -> str:
    return transcription_engine(model) or "Whisper"


def _speaker(voice: str | None) -> str:
    return (voice_engine(voice) if voice else None) or SPEECH_ENGINE


def note_html(surface: str, *values: Any, provider_kind: str = "embedded", target: ChatTarget | None = None) -> str:
    """The note for a surface and its pickers' values; "" when the provider is not the embedded backend."""
    if provider_kind != "embedded":
        return ""
    target = target or chat_target()
    cat = get_catalog()
    local = cat.local
    head = '<b class="pg-standin-tag">Offline:</b> '
    first = values[0] if values else None
    if surface == "header":
        whispers = [local.transcription[m] for m in cat.transcription_models if m in local.transcription]
        sizes = "/".join(dict.fromkeys(w.model for w in whispers))
        english = "/".join(dict.fromkeys(w.english for w in whispers if w.english))
        tiny = f" ({english} for English audio on some)" if english else ""
        return head + (
            "OpenAI's model names are answered by local stand-ins on this machine: voices by "
            f"{SPEECH_ENGINE.removesuffix(' voices')}, transcription by Whisper {sizes}{tiny}; {_replies(target)}."
        )
    if surface == "transcribe" or surface == "live":
        if not first:
            return ""
        models = list(cat.file_transcription_models if surface == "transcribe" else cat.realtime.transcription_models)
        same = same_text_models(str(first), models)
        text = (
            f"{_code(first)} is answered by <b>{html.escape(_hearing(str(first)))}</b> on this machine — "
            "expect Whisper-level accuracy"
        )
        if same:
            text += f"; {_names([str(first), *same])} give the same text here"
        return head + text + "."
    if surface == "compare_stt":  # values: (number of columns, each column's model) or none: every model
        shown = values[1 : 1 + int(values[0])] if values and isinstance(values[0], int | float) else values
        models = [str(v) for v in shown if v] or list(cat.file_transcription_models)
        groups: dict[str, list[str]] = {}
        for m in dict.fromkeys(models):
            groups.setdefault(_hearing(m), []).append(m)
        parts = "; ".join(f"{_names(ms)} → <b>{html.escape(engine)}</b>" for engine, ms in groups.items())
        return head + (
            f"every column is answered by a local Whisper: {parts}. Columns on the same Whisper give the same "
            "text here; only a real provider shows how the models differ."
        )
    if surface == "compare":
        groups_v = "; ".join(f"<b>{html.escape(e)}</b>: {', '.join(vs)}" for e, vs in voices_by_engine().items())
        return head + (
            f"voices on the embedded backend are local stand-ins ({groups_v}), reshaped in pitch and pace; "
            "the speech model does not change how they sound here."
        )
    if surface == "studio":
        voice, model = (*values, None, None)[:2]
        return head + (
            f"voice {_code(voice or '')} is <b>{html.escape(_speaker(voice))}</b> on this machine, "
            f"whatever the model ({_code(model or '')}): a local stand-in for OpenAI's voice; instructions "
            "only change its pace, pitch, loudness and pauses."
        )
    if surface == "voicechat":
        model, voice = (*values, None, None)[:2]
        return head + (
            f"{_code(model or '')} is answered by Silero VAD + <b>{html.escape(_hearing(local.realtime.hearing))}"
            f"</b> (hearing) + <b>{html.escape(_speaker(voice))}</b> (voice); {_replies(target)}."
        )
    if surface == "audiochat":
        model, voice = (*values, None, None)[:2]
        return head + (
            f"{_code(model or '')} is answered locally: your audio is heard by "
            f"<b>{html.escape(_hearing(local.hearing))}</b>, the reply spoken by "
            f"<b>{html.escape(_speaker(voice))}</b>; {_replies(target)}."
        )
    raise KeyError(f"unknown stand-in surface {surface!r}; known: {', '.join(SURFACES)}")


@dataclass
class _Note:
    surface: str
    box: Any
    inputs: list[Any] = field(default_factory=list)


_NOTES: list[_Note] = []


def begin() -> None:
    """Forget the notes of an earlier ``create_ui`` (called at its start)."""
    _NOTES.clear()


def _kind(request: Any) -> str:
    return get_context().provider_for(request).kind


def _update(entry: _Note, values: list[Any], request: Any) -> Any:
    text = note_html(entry.surface, *values, provider_kind=_kind(request))
    return gr.update(value=wrap(text), visible=bool(text))


def note(surface: str, *inputs: Any) -> Any:
    """Put the stand-in note for ``surface`` here; it follows ``inputs`` (the model / voice pickers)."""
    if surface not in SURFACES:
        raise KeyError(f"unknown stand-in surface {surface!r}; known: {', '.join(SURFACES)}")
    text = note_html(surface, *[getattr(c, "value", None) for c in inputs], provider_kind=get_context().provider.kind)
    box = gr.HTML(wrap(text), visible=bool(text), elem_id=f"pg-standin-{surface}")
    _NOTES.append(_Note(surface, box))
    if inputs:
        follow(box, *inputs)
    return box


def follow(box: Any, *inputs: Any) -> None:
    """Make a note made earlier (``note``) follow these pickers, e.g. ones laid out below it."""
    entry = next(n for n in _NOTES if n.box is box)
    entry.inputs = list(inputs)

    def changed(data: dict, request: gr.Request) -> Any:
        return _update(entry, [data[c] for c in entry.inputs], request)

    gr.on([c.change for c in inputs], changed, set(inputs), box, queue=False, show_progress="hidden")


def components() -> tuple[set[Any], list[Any]]:
    """Every note's pickers (a set: the handler gets a dict) and boxes, for ``refresh_all``."""
    return {c for n in _NOTES for c in n.inputs}, [n.box for n in _NOTES]


def refresh_all(data: dict, request: gr.Request) -> list[Any]:
    """Every note, for this browser tab's provider and the backend's chat target now."""
    return [_update(n, [data.get(c) for c in n.inputs], request) for n in _NOTES]
