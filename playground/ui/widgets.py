"""Gradio components with the playground's own behaviour."""

from __future__ import annotations

import types

import gradio as gr
from gradio.components.number import Number

__all__ = ["range_slider"]


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
