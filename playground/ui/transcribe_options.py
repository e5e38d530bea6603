"""What the Transcribe panel may offer for a model, and the panel's values as a spec.

The catalog says which formats, timestamps, log-probabilities, streaming, hints and prompt
a transcription model takes; these handlers narrow the widgets to that and build the
``TranscriptionSpec``. Kept apart from the run (``transcribe_run``) because the layout and
the live handlers use them too; import the names from ``playground.ui.transcribe``.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from playground.core.catalog import get_catalog
from playground.core.specs import TranscriptionSpec, split_list
from playground.ui.share import decode_share

#: the temperature picker's "server default" (the API's own, sent as nothing)
SERVER_DEFAULT = -0.05


def _model(model: str) -> Any:
    return get_catalog().transcription_model(model)


def hint_options(model: str, task: str = "transcribe") -> tuple[Any, Any]:
    """The keywords and possible-languages boxes: shown only for models that take them."""
    info = _model(model)
    ok = task == "transcribe" and info is not None
    return (
        gr.update(visible=bool(ok and info.keywords)),
        gr.update(visible=bool(ok and info.languages)),
    )


def _diarizes(info: Any) -> bool:
    return info is not None and "diarized_json" in info.response_formats


def temperature_choices() -> list[tuple[str, float]]:
    """The temperature picker: the server's default, then 0 to 1 by tenths."""
    return [("server default", SERVER_DEFAULT), *[(f"{t / 10:.1f}", t / 10) for t in range(11)]]


def prompt_option(model: str) -> Any:
    """The prompt box: hidden for the diarizing model, which takes no prompt."""
    diarizes = _diarizes(_model(model))
    return gr.update(visible=not diarizes)


def _shared_transcription(request: gr.Request | None) -> bool:
    token = (getattr(request, "query_params", None) or {}).get("share", "")
    data = decode_share(token) if token else None
    return bool(data and data.get("tab") == "transcribe")


def model_switched(model: str, task: str, fmt: str) -> tuple[Any, Any, Any, Any, str]:
    """``model_options`` when the model or task changes: the diarizing model moves from plain
    json (every model's first format) to the format that names its speakers; a format picked
    afterwards stays (that goes through ``model_options``)."""
    if _diarizes(_model(model)) and task == "transcribe" and fmt == "json":
        fmt = "diarized_json"
    return model_options(model, task, fmt)


def model_options(
    model: str, task: str, fmt: str, on_load: bool = False, request: gr.Request | None = None
) -> tuple[Any, Any, Any, Any, str]:
    """What the panel may offer for this model and task: (formats, granularities, logprobs,
    stream, why the rest is off).

    ``on_load``: the page-load call. A transcription share link fills the panel in that same
    load (``share.apply_shared``, already narrowed to its model), so this call, racing it with
    the defaults, leaves the panel alone.
    """
    if on_load and _shared_transcription(request):
        return gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
    info = _model(model)
    if info is None:
        return gr.update(), gr.update(), gr.update(), gr.update(), f"Unknown model {model!r}."
    why = []
    formats = list(info.response_formats)
    if task == "translate" and not info.translation:
        why.append(f"{info.id} does not translate; whisper-1 does.")
    if fmt not in formats:  # the diarizing model starts on the format that names its speakers
        fmt = "diarized_json" if "diarized_json" in formats else formats[0]
    grains = info.timestamp_granularities and fmt == "verbose_json"
    if not info.timestamp_granularities:
        why.append(f"Word and segment timestamps: whisper-1 only (verbose_json), not {info.id}.")
    elif fmt != "verbose_json":
        why.append("Word and segment timestamps need the verbose_json format.")
    logprobs = info.logprobs and fmt == "json" and task == "transcribe"
    if not info.logprobs:
        why.append(f"Log-probabilities: not offered by {info.id}.")
    stream = info.stream and task == "transcribe" and fmt != "diarized_json"
    if not info.stream:
        why.append(f"Streaming: not offered by {info.id} (whole result at once).")
    elif task == "translate":
        why.append("Translations do not stream.")
    elif fmt == "diarized_json":
        why.append("Speaker labels come with the whole result (no streaming).")

    def allowed(ok: bool, off: Any, **shown: Any) -> Any:
        """Offered: leave the user's choice; not offered: switch it off."""
        return gr.update(**shown) if ok else gr.update(value=off, **{k: False for k in shown})

    return (
        gr.update(choices=formats, value=fmt),
        # hidden, not cleared: the ticks come back with verbose_json, and an update from an
        # earlier model (the page load's, racing a share link's) cannot wipe the link's ticks
        gr.update(visible=bool(grains)),
        allowed(logprobs, False, interactive=True),
        allowed(stream, False, interactive=True),
        " ".join(why),
    )


def transcription_spec(
    path: str | None,
    task: str,
    model: str,
    language: str,
    prompt: str,
    temperature: float | None,
    fmt: str,
    grains: list[str] | None,
    logprobs: bool,
    stream: bool,
    keywords: str | None = "",
    languages: list[str] | None = None,
) -> TranscriptionSpec:
    """The panel's values as a spec; keywords and languages only go to models that take them,
    the prompt not to the diarizing model (which takes none; its box is hidden)."""
    info = _model(model)
    hints = task == "transcribe" and info is not None
    stamps = info is not None and info.timestamp_granularities and fmt == "verbose_json"
    try:
        temp = None if temperature is None or temperature == "" else float(temperature)
    except (TypeError, ValueError):
        temp = None
    return TranscriptionSpec(
        keywords=split_list(keywords) if hints and info.keywords else (),
        languages=tuple(languages or ()) if hints and info.languages else (),
        file=path or "",
        task=task,
        model=model,
        language=language or "",
        prompt="" if _diarizes(info) else (prompt or "").strip(),
        temperature=None if temp is None or temp < 0 else temp,  # SERVER_DEFAULT: the server's own
        response_format=fmt,
        # only where they can go (the boxes keep their ticks while hidden)
        timestamp_granularities=tuple(grains or ()) if info is None or stamps else (),
        include_logprobs=bool(logprobs),
        stream=bool(stream),
    )
