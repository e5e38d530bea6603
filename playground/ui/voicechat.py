"""Voice chat tab: talk to a realtime model from the browser's microphone.

The conversation itself runs in the page (``static/realtime.js``): microphone capture,
playback, interruption, transcript, event log, latency and cost. This module builds the
settings panel and answers two questions for the page: "may I connect?" (a one-time
relay ticket for this browser session's provider, with the session settings) and
"what are the settings now?" (a validated GA ``session`` object, sent live with
``session.update`` while connected). Settings become a ``RealtimeSessionSpec``, so the
code panel is rendered from exactly what the page sends.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import gradio as gr

from playground.core import jsonsafe
from playground.core.catalog import get_catalog
from playground.core.errors import Problem, SpecError
from playground.core.snippets import render
from playground.core.specs import EFFORTS, RealtimeSessionSpec
from playground.relay.tools import demo_tools
from playground.ui import standin
from playground.ui.context import get_context
from playground.ui.widgets import model_choices, model_picker

__all__ = [
    "CONSOLE_HTML",
    "MODES",
    "VoiceChatLayout",
    "VoiceChatParts",
    "connect_config",
    "custom_tools",
    "live_config",
    "realtime_code",
    "reasoning_options",
    "session_spec",
    "vibe_instructions",
    "voicechat_layout",
    "wire_voicechat",
]

#: label -> relay mode
MODES = {"Speech to speech": "realtime", "Chained pipeline (STT → chat → TTS)": "chained"}
TURNS = [("Server VAD", "server_vad"), ("Semantic VAD", "semantic_vad"), ("Push to talk (manual)", "none")]
NOISE = [("Off", ""), ("Near field", "near_field"), ("Far field", "far_field")]
EFFORT = [("Model default", ""), *[(e, e) for e in EFFORTS]]
PARALLEL = [("Server default", ""), ("On", "on"), ("Off", "off")]
TRUNCATION = [
    ("Server default", ""),
    ("Auto", "auto"),
    ("Disabled", "disabled"),
    ("Keep a share (retention ratio)", "retention_ratio"),
]
#: noise suppression strength the API applies when none is sent
DEFAULT_NOISE_STRENGTH = 1.0
DEFAULT_RETENTION = 0.8
#: the script in the code panel replays the conversation exported from this tab
REPLAY_FILE = "conversation.wav"
CUSTOM_TOOLS_MAX = 16
CUSTOM_TOOLS_EXAMPLE = """[
  {
    "name": "lookup_order",
    "description": "Look up an order's delivery status by its number.",
    "parameters": {
      "type": "object",
      "properties": {"order_id": {"type": "string"}},
      "required": ["order_id"]
    },
    "result": {"status": "shipped", "eta": "Thursday"}
  }
]"""

#: the live console; realtime.js fills it (the style covers what only this console shows:
#: explained errors, turns that were not heard, the scrolling latency table)
CONSOLE_HTML = """
<style>
#pg-rt .pg-rt-note { font-size: 0.82rem; font-style: italic; padding: 2px 6px; border-left: 3px solid #dc2626; }
#pg-rt .pg-rt-note.pg-rt-muted { border-left-color: var(--border-color-primary); }
#pg-rt .pg-rt-note.pg-rt-bad { color: #dc2626; }
#pg-rt .pg-rt-unheard { color: var(--body-text-color-subdued); font-style: italic; font-size: 0.85em; }
#pg-rt .pg-rt-pending { opacity: 0.75; }
#pg-rt .pg-rt-latency { max-height: 16em; overflow-y: auto; }
#pg-rt .pg-rt-latency thead th { position: sticky; top: 0; background: var(--background-fill-primary); }
#pg-rt-ptt:disabled { cursor: not-allowed; }
</style>
<div id="pg-rt" class="pg-rt">
  <div class="pg-rt-bar">
    <span id="pg-rt-dot" title="connection"></span>
    <div id="pg-rt-meter" title="microphone level"><div class="pg-rt-meter-fill"></div></div>
    <button id="pg-rt-mute" type="button" disabled>Mute mic</button>
    <button id="pg-rt-ptt" type="button" disabled title="Hold to talk (or hold Space)">Push to talk</button>
    <span id="pg-rt-cost" class="pg-rt-cost"></span>
  </div>
  <div id="pg-rt-status" class="pg-rt-status">Press <b>Connect</b>, allow the microphone, and talk.
  Talking over a reply interrupts it.</div>
  <div class="pg-rt-panes">
    <div class="pg-rt-pane"><div class="pg-rt-head">Transcript</div><div id="pg-rt-transcript"></div></div>
    <div class="pg-rt-pane"><div class="pg-rt-head">Events <span class="pg-rt-muted">▲ sent · ▼ received · click a row
      for its JSON</span></div><div id="pg-rt-log"></div></div>
  </div>
  <div class="pg-rt-bar">
    <input id="pg-rt-text" type="text" placeholder="Or type a message and press Enter" autocomplete="off">
    <button id="pg-rt-send" type="button" disabled>Send</button>
    <button id="pg-rt-image-btn" type="button" disabled title="Attach an image (input_image)">Attach image</button>
    <input id="pg-rt-image" type="file" accept="image/png,image/jpeg,image/webp,image/gif" hidden>
    <button id="pg-rt-export-wav" type="button"
      title="Both sides, time-aligned: you on the left, the assistant on the right">⬇ WAV</button>
    <button id="pg-rt-export-json" type="button">⬇ Transcript JSON</button>
  </div>
  <div id="pg-rt-latency" class="pg-rt-latency"></div>
</div>
"""


@dataclass
class VoiceChatParts:
    settings: list[Any]
    code: gr.Code


def _bad(field: str, value: Any, message: str) -> SpecError:
    return SpecError([Problem(field, value, message)])


def custom_tools(text: str | None) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Parse the custom tools box: GA function tools, and each one's canned result."""
    text = (text or "").strip()
    if not text:
        return [], {}
    try:
        data = jsonsafe.loads(text)
    except ValueError as e:
        raise _bad("tools", text[:40], f"custom tools are not valid JSON ({e})") from None
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list) or not all(isinstance(t, dict) for t in data):
        raise _bad("tools", "…", "custom tools must be a JSON object or a list of objects")
    if len(data) > CUSTOM_TOOLS_MAX:
        raise _bad("tools", len(data), f"at most {CUSTOM_TOOLS_MAX} custom tools")
    tools, results = [], {}
    for t in data:
        name = t.get("name")
        if not isinstance(name, str) or not name.replace("_", "").replace("-", "").isalnum():
            raise _bad("tools", name, "each custom tool needs a name of letters, digits, _ or -")
        params = t.get("parameters", {"type": "object", "properties": {}})
        if not isinstance(params, dict) or params.get("type") != "object":
            raise _bad(f"tools.{name}.parameters", params, 'must be a JSON schema with "type": "object"')
        tools.append(
            {"type": "function", "name": name, "description": str(t.get("description", "")), "parameters": params}
        )
        result = t.get("result", {"note": f"{name} has no implementation here; this is its canned result"})
        results[name] = result if isinstance(result, str) else json.dumps(result)
    return tools, results


def session_spec(
    model: str,
    voice: str,
    instructions: str,
    speed: float,
    turn: str,
    threshold: float,
    silence_ms: float,
    prefix_ms: float,
    eagerness: str,
    transcription: str,
    noise: str,
    output: str,
    interrupt: bool,
    demo: list[str] | None,
    custom: str | None,
    mcp_url: str | None,
    mcp_label: str | None,
    effort: str | None = "",
    parallel: str | None = "",
    noise_strength: float | None = DEFAULT_NOISE_STRENGTH,
    truncation: str | None = "",
    retention: float | None = DEFAULT_RETENTION,
) -> tuple[RealtimeSessionSpec, dict[str, str]]:
    """The validated spec for the panel's values, and the custom tools' canned results.

    Reasoning effort and parallel tool calls go only to reasoning models (the panel hides
    them for the rest); noise strength only with noise reduction on, and only when moved
    off the API's default; the retention ratio only with that truncation."""
    tools, results = custom_tools(custom)
    tools = [*demo_tools(list(demo or [])), *tools]
    if (mcp_url or "").strip():
        tools.append(
            {
                "type": "mcp",
                "server_label": (mcp_label or "").strip() or "mcp",
                "server_url": mcp_url.strip(),
                "require_approval": "never",
            }
        )
    info = get_catalog().realtime_model(model)
    reasoning = bool(info and info.reasoning)
    strength = None if noise_strength is None or not noise else float(noise_strength)
    spec = RealtimeSessionSpec(
        reasoning_effort=(effort or "") if reasoning else "",
        parallel_tool_calls={"on": True, "off": False}.get(parallel or "") if reasoning else None,
        noise_reduction_strength=None if strength == DEFAULT_NOISE_STRENGTH else strength,
        truncation=truncation or "",
        retention_ratio=float(retention) if truncation == "retention_ratio" and retention is not None else None,
        model=model,
        voice=voice,
        instructions=(instructions or "").strip(),
        speed=float(speed),
        turn_detection=turn,
        vad_threshold=float(threshold),
        silence_duration_ms=int(silence_ms),
        prefix_padding_ms=int(prefix_ms),
        eagerness=eagerness,
        transcription_model=transcription or "",
        noise_reduction=noise or "",
        output_modalities=(output,),
        interrupt_response=bool(interrupt),
        tools=tuple(tools),
    )
    spec.validate()
    return spec, results


def _prices(model: str) -> dict[str, float]:
    price = get_catalog().price(model)
    return {key.removesuffix("_per_1m_tokens"): value for key, value in price.items() if key.endswith("_per_1m_tokens")}


def _page_config(spec: RealtimeSessionSpec, interrupt: bool, mode: str, request: gr.Request | None) -> dict[str, Any]:
    provider = get_context().provider_for(request)
    return {
        "session": spec.to_session(),
        "manual": spec.turn_detection == "none",
        "interrupt": bool(interrupt),
        "prices": _prices(spec.model) if mode == "realtime" else {},
        "mode": mode,
        "model": spec.model,
        "label": provider.label,
        "local": provider.kind == "embedded",
    }


def live_config(mode_label: str, chat_model: str, *values: Any, request: gr.Request = None) -> str:
    """The settings as the page applies them with ``session.update`` (or the error)."""
    try:
        spec, _ = session_spec(*values)
    except SpecError as e:
        return json.dumps({"error": str(e)})
    interrupt = values[12]
    return json.dumps(_page_config(spec, interrupt, MODES.get(mode_label, "realtime"), request))


def connect_config(mode_label: str, chat_model: str, *values: Any, request: gr.Request = None) -> str:
    """A one-time relay ticket for this browser session, with the settings to start from."""
    mode = MODES.get(mode_label, "realtime")
    try:
        spec, results = session_spec(*values)
    except SpecError as e:
        return json.dumps({"error": f"Fix the settings first: {e}"})
    if mode == "chained" and get_catalog().model_entry(chat_model) not in get_catalog().chat_models.values():
        return json.dumps({"error": f"Unknown chat model {chat_model!r}."})
    ctx = get_context()
    owner = getattr(request, "session_hash", None) or "anonymous"
    ctx.relay.runner(owner).set_custom(results)
    provider = ctx.provider_for(request)
    ticket = ctx.relay.mint(
        provider, spec.model, spec.to_session(), owner=owner, mode=mode, chat_model=chat_model,
        person=ctx.person_for(request), origin=ctx.origin_for(request),
    )  # fmt: skip
    config = _page_config(spec, values[12], mode, request)
    config["ticket"] = ticket
    return json.dumps(config)


def realtime_code(mode_label: str, chat_model: str, *values: Any, request: gr.Request = None) -> str:
    """The Python script that replays an exported conversation with these settings."""
    try:
        spec, _ = session_spec(*values)
    except SpecError as e:
        return f"# Fix the settings first: {e}\n"
    base_url = get_context().provider_for(request).snippet_base_url
    chained = chat_model if MODES.get(mode_label) == "chained" else None
    return render(spec, "python", base_url=base_url, file_path=REPLAY_FILE, chat_model=chained)


def reasoning_options(model: str) -> tuple[Any, Any]:
    """Reasoning effort and parallel tool calls: shown for reasoning models only."""
    info = get_catalog().realtime_model(model)
    shown = bool(info and info.reasoning)
    return gr.update(visible=shown), gr.update(visible=shown)


def vibe_instructions(name: str | None) -> Any:
    vibe = get_context().vibe(name) if name else None
    return vibe.instructions_text if vibe else gr.update()


@dataclass
class SessionWidgets:
    """The always-visible settings: mode, models, voice, instructions and turn taking."""

    mode: gr.Radio
    model: gr.Dropdown
    chat_model: gr.Dropdown
    voice: gr.Dropdown
    vibe: gr.Dropdown
    instructions: gr.Textbox
    speed: gr.Slider
    turn: gr.Radio
    vad_row: gr.Row
    threshold: gr.Slider
    silence: gr.Slider
    prefix: gr.Slider
    eagerness: gr.Radio
    transcription: gr.Dropdown
    noise: gr.Radio
    output: gr.Radio
    interrupt: gr.Checkbox


@dataclass
class AdvancedWidgets:
    """The two accordions: reasoning, context and noise; and tools."""

    effort: gr.Dropdown
    parallel: gr.Radio
    noise_strength: gr.Slider
    truncation: gr.Dropdown
    retention: gr.Slider
    demo: gr.CheckboxGroup
    custom: gr.Code
    mcp_url: gr.Textbox
    mcp_label: gr.Textbox


@dataclass
class VoiceChatLayout:
    """Every widget of the tab, built by ``voicechat_layout`` and wired by ``wire_voicechat``."""

    session: SessionWidgets
    advanced: AdvancedWidgets
    connect: gr.Button
    disconnect: gr.Button
    code: gr.Code
    ticket: gr.Textbox
    live: gr.Textbox

    @property
    def inputs(self) -> list[Any]:
        """Mode and chat model, then ``session_spec``'s arguments in its order (handlers unpack them so)."""
        s, a = self.session, self.advanced
        settings = [
            s.model, s.voice, s.instructions, s.speed, s.turn, s.threshold, s.silence, s.prefix, s.eagerness,
            s.transcription, s.noise, s.output, s.interrupt, a.demo, a.custom, a.mcp_url, a.mcp_label,
            a.effort, a.parallel, a.noise_strength, a.truncation, a.retention,
        ]  # fmt: skip
        return [s.mode, s.chat_model, *settings]


def _session_widgets() -> SessionWidgets:
    """Mode through interruption, in the settings column (creation order is the page's order)."""
    cat = get_catalog()
    rt = cat.realtime
    ctx = get_context()
    mode = gr.Radio(list(MODES), value=next(iter(MODES)), label="Mode", elem_id="pg-rt-mode")
    with gr.Row():
        model = model_picker(cat.realtime_models, rt.default_model, label="Realtime model", elem_id="pg-rt-model")
        chat_model = model_picker(
            cat.chat_models,
            cat.chat.default_model,
            label="Chat model (chained)",
            interactive=False,
            elem_id="pg-rt-chat-model",
        )
    with gr.Row():
        voice = gr.Dropdown(rt.voices, value=rt.default_voice, label="Voice", elem_id="pg-rt-voice")
        vibe = gr.Dropdown([v.name for v in ctx.all_vibes()], value=None, label="Vibe (fills instructions)")
    standin.note("voicechat", model, voice)  # what answers offline (SmolLM2-135M…), hidden otherwise
    instructions = gr.Textbox(
        label="Instructions",
        lines=2,
        max_lines=4,
        placeholder="e.g. You are a friendly barista. Keep answers to two sentences.",
        elem_id="pg-rt-instructions",
    )
    speed = gr.Slider(cat.limits.realtime_speed.min, cat.limits.realtime_speed.max, value=1.0, step=0.05, label="Speed")
    turn = gr.Radio(TURNS, value="server_vad", label="Turn detection", elem_id="pg-rt-turn")
    defaults = rt.server_vad_defaults
    with gr.Row() as vad_row:
        threshold = gr.Slider(0.1, 0.95, value=defaults.threshold, step=0.05, label="Threshold")
        silence = gr.Slider(100, 2000, value=defaults.silence_duration_ms, step=50, label="Silence (ms)")
        prefix = gr.Slider(0, 1000, value=defaults.prefix_padding_ms, step=50, label="Prefix (ms)")
    eagerness = gr.Radio(rt.semantic_eagerness, value="auto", label="Eagerness", visible=False)
    with gr.Row():
        tr_choices, tr_default = model_choices(rt.transcription_models, rt.default_transcription_model)
        transcription = gr.Dropdown(
            [("off", ""), *tr_choices],
            value=tr_default,
            label="Input transcription",
            elem_id="pg-rt-transcription",
        )
        noise = gr.Radio(NOISE, value="", label="Noise reduction")
    with gr.Row():
        output = gr.Radio([("Audio", "audio"), ("Text only", "text")], value="audio", label="Output")
        interrupt = gr.Checkbox(
            value=True, label="Interrupt when I speak", info="Off for noisy rooms", elem_id="pg-rt-interrupt"
        )
    return SessionWidgets(
        mode, model, chat_model, voice, vibe, instructions, speed, turn, vad_row, threshold, silence, prefix,
        eagerness, transcription, noise, output, interrupt,
    )  # fmt: skip


def _advanced_widgets(model: gr.Dropdown) -> AdvancedWidgets:
    """The folded accordions; reasoning options start shown only if ``model``'s first value reasons."""
    first = get_catalog().realtime_model(model.value)
    with gr.Accordion("Reasoning, context and noise", open=False, elem_id="pg-rt-advanced"):
        with gr.Row():
            effort = gr.Dropdown(
                EFFORT,
                value="",
                label="Reasoning effort",
                visible=bool(first and first.reasoning),
                elem_id="pg-rt-effort",
            )
            parallel = gr.Radio(
                PARALLEL,
                value="",
                label="Parallel tool calls",
                visible=bool(first and first.reasoning),
                elem_id="pg-rt-parallel",
            )
        noise_strength = gr.Slider(
            0.0,
            1.0,
            value=DEFAULT_NOISE_STRENGTH,
            step=0.05,
            label="Noise suppression strength (with noise reduction on)",
            elem_id="pg-rt-noise-strength",
        )
        with gr.Row():
            truncation = gr.Dropdown(TRUNCATION, value="", label="Truncation", elem_id="pg-rt-truncation")
            retention = gr.Slider(
                0.0,
                1.0,
                value=DEFAULT_RETENTION,
                step=0.05,
                label="Retention ratio",
                visible=False,
                elem_id="pg-rt-retention",
            )
    with gr.Accordion("Tools", open=False, elem_id="pg-rt-tools"):
        demo = gr.CheckboxGroup(
            [t["name"] for t in demo_tools()],
            value=[],
            label="Demo tools (run by the playground)",
            elem_id="pg-rt-demo-tools",
        )
        custom = gr.Code(
            value="",
            language="json",
            label='Custom tools: JSON schema, with a canned "result" (example below)',
            lines=4,
            elem_id="pg-rt-custom-tools",
        )
        gr.Markdown(f"```json\n{CUSTOM_TOOLS_EXAMPLE}\n```", elem_classes=["pg-rt-example"])
        with gr.Row():
            mcp_url = gr.Textbox(label="Remote MCP server URL", placeholder="https://example.com/mcp")
            mcp_label = gr.Textbox(label="Label", placeholder="docs")
    return AdvancedWidgets(effort, parallel, noise_strength, truncation, retention, demo, custom, mcp_url, mcp_label)


def voicechat_layout() -> VoiceChatLayout:
    """Build the tab's widgets (settings column, console column, hidden carriers); registers no events."""
    with gr.Row(equal_height=False):
        with gr.Column(scale=2, min_width=340, elem_id="pg-rt-settings"):
            session = _session_widgets()
            advanced = _advanced_widgets(session.model)
            with gr.Row():
                connect = gr.Button("Connect", variant="primary", elem_id="pg-rt-connect")
                disconnect = gr.Button("Disconnect", elem_id="pg-rt-disconnect")
        with gr.Column(scale=3, min_width=520):
            gr.HTML(CONSOLE_HTML, elem_id="pg-rt-console")
            with gr.Accordion("Code: replay an exported conversation with these settings", open=False):
                code = gr.Code(language="python", label="Python", lines=14, max_lines=24, elem_id="pg-rt-code")
    ticket = gr.Textbox(visible=False)
    live = gr.Textbox(visible=False)
    return VoiceChatLayout(session, advanced, connect, disconnect, code, ticket, live)


def wire_voicechat(ui: VoiceChatLayout) -> None:
    """Register the tab's events; their order fixes Gradio's fn indices, so keep it."""
    s, a = ui.session, ui.advanced
    inputs = ui.inputs

    def connect(mode_label: str, chat_model: str, request: gr.Request, *values: Any) -> str:
        # ``request`` positional: Gradio passes it only to a parameter before ``*values``
        return connect_config(mode_label, chat_model, *values, request=request)

    ui.connect.click(connect, inputs, ui.ticket, api_name="realtime_connect", queue=False).then(
        None, ui.ticket, None, js="(c) => { window.pgRealtime && window.pgRealtime.connect(c); return []; }"
    )
    ui.disconnect.click(
        None, None, None, js="() => { window.pgRealtime && window.pgRealtime.disconnect(); return []; }"
    )
    s.vibe.change(vibe_instructions, s.vibe, s.instructions, queue=False)
    s.mode.change(
        lambda m: (gr.update(interactive=MODES[m] == "realtime"), gr.update(interactive=MODES[m] == "chained")),
        s.mode,
        [s.model, s.chat_model],
        queue=False,
    )
    s.turn.change(
        lambda t: (gr.update(visible=t == "server_vad"), gr.update(visible=t == "semantic_vad")),
        s.turn,
        [s.vad_row, s.eagerness],
        queue=False,
    )
    s.model.change(reasoning_options, s.model, [a.effort, a.parallel], queue=False)
    a.truncation.change(lambda t: gr.update(visible=t == "retention_ratio"), a.truncation, a.retention, queue=False)
    # typed text and dragged sliders apply when the user is done, not at every keystroke
    typed = (s.instructions, a.custom, a.mcp_url, a.mcp_label)
    dragged = (s.speed, s.threshold, s.silence, s.prefix, a.noise_strength, a.retention)
    changes = [c.blur if c in typed else c.release if c in dragged else c.change for c in inputs]
    gr.on(changes, live_config, inputs, ui.live, api_name="realtime_settings", queue=False).then(
        None, ui.live, None, js="(c) => { window.pgRealtime && window.pgRealtime.update(c); return []; }"
    )
    gr.on(changes, realtime_code, inputs, ui.code, queue=False)


def create_voicechat_tab() -> VoiceChatParts:
    """Lay the tab out, then wire it; the parts are what the app's load and share handlers need."""
    ui = voicechat_layout()
    wire_voicechat(ui)
    return VoiceChatParts(settings=ui.inputs, code=ui.code)
