"""Gradio components with the playground's own behaviour."""

from __future__ import annotations

import types
from collections.abc import Iterable
from typing import Any

import gradio as gr
from gradio.components.number import Number

from playground.core import workflows
from playground.core.catalog import get_catalog
from playground.core.lifecycle import picker_choices

__all__ = ["model_choices", "model_picker", "range_slider", "voice_choices"]


def model_choices(models: Iterable[str], value: str | None = None) -> tuple[list[tuple[str, str]], str | None]:
    """A picker's (label, id) choices by the catalog's lifecycle, and the value to show.

    Deprecated models stay, their shutdown date and replacement in the label; retired and
    ``offer: false`` ones are left out. A value no longer offered gives way to the first choice.
    """
    choices = picker_choices(list(models))
    ids = [mid for _, mid in choices]
    if value is not None and value not in ids and value != "":
        value = ids[0] if ids else value
    return choices, value


def model_picker(models: Iterable[str], value: str | None, **kwargs: Any) -> gr.Dropdown:
    """``gr.Dropdown`` over ``model_choices``: every model picker in the app is one of these."""
    choices, value = model_choices(models, value)
    return gr.Dropdown(choices, value=value, **kwargs)


def _pass_through(self: gr.Slider, payload: float | None) -> float | None:
    return None if payload is None else Number.round_to_precision(payload, self.precision)


def range_slider(*args: object, **kwargs: object) -> gr.Slider:
    """A ``gr.Slider`` whose typed value reaches the handlers even when out of range.

    ``gr.Slider`` refuses such a value before any handler runs, so every event that
    reads it fails and the code panel goes stale while the box still shows the typed
    number. Here the value passes through; the handlers clamp it and say so. (Patched on
    the instance: a subclass would make Gradio write a .pyi stub beside this file.)
    """
    slider = gr.Slider(*args, **kwargs)  # type: ignore[arg-type]
    slider.preprocess = types.MethodType(_pass_through, slider)  # type: ignore[method-assign]
    return slider


def voice_choices(workflow: str = workflows.DEFAULT) -> list[tuple[str, str]]:
    """Every voice for a voice grid, each marked with what it offers on ``workflow``:
    ★ expressive with instructions, or "endpoint only" (the speech endpoint has it, the
    Realtime API does not), on the first line where a card never cuts it off."""
    has = set(workflows.get(workflow).voices)
    out = []
    for v in get_catalog().speech_voices.values():
        star = " ★" if v.expressive else ""
        only = "" if v.id in has else " · endpoint only"
        out.append((f"{v.id.capitalize()}{star}{only}\n{v.character}", v.id))
    return out
