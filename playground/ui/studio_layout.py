"""The Studio tab's widgets, laid out by ``studio_layout`` and handed back as dataclasses,
so ``studio.create_studio_tab`` only wires them. Creation order is the page's order (and
Gradio's component ids), so each builder keeps its widgets in the order they appear.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from playground.core import workflows
from playground.core.catalog import Catalog, get_catalog
from playground.core.vibes import NAME_MAX
from playground.ui import standin
from playground.ui.studio_vibes import CHIPS, vibe_names
from playground.ui.widgets import model_picker, range_slider, voice_choices

__all__ = [
    "DEFAULT_SCRIPT",
    "PLAYER_HTML",
    "StudioControls",
    "StudioLayout",
    "StudioPicks",
    "StudioSide",
    "StudioTexts",
    "count_html",
    "studio_layout",
]

DEFAULT_SCRIPT = "Welcome to the audio playground. Pick a voice, choose a vibe, and press play to hear it."

#: the live player; studio.js drives it (progress, stop, replay, the heard latency)
PLAYER_HTML = """
<div id="pg-live" class="pg-live">
  <button id="pg-live-stop" type="button" title="Stop" aria-label="Stop">■</button>
  <button id="pg-live-replay" type="button" title="Play again" aria-label="Play again" disabled>↺</button>
  <div class="pg-live-bar"><div class="pg-live-buffer"></div><div class="pg-live-fill"></div></div>
  <span id="pg-live-time">0:00 / 0:00</span>
  <span id="pg-live-status">Press Play: audio starts with the first sentence.</span>
</div>
"""


def count_html(label: str, text: str, limit: int) -> str:
    """A character count under a textbox, marked once it passes the API's limit."""
    n = len(text or "")
    style = "pg-over" if n > limit else ""
    return f'<span class="pg-count {style}">{label}: {n:,} / {limit:,}</span>'


@dataclass(frozen=True)
class StudioPicks:
    """Workflow, voice grid, vibe chips and the voice a vibe suggests."""

    workflow: gr.Radio
    voice: gr.Radio
    chips: gr.Radio
    all_vibes: gr.Dropdown
    shuffle: gr.Button
    suggestion: gr.Markdown
    use_voice: gr.Button


@dataclass(frozen=True)
class StudioTexts:
    """Instructions and script side by side, each with its character count."""

    instructions: gr.Textbox
    instructions_count: gr.HTML
    script: gr.Textbox
    script_count: gr.HTML


@dataclass(frozen=True)
class StudioControls:
    """Model, format, speed and Play, the notes under them, and the run's metrics."""

    model: gr.Dropdown
    fmt: gr.Dropdown
    speed: gr.Slider
    play: gr.Button
    speed_note: gr.Markdown
    play_note: gr.Markdown
    metrics: gr.Markdown


@dataclass(frozen=True)
class StudioSide:
    """The right column: code tabs, download, voice preview, save as vibe, share."""

    py_code: gr.Code
    js_code: gr.Code
    curl_code: gr.Code
    download: gr.File
    preview: gr.Audio
    vibe_name: gr.Textbox
    overwrite: gr.Checkbox
    save: gr.Button
    save_status: gr.Markdown
    share: gr.Button
    share_link: gr.Textbox


@dataclass(frozen=True)
class StudioLayout:
    """Every widget of the tab, built by ``studio_layout`` and wired by ``studio.wire_studio``."""

    picks: StudioPicks
    texts: StudioTexts
    controls: StudioControls
    side: StudioSide
    waveform: gr.Plot
    token: gr.Textbox
    last_sample: gr.State
    current_vibe: gr.Textbox

    @property
    def settings(self) -> list[Any]:
        """``speech_spec``'s arguments in its order (handlers, share links and reopen unpack them so)."""
        p, t, c = self.picks, self.texts, self.controls
        return [t.script, p.voice, c.model, t.instructions, c.speed, c.fmt, p.workflow]

    @property
    def code_outputs(self) -> list[Any]:
        """``update_code``'s outputs: the three snippets, then the two counts."""
        s, t = self.side, self.texts
        return [s.py_code, s.js_code, s.curl_code, t.script_count, t.instructions_count]


def _picks(start: workflows.Workflow, vibes: list[str]) -> StudioPicks:
    workflow = gr.Radio(
        [(workflows.label(w), w) for w in workflows.WORKFLOWS],
        value=start.id,
        label="Workflow  ·  Realtime reads the text in a Realtime session, the speech endpoint's successor",
        elem_id="pg-workflow",
    )
    voice = gr.Radio(
        voice_choices(start.id),
        value=start.default_voice,
        label="Voice  ·  ★ most expressive with instructions  ·  “endpoint only”: not on the Realtime API",
        elem_classes="pg-voice-grid",
        elem_id="pg-voice",
    )
    with gr.Row(elem_id="pg-vibe-row", equal_height=False):
        chips = gr.Radio(vibes[:CHIPS], label="Vibe", elem_classes="pg-chips", elem_id="pg-chips", scale=5)
        with gr.Column(scale=2, min_width=190, elem_id="pg-vibe-side"):
            all_vibes = gr.Dropdown(vibes, label="All vibes (yours too)", value=None, elem_id="pg-all-vibes")
            shuffle = gr.Button("Shuffle chips", size="sm", elem_id="pg-shuffle")
    with gr.Row(elem_id="pg-suggest-row", equal_height=True):
        suggestion = gr.Markdown(elem_id="pg-suggestion")
        use_voice = gr.Button("Use", size="sm", visible=False, scale=0, min_width=110, elem_id="pg-use-voice")
    return StudioPicks(workflow, voice, chips, all_vibes, shuffle, suggestion, use_voice)


def _texts(cat: Catalog) -> StudioTexts:
    with gr.Row(equal_height=True, elem_id="pg-texts"):
        with gr.Column(scale=1, min_width=260):
            instructions = gr.Textbox(
                label="Instructions",
                lines=4,
                max_lines=6,
                elem_id="pg-instructions",
                placeholder="Affect, tone, pacing, emotion, pronunciation, pauses… or pick a vibe.",
            )
            instructions_count = gr.HTML(count_html("Instructions", "", cat.limits.instructions_max_chars))
        with gr.Column(scale=1, min_width=260):
            script = gr.Textbox(
                value=DEFAULT_SCRIPT,
                label="Script",
                lines=4,
                max_lines=6,
                elem_id="pg-script",
                placeholder="What the voice says.",
            )
            script_count = gr.HTML(count_html("Script", DEFAULT_SCRIPT, cat.limits.speech_input_max_chars))
    return StudioTexts(instructions, instructions_count, script, script_count)


def _controls(cat: Catalog, start: workflows.Workflow, voice: gr.Radio) -> StudioControls:
    """The Play row and what sits under it; the stand-in note here follows ``voice`` and the model."""
    with gr.Row(equal_height=True, elem_id="pg-controls"):
        # custom values: a script may send the other workflow's model or format (or a
        # compatible server's own model name); the spec decides, and says what it did
        model = model_picker(
            start.models,
            start.default_model,
            label="Model",
            elem_id="pg-model",
            min_width=150,
            allow_custom_value=True,
        )
        fmt = gr.Dropdown(
            [(lbl, f) for f, lbl in start.formats],
            value=start.default_format,
            allow_custom_value=True,
            label="Format",
            elem_id="pg-format",
            min_width=150,
        )
        speed = range_slider(
            cat.limits.speed.min,
            cat.limits.speed.max,
            value=cat.limits.speed.default,
            step=0.05,
            label="Speed",
            elem_id="pg-speed",
            min_width=180,
        )
        play = gr.Button("▶  Play", variant="primary", elem_id="pg-play", scale=0, min_width=130)
    # what went wrong with Play or the speed, right under them
    speed_note = gr.Markdown(elem_id="pg-speed-note")
    play_note = gr.Markdown(elem_id="pg-play-note", elem_classes="pg-error-note")
    standin.note("studio", voice, model)  # offline: which local engine speaks this voice, hidden otherwise
    gr.HTML(PLAYER_HTML, elem_id="pg-player-box")
    metrics = gr.Markdown(elem_id="pg-metrics")
    return StudioControls(model, fmt, speed, play, speed_note, play_note, metrics)


def _side() -> StudioSide:
    with gr.Tabs(elem_id="pg-code-tabs"):
        with gr.Tab("Python"):
            py_code = gr.Code(language="python", show_label=False, elem_id="pg-code-python", max_lines=24)
        with gr.Tab("JavaScript"):
            js_code = gr.Code(language="javascript", show_label=False, elem_id="pg-code-js", max_lines=24)
        with gr.Tab("curl"):
            curl_code = gr.Code(language="shell", show_label=False, elem_id="pg-code-curl", max_lines=24)
    download = gr.File(label="Download", interactive=False, elem_id="pg-download", height=60, visible=False)
    preview = gr.Audio(
        label="Voice preview (plays when you pick a voice)",
        autoplay=True,
        interactive=False,
        elem_id="pg-preview",
        buttons=["download"],
    )
    with gr.Accordion("Save as vibe", open=False, elem_id="pg-save-box"):
        vibe_name = gr.Textbox(
            label="Name", placeholder="e.g. Calm onboarding", max_length=NAME_MAX, elem_id="pg-vibe-name"
        )
        overwrite = gr.Checkbox(label="Overwrite a vibe of this name (built-in or yours)", value=False)
        save = gr.Button("Save vibe", size="sm", elem_id="pg-save-vibe")
        save_status = gr.Markdown(elem_id="pg-save-status")
    with gr.Accordion("Share these settings", open=False, elem_id="pg-share-box"):
        share = gr.Button("Make a link", size="sm", elem_id="pg-share")
        share_link = gr.Textbox(
            show_label=False, placeholder="a link that reopens these settings", elem_id="pg-share-link"
        )
    return StudioSide(
        py_code, js_code, curl_code, download, preview, vibe_name, overwrite, save, save_status, share, share_link
    )


def studio_layout() -> StudioLayout:
    """Build the tab: one screen at 1440x900, settings and player left, code right, the
    waveform and hidden carriers below. Registers no events of its own, except the stand-in
    note's (``standin.note``), which must come before the tab's."""
    cat = get_catalog()
    vibes = vibe_names()
    with gr.Row(equal_height=False, elem_id="pg-studio"):
        with gr.Column(scale=3, min_width=560):
            start = workflows.get(workflows.DEFAULT)
            picks = _picks(start, vibes)
            texts = _texts(cat)
            controls = _controls(cat, start, picks.voice)
        with gr.Column(scale=2, min_width=400, elem_id="pg-side"):
            side = _side()
    waveform = gr.Plot(label="Waveform", elem_id="pg-waveform")
    token = gr.Textbox(visible=False, elem_id="pg-token")
    last_sample = gr.State(DEFAULT_SCRIPT)  # the starter text is a sample too: a vibe may replace it
    current_vibe = gr.Textbox(visible=False)
    return StudioLayout(picks, texts, controls, side, waveform, token, last_sample, current_vibe)
