"""Exported code kept as Jinja2 templates (``playground/core/templates/``).

A script reads better as a template than as lists of lines in Python: the template holds
the code's shape, and every value from the spec goes in through a filter that writes it as
a literal of the target language (``py``, ``js``, ``sh``, ``shell_json``, ...), so no text
a user typed can change the code around it. ``StrictUndefined`` turns a missing variable
into an error instead of an empty string in someone's script.

The literal writers have two styles. The request snippets (speech, transcription, chat,
realtime sessions) write every dict one key per line and strings as ``json.dumps`` does.
The compact style, which the realtime speech scripts ask for with ``compact: True`` in
their context, puts a small dict of scalars on one line and escapes the characters some
editors take for a line break (U+2028, U+2029, U+0085), so a text never seems to end a
line of code. Keys are written alike in both: as ``json.dumps`` writes them, and bare in
JavaScript where they are identifiers.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

import jinja2

from playground.core.catalog import get_catalog
from playground.core.specs import RealtimeSpeechSpec

__all__ = [
    "LOCAL_KEY",
    "OPENAI_BASE",
    "Code",
    "Language",
    "environment",
    "js_literal",
    "py_literal",
    "realtime_speech",
    "render_template",
    "speech_file_name",
]

Language = Literal["python", "js", "curl"]
OPENAI_BASE = "https://api.openai.com/v1"
#: key used when talking to a server that needs none (the embedded backend)
LOCAL_KEY = "local"
#: the template suffix per language: ``<api>.<suffix>.j2``
SUFFIXES: dict[Language, str] = {"python": "py", "js": "mjs", "curl": "sh"}

#: the raw G.711 file each format is written to (no header: the sample rate is 8 kHz)
G711_FILES = {"audio/pcmu": "speech.ulaw", "audio/pcma": "speech.alaw"}
G711_RATE = 8000


@dataclass(frozen=True)
class Code:
    """A bare expression inside a rendered literal (e.g. a variable name)."""

    code: str


# ---------------------------------------------------------------- literal writers

#: characters some editors (and ``str.splitlines``) take for a line break: escaped in the
#: compact style, so a text never seems to end a line of code or a comment
_LINE_BREAKS = {"\u2028": "\\u2028", "\u2029": "\\u2029", "\x85": "\\u0085"}
_JS_IDENT = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")


def _dumps(value: Any, indent: int | None = None, *, compact: bool = False) -> str:
    """JSON with non-ASCII text readable; in the compact style odd line breaks escaped too."""
    text = json.dumps(value, ensure_ascii=False, indent=indent)
    if compact:
        for char, escape in _LINE_BREAKS.items():
            text = text.replace(char, escape)  # only ever inside a JSON string
    return text


def _flat(value: dict[str, Any]) -> bool:
    """A small dict of scalars (a format, a custom voice) fits on one line (compact style)."""
    scalars = all(isinstance(v, str | int | float | bool) or v is None for v in value.values())
    return scalars and len(value) <= 3 and len(_dumps(value, compact=True)) <= 60


def _short(value: list[Any] | tuple[Any, ...]) -> bool:
    """A short list of scalars fits on one line."""
    return all(isinstance(v, str | int | float) for v in value) and len(value) <= 4


def py_literal(value: Any, indent: int = 0, *, compact: bool = False) -> str:
    """``value`` as Python source, one key per line for nested dicts (the SDK's own shape)."""
    pad, inner = "    " * indent, "    " * (indent + 1)
    if isinstance(value, Code):
        return value.code
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, str):
        return _dumps(value, compact=compact)  # JSON's escapes are a subset of Python's
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dict):
        if compact and _flat(value):
            return "{" + ", ".join(f"{json.dumps(k)}: {py_literal(v, compact=True)}" for k, v in value.items()) + "}"
        if not value:
            return "{}"
        items = [f"{inner}{json.dumps(k)}: {py_literal(v, indent + 1, compact=compact)}," for k, v in value.items()]
        return "{\n" + "\n".join(items) + f"\n{pad}}}"
    if isinstance(value, list | tuple):
        if _short(value):
            return "[" + ", ".join(py_literal(v, compact=compact) for v in value) + "]"
        items = [f"{inner}{py_literal(v, indent + 1, compact=compact)}," for v in value]
        return "[\n" + "\n".join(items) + f"\n{pad}]"
    raise TypeError(f"cannot write {type(value).__name__} as Python")


def _js_key(key: str) -> str:
    return key if _JS_IDENT.match(key) else json.dumps(key)


def js_literal(value: Any, indent: int = 0, *, compact: bool = False) -> str:
    """``value`` as a JavaScript expression (object keys bare where they can be)."""
    pad, inner = "  " * indent, "  " * (indent + 1)
    if isinstance(value, Code):
        return value.code
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return _dumps(value, compact=compact)
    if isinstance(value, int | float):
        return json.dumps(value)
    if isinstance(value, dict):
        if not value:
            return "{}"
        if compact and _flat(value):
            return "{ " + ", ".join(f"{_js_key(k)}: {js_literal(v, compact=True)}" for k, v in value.items()) + " }"
        items = [f"{inner}{_js_key(k)}: {js_literal(v, indent + 1, compact=compact)}," for k, v in value.items()]
        return "{\n" + "\n".join(items) + f"\n{pad}}}"
    if isinstance(value, list | tuple):
        if _short(value):
            return "[" + ", ".join(js_literal(v, compact=compact) for v in value) + "]"
        items = [f"{inner}{js_literal(v, indent + 1, compact=compact)}," for v in value]
        return "[\n" + "\n".join(items) + f"\n{pad}]"
    raise TypeError(f"cannot write {type(value).__name__} as JavaScript")


def _py_kwargs(kwargs: dict[str, Any], indent: int = 0) -> str:
    """Keyword arguments, one a line, indented one level below ``indent``."""
    inner = "    " * (indent + 1)
    return "\n".join(f"{inner}{k}={py_literal(v, indent + 1)}," for k, v in kwargs.items())


# The filters write in the style the template's renderer names: ``compact`` in the context.


@jinja2.pass_context
def _py(context: jinja2.runtime.Context, value: Any, indent: int = 0) -> str:
    return py_literal(value, indent, compact=context.get("compact", False))


@jinja2.pass_context
def _js(context: jinja2.runtime.Context, value: Any, indent: int = 0) -> str:
    return js_literal(value, indent, compact=context.get("compact", False))


@jinja2.pass_context
def _shell_json(context: jinja2.runtime.Context, value: Any) -> str:
    """JSON for ``curl -d``, single-quoted for the shell (the JSON goes through byte for byte)."""
    return shlex.quote(_dumps(value, indent=2, compact=context.get("compact", False)))


@jinja2.pass_context
def _comment_json(context: jinja2.runtime.Context, value: Any, prefix: str = "#   ") -> str:
    """JSON shown in a comment block: one comment line per JSON line (JSON escapes every
    newline inside a string, and the compact style the odd ones, so a text cannot end the comment)."""
    text = _dumps(value, indent=2, compact=context.get("compact", False))
    return "\n".join(prefix + line for line in text.split("\n"))


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
    env.filters.update(py=_py, js=_js, py_kwargs=_py_kwargs, sh=shlex.quote, quoted=json.dumps)
    env.filters.update(shell_json=_shell_json, comment_json=_comment_json)
    return env


def render_template(api: str, language: Language, context: dict[str, Any]) -> str:
    """``templates/<api>.<py|mjs|sh>.j2`` rendered with ``context`` (plus ``local_key``)."""
    template = environment().get_template(f"{api}.{SUFFIXES[language]}.j2")
    return template.render({"local_key": LOCAL_KEY, **context})


# ------------------------------------------------------- speech through the Realtime API


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
        "compact": True,
        "base_url": base_url,
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
    return render_template("realtime_speech", language, context)
