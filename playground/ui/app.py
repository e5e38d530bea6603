"""The Gradio shell: header with this tab's provider, the provider settings, one tab per feature."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from playground.client.providers import Provider
from playground.core.catalog import get_catalog
from playground.core.lifecycle import describe, picker_choices
from playground.ui import standin
from playground.ui.audiochat import AudioChatParts, chat_code, create_audiochat_tab
from playground.ui.compare import create_compare_tab, provider_choices
from playground.ui.context import UIContext, get_context, set_context
from playground.ui.evals import create_evals_tab
from playground.ui.history import HistoryParts, create_history_tab, list_runs
from playground.ui.settings import (
    KINDS,
    apply_chat_server,
    apply_provider,
    chat_server_status,
    forget_tab,
    header_html,
    reset_chat_server,
    session_header,
    test_connection,
)
from playground.ui.share import apply_shared, reopen_run
from playground.ui.studio import StudioParts, create_studio_tab, refresh_vibes, update_code
from playground.ui.transcribe import TranscribeParts, create_transcribe_tab, model_options, transcription_code
from playground.ui.translate import create_translate_tab
from playground.ui.voicechat import VoiceChatParts, create_voicechat_tab, realtime_code

__all__ = ["create_ui", "header_html"]


def _models_line(title: str, models: Any) -> str:
    """One surface's offered models, the deprecated ones with their date and replacement."""
    names = [f"{mid} ({note})" if (note := describe(mid)) else mid for _, mid in picker_choices(list(models))]
    return f"**{title}:** {', '.join(names)}  \n"


def _models_summary() -> str:
    """The models each tab offers today (retired ones left out, deprecated ones flagged)."""
    cat = get_catalog()
    return "".join(
        _models_line(title, models)
        for title, models in (
            ("Speech models", cat.speech_models),
            ("Transcription models", cat.file_transcription_models),
            ("Live transcription models", cat.realtime.transcription_models),
            ("Realtime models", cat.realtime_models),
            ("Audio chat models", cat.chat_audio_models),
            ("Chat models (chained pipeline)", cat.chat_models),
        )
    )


def _about_markdown() -> str:
    cat = get_catalog()
    ctx = get_context()
    return (
        "### What you can do here\n"
        "**Studio**: pick one of the voices, a vibe (or your own instructions), speed, model and format; press "
        "Play to hear it streamed; copy the exact Python / JavaScript / curl code.  \n"
        "**Compare**: up to six variants side by side, run at once, with waveforms, spectrograms, timings, "
        "costs and an optional round-trip intelligibility check; or a blind A/B test with a local leaderboard; "
        "or 2–4 transcription models on one recording, with word diffs and WER.  \n"
        "**Transcribe**: a file, the microphone or the Studio's last output through every transcription "
        "parameter; streamed text, words on the waveform, subtitles, WER and a word diff against a reference; "
        "or Live: the microphone through a realtime transcription session, text growing as you speak.  \n"
        "**History**: every Studio and transcription run, kept locally (SQLite in your data folder): replay, "
        "trace, code, export, delete.  \n"
        "**Voice chat**: talk to a realtime model from your microphone (or compare with the classic "
        "speech-to-text → chat → speech pipeline), interrupt it, give it tools, watch every event.  \n"
        "**Audio chat**: a turn-based spoken conversation over Chat Completions (typed, recorded or uploaded "
        "turns; spoken replies streamed; earlier replies sent back by audio id), tokens and cost per turn, "
        "the exact request as code, and a zip of the whole conversation.\n\n"
        f"**Speech voices ({len(cat.voice_ids)}):** {', '.join(cat.voice_ids)}  \n"
        f"{_models_summary()}"
        f"**Your data** (vibes, votes, voice previews): `{ctx.data_dir}`"
    )


@dataclass(frozen=True)
class ProviderPanel:
    """The Provider tab: this browser tab's provider, and the embedded backend's chat server."""

    kind: gr.Radio
    key: gr.Textbox
    base_url: gr.Textbox
    test: gr.Button
    use: gr.Button
    status: gr.Markdown
    llm_url: gr.Textbox
    llm_model: gr.Textbox
    llm_key: gr.Textbox
    llm_apply: gr.Button
    llm_reset: gr.Button
    llm_status: gr.Markdown


@dataclass(frozen=True)
class Shell:
    """The header, the tabs and each tab's parts: what the shell's own events read and fill."""

    header: gr.HTML
    tabs: gr.Tabs
    history_tab: gr.Tab
    studio: StudioParts
    compare_providers: list[Any]
    compare_shared: list[Any]
    transcribe: TranscribeParts
    voicechat: VoiceChatParts
    audiochat: AudioChatParts
    history: HistoryParts
    provider: ProviderPanel


def _provider_panel(provider: Provider) -> ProviderPanel:
    """The Provider tab's widgets (inside the tab), starting on the provider the app was started with."""
    gr.Markdown(
        "Choose what this browser tab talks to. A pasted key stays in this server's memory for this tab "
        "only: it is never shown again, written to disk, logged or put in the code panels (they read "
        "`OPENAI_API_KEY`). Studio, Compare and the code follow the choice; reloading the page goes back "
        "to the provider the app was started with."
    )
    kind = gr.Radio(KINDS, value=provider.kind, label="Talk to", elem_id="pg-provider-kind")
    with gr.Row(equal_height=True):
        key = gr.Textbox(
            label="API key",
            type="password",
            placeholder="sk-…",
            elem_id="pg-provider-key",
        )
        base_url = gr.Textbox(
            label="Base URL (compatible servers)",
            placeholder="http://127.0.0.1:11434/v1",
            elem_id="pg-provider-url",
        )
    with gr.Row():
        test = gr.Button("Test connection", elem_id="pg-provider-test")
        use = gr.Button("Use for this tab", variant="primary", elem_id="pg-provider-use")
    status = gr.Markdown(elem_id="pg-provider-status")
    with gr.Group(elem_id="pg-llm"):
        gr.Markdown(
            "#### Chat model server for the embedded backend\n"
            "Offline, chat (Voice chat, Audio chat, `/v1/chat/completions`) is answered by SmolLM2-135M, "
            "a tiny local model. Point it at any OpenAI-compatible LLM server (Ollama, vLLM, llama.cpp's "
            "server) instead: one test request is made first. Voices and transcription stay local. "
            "This changes the embedded backend for everyone using this server, until reset or restart; "
            "the key stays in server memory only."
        )
        with gr.Row(equal_height=True):
            llm_url = gr.Textbox(
                label="Chat server base URL", placeholder="http://127.0.0.1:11434/v1", elem_id="pg-llm-url"
            )
            llm_model = gr.Textbox(
                label="Model (empty: the server's first)", placeholder="llama3.2", elem_id="pg-llm-model"
            )
            llm_key = gr.Textbox(label="Key (optional)", type="password", placeholder="sk-…", elem_id="pg-llm-key")
        with gr.Row():
            llm_apply = gr.Button("Test and use for chat", variant="primary", elem_id="pg-llm-apply")
            llm_reset = gr.Button("Reset to SmolLM2", elem_id="pg-llm-reset")
        llm_status = gr.Markdown(chat_server_status(), elem_id="pg-llm-status")
    return ProviderPanel(
        kind=kind,
        key=key,
        base_url=base_url,
        test=test,
        use=use,
        status=status,
        llm_url=llm_url,
        llm_model=llm_model,
        llm_key=llm_key,
        llm_apply=llm_apply,
        llm_reset=llm_reset,
        llm_status=llm_status,
    )


def _shell_layout(provider: Provider) -> Shell:
    """Header and one tab per feature. Each tab's ``create_*_tab`` wires its own events as it
    builds, so their fn indices come before the shell's (registered by ``_wire_shell``)."""
    header = gr.HTML(header_html(provider), elem_id="pg-header")
    with gr.Tabs(elem_id="pg-tabs") as tabs:
        with gr.Tab("Studio", id="studio", elem_id="pg-tab-studio"):
            studio = create_studio_tab()
        with gr.Tab("Compare", id="compare", elem_id="pg-tab-compare"):
            compare_providers, compare_shared = create_compare_tab()
        with gr.Tab("Transcribe", id="transcribe", elem_id="pg-tab-transcribe"):
            transcribe = create_transcribe_tab()
        with gr.Tab("Translate", id="translate", elem_id="pg-tab-translate") as translate_tab:
            create_translate_tab(translate_tab)
        with gr.Tab("Voice chat", id="voicechat", elem_id="pg-tab-voicechat"):
            voicechat = create_voicechat_tab()
        with gr.Tab("Audio chat", id="audiochat", elem_id="pg-tab-audiochat"):
            audiochat = create_audiochat_tab()
        with gr.Tab("Evals", id="evals", elem_id="pg-tab-evals"):
            create_evals_tab()
        with gr.Tab("History", id="history", elem_id="pg-tab-history") as history_tab:
            history = create_history_tab()
        with gr.Tab("Provider", id="provider", elem_id="pg-tab-provider"):
            panel = _provider_panel(provider)
        with gr.Tab("About", id="about"):
            gr.Markdown(_about_markdown())
    return Shell(
        header=header,
        tabs=tabs,
        history_tab=history_tab,
        studio=studio,
        compare_providers=compare_providers,
        compare_shared=compare_shared,
        transcribe=transcribe,
        voicechat=voicechat,
        audiochat=audiochat,
        history=history,
        provider=panel,
    )


def _wire_shell(demo: gr.Blocks, ui: Shell) -> None:
    """The shell's events: provider and chat-server settings, what each page load fills in, and
    reopening a run. Registered after every tab's own, in this order (Gradio's fn indices)."""
    p, studio, transcribe, voicechat, audiochat = ui.provider, ui.studio, ui.transcribe, ui.voicechat, ui.audiochat
    notes_in, notes_out = standin.components()  # every tab's stand-in note and its pickers
    p.test.click(test_connection, [p.kind, p.key, p.base_url], p.status, api_name="test_connection")
    p.use.click(
        apply_provider,
        [p.kind, p.key, p.base_url],
        [ui.header, p.status, p.key, p.base_url, *ui.compare_providers],
        api_name="use_provider",
    ).then(update_code, studio.settings, studio.code_outputs, queue=False).then(
        realtime_code, voicechat.settings, voicechat.code, queue=False
    ).then(transcription_code, transcribe.settings, transcribe.code_outputs, queue=False).then(
        chat_code, [audiochat.conversation, *audiochat.settings], audiochat.code, queue=False
    ).then(standin.refresh_all, notes_in, notes_out, queue=False)
    llm_outputs = [p.llm_status, p.llm_key, p.llm_model]
    for event in (
        p.llm_apply.click(
            apply_chat_server, [p.llm_url, p.llm_key, p.llm_model], llm_outputs, api_name="use_chat_server"
        ),
        p.llm_reset.click(reset_chat_server, None, llm_outputs, api_name="reset_chat_server"),
    ):
        event.then(session_header, None, ui.header, queue=False).then(
            standin.refresh_all, notes_in, notes_out, queue=False
        )
    demo.load(standin.refresh_all, notes_in, notes_out, queue=False)
    demo.load(chat_server_status, None, p.llm_status, queue=False)
    demo.load(update_code, studio.settings, studio.code_outputs, queue=False)
    demo.load(realtime_code, voicechat.settings, voicechat.code, queue=False)
    demo.load(transcription_code, transcribe.settings, transcribe.code_outputs, queue=False)
    demo.load(chat_code, [audiochat.conversation, *audiochat.settings], audiochat.code, queue=False)
    demo.load(model_options, transcribe.option_inputs, transcribe.option_outputs, queue=False)
    demo.load(session_header, None, ui.header, queue=False)
    ui.history_tab.select(list_runs, ui.history.filters, ui.history.listing, queue=False)
    filled = [ui.tabs, *studio.settings, *transcribe.settings]
    ui.history.reopen.click(
        reopen_run, [ui.history.run_id, *studio.settings], filled, api_name="history_reopen", queue=False
    )

    def shared(
        script: str,
        voice: str,
        model: str,
        instructions: str,
        speed: float,
        fmt: str,
        workflow: str,
        request: gr.Request,
    ) -> list[Any]:
        # named parameters: Gradio passes ``request`` only to a parameter it can see in the signature
        current = (script, voice, model, instructions, speed, fmt, workflow)
        return apply_shared(*current, compare_size=len(ui.compare_shared), request=request)

    demo.load(shared, studio.settings, [*filled, *ui.compare_shared], queue=False)
    demo.load(refresh_vibes, None, [studio.chips, studio.all_vibes], queue=False)
    demo.load(provider_choices, None, ui.compare_providers, queue=False)
    demo.unload(forget_tab)  # last: the events above keep their places in Gradio's table


def create_ui(
    provider: Provider,
    *,
    app_url: str = "http://127.0.0.1:7860",
    context: UIContext | None = None,
    local_key: str | None = None,
) -> gr.Blocks:
    """The whole app: the shell's layout (each tab wiring its own events), then the shell's events."""
    set_context(context or UIContext.create(provider, app_url=app_url, local_key=local_key))
    standin.begin()
    with gr.Blocks(title="Audio Playground", analytics_enabled=False) as demo:
        ui = _shell_layout(provider)
        _wire_shell(demo, ui)
    return demo
