"""The Gradio shell: header with the active provider, then one tab per feature."""

from __future__ import annotations

import html

import gradio as gr

from playground import __version__
from playground.client.providers import Provider
from playground.core.catalog import get_catalog

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
    voices = ", ".join(cat.voice_ids)
    return (
        "### What you can do here\n"
        "Pick a voice, describe a style, set speed, model and format, hear it streamed, compare variants, "
        "transcribe recordings, and copy the exact Python / JavaScript / curl code for what you ran.\n\n"
        f"**Speech voices ({len(cat.voice_ids)}):** {voices}\n\n"
        f"**Speech models:** {', '.join(cat.speech_models)}  \n"
        f"**Transcription models:** {', '.join(cat.transcription_models)}"
    )


def create_ui(provider: Provider) -> gr.Blocks:
    with gr.Blocks(title="Audio Playground", analytics_enabled=False) as demo:
        gr.HTML(header_html(provider), elem_id="pg-header")
        with gr.Tab("About"):
            gr.Markdown(_about_markdown())
    return demo
