"""The Studio's vibes: chips, the full list, applying one, its voice suggestion, saving yours.

A vibe fills the instructions (and the script while it is empty or an earlier sample) and
only *suggests* a voice: the user's stays until they accept. On the Realtime workflow a
vibe written for a voice the Realtime API lacks says so, with nothing to accept.
"""

from __future__ import annotations

import html
import random
from typing import Any

import gradio as gr

from playground.core import workflows
from playground.core.errors import PlaygroundError
from playground.core.vibes import VibeExistsError
from playground.ui.context import get_context

__all__ = [
    "CHIPS",
    "accept_suggestion",
    "apply_vibe",
    "refresh_vibes",
    "save_vibe",
    "shuffle_vibes",
    "vibe_names",
    "voice_changed",
]

CHIPS = 6


def vibe_names() -> list[str]:
    return [v.name for v in get_context().all_vibes()]


def shuffle_vibes() -> dict[str, Any]:
    names = vibe_names()
    return gr.update(choices=random.sample(names, min(CHIPS, len(names))), value=None)


def refresh_vibes() -> tuple[Any, Any]:
    """Chips and the full list, read again on every page load (saved vibes included)."""
    names = vibe_names()
    return gr.update(choices=names[:CHIPS], value=None), gr.update(choices=names, value=None)


def apply_vibe(
    name: str | None, script: str, last_sample: str, voice: str, workflow: str = workflows.DEFAULT
) -> tuple[Any, Any, str, str, str, Any]:
    """Fill the instructions (and the script while it is empty or an earlier sample).

    The voice stays the user's: a vibe only *suggests* one, shown with a button to accept.
    Returns (instructions, script, sample now in the box, vibe name, suggestion, use-button).
    """
    vibe = get_context().vibe(name) if name else None
    if vibe is None:
        return gr.update(), gr.update(), last_sample, "", "", gr.update(visible=False)
    keep_script = (script or "").strip() and script.strip() != (last_sample or "").strip()
    new_script = script if keep_script else vibe.script.strip()
    suggestion, button = voice_changed(vibe.name, voice, workflow)
    return vibe.instructions_text, new_script, vibe.script.strip(), vibe.name, suggestion, button


def voice_changed(vibe_name: str | None, voice: str, workflow: str = workflows.DEFAULT) -> tuple[str, Any]:
    """The vibe's voice note for the voice now picked: (note, "Use …" button). A voice the
    workflow does not have is named, without the button."""
    vibe = get_context().vibe(vibe_name) if vibe_name else None
    if vibe is None:
        return "", gr.update(visible=False)
    if vibe.voice != voice and vibe.voice not in workflows.get(workflows.pick(workflow)).voices:
        note = (
            f"*{html.escape(vibe.name)}* was written for **{vibe.voice}**, a Speech endpoint voice the "
            f"Realtime API does not have; you stay on **{voice}**."
        )
        return note, gr.update(visible=False)
    if vibe.voice != voice:
        note = f"*{html.escape(vibe.name)}* was written for **{vibe.voice}**; you are on **{voice}**."
        return note, gr.update(visible=True, value=f"Use {vibe.voice}")
    return f"*{html.escape(vibe.name)}* was written for **{voice}**.", gr.update(visible=False)


def accept_suggestion(vibe_name: str) -> tuple[Any, str, Any]:
    """Switch to the voice the current vibe suggests (only when the user asks)."""
    vibe = get_context().vibe(vibe_name) if vibe_name else None
    if vibe is None:
        return gr.update(), "", gr.update(visible=False)
    return (
        gr.update(value=vibe.voice),
        f"Now on **{vibe.voice}**, as *{html.escape(vibe.name)}* suggests.",
        gr.update(visible=False),
    )


def save_vibe(
    name: str, instructions: str, script: str, voice: str, overwrite: bool
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """Store the current settings as a user vibe; an existing or built-in name needs ``overwrite``."""
    ctx = get_context()
    if not (instructions or "").strip():
        return "⚠️ Write some instructions first.", gr.update(), gr.update()
    try:
        vibe = ctx.vibe_store.save(
            name or "", instructions=instructions, script=script or "", voice=voice, overwrite=bool(overwrite)
        )
    except PlaygroundError as e:  # VibeExistsError included: the message says to confirm overwriting
        hint = " Tick “Overwrite” to replace it." if isinstance(e, VibeExistsError) else ""
        return f"⚠️ {html.escape(str(e))}.{hint}", gr.update(), gr.update()
    names = vibe_names()
    others = [n for n in names if n != vibe.name]
    return (
        f"✅ Saved “{html.escape(vibe.name)}” to your vibes ({html.escape(str(ctx.vibe_store.folder))}).",
        gr.update(choices=names, value=vibe.name),
        gr.update(choices=[*random.sample(others, min(CHIPS - 1, len(others))), vibe.name], value=vibe.name),
    )


# ------------------------------------------------------------------------ layout
