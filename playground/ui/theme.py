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
        spacing_size=gr.themes.sizes.spacing_sm,
        text_size=gr.themes.sizes.text_sm,
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
        layout_gap="8px",
        block_padding="6px 10px",
    )


CSS = """
.gradio-container { max-width: 1440px !important; padding-top: 6px !important; }
.gradio-container > .main > .wrap { padding-top: 0 !important; }
#pg-vibe-side { gap: 6px !important; }
#pg-texts textarea { font-size: 0.9rem; }
.pg-count { display: block; text-align: right; margin-top: -4px; }
.pg-header { display: flex; align-items: center; justify-content: space-between; flex-wrap: wrap; gap: 8px;
  padding: 8px 16px; border-radius: 12px; color: white;
  background: linear-gradient(100deg, #4c1d95 0%, #7c3aed 55%, #f59e0b 120%); }
.pg-title { font-size: 1.2rem; font-weight: 750; letter-spacing: -0.01em; color: white !important; }
.pg-header * { color: inherit; }
.pg-version { font-size: 0.75rem; opacity: 0.75; font-weight: 500; }
.pg-provider { font-size: 0.85rem; opacity: 0.95; }
.pg-provider code { background: rgb(255 255 255 / 0.18); color: white; padding: 1px 6px; border-radius: 6px; }
.pg-badge { display: inline-block; padding: 1px 9px; border-radius: 999px; font-weight: 650; font-size: 0.75rem;
  background: white; color: #4c1d95; margin-right: 6px; }
.pg-embedded { background: #fef3c7; color: #92400e; }
#pg-settings { margin: 4px 0 !important; }
/* voice cards: five across, name then a two-line character sketch */
.pg-voice-grid .wrap { display: grid !important; grid-template-columns: repeat(5, minmax(0, 1fr));
  gap: 6px !important; }
.pg-voice-grid label { align-items: flex-start !important; padding: 5px 8px !important; min-height: 40px;
  border-radius: 10px !important; border: 1px solid var(--border-color-primary) !important;
  white-space: pre-line !important; line-height: 1.2; font-size: 0.76rem; }
.pg-voice-grid label span { display: -webkit-box; -webkit-line-clamp: 3; -webkit-box-orient: vertical;
  overflow: hidden; }
.pg-voice-grid label span::first-line { font-weight: 700; font-size: 0.86rem; }
.pg-voice-grid label.selected { border-color: var(--color-accent) !important;
  box-shadow: 0 0 0 2px var(--color-accent-soft); background: var(--color-accent-soft) !important; }
.pg-chips .wrap { gap: 5px !important; }
.pg-chips label { border-radius: 999px !important; padding: 2px 10px !important; font-size: 0.8rem; }
#pg-suggest-row { min-height: 0 !important; align-items: center; }
#pg-suggestion { font-size: 0.85rem; }
#pg-suggestion p { margin: 0 !important; }
.pg-count { font-size: 0.75rem; color: var(--body-text-color-subdued); }
.pg-count.pg-over { color: #dc2626; font-weight: 650; }
#pg-play { min-height: 44px; font-size: 1.05rem; align-self: end; }
#pg-speed-note p { margin: 0 !important; color: #b45309; font-size: 0.85rem; }
/* an error in words, next to the control that caused it */
.pg-error-note p { margin: 0 !important; color: #b91c1c; font-size: 0.88rem; font-weight: 600; }
/* the live player */
.pg-live { display: flex; align-items: center; gap: 10px; padding: 8px 12px; border-radius: 12px;
  border: 1px solid var(--border-color-primary); background: var(--block-background-fill); }
.pg-live button { width: 30px; height: 30px; border-radius: 999px; border: 1px solid var(--border-color-primary);
  background: var(--background-fill-primary); cursor: pointer; }
.pg-live button:disabled { opacity: 0.35; cursor: default; }
.pg-live-bar { position: relative; flex: 0 0 180px; height: 6px; border-radius: 3px; background: #e2e8f0;
  overflow: hidden; }
.pg-live-buffer { position: absolute; inset: 0 auto 0 0; width: 0; background: #ddd6fe; }
.pg-live-fill { position: absolute; inset: 0 auto 0 0; width: 0; background: #7c3aed; }
#pg-live-time, #pg-ac-live-time { font-variant-numeric: tabular-nums; font-size: 0.8rem;
  color: var(--body-text-color-subdued); }
#pg-live-status, #pg-ac-live-status { font-size: 0.85rem; }
#pg-metrics p { margin: 2px 0 !important; font-size: 0.88rem; }
/* code: long lines scroll sideways instead of being cut */
#pg-side .cm-editor .cm-scroller { overflow-x: auto !important; }
#pg-side .cm-content { white-space: pre !important; }
#pg-side .cm-lineWrapping { word-break: normal !important; white-space: pre !important; }
.pg-variant { border: 1px solid var(--border-color-primary); border-radius: 14px; padding: 10px !important;
  background: var(--block-background-fill); }
/* voice chat console */
#pg-rt-settings { gap: 6px !important; }
#pg-rt-settings .block { padding-top: 4px !important; padding-bottom: 4px !important; }
.pg-rt { display: flex; flex-direction: column; gap: 8px; }
.pg-rt-bar { display: flex; align-items: center; gap: 8px; flex-wrap: wrap; }
.pg-rt-bar button { padding: 4px 12px; border-radius: 8px; border: 1px solid var(--border-color-primary);
  background: var(--background-fill-primary); cursor: pointer; font-size: 0.85rem; }
.pg-rt-bar button:disabled { opacity: 0.4; cursor: default; }
#pg-rt-ptt.pg-rt-held { background: #7c3aed; color: white; }
#pg-rt-dot { width: 12px; height: 12px; border-radius: 999px; background: #cbd5e1; display: inline-block; }
#pg-rt-dot.pg-rt-on { background: #16a34a; box-shadow: 0 0 0 3px #bbf7d0; }
#pg-rt-meter { width: 140px; height: 8px; border-radius: 4px; background: #e2e8f0; overflow: hidden; }
.pg-rt-meter-fill { height: 100%; width: 0; background: linear-gradient(90deg, #22c55e, #eab308 70%, #ef4444);
  transition: width 60ms linear; }
#pg-rt-text { flex: 1 1 240px; padding: 6px 10px; border-radius: 8px; border: 1px solid var(--border-color-primary);
  background: var(--background-fill-primary); }
.pg-rt-status { font-size: 0.88rem; padding: 4px 2px; }
.pg-rt-status.pg-rt-bad { color: #dc2626; }
.pg-rt-cost { margin-left: auto; font-size: 0.82rem; }
.pg-rt-muted { color: var(--body-text-color-subdued); font-size: 0.78rem; font-weight: 400; }
.pg-rt-panes { display: grid; grid-template-columns: 1fr 1fr; gap: 8px; }
.pg-rt-pane { border: 1px solid var(--border-color-primary); border-radius: 12px; overflow: hidden;
  background: var(--block-background-fill); }
.pg-rt-head { font-weight: 650; font-size: 0.85rem; padding: 6px 10px;
  border-bottom: 1px solid var(--border-color-primary); }
#pg-rt-transcript, #pg-rt-log { height: 330px; overflow-y: auto; padding: 6px 8px; font-size: 0.85rem; }
.pg-rt-turn { margin: 4px 0; padding: 6px 9px; border-radius: 10px; line-height: 1.35; }
.pg-rt-user { background: #ede9fe; margin-left: 18%; }
.pg-rt-assistant { background: var(--background-fill-secondary); margin-right: 18%; }
.pg-rt-tool { background: #fef3c7; font-family: var(--font-mono); font-size: 0.78rem; }
.pg-rt-who { font-weight: 700; font-size: 0.75rem; margin-right: 4px; }
.pg-rt-cut { color: #b45309; font-size: 0.75rem; font-style: italic; }
.pg-rt-interrupted { border-right: 3px solid #f59e0b; }
.pg-rt-result { margin-top: 3px; color: #92400e; }
.pg-rt-row summary { display: flex; gap: 8px; cursor: pointer; font-family: var(--font-mono); font-size: 0.76rem;
  padding: 1px 0; list-style: none; }
.pg-rt-row pre { font-size: 0.72rem; max-height: 220px; overflow: auto; background: var(--background-fill-secondary);
  padding: 6px; border-radius: 6px; margin: 2px 0 6px; }
.pg-rt-dir { width: 1em; }
.pg-rt-sent .pg-rt-dir { color: #7c3aed; }
.pg-rt-received .pg-rt-dir { color: #0891b2; }
.pg-rt-t { color: var(--body-text-color-subdued); min-width: 4.5em; text-align: right; }
.pg-rt-extra { color: var(--body-text-color-subdued); overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.pg-rt-error summary, .pg-rt-error .pg-rt-extra { color: #dc2626 !important; font-weight: 650; }
.pg-rt-latency table { font-size: 0.8rem; border-collapse: collapse; width: 100%; }
.pg-rt-latency th, .pg-rt-latency td { padding: 2px 8px; text-align: right;
  border-bottom: 1px solid var(--border-color-primary); }
.pg-rt-example { font-size: 0.72rem; max-height: 140px; overflow: auto; }
/* transcription tab */
.pg-muted, .pg-muted p { color: var(--body-text-color-subdued); font-size: 0.8rem; }
.pg-wer { font-size: 0.9rem; line-height: 1.6; }
.pg-diff { margin-top: 4px; padding: 8px 10px; border-radius: 10px; background: var(--background-fill-secondary); }
.pg-sub { background: #fef3c7; border-radius: 4px; padding: 0 3px; }
.pg-sub s { color: #b45309; }
.pg-del { background: #fee2e2; color: #b91c1c; border-radius: 4px; padding: 0 3px; }
.pg-ins { background: #dcfce7; color: #15803d; text-decoration: none; border-radius: 4px; padding: 0 3px; }
#pg-tr-player { width: 100%; height: 36px; margin-bottom: 4px; }
.pg-tr-words { line-height: 1.9; }
.pg-tr-seek { border: 1px solid var(--border-color-primary); background: var(--background-fill-primary);
  border-radius: 6px; padding: 0 5px; margin: 1px; cursor: pointer; font-size: 0.85rem; }
.pg-tr-seek:hover, .pg-tr-seek.pg-on { background: #ede9fe; border-color: #7c3aed; }
/* diarized transcripts: one colour per speaker */
.pg-tr-turns { line-height: 1.5; font-size: 0.9rem; }
.pg-tr-turn { margin: 2px 0; }
.pg-tr-turn .pg-tr-seek { display: inline; text-align: left; font-weight: 400; line-height: 1.5; }
.pg-spk { display: inline-block; min-width: 2.2em; font-weight: 700; border-radius: 6px; padding: 0 6px;
  margin-right: 6px; text-align: center; }
.pg-spk-0 { background: #ede9fe; color: #5b21b6; } .pg-spk-1 { background: #cffafe; color: #0e7490; }
.pg-spk-2 { background: #fef3c7; color: #92400e; } .pg-spk-3 { background: #dcfce7; color: #166534; }
.pg-spk-4 { background: #fee2e2; color: #991b1b; } .pg-spk-5 { background: #e0e7ff; color: #3730a3; }
/* history: ids and costs on one line */
#pg-hist-table td:nth-child(n+6) .cell-wrap, #pg-hist-table .virtual-row > .body-cell:nth-child(n+6) .cell-wrap,
#pg-hist-table .virtual-row > .body-cell:nth-child(n+6) .cell-wrap span {
  white-space: nowrap !important; overflow-wrap: normal !important; word-break: keep-all !important; }
#pg-hist-table td:nth-child(7) .cell-wrap, #pg-hist-table .virtual-row > .body-cell:nth-child(7) .cell-wrap span {
  font-size: 0.72rem; }
#pg-hist-table td { font-variant-numeric: tabular-nums; }
/* audio chat: every per-turn column in view */
#pg-ac-usage table { font-size: 0.78rem; }
#pg-ac-usage th, #pg-ac-usage td { padding: 2px 6px !important; }
"""
