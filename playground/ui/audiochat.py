"""Audio chat tab: a spoken conversation over Chat Completions (the gpt-audio way).

Each user turn is typed text, a microphone recording or an uploaded clip (kept as a
24 kHz mono WAV, ``turn-N.wav``, in the conversation's folder); the reply is text, or
text and speech. A spoken reply plays while it streams through the Studio's player
(``/studio/pcm/<token>``, ``static/studio.js`` in its own box), its transcript growing
in the chat beside it. Later turns send earlier replies back as ``{"role": "assistant",
"audio": {"id": ...}}``, as the API expects, never as sound; a reply whose id has
expired goes back as its transcript. Every request is a ``ChatAudioSpec``: it validates
the settings, prices the usage and renders the code panel (the exact last request, the
audio read from the turn files). Handlers are module-level and take plain values.
"""

from __future__ import annotations

import html
import io
import json
import secrets
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
import soundfile as sf

from playground.client.results import ChatAudioResult
from playground.core.audio import AudioDecodeError, AudioTooLongError, decode_mono, pcm16_to_float
from playground.core.catalog import get_catalog
from playground.core.errors import PlaygroundError, SpecError
from playground.core.pricing import chat_token_split, format_cost
from playground.core.snippets import render
from playground.core.specs import ChatAudioSpec, spec_from_dict
from playground.ui import standin
from playground.ui.context import get_context
from playground.ui.widgets import model_picker

__all__ = [
    "OUTPUTS",
    "AudioChatLayout",
    "AudioChatParts",
    "audiochat_layout",
    "chat_code",
    "chat_spec",
    "conversation_history",
    "create_audiochat_tab",
    "export_conversation",
    "keep_user_audio",
    "new_conversation",
    "send_turn",
    "usage_rows",
    "wire_audiochat",
]

OUTPUTS = [("Text + audio", "audio"), ("Text only", "text")]
USAGE_COLUMNS = ["#", "You", "Reply", "Text in", "Audio in", "Text out", "Audio out", "First audio", "Total", "Cost"]
#: an id this close to its expiry goes back as its transcript instead
EXPIRY_MARGIN_S = 60
#: how often the reply's transcript is refreshed while it streams
TEXT_POLL_S = 0.2
DEFAULT_SYSTEM = "You are a friendly voice assistant. Keep answers short: two or three sentences."
SAMPLE_PROMPT = "Tell me one surprising fact about octopuses."

#: the reply player (studio.js drives it, as the Studio's)
PLAYER_HTML = """
<div id="pg-ac-live" class="pg-live">
  <button id="pg-ac-live-stop" type="button" title="Stop" aria-label="Stop">■</button>
  <button id="pg-ac-live-replay" type="button" title="Play again" aria-label="Play again" disabled>↺</button>
  <div class="pg-live-bar"><div class="pg-live-buffer"></div><div class="pg-live-fill"></div></div>
  <span id="pg-ac-live-time">0:00 / 0:00</span>
  <span id="pg-ac-live-status">Spoken replies play here as they stream.</span>
</div>
"""


@dataclass
class AudioChatParts:
    settings: list[Any]
    code: list[Any]
    conversation: Any


# ----------------------------------------------------------------------- pure logic

#: sampling parameters sent as whole numbers
INTEGER_PARAMETERS = frozenset({"max_completion_tokens"})


def _sampling(name: str, value: float | None) -> float | int | None:
    """A sampling parameter as sent: None (not sent) when it is left at its default."""
    bounds = get_catalog().chat_audio.parameters[name]
    if value is None or float(value) == bounds.default:
        return None
    return int(value) if name in INTEGER_PARAMETERS else float(value)


def conversation_history(conversation: list[dict[str, Any]], now: float | None = None) -> tuple[dict[str, str], ...]:
    """The turns so far as ``ChatAudioSpec.history``: replies by audio id while it is valid."""
    now = time.time() if now is None else now
    out: list[dict[str, str]] = []
    for turn in conversation:
        out.append({"role": "user", "text": turn["user_text"], "audio": turn["user_audio"]})
        expires = turn.get("expires_at") or 0
        if turn.get("audio_id") and expires - EXPIRY_MARGIN_S > now:
            out.append({"role": "assistant", "audio_id": turn["audio_id"], "transcript": turn["reply_text"]})
        else:
            out.append({"role": "assistant", "text": turn["reply_text"]})
    return tuple(out)


def chat_spec(
    conversation: list[dict[str, Any]],
    text: str,
    audio_path: str,
    model: str,
    output: str,
    voice: str,
    fmt: str,
    stream: bool,
    system: str,
    temperature: float | None = None,
    top_p: float | None = None,
    presence_penalty: float | None = None,
    frequency_penalty: float | None = None,
    max_completion_tokens: float | None = None,
) -> ChatAudioSpec:
    """The next request for these widget values (not validated: ``problems()`` says what is wrong)."""
    return ChatAudioSpec(
        prompt=(text or "").strip(),
        model=model,
        voice=voice,
        audio_format=fmt,
        system=(system or "").strip(),
        input_audio=audio_path or "",
        modalities=("text", "audio") if output == "audio" else ("text",),
        history=conversation_history(conversation),
        temperature=_sampling("temperature", temperature),
        top_p=_sampling("top_p", top_p),
        presence_penalty=_sampling("presence_penalty", presence_penalty),
        frequency_penalty=_sampling("frequency_penalty", frequency_penalty),
        max_completion_tokens=_sampling("max_completion_tokens", max_completion_tokens),  # type: ignore[arg-type]
        stream=bool(stream),
    )


def usage_rows(conversation: list[dict[str, Any]]) -> list[list[Any]]:
    """One row per turn: what was said, tokens by kind, timings and the estimated cost."""
    rows = []
    for i, turn in enumerate(conversation, 1):
        split = chat_token_split(turn.get("usage") or {})
        said = turn["user_text"] or ""
        if turn["user_audio"]:
            said = f"(spoken, {turn.get('user_seconds', 0):.1f} s)" + (f" {said}" if said else "")
        first = turn.get("first_audio_ms")
        rows.append(
            [
                i,
                _clip(said, 40),
                _clip(turn["reply_text"], 60),
                split["text_in"],
                split["audio_in"],
                split["text_out"],
                split["audio_out"],
                f"{first:,.0f} ms" if first is not None else "–",
                f"{turn['total_ms'] / 1000:,.2f} s",
                format_cost(turn.get("cost")),
            ]
        )
    return rows


def _label(name: str) -> str:
    return name.replace("_", " ").capitalize()


def _clip(text: str, n: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= n else text[: n - 1] + "…"


def totals_markdown(conversation: list[dict[str, Any]]) -> str:
    if not conversation:
        return ""
    sums = {"text_in": 0, "audio_in": 0, "text_out": 0, "audio_out": 0}
    for turn in conversation:
        for key, value in chat_token_split(turn.get("usage") or {}).items():
            sums[key] += value
    costs = [t.get("cost") for t in conversation]
    cost = None if any(c is None for c in costs) else sum(c or 0.0 for c in costs)
    n = len(conversation)
    return (
        f"**{n} turn{'s' if n != 1 else ''}** · tokens: text in {sums['text_in']:,} · audio in {sums['audio_in']:,} "
        f"· text out {sums['text_out']:,} · audio out {sums['audio_out']:,} · **est. {format_cost(cost)}** "
        "<span class='pg-muted'>(each request resends the conversation so far, as the API bills it)</span>"
    )


def chat_messages(conversation: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The conversation for ``gr.Chatbot``: text with each turn's audio under it."""
    out: list[dict[str, Any]] = []
    for turn in conversation:
        mine: list[Any] = [turn["user_text"]] if turn["user_text"] else []
        if turn["user_audio"]:
            mine.append({"path": turn["user_audio"]})
        out.append({"role": "user", "content": mine})
        reply: list[Any] = [turn["reply_text"] or "(no words)"]
        if turn.get("reply_audio"):
            reply.append({"path": turn["reply_audio"]})
        out.append({"role": "assistant", "content": reply})
    return out


# ----------------------------------------------------------------------------- I/O


def keep_user_audio(source: str, folder: Path, n: int) -> tuple[str, float]:
    """A recording or upload as ``turn-N.wav`` (24 kHz mono PCM16) in the conversation's folder,
    so every turn's file has a plain name the code panel can read; and its length."""
    cat = get_catalog()
    limit = float(cat.limits.audio_chat_input_max_seconds)
    path = Path(source)
    if path.stat().st_size > cat.limits.upload_max_bytes:
        raise gr.Error(f"That clip is over {cat.limits.upload_max_bytes // 2**20} MB: record or upload a shorter one.")
    rate = cat.realtime.pcm_rate
    try:
        samples = decode_mono(str(path), rate, max_seconds=limit)
    except AudioTooLongError:
        raise gr.Error(f"A spoken turn may last at most {limit:.0f} s: record or upload a shorter one.") from None
    except AudioDecodeError as e:
        raise gr.Error(f"Could not read that audio: {e}") from None
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / f"turn-{n}.wav"
    sf.write(str(out), samples, rate, subtype="PCM_16")
    return str(out), len(samples) / rate


def _conversation_folder(conversation: list[dict[str, Any]]) -> Path:
    if conversation:
        return Path(conversation[0]["folder"])
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return get_context().out_dir / f"chat-{stamp}-{secrets.token_hex(3)}"


def _save_reply(result: ChatAudioResult, folder: Path, n: int) -> str | None:
    if not result.audio:
        return None
    spec = result.spec
    folder.mkdir(parents=True, exist_ok=True)
    if spec.stream or spec.audio_format == "pcm16":  # raw PCM16: give it a WAV header
        path = folder / f"reply-{n}.wav"
        sf.write(str(path), pcm16_to_float(result.audio), get_catalog().pcm_sample_rate, subtype="PCM_16")
    else:
        path = folder / f"reply-{n}.{spec.audio_format}"
        path.write_bytes(result.audio)
    return str(path)


# ------------------------------------------------------------------------ handlers


def chat_code(conversation: list[dict[str, Any]], *settings: Any, request: gr.Request = None) -> list[str]:
    """The exact last request in Python / JavaScript / curl; before the first turn, the one Send would make."""
    if conversation:
        spec = spec_from_dict(conversation[-1]["request"])
    else:
        spec = chat_spec([], SAMPLE_PROMPT, "", *settings)
    base_url = get_context().provider_for(request).snippet_base_url
    codes = [render(spec, lang, base_url=base_url) for lang in ("python", "js", "curl")]  # type: ignore[arg-type]
    problems = spec.problems()
    if problems and not conversation:
        note = "Fix before running: " + "; ".join(str(p) for p in problems)
        codes = [f"{mark}{note}\n{code}" for mark, code in zip(("# ", "// ", "# "), codes, strict=True)]
    return codes


def send_turn(
    conversation: list[dict[str, Any]],
    text: str,
    audio: str | None,
    model: str,
    output: str,
    voice: str,
    fmt: str,
    stream: bool,
    system: str,
    temperature: float,
    top_p: float,
    presence_penalty: float,
    frequency_penalty: float,
    max_completion_tokens: float,
    token: str = "",
    request: gr.Request = None,
) -> Iterator[tuple[Any, ...]]:
    """Send one user turn; yields the chat as the reply's transcript grows, then everything.

    Yields (chatbot, conversation, usage rows, totals, python, js, curl, status, text, audio).
    A failed turn leaves the conversation and the typed text as they were.
    """
    ctx = get_context()
    conversation = list(conversation or [])
    settings = (model, output, voice, fmt, stream, system, temperature, top_p, presence_penalty, frequency_penalty,
                max_completion_tokens)  # fmt: skip
    if not (text or "").strip() and not audio:
        raise gr.Error("Type a message, or record or upload a clip, then press Send.")
    n = len(conversation) + 1
    folder = _conversation_folder(conversation)
    user_audio, seconds = keep_user_audio(audio, folder, n) if audio else ("", 0.0)
    spec = chat_spec(conversation, text, user_audio, *settings)
    try:
        spec.validate()
        pending = ctx.start_stream(spec, request, token)
    except SpecError as e:
        raise gr.Error(f"Check your settings: {e}") from None
    except PlaygroundError as e:
        raise gr.Error(f"Could not start: {e}") from None
    keep = gr.update()
    mine: list[Any] = [spec.prompt] if spec.prompt else []
    if user_audio:
        mine.append({"path": user_audio})
    shown = [*chat_messages(conversation), {"role": "user", "content": mine}]
    said, done = "", False
    while not done:
        said, done = pending.text_so_far(TEXT_POLL_S)
        live = [*shown, {"role": "assistant", "content": (said or "…") + ("" if done else " ▍")}]
        yield (live, keep, keep, keep, keep, keep, keep, "Replying…", keep, keep)
    result, error = pending.wait()
    if not isinstance(result, ChatAudioResult):
        message = f"⚠️ {html.escape(error or 'the chat request failed')} Your message is still in the box."
        yield (chat_messages(conversation), keep, keep, keep, keep, keep, keep, message, keep, keep)
        return
    turn = {
        "folder": str(folder),
        "user_text": spec.prompt,
        "user_audio": user_audio,
        "user_seconds": round(seconds, 2),
        "reply_text": result.text,
        "reply_audio": _save_reply(result, folder, n),
        "audio_id": result.audio_id,
        "expires_at": result.expires_at,
        "usage": result.usage,
        "cost": result.est_cost,
        "first_audio_ms": result.first_audio_ms,
        "total_ms": result.total_ms,
        "finish_reason": result.finish_reason,
        "request": spec.to_dict(),
    }
    conversation.append(turn)
    provider = ctx.provider_for(request)
    ctx.record(
        "chat_audio", spec, model=spec.model, voice=spec.voice if result.audio else "", provider=provider.label,
        timings={"ttfb_ms": result.ttfb_ms or result.total_ms, "total_ms": result.total_ms},
        usage=result.usage, cost=result.est_cost, text=result.text,
        audio=Path(turn["reply_audio"]).read_bytes() if turn["reply_audio"] else None,
        audio_ext=Path(turn["reply_audio"]).suffix.lstrip(".") if turn["reply_audio"] else "wav",
        request=request,
    )  # fmt: skip
    codes = chat_code(conversation, request=request)
    first = f" · first audio {result.first_audio_ms:,.0f} ms" if result.first_audio_ms is not None else ""
    cut = " · ⚠️ cut at the token limit" if result.finish_reason == "length" else ""
    status = f"Turn {n}: **{result.total_ms / 1000:,.2f} s**{first} · est. {format_cost(result.est_cost)}{cut}" + (
        f" · reply audio id `{result.audio_id}`" if result.audio_id else ""
    )
    yield (
        chat_messages(conversation), conversation, usage_rows(conversation), totals_markdown(conversation),
        *codes, status, "", None,
    )  # fmt: skip


def new_conversation(*settings: Any, request: gr.Request = None) -> tuple[Any, ...]:
    """Forget the turns (their files stay in the output folder until the app's cleanup)."""
    return ([], [], [], "", *chat_code([], *settings, request=request), "A new conversation: say something.")


def export_conversation(conversation: list[dict[str, Any]], request: gr.Request = None) -> Any:
    """A zip of the conversation: each turn's audio, a JSON transcript, and the last request's code
    (which reads the turn files by the names they have in the zip)."""
    if not conversation:
        raise gr.Error("Nothing to export yet: have a conversation first.")
    buf = io.BytesIO()
    turns = []
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for i, turn in enumerate(conversation, 1):
            entry = {k: turn[k] for k in ("user_text", "reply_text", "audio_id", "expires_at", "usage", "cost")}
            entry |= {"turn": i, "first_audio_ms": turn["first_audio_ms"], "total_ms": turn["total_ms"]}
            for key in ("user_audio", "reply_audio"):
                if turn.get(key):
                    name = Path(turn[key]).name
                    zf.write(turn[key], name)
                    entry[key] = name
            turns.append(entry)
        last = conversation[-1]["request"]
        spec = spec_from_dict(last)
        zf.writestr(
            "conversation.json",
            json.dumps({"model": spec.model, "system": last.get("system", ""), "turns": turns}, indent=2),
        )
        for lang, name in (("python", "code.py"), ("js", "code.mjs"), ("curl", "code.sh")):
            zf.writestr(name, render(spec, lang, base_url=get_context().provider_for(request).snippet_base_url))
    path = get_context().output_path(f"{Path(conversation[0]['folder']).name}.zip")
    path.write_bytes(buf.getvalue())
    return gr.update(value=str(path), visible=True)


# ------------------------------------------------------------------------- layout


@dataclass
class ChatColumn:
    """The conversation side: chat, reply player, what to send, and the turn's status."""

    chatbot: gr.Chatbot
    text: gr.Textbox
    send: gr.Button
    audio: gr.Audio
    status: gr.Markdown


@dataclass
class SettingsColumn:
    """The request's settings (in ``chat_spec``'s order) and the three code panels."""

    model: gr.Dropdown
    output: gr.Radio
    voice: gr.Dropdown
    fmt: gr.Dropdown
    stream: gr.Checkbox
    system: gr.Textbox
    sliders: list[gr.Slider]
    max_tokens: gr.Number
    code_py: gr.Code
    code_js: gr.Code
    code_curl: gr.Code

    @property
    def settings(self) -> list[Any]:
        return [self.model, self.output, self.voice, self.fmt, self.stream, self.system, *self.sliders, self.max_tokens]

    @property
    def codes(self) -> list[gr.Code]:
        return [self.code_py, self.code_js, self.code_curl]


@dataclass
class AudioChatLayout:
    """Every widget of the tab, built by ``audiochat_layout`` and wired by ``wire_audiochat``."""

    chat: ChatColumn
    options: SettingsColumn
    table: gr.Dataframe
    totals: gr.Markdown
    new: gr.Button
    export: gr.Button
    exported: gr.File
    conversation: gr.State
    token: gr.Textbox


def _chat_column() -> ChatColumn:
    chatbot = gr.Chatbot(label="Conversation", height=430, elem_id="pg-ac-chat", buttons=["copy"])
    gr.HTML(PLAYER_HTML, elem_id="pg-ac-player-box")
    with gr.Row(equal_height=True):
        text = gr.Textbox(
            show_label=False,
            placeholder="Type a message (Enter sends), or record / upload a clip below",
            scale=5,
            elem_id="pg-ac-text",
        )
        send = gr.Button("Send", variant="primary", scale=1, min_width=110, elem_id="pg-ac-send")
    audio = gr.Audio(
        sources=["microphone", "upload"],
        type="filepath",
        label="Speak or upload a clip (sent with the text, if any)",
        elem_id="pg-ac-audio",
    )
    status = gr.Markdown(elem_id="pg-ac-status")
    return ChatColumn(chatbot, text, send, audio, status)


def _settings_column() -> SettingsColumn:
    chat = get_catalog().chat_audio
    params = chat.parameters
    with gr.Row():
        model = model_picker(chat.models, chat.default_model, label="Model", elem_id="pg-ac-model")
        output = gr.Radio(OUTPUTS, value="audio", label="Reply", elem_id="pg-ac-output")
    with gr.Row():
        voice = gr.Dropdown(list(chat.voices), value="alloy", label="Voice", elem_id="pg-ac-voice")
        fmt = gr.Dropdown(list(chat.formats), value="pcm16", label="Audio format", elem_id="pg-ac-format")
        stream = gr.Checkbox(value=True, label="Stream (pcm16)", elem_id="pg-ac-stream")
    standin.note("audiochat", model, voice)  # what answers offline (SmolLM2-135M…), hidden otherwise
    system = gr.Textbox(value=DEFAULT_SYSTEM, label="System prompt", lines=2, elem_id="pg-ac-system")
    with gr.Accordion("Sampling (left at the default: not sent)", open=False):
        sliders = [
            gr.Slider(bounds.min, bounds.max, value=bounds.default, step=0.05, label=_label(name))
            for name, bounds in params.items()
            if name != "max_completion_tokens"
        ]
        b = params["max_completion_tokens"]
        max_tokens = gr.Number(
            value=int(b.default),
            minimum=int(b.min),
            maximum=int(b.max),
            precision=0,
            label="Max completion tokens",
        )
    with gr.Tabs():
        with gr.Tab("Python"):
            code_py = gr.Code(language="python", show_label=False, max_lines=22, elem_id="pg-ac-code-python")
        with gr.Tab("JavaScript"):
            code_js = gr.Code(language="javascript", show_label=False, max_lines=22)
        with gr.Tab("curl"):
            code_curl = gr.Code(language="shell", show_label=False, max_lines=22)
    return SettingsColumn(model, output, voice, fmt, stream, system, sliders, max_tokens, code_py, code_js, code_curl)


def audiochat_layout() -> AudioChatLayout:
    """Build the tab's widgets (chat and settings columns, usage table, buttons, state); registers no events."""
    with gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=560):
            chat = _chat_column()
        with gr.Column(scale=2, min_width=400):
            options = _settings_column()
    table = gr.Dataframe(
        headers=USAGE_COLUMNS,
        value=[],
        label="Per turn",
        interactive=False,
        wrap=True,
        # the two texts wrap; every number column, cost included, stays in view at 1440 px
        column_widths=["4%", "21%", "27%", "7%", "7%", "7%", "7%", "8%", "6%", "6%"],
        elem_id="pg-ac-usage",
    )
    totals = gr.Markdown(elem_id="pg-ac-totals")
    with gr.Row():
        new = gr.Button("New conversation", size="sm", scale=0, min_width=170, elem_id="pg-ac-new")
        export = gr.Button("Export conversation (zip)", size="sm", scale=0, min_width=200, elem_id="pg-ac-export")
        exported = gr.File(label="Conversation", visible=False, interactive=False, elem_id="pg-ac-file")
    conversation = gr.State([])
    token = gr.Textbox(visible=False, elem_id="pg-ac-token")
    return AudioChatLayout(chat, options, table, totals, new, export, exported, conversation, token)


def wire_audiochat(ui: AudioChatLayout) -> None:
    """Register the tab's events; their order fixes Gradio's fn indices, so keep it."""
    c, conversation = ui.chat, ui.conversation
    settings, codes = ui.options.settings, ui.options.codes
    outputs = [c.chatbot, conversation, ui.table, ui.totals, *codes, c.status, c.text, c.audio]
    # the page opens the reply's PCM stream on the click itself (studio.js), in parallel with the request
    out_index = 3 + settings.index(ui.options.output)
    begin = (
        f"async (...a) => [...a.slice(0, -1), (window.pgStudio && a[{out_index}] === 'audio') "
        "? await window.pgStudio.begin('pg-ac-live') : '']"
    )
    for trigger, api in ((c.send.click, "audio_chat_send"), (c.text.submit, False)):
        trigger(
            send_turn,
            [conversation, c.text, c.audio, *settings, ui.token],
            outputs,
            js=begin,
            api_name=api,
            show_progress="hidden",
            concurrency_limit=4,
        )
    ui.new.click(
        new_conversation, settings, [c.chatbot, conversation, ui.table, ui.totals, *codes, c.status],
        api_name="audio_chat_new", queue=False,
    )  # fmt: skip
    ui.export.click(export_conversation, conversation, ui.exported, api_name="audio_chat_export")
    for component in settings:
        component.change(
            lambda conv, *values, request=None: (
                chat_code(conv, *values, request=request) if not conv else [gr.update()] * 3
            ),
            [conversation, *settings],
            codes,
            queue=False,
            show_progress="hidden",
        )


def create_audiochat_tab() -> AudioChatParts:
    """Lay the tab out, then wire it; the parts are what the app's load and share handlers need."""
    ui = audiochat_layout()
    wire_audiochat(ui)
    return AudioChatParts(ui.options.settings, ui.options.codes, ui.conversation)
