"""The Transcribe tab's widgets: the file panel and the live panel, each laid out by one
function and handed back as a dataclass, so ``transcribe.create_transcribe_tab`` only wires
them. The widgets' choices (modes, sources, live turn detection and noise reduction) and
the live console's HTML are here too.
"""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from playground.core.catalog import Catalog
from playground.core.specs import DELAYS
from playground.ui import standin
from playground.ui.transcribe_options import SERVER_DEFAULT, _diarizes, temperature_choices
from playground.ui.widgets import model_choices, model_picker

TASKS = [("Transcribe", "transcribe"), ("Translate to English", "translate")]
SOURCES = [("File or recording", "file"), ("Live (realtime)", "live")]
LIVE_TURNS = [("Server VAD", "server_vad"), ("Semantic VAD", "semantic_vad")]
LIVE_NOISE = [("Off", ""), ("Near field", "near_field"), ("Far field", "far_field")]
#: the live console; transcribe.js fills it
LIVE_HTML = """
<div id="pg-lt" class="pg-lt">
  <div class="pg-lt-bar">
    <span id="pg-lt-dot" title="recording"></span>
    <div id="pg-lt-meter" title="microphone level"><div class="pg-lt-fill"></div></div>
    <span id="pg-lt-clock">0:00.0</span>
  </div>
  <div id="pg-lt-status" class="pg-lt-status">Press <b>Record</b>, allow the microphone, and speak:
  each turn's text appears while you talk.</div>
  <div id="pg-lt-text" class="pg-lt-text" aria-live="polite"></div>
</div>
<style>
.pg-lt { display: flex; flex-direction: column; gap: 8px; }
.pg-lt-bar { display: flex; align-items: center; gap: 10px; }
#pg-lt-dot { width: 12px; height: 12px; border-radius: 50%; background: var(--neutral-400); }
#pg-lt-dot.pg-on { background: #e5484d; }
#pg-lt-meter { flex: 1; height: 8px; border-radius: 4px; background: var(--neutral-200); overflow: hidden; }
#pg-lt-meter .pg-lt-fill { height: 100%; width: 0; background: var(--color-accent); }
.pg-lt-status.pg-bad { color: #e5484d; }
.pg-lt-text { min-height: 220px; max-height: 420px; overflow-y: auto; padding: 8px 10px;
  border: 1px solid var(--border-color-primary); border-radius: 12px; }
.pg-lt-turn { margin: 2px 0 6px; }
.pg-lt-t { font-family: var(--font-mono); color: var(--body-text-color-subdued); margin-right: 8px; }
.pg-lt-partial { opacity: 0.7; }
</style>
"""


@dataclass
class FilePanel:
    """File mode: the audio, every parameter, the result views and the code."""

    view: gr.Column
    task: gr.Radio
    audio: gr.Audio
    audio_info: gr.Markdown
    go: gr.Button
    studio_btn: gr.Button
    go_note: gr.Markdown
    wave: gr.Plot
    model: gr.Dropdown
    language: gr.Dropdown
    prompt: gr.Textbox
    keywords: gr.Textbox
    languages: gr.Dropdown
    fmt: gr.Radio
    temperature: gr.Dropdown
    grains: gr.CheckboxGroup
    logprobs: gr.Checkbox
    stream: gr.Checkbox
    why: gr.Markdown
    reference: gr.Textbox
    share: gr.Button
    share_link: gr.Textbox
    text: gr.Textbox
    metrics: gr.Markdown
    wer: gr.HTML
    words: gr.HTML
    timeline: gr.Plot
    subtitle: gr.File
    code_py: gr.Code
    code_js: gr.Code
    code_curl: gr.Code


@dataclass
class LivePanel:
    """Live mode: the session's settings, Record / Stop, the console and the code."""

    view: gr.Column
    model: gr.Dropdown
    language: gr.Dropdown
    delay: gr.Dropdown
    prompt: gr.Textbox
    noise: gr.Radio
    turn: gr.Radio
    vad: gr.Row
    threshold: gr.Slider
    silence: gr.Slider
    prefix: gr.Slider
    eagerness: gr.Radio
    record: gr.Button
    stop: gr.Button
    to_file: gr.Button
    code_py: gr.Code
    code_js: gr.Code


def file_panel(cat: Catalog, langs: list[tuple[str, str]]) -> FilePanel:
    """The file panel, visible at first (the Source radio switches it with the live one)."""
    mb = cat.limits.upload_max_bytes >> 20
    choices, default = model_choices(cat.file_transcription_models, cat.transcription_default_model)
    first = cat.transcription_models[default]
    with gr.Column(visible=True) as file_view:
        with gr.Row(equal_height=False):
            with gr.Column(scale=2, min_width=380):
                task = gr.Radio(TASKS, value="transcribe", label="Mode", elem_id="pg-tr-task")
                audio = gr.Audio(
                    sources=["upload", "microphone"],
                    type="filepath",
                    label=f"Audio ({', '.join(cat.transcription_input_formats)}; ≤ {mb} MB)",
                    elem_id="pg-tr-audio",
                )
                audio_info = gr.Markdown(elem_id="pg-tr-info")
                with gr.Row(equal_height=True):  # the run button stays in the first screen
                    go = gr.Button("Transcribe", variant="primary", elem_id="pg-tr-go", scale=2)
                    studio_btn = gr.Button("Use the Studio's last output", size="sm", elem_id="pg-tr-studio", scale=1)
                go_note = gr.Markdown(elem_id="pg-tr-go-note", elem_classes="pg-error-note")
                wave = gr.Plot(label="Waveform", elem_id="pg-tr-wave", show_label=False)
                with gr.Row():
                    model = gr.Dropdown(choices, value=default, label="Model", elem_id="pg-tr-model")
                    language = gr.Dropdown(langs, value="", label="Language")
                standin.note("transcribe", model)  # which local Whisper answers offline, hidden otherwise
                prompt = gr.Textbox(
                    label="Prompt (vocabulary, spelling, style)",
                    lines=1,
                    max_lines=3,
                    visible=not _diarizes(first),
                    elem_id="pg-tr-prompt",
                )
                with gr.Row():  # only for models that take them (gpt-transcribe)
                    keywords = gr.Textbox(
                        value="",
                        label="Keywords (comma-separated names and terms)",
                        lines=1,
                        max_lines=3,
                        visible=first.keywords,
                        elem_id="pg-tr-keywords",
                    )
                    languages = gr.Dropdown(
                        list(cat.transcription.languages),
                        value=[],
                        multiselect=True,
                        label="Possible languages",
                        visible=first.languages,
                        elem_id="pg-tr-languages",
                    )
                with gr.Row():
                    # every format the API knows; the page narrows it to the model's on load and on change
                    fmt = gr.Radio(
                        list(cat.transcription_response_formats),
                        value="json",
                        label="Response format",
                        elem_id="pg-tr-fmt",
                    )
                    temperature = gr.Dropdown(
                        temperature_choices(),
                        value=SERVER_DEFAULT,
                        allow_custom_value=True,  # a shared or reopened run may carry any value
                        label="Temperature",
                        elem_id="pg-tr-temp",
                        min_width=130,
                    )
                with gr.Row():
                    grains = gr.CheckboxGroup(
                        ["word", "segment"], label="Timestamps", visible=False, elem_id="pg-tr-grains"
                    )
                    logprobs = gr.Checkbox(label="Log-probabilities", value=False, interactive=first.logprobs)
                    stream = gr.Checkbox(
                        label="Stream the text", value=first.stream, interactive=first.stream, elem_id="pg-tr-stream"
                    )
                why = gr.Markdown(elem_classes=["pg-muted"], elem_id="pg-tr-why")
                reference = gr.Textbox(
                    label="Reference text (optional: WER and word diff)", lines=2, elem_id="pg-tr-ref"
                )
                with gr.Row():
                    share = gr.Button("Share settings", size="sm", scale=0, min_width=140, elem_id="pg-tr-share")
                    share_link = gr.Textbox(show_label=False, placeholder="a link that reopens these settings", scale=3,
                                            elem_id="pg-tr-share-link")  # fmt: skip
            with gr.Column(scale=3, min_width=520):
                text = gr.Textbox(label="Transcript", lines=6, max_lines=16, elem_id="pg-tr-text")
                metrics = gr.Markdown(elem_id="pg-tr-metrics")
                wer = gr.HTML(elem_id="pg-tr-wer")
                words = gr.HTML(elem_id="pg-tr-words")
                timeline = gr.Plot(
                    label="Words on the waveform", show_label=False, visible=False, elem_id="pg-tr-timeline"
                )
                subtitle = gr.File(label="Subtitles", visible=False, elem_id="pg-tr-subtitle")
                with gr.Tabs():
                    with gr.Tab("Python"):
                        code_py = gr.Code(language="python", show_label=False, lines=10, elem_id="pg-tr-code-python")
                    with gr.Tab("JavaScript"):
                        code_js = gr.Code(language="javascript", show_label=False, lines=10)
                    with gr.Tab("curl"):
                        code_curl = gr.Code(language="shell", show_label=False, lines=10)
    return FilePanel(
        view=file_view, task=task, audio=audio, audio_info=audio_info, go=go, studio_btn=studio_btn,
        go_note=go_note, wave=wave, model=model, language=language, prompt=prompt, keywords=keywords,
        languages=languages, fmt=fmt, temperature=temperature, grains=grains, logprobs=logprobs, stream=stream,
        why=why, reference=reference, share=share, share_link=share_link, text=text, metrics=metrics, wer=wer,
        words=words, timeline=timeline, subtitle=subtitle, code_py=code_py, code_js=code_js, code_curl=code_curl
    )  # fmt: skip


def live_panel(cat: Catalog, langs: list[tuple[str, str]]) -> LivePanel:
    """The live panel, hidden until the Source radio picks it."""
    rt = cat.realtime
    defaults = rt.server_vad_defaults
    with gr.Column(visible=False) as live_view:
        with gr.Row(equal_height=False):
            with gr.Column(scale=2, min_width=380, elem_id="pg-lt-settings"):
                with gr.Row():
                    live_model = model_picker(
                        rt.transcription_models,
                        rt.default_transcription_model,
                        label="Transcription model",
                        elem_id="pg-lt-model",
                    )
                    live_language = gr.Dropdown(langs, value="en", label="Language", elem_id="pg-lt-language")
                    live_first = cat.transcription_model(live_model.value)
                    live_delay = gr.Dropdown(
                        [("default", ""), *[(d, d) for d in DELAYS]],
                        value="",
                        label="Delay (accuracy vs. latency)",
                        visible=bool(live_first and live_first.delay),
                        elem_id="pg-lt-delay",
                    )
                standin.note("live", live_model)  # which local Whisper answers offline, hidden otherwise
                live_prompt = gr.Textbox(label="Prompt (vocabulary, spelling)", lines=1, max_lines=3)
                live_noise = gr.Radio(LIVE_NOISE, value="", label="Noise reduction", elem_id="pg-lt-noise")
                live_turn = gr.Radio(LIVE_TURNS, value="server_vad", label="Turn detection", elem_id="pg-lt-turn")
                with gr.Row() as live_vad:
                    live_threshold = gr.Slider(0.1, 0.95, value=defaults.threshold, step=0.05, label="Threshold")
                    live_silence = gr.Slider(
                        100, 2000, value=defaults.silence_duration_ms, step=50, label="Silence (ms)"
                    )
                    live_prefix = gr.Slider(0, 1000, value=defaults.prefix_padding_ms, step=50, label="Prefix (ms)")
                live_eagerness = gr.Radio(rt.semantic_eagerness, value="auto", label="Eagerness", visible=False)
                with gr.Row():
                    record = gr.Button("Record", variant="primary", elem_id="pg-lt-record")
                    stop = gr.Button("Stop", elem_id="pg-lt-stop")
                to_file = gr.Button("Transcribe this recording with other settings", size="sm", elem_id="pg-lt-to-file")
            with gr.Column(scale=3, min_width=520):
                gr.HTML(LIVE_HTML, elem_id="pg-lt-console")
                with gr.Tabs():
                    with gr.Tab("Python"):
                        live_py = gr.Code(language="python", show_label=False, lines=12, elem_id="pg-lt-code-python")
                    with gr.Tab("JavaScript"):
                        live_js = gr.Code(language="javascript", show_label=False, lines=12)
    return LivePanel(
        view=live_view, model=live_model, language=live_language, delay=live_delay, prompt=live_prompt,
        noise=live_noise, turn=live_turn, vad=live_vad, threshold=live_threshold, silence=live_silence,
        prefix=live_prefix, eagerness=live_eagerness, record=record, stop=stop, to_file=to_file,
        code_py=live_py, code_js=live_js
    )  # fmt: skip
