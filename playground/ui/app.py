"""The Gradio shell: header with the active provider, then one tab per feature."""

from __future__ import annotations

import html

import gradio as gr

from playground import __version__
from playground.client.providers import Provider
from playground.core.catalog import get_catalog
from playground.ui.compare import create_compare_tab
from playground.ui.context import UIContext, get_context, set_context
from playground.ui.studio import create_studio_tab, update_code

__all__ = ["create_ui", "header_html"]


def header_html(provider: Provider) -> str:
    info = provider.public()
    badge = {"openai": "OpenAI", "compatible": "Compatible server", "embedded": "Offline · local models"}[info["kind"]]
    return (
        '<div class="pg-header">'
        f'<div class="pg-title">Audio Playground <span class="pg-version">v{__version__}</span></div>'
        f'<div class="pg-provider" title="{html.escape(info["base_url"])}">'
        f'<span class="pg-badge pg-{info["kind"]}">{html.escape(badge)}</span> '
        f"{html.escape(info['label'])} · <code>{html.escape(info['base_url'])}</code></div>"
        "</div>"
    )


def _about_markdown() -> str:
    cat = get_catalog()
    ctx = get_context()
    return (
        "### What you can do here\n"
        "**Studio**: pick one of the voices, a vibe (or your own instructions), speed, model and format; press "
        "Play to hear it streamed; copy the exact Python / JavaScript / curl code.  \n"
        "**Compare**: up to six variants side by side, run at once, with waveforms, spectrograms, timings, "
        "costs and an optional round-trip intelligibility check; or a blind A/B test with a local leaderboard.\n\n"
        f"**Speech voices ({len(cat.voice_ids)}):** {', '.join(cat.voice_ids)}  \n"
        f"**Speech models:** {', '.join(cat.speech_models)}  \n"
        f"**Transcription models:** {', '.join(cat.transcription_models)}  \n"
        f"**Your data** (vibes, votes, voice previews): `{ctx.data_dir}`"
    )


def create_ui(
    provider: Provider,
    *,
    app_url: str = "http://127.0.0.1:7860",
    context: UIContext | None = None,
    local_key: str | None = None,
) -> gr.Blocks:
    set_context(context or UIContext.create(provider, app_url=app_url, local_key=local_key))
    with gr.Blocks(title="Audio Playground", analytics_enabled=False) as demo:
        gr.HTML(header_html(provider), elem_id="pg-header")
        with gr.Tab("Studio", id="studio", elem_id="pg-tab-studio"):
            settings, code_outputs = create_studio_tab()
        with gr.Tab("Compare", id="compare", elem_id="pg-tab-compare"):
            create_compare_tab()
        with gr.Tab("About", id="about"):
            gr.Markdown(_about_markdown())
        demo.load(update_code, settings, code_outputs, queue=False)
    return demo
