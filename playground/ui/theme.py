"""The playground's look: a deliberate theme, not Gradio's default.

Fonts are local system stacks (no web fonts: the app must work offline).
"""

from __future__ import annotations

import gradio as gr

__all__ = ["CSS", "create_theme"]

SANS = ["Inter", "ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "Roboto", "sans-serif"]
MONO = ["JetBrains Mono", "ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"]


def create_theme() -> gr.themes.Base:
    theme = gr.themes.Base(
        primary_hue=gr.themes.colors.violet,
        secondary_hue=gr.themes.colors.amber,
        neutral_hue=gr.themes.colors.slate,
        radius_size=gr.themes.sizes.radius_lg,
        font=SANS,
        font_mono=MONO,
    )
    return theme.set(
        body_background_fill="linear-gradient(180deg, #f5f3ff 0%, #ffffff 320px)",
        block_border_width="1px",
        block_shadow="0 1px 2px rgb(15 23 42 / 0.06)",
        button_primary_background_fill="linear-gradient(90deg, *primary_600, *primary_500)",
        button_primary_background_fill_hover="linear-gradient(90deg, *primary_700, *primary_600)",
        button_primary_text_color="white",
        slider_color="*primary_500",
    )


CSS = """
.gradio-container { max-width: 1400px !important; }
.pg-header { display: flex; align-items: baseline; justify-content: space-between; flex-wrap: wrap; gap: 8px;
  padding: 14px 18px; border-radius: 14px; color: white;
  background: linear-gradient(100deg, #4c1d95 0%, #7c3aed 55%, #f59e0b 120%); }
.pg-title { font-size: 1.45rem; font-weight: 750; letter-spacing: -0.01em; color: white !important; }
.pg-header * { color: inherit; }
.pg-version { font-size: 0.8rem; opacity: 0.75; font-weight: 500; }
.pg-provider { font-size: 0.9rem; opacity: 0.95; }
.pg-provider code { background: rgb(255 255 255 / 0.18); color: white; padding: 1px 6px; border-radius: 6px; }
.pg-badge { display: inline-block; padding: 2px 10px; border-radius: 999px; font-weight: 650; font-size: 0.8rem;
  background: white; color: #4c1d95; margin-right: 6px; }
.pg-embedded { background: #fef3c7; color: #92400e; }
.pg-voice-grid .wrap { display: grid !important; grid-template-columns: repeat(auto-fill, minmax(190px, 1fr));
  gap: 8px !important; }
.pg-voice-grid label { align-items: flex-start !important; padding: 10px 12px !important; min-height: 64px;
  border-radius: 12px !important; border: 1px solid var(--border-color-primary) !important;
  white-space: normal !important; line-height: 1.25; font-size: 0.86rem; }
.pg-voice-grid label.selected { border-color: var(--color-accent) !important;
  box-shadow: 0 0 0 2px var(--color-accent-soft); background: var(--color-accent-soft) !important; }
.pg-chips .wrap { gap: 6px !important; }
.pg-chips label { border-radius: 999px !important; padding: 4px 12px !important; font-size: 0.85rem; }
.pg-count { font-size: 0.8rem; color: var(--body-text-color-subdued); }
.pg-count.pg-over { color: #dc2626; font-weight: 650; }
.pg-player audio { width: 100%; margin-top: 4px; }
.pg-variant { border: 1px solid var(--border-color-primary); border-radius: 14px; padding: 10px !important;
  background: var(--block-background-fill); }
"""
