"""The Translate tab's widgets, laid out by ``translate_panel`` and handed back as a
dataclass (``translate.create_translate_tab`` wires them), and the console's HTML that
``static/translate.js`` fills."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from playground.core.catalog import Catalog
from playground.ui.widgets import model_picker

SOURCES = [("Microphone", "mic"), ("File, streamed in real time", "file")]
NOISE = [("Off", ""), ("Near field", "near_field"), ("Far field", "far_field")]
#: noise suppression strength ("" = the server's default)
STRENGTHS = [("Server default", ""), *[(f"{v:.2f}", f"{v:.2f}") for v in (0.25, 0.5, 0.75, 1.0)]]
#: the live console: level, clock, cost; both transcripts side by side; the phrase table
CONSOLE_HTML = """
<div id="pg-tl" class="pg-tl">
  <div class="pg-tl-bar">
    <span id="pg-tl-dot" title="sending audio"></span>
    <div id="pg-tl-meter" title="source level"><div class="pg-tl-fill"></div></div>
    <span id="pg-tl-clock" title="source audio sent">0:00.0</span>
    <span id="pg-tl-cost" title="input minutes × the per-minute price">cost so far: —</span>
    <span id="pg-tl-played" title="translated speech played">played 0.0 s</span>
  </div>
  <div id="pg-tl-status" class="pg-tl-status">Pick a source and a language, then press <b>Start</b>.</div>
  <div class="pg-tl-cols">
    <div><div class="pg-tl-h">Source</div><div id="pg-tl-source" class="pg-tl-text" aria-live="polite"></div></div>
    <div><div class="pg-tl-h">Translation</div><div id="pg-tl-target" class="pg-tl-text" aria-live="polite"></div></div>
  </div>
  <div class="pg-tl-table"><table id="pg-tl-phrases">
    <thead><tr><th>at</th><th>source</th><th>translation</th><th>latency</th></tr></thead><tbody></tbody>
  </table></div>
</div>
<style>
.pg-tl { display: flex; flex-direction: column; gap: 8px; }
.pg-tl-bar { display: flex; align-items: center; gap: 12px; font-family: var(--font-mono); font-size: 13px; }
#pg-tl-dot { width: 12px; height: 12px; border-radius: 50%; background: var(--neutral-400); flex: none; }
#pg-tl-dot.pg-on { background: #e5484d; }
#pg-tl-meter { flex: 1; height: 8px; border-radius: 4px; background: var(--neutral-200); overflow: hidden; }
#pg-tl-meter .pg-tl-fill { height: 100%; width: 0; background: var(--color-accent); }
.pg-tl-status.pg-bad { color: #e5484d; }
.pg-tl-cols { display: grid; grid-template-columns: 1fr 1fr; gap: 10px; }
.pg-tl-h { font-weight: 600; margin-bottom: 4px; }
.pg-tl-text { height: 150px; overflow-y: auto; padding: 8px 10px; white-space: pre-wrap;
  border: 1px solid var(--border-color-primary); border-radius: 12px; }
.pg-tl-table { max-height: 170px; overflow-y: auto; border: 1px solid var(--border-color-primary);
  border-radius: 12px; }
#pg-tl-phrases { width: 100%; border-collapse: collapse; font-size: 13px; }
#pg-tl-phrases th, #pg-tl-phrases td { text-align: left; padding: 3px 8px; vertical-align: top; }
#pg-tl-phrases th { position: sticky; top: 0; background: var(--background-fill-secondary); }
#pg-tl-phrases td:first-child, #pg-tl-phrases td:last-child { font-family: var(--font-mono); white-space: nowrap; }
</style>
"""


@dataclass
class TranslatePanel:
    """Every widget of the tab: the session's settings, the buttons, the console, export, code."""

    source: gr.Radio
    file: gr.Audio
    file_note: gr.Markdown
    language: gr.Dropdown
    language_note: gr.Markdown
    #: True until the user picks a language: the picker then follows the provider's default
    auto_language: gr.State
    transcript: gr.Checkbox
    transcription_model: gr.Dropdown
    noise: gr.Radio
    strength: gr.Dropdown
    start: gr.Button
    stop: gr.Button
    export: gr.Button
    config: gr.Textbox
    payload: gr.Textbox
    files: gr.File
    export_note: gr.Markdown
    code_py: gr.Code
    code_js: gr.Code

    @property
    def settings(self) -> list[gr.components.Component]:
        """What the session, the ticket and the code are made from, in the handlers' order."""
        return [self.language, self.transcript, self.transcription_model, self.noise, self.strength]


def _settings(cat: Catalog) -> dict[str, gr.components.Component]:
    tr = cat.translation
    source = gr.Radio(SOURCES, value="mic", label="Source", elem_id="pg-tl-source-pick")
    file = gr.Audio(sources=["upload"], type="filepath", label="Audio file", visible=False, elem_id="pg-tl-file")
    file_note = gr.Markdown("", elem_id="pg-tl-file-note")
    with gr.Row(equal_height=True):
        language = gr.Dropdown(
            [(name, code) for code, name in tr.output_languages.items()],
            value=tr.default_output_language,
            label="Translate into",
            elem_id="pg-tl-language",
            scale=2,
        )
        language_note = gr.Markdown("", elem_id="pg-tl-language-note")
    with gr.Row(equal_height=True):
        transcript = gr.Checkbox(value=True, label="Show the source transcript", elem_id="pg-tl-transcript")
        transcription_model = model_picker(
            cat.realtime.transcription_models, tr.transcription_model, label="Its model", elem_id="pg-tl-tmodel"
        )
    with gr.Row(equal_height=True):
        noise = gr.Radio(NOISE, value="", label="Noise reduction", elem_id="pg-tl-noise")
        strength = gr.Dropdown(
            STRENGTHS, value="", label="Strength", elem_id="pg-tl-strength", visible=False,
        )  # fmt: skip
    return {
        "source": source, "file": file, "file_note": file_note, "language": language, "language_note": language_note,
        "transcript": transcript, "transcription_model": transcription_model, "noise": noise, "strength": strength,
    }  # fmt: skip


def translate_panel(cat: Catalog) -> TranslatePanel:
    """The tab: settings and buttons on the left, the console, export and code on the right."""
    with gr.Row(equal_height=False):
        with gr.Column(scale=2, min_width=380, elem_id="pg-tl-settings"):
            widgets = _settings(cat)
            with gr.Row():
                start = gr.Button("Start", variant="primary", elem_id="pg-tl-start")
                stop = gr.Button("Stop", elem_id="pg-tl-stop")
            export = gr.Button("Export and save to History", size="sm", elem_id="pg-tl-export")
            export_note = gr.Markdown("", elem_id="pg-tl-export-note")
            files = gr.File(label="Exported files", file_count="multiple", visible=False, elem_id="pg-tl-files")
        with gr.Column(scale=3, min_width=560):
            gr.HTML(CONSOLE_HTML, elem_id="pg-tl-console")
            with gr.Tabs():
                with gr.Tab("Python"):
                    code_py = gr.Code(language="python", show_label=False, lines=10, elem_id="pg-tl-code-python")
                with gr.Tab("JavaScript"):
                    code_js = gr.Code(language="javascript", show_label=False, lines=10, elem_id="pg-tl-code-js")
    return TranslatePanel(
        **widgets,  # type: ignore[arg-type]
        auto_language=gr.State(True),
        start=start,
        stop=stop,
        export=export,
        config=gr.Textbox(visible=False),
        payload=gr.Textbox(visible=False),
        files=files,
        export_note=export_note,
        code_py=code_py,
        code_js=code_js,
    )
