"""Share links: the exact settings of a Studio or Transcription run, in the URL.

A link carries its settings as base64url JSON in ``?share=…`` (no server state, so it
opens in any browser with this app); page load reads it back, checks it and fills the
tab. Audio does not travel in a link: a shared transcription asks for the file again.
Also "Open in its tab" for a history run, which fills the same widgets.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import gradio as gr

from playground.core import jsonsafe, workflows
from playground.core.catalog import get_catalog
from playground.core.history import Run
from playground.ui.context import get_context
from playground.ui.widgets import model_choices, voice_choices

__all__ = [
    "SHARE_JS",
    "SHARE_MAX",
    "apply_shared",
    "decode_share",
    "encode_share",
    "reopen_run",
    "share_compare_query",
    "share_query",
]

#: the page turns ``?share=…`` into a full link with its own address
SHARE_JS = "(q) => (q ? location.origin + location.pathname + q : '')"
#: longest share parameter accepted (URLs beyond ~8 KB break in some browsers and proxies)
SHARE_MAX = 6000
STUDIO = ("script", "voice", "model", "instructions", "speed", "format", "workflow")
TRANSCRIBE = (
    "task", "model", "language", "prompt", "temperature", "format", "grains", "logprobs", "stream",
    "keywords", "languages",
)  # fmt: skip


def encode_share(tab: str, values: dict[str, Any]) -> str:
    raw = json.dumps({"tab": tab, **values}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_share(token: str) -> dict[str, Any] | None:
    """The settings in a share token, or None for a damaged or oversized one."""
    if not token or len(token) > SHARE_MAX:
        return None
    try:
        data = jsonsafe.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) and data.get("tab") in ("studio", "transcribe", "compare") else None


def share_query(tab: str, *values: Any) -> str:
    """``?share=…`` for the tab's current settings (the page adds its own address)."""
    names = STUDIO if tab == "studio" else TRANSCRIBE
    # a transcription's keywords and languages (last) may be left out
    token = encode_share(tab, dict(zip(names[: len(values)], values, strict=True)))
    if len(token) > SHARE_MAX:
        gr.Warning("These settings are too long for a link; shorten the text.")
        return ""
    return f"?share={token}"


#: per Compare column, what a link carries (its provider stays the opener's own)
COMPARE_COLUMN = ("voice", "vibe", "instructions", "speed", "model", "format", "workflow")
#: a column from a link made before workflows (six values) ran on the speech endpoint
_OLD_COLUMN = 6


def share_compare_query(script: str, n: float, roundtrip: bool, *columns: Any) -> str:
    """``?share=…`` for a comparison: the script, how many variants and each one's settings.
    ``columns`` are the tab's inputs, eight per column (the last, the provider, is left out)."""
    width = len(COMPARE_COLUMN) + 1
    cols = [list(columns[i : i + len(COMPARE_COLUMN)]) for i in range(0, len(columns), width)][: int(n)]
    token = encode_share("compare", {"script": script, "n": int(n), "roundtrip": bool(roundtrip), "columns": cols})
    if len(token) > SHARE_MAX:
        gr.Warning("This comparison is too long for a link; shorten the script or the instructions.")
        return ""
    return f"?share={token}"


def _compare(values: dict[str, Any] | None, size: int) -> list[Any]:
    """Updates for the Compare targets: script, variants, round trip, then seven per column."""
    if values is None:
        return [gr.skip()] * size
    out = [values.get("script", gr.skip()), values.get("n", gr.skip()), values.get("roundtrip", gr.skip())]
    columns = values.get("columns") if isinstance(values.get("columns"), list) else []
    for i in range((size - 3) // len(COMPARE_COLUMN)):
        col = columns[i] if i < len(columns) and isinstance(columns[i], list) else []
        if len(col) == _OLD_COLUMN:
            col = [*col, workflows.SPEECH]
        out += [col[k] if k < len(col) else gr.skip() for k in range(len(COMPARE_COLUMN))]
    return out


def _studio(values: dict[str, Any], current: tuple[Any, ...]) -> list[Any]:
    """Plain values for the text and the speed, never updates: an update would replace the
    speed slider, whose out-of-range pass-through (``widgets.range_slider``) lives on the
    instance. The workflow comes first in effect: the model and format pickers get that
    workflow's choices with the shared values, and a link from before workflows (or a run
    on the speech endpoint) opens on the speech endpoint."""
    flow = values.get("workflow")
    if flow not in workflows.WORKFLOWS:
        model = str(values.get("model") or "")
        flow = workflows.SPEECH if get_catalog().speech_model(model) is not None else workflows.DEFAULT
    w = workflows.get(flow)
    out: list[Any] = []
    for k, now in zip(STUDIO, current, strict=True):
        v = values.get(k, now)
        if k == "model":
            v = gr.update(choices=model_choices(w.models, None)[0], value=v if v in w.models else w.default_model)
        elif k == "format":
            v = gr.update(
                choices=[(lbl, f) for f, lbl in w.formats], value=v if v in dict(w.formats) else w.default_format
            )
        elif k == "voice":
            v = gr.update(choices=voice_choices(flow), value=v)
        elif k == "workflow":
            v = flow
        out.append(v)
    return out


def _transcribe(values: dict[str, Any], audio: Any = None) -> list[Any]:
    out = [audio if audio is not None else gr.skip()]
    model = get_catalog().transcription_model(str(values.get("model") or ""))
    formats = list(model.response_formats if model else get_catalog().transcription_response_formats)
    stamps = bool(model and model.timestamp_granularities and values.get("format") == "verbose_json")
    for k in TRANSCRIBE:
        v = values.get(k, gr.skip())
        if k == "temperature" and v is None:
            v = -0.05  # the picker's "server default"
        elif k == "format" and isinstance(v, str):
            # the radio may hold only the current model's formats: offer the shared model's
            # (every format for a model the catalog does not know); a model change narrows it again
            v = gr.update(choices=formats, value=v)
        elif k == "grains" and isinstance(v, list):
            v = gr.update(value=v, visible=stamps)  # shown as the shared model and format allow
        out.append(v)
    return out


def _keep(current: tuple[Any, ...]) -> list[Any]:
    return [*current, *[gr.skip()] * (1 + len(TRANSCRIBE))]


def apply_shared(*current: Any, compare_size: int = 0, request: gr.Request = None) -> list[Any]:
    """On page load: fill a tab from ``?share=…``. Takes the Studio's 7 current values;
    returns the tabs, the 7 Studio values, updates for the 12 Transcribe widgets and for
    the ``compare_size`` Compare widgets."""
    token = (getattr(request, "query_params", None) or {}).get("share", "")
    data = decode_share(token) if token else None
    if data is None:
        if token:
            gr.Warning("This share link is damaged or too long; the page opened with its defaults.")
        return [gr.skip(), *_keep(current), *_compare(None, compare_size)]
    if data["tab"] == "studio":
        rest = [gr.skip()] * (1 + len(TRANSCRIBE))
        return [gr.update(selected="studio"), *_studio(data, current), *rest, *_compare(None, compare_size)]
    if data["tab"] == "compare":
        rest = [gr.skip()] * (1 + len(TRANSCRIBE))
        return [gr.update(selected="compare"), *current, *rest, *_compare(data, compare_size)]
    gr.Info("Shared transcription settings: load the audio file to transcribe.")
    return [gr.update(selected="transcribe"), *current, *_transcribe(data), *_compare(None, compare_size)]


def _from_run(run: Run) -> tuple[str, dict[str, Any]] | None:
    s = run.spec
    if run.kind == "speech":
        realtime = s.get("kind") == "realtime_speech"
        return "studio", {
            "script": s.get("input", ""), "voice": s.get("voice"), "model": s.get("model"),
            "instructions": s.get("instructions", ""), "speed": s.get("speed", 1.0),
            "format": s.get("output_format") if realtime else s.get("response_format"),
            "workflow": workflows.REALTIME if realtime else workflows.SPEECH,
        }  # fmt: skip
    if run.kind in ("transcription", "translation"):
        return "transcribe", {
            "task": s.get("task", "transcribe"), "model": s.get("model"), "language": s.get("language", ""),
            "prompt": s.get("prompt", ""), "temperature": s.get("temperature"),
            "format": s.get("response_format", "json"), "grains": list(s.get("timestamp_granularities") or []),
            "logprobs": bool(s.get("include_logprobs")), "stream": bool(s.get("stream")),
            "keywords": ", ".join(s.get("keywords") or []), "languages": list(s.get("languages") or []),
        }  # fmt: skip
    return None


def reopen_run(run_id: str, request: gr.Request | None, *current: Any) -> list[Any]:
    """One of the person's history runs back in its tab (its audio too, for a transcription).
    ``request`` sits between the inputs: Gradio passes it only to a positional parameter."""
    ctx = get_context()
    run = ctx.history.get((run_id or "").strip(), owner=ctx.person_for(request))
    found = _from_run(run) if run is not None else None
    if found is None:
        gr.Warning("Pick a Studio or transcription run first.")
        return [gr.skip(), *_keep(current)]
    tab, values = found
    if tab == "studio":
        return [gr.update(selected="studio"), *_studio(values, current), *[gr.skip()] * (1 + len(TRANSCRIBE))]
    audio = str(run.audio) if run.audio is not None and run.audio.is_file() else None
    return [gr.update(selected="transcribe"), *current, *_transcribe(values, audio)]
