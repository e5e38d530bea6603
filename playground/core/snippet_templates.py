"""Exported code kept as Jinja2 templates (``playground/core/templates/``).

The longer scripts read better as templates than as lists of lines in Python: the
template holds the code's shape, and every value from the spec goes in through a filter
that writes it as a literal of the target language (``py``, ``js``, ``sh``), so no text a
user typed can change the code around it. ``StrictUndefined`` turns a missing variable
into an error instead of an empty string in someone's script.
"""

from __future__ import annotations

import json
import shlex
from functools import cache
from typing import Any

import jinja2

from playground.core.catalog import get_catalog
from playground.core.snippets import LOCAL_KEY, OPENAI_BASE, Language
from playground.core.specs import RealtimeSpeechSpec

__all__ = ["environment", "js_literal", "py_literal", "realtime_speech", "speech_file_name"]

#: the raw G.711 file each format is written to (no header: the sample rate is 8 kHz)
G711_FILES = {"audio/pcmu": "speech.ulaw", "audio/pcma": "speech.alaw"}
G711_RATE = 8000
_TEMPLATES = {"python": "realtime_speech.py.j2", "js": "realtime_speech.mjs.j2", "curl": "realtime_speech.sh.j2"}


#: characters some editors (and ``str.splitlines``) take for a line break: escaped, so a
#: text never seems to end a line of code or a comment
_LINE_BREAKS = {"\u2028": "\\u2028", "\u2029": "\\u2029", "\x85": "\\u0085"}


def _dumps(value: Any, indent: int | None = None) -> str:
    """JSON with non-ASCII text readable, control characters and odd line breaks escaped."""
    text = json.dumps(value, ensure_ascii=False, indent=indent)
    for char, escape in _LINE_BREAKS.items():
        text = text.replace(char, escape)  # only ever inside a JSON string
    return text


def _string(value: str) -> str:
    """A double-quoted literal, valid in Python and JavaScript alike (JSON's escapes are a
    subset of both)."""
    return _dumps(value)


def _flat(value: dict[str, Any]) -> bool:
    """A small dict of scalars (a format, a custom voice) fits on one line."""
    scalars = all(isinstance(v, str | int | float | bool) or v is None for v in value.values())
    return scalars and len(value) <= 3 and len(_dumps(value)) <= 60


def py_literal(value: Any, indent: int = 0) -> str:
    """``value`` as Python source, one key per line for nested dicts (the SDK's own shape)."""
    pad, inner = "    " * indent, "    " * (indent + 1)
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dict):
        if _flat(value):
            return "{" + ", ".join(f"{_string(str(k))}: {py_literal(v)}" for k, v in value.items()) + "}"
        items = [f"{inner}{_string(str(k))}: {py_literal(v, indent + 1)}," for k, v in value.items()]
        return "{\n" + "\n".join(items) + f"\n{pad}}}"
    if isinstance(value, list | tuple):
        if all(isinstance(v, str | int | float) for v in value) and len(value) <= 4:
            return "[" + ", ".join(py_literal(v) for v in value) + "]"
        return "[\n" + "\n".join(f"{inner}{py_literal(v, indent + 1)}," for v in value) + f"\n{pad}]"
    raise TypeError(f"cannot write {type(value).__name__} as Python")


def _js_key(key: str) -> str:
    return key if key.isidentifier() and key.isascii() else _string(key)


def js_literal(value: Any, indent: int = 0) -> str:
    """``value`` as a JavaScript expression (object keys bare where they can be)."""
    pad, inner = "  " * indent, "  " * (indent + 1)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, int | float):
        return json.dumps(value)
    if isinstance(value, dict):
        if not value:
            return "{}"
        if _flat(value):
            return "{ " + ", ".join(f"{_js_key(str(k))}: {js_literal(v)}" for k, v in value.items()) + " }"
        items = [f"{inner}{_js_key(str(k))}: {js_literal(v, indent + 1)}," for k, v in value.items()]
        return "{\n" + "\n".join(items) + f"\n{pad}}}"
    if isinstance(value, list | tuple):
        if all(isinstance(v, str | int | float) for v in value) and len(value) <= 4:
            return "[" + ", ".join(js_literal(v) for v in value) + "]"
        return "[\n" + "\n".join(f"{inner}{js_literal(v, indent + 1)}," for v in value) + f"\n{pad}]"
    raise TypeError(f"cannot write {type(value).__name__} as JavaScript")


def _shell_json(value: Any) -> str:
    """JSON for ``curl -d``, single-quoted for the shell (the JSON goes through byte for byte)."""
    return shlex.quote(_dumps(value, indent=2))


def _comment_json(value: Any, prefix: str = "#   ") -> str:
    """JSON shown in a comment block: one comment line per JSON line (JSON escapes every
    newline inside a string, so a text cannot end the comment)."""
    return "\n".join(prefix + line for line in _dumps(value, indent=2).split("\n"))


@cache
def environment() -> jinja2.Environment:
    """The template environment: no autoescaping (this is code, not HTML), strict variables,
    the file's last newline kept, block tags on their own lines leaving no blank lines."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("playground.core", "templates"),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    env.filters.update(py=py_literal, js=js_literal, json=_dumps, sh=shlex.quote, shell_json=_shell_json)
    env.filters["comment_json"] = _comment_json
    return env


def speech_file_name(spec: RealtimeSpeechSpec) -> str:
    """What the exported code writes: a WAV for PCM, the raw G.711 bytes otherwise."""
    return G711_FILES.get(spec.output_format, "speech.wav")


def _ws_url(base_url: str | None, model: str) -> str:
    """Where the client secret's WebSocket goes (``http`` → ``ws``, ``https`` → ``wss``)."""
    base = base_url or OPENAI_BASE
    return "ws" + base.removeprefix("http") + "/realtime?model=" + model


def realtime_speech(spec: RealtimeSpeechSpec, language: Language, *, base_url: str | None = None) -> str:
    """The realtime TTS workflow's code: exactly the session and response Play sends."""
    g711 = spec.output_format in G711_FILES
    context = {
        "base_url": base_url,
        "local_key": LOCAL_KEY,
        "connect": spec.to_kwargs(),
        "model": spec.to_kwargs()["model"],
        "session": spec.to_session(),
        "response": spec.to_response(),
        "output_format": spec.output_format,
        "g711": g711,
        "out": speech_file_name(spec),
        "rate": G711_RATE if g711 else get_catalog().realtime.pcm_rate,
        "law": {"audio/pcmu": "mulaw", "audio/pcma": "alaw"}.get(spec.output_format, ""),
        "secrets_url": (base_url or OPENAI_BASE) + "/realtime/client_secrets",
        "ws_url": _ws_url(base_url, spec.to_kwargs()["model"]),
    }
    return environment().get_template(_TEMPLATES[language]).render(context)
