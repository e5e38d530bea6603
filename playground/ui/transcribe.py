"""Transcription tab: a file, the microphone or the last Studio output, through every
parameter of the transcription (and translation) API.

The panel only offers what the catalog says the chosen model takes, and says why the
rest is off. A run streams its text when the model can; verbose_json words are drawn
under the waveform and listed as buttons that play the audio from there
(``static/transcribe.js``); subtitles download with their own extension; a reference
text gives the word error rate and a word diff (``core/textmetrics``: Whisper's
normaliser, jiwer's alignment). The code panel shows the same request, with the
uploaded file's name.

Live mode transcribes the microphone while the user speaks: Record asks the server for a
one-time relay ticket (``live_connect``; the key stays on the server) and the page
(``static/transcribe.js``, reusing the voice chat's capture worklet) streams 24 kHz PCM16
through ``/relay/realtime`` into a realtime transcription session; each VAD turn's text
grows as deltas arrive and is stamped with where the turn starts. The relay keeps the
recording, so when it stops the same audio can go through file transcription with other
settings (``use_live_recording``). The code panel shows the same session as SDK code
(``RealtimeTranscriptionSpec``).

The tab's pieces live beside it: the layout in ``transcribe_layout``, the file-mode
handlers in ``transcribe_options`` (what a model takes, the spec) and ``transcribe_run``
(the run and its result), the live-mode handlers in ``transcribe_live``. This module wires
them together and re-exports their public names, so callers import from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

import gradio as gr

from playground.core.catalog import get_catalog
from playground.core.diffview import diff_html
from playground.ui.share import SHARE_JS, share_query
from playground.ui.transcribe_delays import delay_panel, run_delay_comparison, wire_delay_panel
from playground.ui.transcribe_layout import (
    LIVE_HTML,
    LIVE_NOISE,
    LIVE_TURNS,
    SOURCES,
    TASKS,
    file_panel,
    live_panel,
)
from playground.ui.transcribe_live import LIVE_FILE, live_code, live_connect, live_spec, use_live_recording
from playground.ui.transcribe_options import (
    SERVER_DEFAULT,
    _model,
    hint_options,
    model_options,
    model_switched,
    prompt_option,
    temperature_choices,
    transcription_spec,
)
from playground.ui.transcribe_run import (
    MIN_SECONDS,
    SHORT_SECONDS,
    SUBTITLES,
    audio_loaded,
    error_beside_button,
    run_transcription,
    speaker_html,
    speaker_text,
    transcription_code,
    use_studio_output,
)

__all__ = [
    "LIVE_FILE",
    "LIVE_HTML",
    "LIVE_NOISE",
    "LIVE_TURNS",
    "MIN_SECONDS",
    "SERVER_DEFAULT",
    "SHORT_SECONDS",
    "SOURCES",
    "SUBTITLES",
    "TASKS",
    "TranscribeParts",
    "audio_loaded",
    "create_transcribe_tab",
    "diff_html",
    "error_beside_button",
    "hint_options",
    "live_code",
    "live_connect",
    "live_spec",
    "model_options",
    "model_switched",
    "prompt_option",
    "run_delay_comparison",
    "run_transcription",
    "speaker_html",
    "speaker_text",
    "temperature_choices",
    "transcription_code",
    "transcription_spec",
    "use_live_recording",
    "use_studio_output",
]


@dataclass
class TranscribeParts:
    settings: list[Any]
    code_outputs: list[gr.Code]
    #: (model, task, fmt) -> the options the model allows, for the page load
    option_inputs: list[Any]
    option_outputs: list[Any]


def create_transcribe_tab() -> TranscribeParts:
    cat = get_catalog()
    langs = [("Auto-detect", ""), *[(code, code) for code in cat.transcription.languages]]
    source = gr.Radio(SOURCES, value="file", label="Source", elem_id="pg-tr-source")
    f = file_panel(cat, langs)
    live = live_panel(cat, langs)
    with live.view:  # "Compare two delays" under the live console, full width
        delays = delay_panel()
    live_ticket = gr.Textbox(visible=False)

    settings = [f.audio, f.task, f.model, f.language, f.prompt, f.temperature, f.fmt, f.grains, f.logprobs, f.stream]
    hints = [f.keywords, f.languages]
    codes = [f.code_py, f.code_js, f.code_curl]
    options = [f.fmt, f.grains, f.logprobs, f.stream, f.why]
    f.share.click(
        partial(share_query, "transcribe"), [*settings[1:], *hints], f.share_link, api_name="share_transcription",
        queue=False,
    ).then(None, f.share_link, f.share_link, js=SHARE_JS)  # fmt: skip
    f.audio.change(audio_loaded, f.audio, [f.wave, f.audio_info], api_name="load_audio", queue=False)
    f.studio_btn.click(use_studio_output, None, [f.audio, f.audio_info], api_name="use_studio_output", queue=False)
    gr.on([f.model.change, f.task.change], model_switched, [f.model, f.task, f.fmt], options, queue=False)
    gr.on([f.model.change, f.task.change], hint_options, [f.model, f.task], hints, queue=False)
    f.model.change(prompt_option, f.model, f.prompt, queue=False, show_progress="hidden")
    f.fmt.change(model_options, [f.model, f.task, f.fmt], options, queue=False)
    gr.on([c.change for c in (*settings, *hints)], transcription_code, [*settings, *hints], codes, queue=False)
    f.go.click(
        run_transcription,
        [*settings, f.reference, *hints],
        [f.text, f.metrics, f.timeline, f.words, f.subtitle, f.wer],
        api_name="transcribe",
        concurrency_limit=4,
    ).then(error_beside_button, f.metrics, [f.go_note, f.metrics], queue=False, show_progress="hidden")
    source.change(
        lambda v: (gr.update(visible=v == "file"), gr.update(visible=v == "live")),
        source,
        [f.view, live.view],
        queue=False,
    )
    live_settings = [
        live.model, live.language, live.prompt, live.noise, live.turn,
        live.threshold, live.silence, live.prefix, live.eagerness, live.delay,
    ]  # fmt: skip
    live.model.change(
        lambda m: gr.update(visible=bool((info := _model(m)) and info.delay)), live.model, live.delay, queue=False
    )
    live.turn.change(
        lambda t: (gr.update(visible=t == "server_vad"), gr.update(visible=t == "semantic_vad")),
        live.turn,
        [live.vad, live.eagerness],
        queue=False,
    )
    live.record.click(live_connect, live_settings, live_ticket, api_name="live_connect", queue=False).then(
        None, live_ticket, None, js="(c) => { window.pgLive && window.pgLive.start(c); return []; }"
    )
    live.stop.click(None, None, None, js="() => { window.pgLive && window.pgLive.stop(); return []; }")
    live.to_file.click(  # the page stops first (the relay's copy is then whole), the server hands it over
        use_live_recording,
        None,
        [f.audio, f.audio_info, source],
        js="async () => { if (window.pgLive) await window.pgLive.stop(); return []; }",
        api_name="use_live_recording",
        queue=False,
    )
    wire_delay_panel(delays, live_settings)
    gr.on([source.change, *[c.change for c in live_settings]], live_code, live_settings, [live.code_py, live.code_js],
          queue=False)  # fmt: skip
    # keywords and languages travel with the rest (share links, history, the code on load)
    return TranscribeParts([*settings, *hints], codes, [f.model, f.task, f.fmt, gr.State(True)], options)
