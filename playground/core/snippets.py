"""Render a request spec as runnable Python, JavaScript or curl.

The snippet is built from ``spec.to_kwargs()``, the same dict the runner passes to the
SDK, so what a user copies makes exactly the request the playground made. Keys always
come from the environment; a ``base_url`` appears only for non-OpenAI servers.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from playground.core.catalog import get_catalog
from playground.core.lifecycle import code_warning
from playground.core.specs import (
    ChatAudioSpec,
    RealtimeSessionSpec,
    RealtimeSpeechSpec,
    RealtimeTranscriptionSpec,
    Spec,
    SpeechSpec,
    TranscriptionSpec,
)

__all__ = ["LANGUAGES", "Language", "lifecycle_warning", "render", "render_all"]

Language = Literal["python", "js", "curl"]
LANGUAGES: tuple[Language, ...] = ("python", "js", "curl")
OPENAI_BASE = "https://api.openai.com/v1"
#: key used when talking to a server that needs none (the embedded backend)
LOCAL_KEY = "local"


@dataclass(frozen=True)
class _Code:
    """A bare expression inside a rendered literal (e.g. a variable name)."""

    code: str


# ---------------------------------------------------------------- value formatting


def _py(value: Any, indent: int = 0) -> str:
    pad, inner = "    " * indent, "    " * (indent + 1)
    if isinstance(value, _Code):
        return value.code
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = [f"{inner}{json.dumps(k)}: {_py(v, indent + 1)}," for k, v in value.items()]
        return "{\n" + "\n".join(items) + f"\n{pad}}}"
    if isinstance(value, list | tuple):
        if all(isinstance(v, str | int | float) for v in value) and len(value) <= 4:
            return "[" + ", ".join(_py(v) for v in value) + "]"
        return "[\n" + "\n".join(f"{inner}{_py(v, indent + 1)}," for v in value) + f"\n{pad}]"
    raise TypeError(f"cannot render {type(value).__name__}")


_JS_IDENT = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")


def _js(value: Any, indent: int = 0) -> str:
    pad, inner = "  " * indent, "  " * (indent + 1)
    if isinstance(value, _Code):
        return value.code
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, int | float):
        return json.dumps(value)
    if isinstance(value, dict):
        if not value:
            return "{}"
        keys = [k if _JS_IDENT.match(k) else json.dumps(k) for k in value]
        items = [f"{inner}{k}: {_js(v, indent + 1)}," for k, v in zip(keys, value.values(), strict=True)]
        return "{\n" + "\n".join(items) + f"\n{pad}}}"
    if isinstance(value, list | tuple):
        if all(isinstance(v, str | int | float) for v in value) and len(value) <= 4:
            return "[" + ", ".join(_js(v) for v in value) + "]"
        return "[\n" + "\n".join(f"{inner}{_js(v, indent + 1)}," for v in value) + f"\n{pad}]"
    raise TypeError(f"cannot render {type(value).__name__}")


def _py_kwargs(kwargs: dict[str, Any], indent: int) -> str:
    inner = "    " * (indent + 1)
    return "\n".join(f"{inner}{k}={_py(v, indent + 1)}," for k, v in kwargs.items())


def _form_value(value: Any) -> str:
    """How the SDK writes a scalar into a multipart form field."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# --------------------------------------------------------------------- client setup


def _py_client(base_url: str | None) -> list[str]:
    if base_url is None:
        return ["from openai import OpenAI", "", "client = OpenAI()  # reads OPENAI_API_KEY"]
    return [
        "import os",
        "",
        "from openai import OpenAI",
        "",
        "client = OpenAI(",
        f"    base_url={json.dumps(base_url)},",
        f'    api_key=os.environ.get("OPENAI_API_KEY", "{LOCAL_KEY}"),',
        ")",
    ]


def _js_client(base_url: str | None) -> list[str]:
    if base_url is None:
        return ['import OpenAI from "openai";', "", "const client = new OpenAI(); // reads OPENAI_API_KEY"]
    return [
        'import OpenAI from "openai";',
        "",
        "const client = new OpenAI({",
        f"  baseURL: {json.dumps(base_url)},",
        f'  apiKey: process.env.OPENAI_API_KEY ?? "{LOCAL_KEY}",',
        "});",
    ]


def _curl_auth(base_url: str | None) -> str:
    key = "$OPENAI_API_KEY" if base_url is None else "${OPENAI_API_KEY:-" + LOCAL_KEY + "}"
    return f'-H "Authorization: Bearer {key}"'


def _shell_json(payload: dict[str, Any]) -> str:
    return shlex.quote(json.dumps(payload, indent=2, ensure_ascii=False))


def _imports_first(lines: list[str], extra: list[str]) -> list[str]:
    """Put extra stdlib imports above the client block, keeping import order tidy."""
    if not extra:
        return lines
    return [*extra, *([""] if lines[0].startswith("from openai") else []), *lines]


# ------------------------------------------------------------------------- speech


def _speech_python(spec: SpeechSpec, base_url: str | None, streaming: bool) -> str:
    kw = spec.to_kwargs()
    out = spec.file_name
    if spec.stream_format == "sse":
        head = _imports_first(_py_client(base_url), ["import base64", "import json"])
        body = [
            "",
            "with client.audio.speech.with_streaming_response.create(",
            _py_kwargs(kw, 0),
            f') as response, open("{out}", "wb") as out:',
            "    for line in response.iter_lines():",
            '        if not line.startswith("data:"):',
            "            continue",
            "        event = json.loads(line[5:])",
            '        if event["type"] == "speech.audio.delta":',
            '            out.write(base64.b64decode(event["audio"]))',
            '        elif event["type"] == "speech.audio.done":',
            '            print("usage:", event.get("usage"))',
        ]
    elif streaming:
        head = _py_client(base_url)
        body = [
            "",
            "# Stream to disk as the audio arrives (playback can start before synthesis ends).",
            "with client.audio.speech.with_streaming_response.create(",
            _py_kwargs(kw, 0),
            ") as response:",
            f'    response.stream_to_file("{out}")',
        ]
    else:
        head = _py_client(base_url)
        body = [
            "",
            "response = client.audio.speech.create(",
            _py_kwargs(kw, 0),
            ")",
            f'response.write_to_file("{out}")',
        ]
    return "\n".join([*head, *body]) + "\n"


def _speech_js(spec: SpeechSpec, base_url: str | None) -> str:
    lines = [
        'import fs from "node:fs";',
        'import { Readable } from "node:stream";',
        'import { pipeline } from "node:stream/promises";',
        *_js_client(base_url),
        "",
        f"const response = await client.audio.speech.create({_js(spec.to_kwargs())});",
    ]
    if spec.stream_format == "sse":
        lines += [
            "// Server-sent events: base64 audio deltas, then usage.",
            f'const out = fs.createWriteStream("{spec.file_name}");',
            'let buffered = "";',
            "for await (const chunk of response.body) {",
            "  buffered += Buffer.from(chunk).toString();",
            '  const lines = buffered.split("\\n");',
            "  buffered = lines.pop();",
            "  for (const line of lines) {",
            '    if (!line.startsWith("data:")) continue;',
            "    const event = JSON.parse(line.slice(5));",
            '    if (event.type === "speech.audio.delta") out.write(Buffer.from(event.audio, "base64"));',
            '    else if (event.type === "speech.audio.done") console.log("usage:", event.usage);',
            "  }",
            "}",
            "out.end();",
        ]
    else:
        lines += [
            "// Stream the body to disk as it arrives.",
            f'await pipeline(Readable.fromWeb(response.body), fs.createWriteStream("{spec.file_name}"));',
        ]
    return "\n".join(lines) + "\n"


def _speech_curl(spec: SpeechSpec, base_url: str | None) -> str:
    url = (base_url or OPENAI_BASE) + spec.endpoint
    return (
        " \\\n  ".join(
            [
                f"curl {shlex.quote(url)}",
                _curl_auth(base_url),
                '-H "Content-Type: application/json"',
                f"-d {_shell_json(spec.to_kwargs())}",
                "--no-buffer",
                f"--output {spec.file_name}",
            ]
        )
        + "\n"
    )


# ----------------------------------------------------------------- transcription


def _file_label(spec: TranscriptionSpec, file_path: str | None) -> str:
    return file_path or Path(spec.file).name


def _transcription_python(spec: TranscriptionSpec, base_url: str | None, file_path: str | None) -> str:
    resource = "translations" if spec.task == "translate" else "transcriptions"
    kw = {"file": _Code("audio_file"), **spec.to_kwargs()}
    lines = [
        *_py_client(base_url),
        "",
        f'with open({json.dumps(_file_label(spec, file_path))}, "rb") as audio_file:',
    ]
    if spec.stream:
        lines += [
            f"    stream = client.audio.{resource}.create(",
            _py_kwargs(kw, 1),
            "    )",
            "    for event in stream:",
            '        if event.type == "transcript.text.delta":',
            '            print(event.delta, end="", flush=True)',
            '        elif event.type == "transcript.text.done":',
            "            print()",
        ]
        return "\n".join(lines) + "\n"
    lines += [f"    result = client.audio.{resource}.create(", _py_kwargs(kw, 1), "    )"]
    if spec.response_format in ("text", "srt", "vtt"):
        lines.append("print(result)  # a plain string in this format")
    elif spec.response_format == "verbose_json":
        lines.append("print(result.text)")
        if "word" in spec.timestamp_granularities:  # words come in their own list, not in the segments
            lines += [
                "for word in result.words or []:",
                '    print(f"[{word.start:6.2f} → {word.end:6.2f}] {word.word}")',
            ]
        if "segment" in spec.timestamp_granularities or "word" not in spec.timestamp_granularities:
            lines += [
                "for segment in result.segments or []:",
                '    print(f"[{segment.start:6.2f} → {segment.end:6.2f}] {segment.text}")',
            ]
    else:
        lines.append("print(result.text)")
    return "\n".join(lines) + "\n"


def _js_form(value: Any) -> Any:
    """A multipart value whose JS spelling sends the same text as the Python SDK.

    The npm SDK writes numbers with ``String(n)``: ``0.0`` goes out as ``"0"`` and
    ``1e-05`` as ``"0.00001"``, where the runner sends ``"0.0"`` and ``"1e-05"``. Such
    floats are rendered as that text; other values (shortest round-trip digits in both
    languages) stay numbers.
    """
    if isinstance(value, dict):
        return {k: _js_form(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_js_form(v) for v in value]
    if isinstance(value, float) and (value.is_integer() or "e" in repr(value)):
        return _form_value(value)
    return value


def _transcription_js(spec: TranscriptionSpec, base_url: str | None, file_path: str | None) -> str:
    resource = "translations" if spec.task == "translate" else "transcriptions"
    kw = {
        "file": _Code(f"fs.createReadStream({json.dumps(_file_label(spec, file_path))})"),
        **_js_form(spec.to_kwargs()),
    }
    lines = ['import fs from "node:fs";', *_js_client(base_url), ""]
    if spec.stream:
        lines += [
            f"const stream = await client.audio.{resource}.create({_js(kw)});",
            "for await (const event of stream) {",
            '  if (event.type === "transcript.text.delta") process.stdout.write(event.delta);',
            '  else if (event.type === "transcript.text.done") console.log();',
            "}",
        ]
    else:
        lines.append(f"const result = await client.audio.{resource}.create({_js(kw)});")
        plain = spec.response_format in ("text", "srt", "vtt")
        lines.append("console.log(result);" if plain else "console.log(result.text);")
    return "\n".join(lines) + "\n"


def form_fields(spec: TranscriptionSpec) -> list[tuple[str, str]]:
    """The multipart fields (besides ``file``) as the SDK sends them."""
    out: list[tuple[str, str]] = []
    for key, value in spec.to_kwargs().items():
        if isinstance(value, list):
            out += [(f"{key}[]", _form_value(v)) for v in value]
        elif isinstance(value, dict):
            out += [(f"{key}[{k}]", _form_value(v)) for k, v in value.items()]
        else:
            out.append((key, _form_value(value)))
    return out


def _curl_form_flag(value: str) -> str:
    """``-F`` reads ``@file``, ``<file`` and ``;type=`` in a value; ``--form-string`` sends it as is
    (a data: URL has a ``;``, a prompt may start with ``@``)."""
    return "--form-string" if ";" in value or value.startswith(("@", "<")) else "-F"


def _transcription_curl(spec: TranscriptionSpec, base_url: str | None, file_path: str | None) -> str:
    url = (base_url or OPENAI_BASE) + spec.endpoint
    parts = [f"curl {shlex.quote(url)}", _curl_auth(base_url)]
    parts.append("-F " + shlex.quote(f"file=@{_file_label(spec, file_path)}"))
    parts += [f"{_curl_form_flag(v)} " + shlex.quote(f"{k}={v}") for k, v in form_fields(spec)]
    if spec.stream:
        parts.append("--no-buffer")
    return " \\\n  ".join(parts) + "\n"


# -------------------------------------------------------------------- chat audio


def _chat_files(spec: ChatAudioSpec, file_path: str | None) -> list[tuple[str, str]]:
    """(path in the spec, name the snippet reads) for each audio file the request sends.

    ``file_path`` renames the current turn's file (the upload's own name); earlier
    turns' files keep their names (the Audio chat tab saves them as ``turn-N.<ext>``).
    """
    names = {p: Path(p).name for p in spec.audio_files}
    if spec.input_audio and file_path:
        names[spec.input_audio] = file_path
    return list(names.items())


def _chat_vars(spec: ChatAudioSpec, file_path: str | None, style: str) -> list[tuple[str, str, str]]:
    """(spec path, file name, variable) per audio file; ``style``: "py", "js" or "sh"."""
    files = _chat_files(spec, file_path)
    base = {"py": "audio_b64", "js": "audioB64", "sh": "AUDIO_B64"}[style]
    return [(p, name, base if len(files) == 1 else f"{base}_{i}") for i, (p, name) in enumerate(files, 1)]


def _chat_kwargs(spec: ChatAudioSpec, variables: dict[str, str]) -> dict[str, Any]:
    """``to_kwargs()`` with each audio file's base64 replaced by its variable."""
    kw = spec.to_kwargs()
    sent = [str(t["audio"]) for t in spec.history if t.get("role") == "user" and t.get("audio")]
    sent += [spec.input_audio] if spec.input_audio else []
    parts = [
        part
        for msg in kw["messages"]
        if isinstance(msg.get("content"), list)
        for part in msg["content"]
        if part["type"] == "input_audio"
    ]
    for part, path in zip(parts, sent, strict=True):
        part["input_audio"]["data"] = _Code(variables[path])
    return kw


def _chat_reply_name(spec: ChatAudioSpec) -> str:
    return "reply.wav" if spec.stream else spec.file_name


def _chat_python(spec: ChatAudioSpec, base_url: str | None, file_path: str | None) -> str:
    spoken = "audio" in spec.modalities
    files = _chat_vars(spec, file_path, "py")
    client = _py_client(base_url)
    stdlib = {"base64"} if files or spoken else set()
    stdlib |= {"wave"} if spoken and spec.stream else set()
    if client[0] == "import os":
        stdlib, client = stdlib | {"os"}, client[2:]
    lines = [*(f"import {m}" for m in sorted(stdlib)), *([""] if stdlib else []), *client, ""]
    for _, name, var in files:
        lines += [
            f'with open({json.dumps(name)}, "rb") as f:',
            f'    {var} = base64.b64encode(f.read()).decode("ascii")',
        ]
    if files:
        lines.append("")
    kw = _chat_kwargs(spec, {p: v for p, _, v in files})
    call = ["client.chat.completions.create(", _py_kwargs(kw, 0), ")"]
    out = _chat_reply_name(spec)
    if spec.history:
        lines.append("# earlier spoken replies go back by id (valid until their expires_at), never as sound")
    if not spec.stream:
        lines += [f"completion = {call[0]}", *call[1:], "message = completion.choices[0].message"]
        if spoken:
            lines += [
                "print(message.audio.transcript)",
                'print("next turn sends:", {"role": "assistant", "audio": {"id": message.audio.id}})',
                f'with open("{out}", "wb") as out:',
                "    out.write(base64.b64decode(message.audio.data))",
            ]
        else:
            lines.append("print(message.content)")
        return "\n".join(lines) + "\n"
    lines += [f"stream = {call[0]}", *call[1:]]
    if spoken:
        rate = get_catalog().realtime.pcm_rate
        lines += [
            "pcm, audio_id = bytearray(), None",
            "for chunk in stream:",
            "    audio = chunk.choices[0].delta.audio if chunk.choices else None",
            "    if audio is None:",
            "        continue",
            "    if audio.transcript:",
            '        print(audio.transcript, end="", flush=True)',
            "    if audio.data:  # PCM16, 24 kHz, mono: play it as it comes, or keep it",
            "        pcm.extend(base64.b64decode(audio.data))",
            "    audio_id = audio.id or audio_id",
            "print()",
            'print("next turn sends:", {"role": "assistant", "audio": {"id": audio_id}})',
            f'with wave.open("{out}", "wb") as out:',
            f"    out.setnchannels(1), out.setsampwidth(2), out.setframerate({rate})",
            "    out.writeframes(pcm)",
        ]
    else:
        lines += [
            "for chunk in stream:",
            "    if chunk.choices and chunk.choices[0].delta.content:",
            '        print(chunk.choices[0].delta.content, end="", flush=True)',
            "print()",
        ]
    return "\n".join(lines) + "\n"


_JS_WAV = [
    "// a WAV header in front of raw PCM16 mono",
    "function wav(pcm, rate) {",
    "  const head = Buffer.alloc(44);",
    '  head.write("RIFF", 0);',
    "  head.writeUInt32LE(36 + pcm.length, 4);",
    '  head.write("WAVEfmt ", 8);',
    "  head.writeUInt32LE(16, 16);",
    "  head.writeUInt16LE(1, 20);",
    "  head.writeUInt16LE(1, 22);",
    "  head.writeUInt32LE(rate, 24);",
    "  head.writeUInt32LE(rate * 2, 28);",
    "  head.writeUInt16LE(2, 32);",
    "  head.writeUInt16LE(16, 34);",
    '  head.write("data", 36);',
    "  head.writeUInt32LE(pcm.length, 40);",
    "  return Buffer.concat([head, pcm]);",
    "}",
]


def _chat_js(spec: ChatAudioSpec, base_url: str | None, file_path: str | None) -> str:
    spoken = "audio" in spec.modalities
    files = _chat_vars(spec, file_path, "js")
    lines = ['import fs from "node:fs";', *_js_client(base_url), ""]
    for _, name, var in files:
        lines.append(f'const {var} = fs.readFileSync({json.dumps(name)}).toString("base64");')
    kw = _chat_kwargs(spec, {p: v for p, _, v in files})
    out = _chat_reply_name(spec)
    if spec.history:
        lines.append("// earlier spoken replies go back by id (valid until their expires_at), never as sound")
    if not spec.stream:
        lines += [
            f"const completion = await client.chat.completions.create({_js(kw)});",
            "const message = completion.choices[0].message;",
        ]
        if spoken:
            lines += [
                "console.log(message.audio.transcript);",
                'console.log("next turn sends:", { role: "assistant", audio: { id: message.audio.id } });',
                f'fs.writeFileSync("{out}", Buffer.from(message.audio.data, "base64"));',
            ]
        else:
            lines.append("console.log(message.content);")
        return "\n".join(lines) + "\n"
    lines.append(f"const stream = await client.chat.completions.create({_js(kw)});")
    if spoken:
        rate = get_catalog().realtime.pcm_rate
        lines += [
            "",
            *_JS_WAV,
            "",
            "const pcm = [];",
            "let audioId = null;",
            "for await (const chunk of stream) {",
            "  const audio = chunk.choices[0]?.delta?.audio;",
            "  if (!audio) continue;",
            "  if (audio.transcript) process.stdout.write(audio.transcript);",
            '  if (audio.data) pcm.push(Buffer.from(audio.data, "base64")); // PCM16, 24 kHz, mono',
            "  audioId = audio.id ?? audioId;",
            "}",
            'console.log("\\nnext turn sends:", { role: "assistant", audio: { id: audioId } });',
            f'fs.writeFileSync("{out}", wav(Buffer.concat(pcm), {rate}));',
        ]
    else:
        lines += [
            "for await (const chunk of stream) {",
            '  process.stdout.write(chunk.choices[0]?.delta?.content ?? "");',
            "}",
            'console.log("");',
        ]
    return "\n".join(lines) + "\n"


def _chat_curl(spec: ChatAudioSpec, base_url: str | None, file_path: str | None) -> str:
    url = (base_url or OPENAI_BASE) + spec.endpoint
    files = _chat_vars(spec, file_path, "sh")
    head = [f"curl {shlex.quote(url)}", _curl_auth(base_url), '-H "Content-Type: application/json"']
    if spec.stream:
        head.append("--no-buffer")
    if not files:
        return " \\\n  ".join([*head, f"-d {_shell_json(spec.to_kwargs())}"]) + "\n"
    prefix = [f"{var}=$(base64 < {shlex.quote(name)} | tr -d '\\n')" for _, name, var in files]
    kw = _chat_kwargs(spec, {p: f"__{v}__" for p, _, v in files})
    body = json.dumps(kw, indent=2, ensure_ascii=False, default=lambda c: c.code)
    # Unquoted heredoc so the $AUDIO_B64 variables expand; escape everything else the shell would touch.
    body = body.replace("\\", "\\\\").replace("$", "\\$").replace("`", "\\`")
    for _, _, var in files:
        body = body.replace(f"__{var}__", f"${var}")
    cmd = " \\\n  ".join([*head, "-d @- <<EOF"])
    return "\n".join([*prefix, cmd, body, "EOF"]) + "\n"


# ---------------------------------------------------------------------- realtime


_GREETING = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Hello! Who are you?"}]}


#: the scripts that play a WAV into a realtime session read it with this (stdlib only)
_PY_READ_WAV = [
    "def read_wav(path):",
    '    """The 16-bit samples of a mono WAV file, or the left channel of a stereo one."""',
    "    try:",
    '        with wave.open(path, "rb") as w:',
    "            rate, width, channels = w.getframerate(), w.getsampwidth(), w.getnchannels()",
    "            if rate != RATE or width != 2:",
    "                sys.exit(",
    '                    f"{path}: need 16-bit PCM at {RATE} Hz, not {8 * width}-bit at {rate} Hz "',
    '                    f"(convert it, e.g. ffmpeg -i {path} -ar {RATE} -ac 1 -c:a pcm_s16le out.wav)"',
    "                )",
    "            data = w.readframes(w.getnframes())",
    "    except (wave.Error, EOFError, OSError) as e:",
    '        sys.exit(f"{path}: not a readable WAV file ({e})")',
    "    if channels == 1:",
    "        return data",
    "    left = bytearray(len(data) // channels)",
    "    left[0::2], left[1::2] = data[0 :: 2 * channels], data[1 :: 2 * channels]",
    "    return bytes(left)",
]


def _realtime_python(spec: RealtimeSessionSpec, base_url: str | None) -> str:
    lines = [
        *_py_client(base_url),
        "",
        f"with client.realtime.connect(model={json.dumps(spec.model)}) as connection:",
        f"    connection.session.update(session={_py(spec.to_session(), 1)})",
        f"    connection.conversation.item.create(item={_py(_GREETING, 1)})",
        "    connection.response.create()",
        "    for event in connection:",
        '        if event.type in ("response.output_audio_transcript.delta", "response.output_text.delta"):',
        '            print(event.delta, end="", flush=True)',
        '        elif event.type == "error":',
        "            print(event.error.message)",
        '        elif event.type == "response.done":',
        "            print()",
        "            break",
    ]
    return "\n".join(lines) + "\n"


def _replay_session(spec: RealtimeSessionSpec) -> tuple[dict[str, Any], list[str]]:
    """``spec.to_session()`` for the replay script, which streams PCM16 at the catalog rate.

    A G.711 format (telephony) would need an encoder the standard library no longer has,
    so such a side is switched to PCM, and the script says so in a comment.
    """
    session = spec.to_session()
    rate = get_catalog().realtime.pcm_rate
    switched = []
    for side in ("input", "output"):
        fmt = session["audio"][side]["format"]
        if fmt["type"] != "audio/pcm":
            switched.append(f"{side} {fmt['type']}")
            session["audio"][side]["format"] = {"type": "audio/pcm", "rate": rate}
    note = (
        [f"# The session's {' and '.join(switched)} is PCM here: this script reads and writes 16-bit WAV."]
        if switched
        else []
    )
    return session, note


def _realtime_replay_python(spec: RealtimeSessionSpec, base_url: str | None, file_path: str) -> str:
    """A script that plays a WAV file (your side of a conversation) into a realtime session
    with this spec's settings, at real-time pace like a microphone, prints both sides'
    transcripts, answers function calls through a stub ``handle_tool`` and saves the
    assistant's audio to ``reply.wav``.

    With server or semantic VAD, trailing silence lets the server end the turn; with
    turn detection off (push to talk) the script commits the buffer and asks for a
    response itself. It hangs up once every turn the server committed has been answered
    (tool follow-ups included), or after ``PATIENCE`` seconds without a word from the server.
    """
    client = _py_client(base_url)
    if client[0] == "import os":
        client = client[2:]
    stdlib = sorted({"base64", "json", "sys", "threading", "time", "wave"} | ({"os"} if base_url else set()))
    session, note = _replay_session(spec)
    rate = get_catalog().realtime.pcm_rate
    names = [str(t["name"]) for t in spec.tools if t.get("type") == "function" and t.get("name")]
    tools_comment = (
        f"    # This session's function tools: {', '.join(names)}."
        if names
        else "    # This session has no function tools."
    )
    manual = spec.turn_detection == "none"
    if manual:
        finish = [
            "        # Push to talk: the whole recording is one turn, committed by hand.",
            '        state["turns"] += 1',
            '        state["requested"] += 1',
            "        connection.input_audio_buffer.commit()",
            "        connection.response.create()",
        ]
        on_commit: list[str] = []
    else:
        finish = [
            "        send(bytes(FRAME * 2 * 38))  # 1.5 s of silence: the server's VAD ends the turn",
            "        for _ in range(250):  # and more while it still hears speech (up to 10 s)",
            '            if not state["speaking"]:',
            "                break",
            "            send(bytes(FRAME * 2))",
        ]
        on_commit = [
            '        elif event.type == "input_audio_buffer.committed":',
            '            state["turns"] += 1',
        ]
        if not spec.create_response:
            on_commit += [
                "            # create_response is off in this session: the client asks for each answer.",
                '            state["requested"] += 1',
                "            connection.response.create()",
            ]
    lines = [
        *(f"import {m}" for m in stdlib),
        "",
        *client,
        "",
        f"WAV = {json.dumps(file_path)}  # your side: 16-bit PCM at 24 kHz, mono (or the left channel)",
        f"RATE = {rate}",
        "FRAME = RATE // 25  # 40 ms of samples",
        "PATIENCE = 120  # seconds to wait for the server (local models may load on first use)",
        *note,
        f"SESSION = {_py(session)}",
        "",
        "",
        *_PY_READ_WAV,
        "",
        "",
        "def handle_tool(name, arguments):",
        '    """Answer a function call (``arguments`` is a JSON string); return a JSON string."""',
        tools_comment,
        "    # Put your code here; until then every call gets this placeholder answer.",
        '    return json.dumps({"error": f"{name} is not implemented in this script", "arguments": arguments})',
        "",
        "",
        "audio = read_wav(WAV)",
        "reply = bytearray()",
        "state = {",
        '    "speaking": False,  # the server hears speech not yet committed as a turn',
        '    "turns": 0,  # user turns committed',
        '    "answered": 0,  # turns whose answer (tool follow-ups included) is done',
        '    "requested": 0,  # response.create sent, response.created not seen yet',
        '    "active": {},  # response id -> the turn it answers',
        '    "last": time.monotonic(),  # when the server last sent an event',
        '    "midline": False,',
        '    "gave_up": False,',
        "}",
        "",
        "",
        "def end_line():",
        '    if state["midline"]:',
        "        print()",
        '        state["midline"] = False',
        "",
        "",
        f"with client.realtime.connect(model={json.dumps(spec.model)}) as connection:",
        "    connection.session.update(session=SESSION)",
        "",
        "    def send(pcm):",
        '        """Append audio in 40 ms chunks at real-time pace, like a microphone."""',
        "        start = time.monotonic()",
        "        for n, i in enumerate(range(0, len(pcm), FRAME * 2)):",
        "            connection.input_audio_buffer.append(audio=base64.b64encode(pcm[i : i + FRAME * 2]).decode())",
        "            time.sleep(max(0.0, start + (n + 1) * 0.04 - time.monotonic()))",
        "",
        "    def finished():",
        '        idle = time.monotonic() - state["last"]',
        "        if idle > PATIENCE:",
        '            state["gave_up"] = True',
        "            return True",
        '        busy = state["speaking"] or state["requested"] or state["active"]',
        '        return not busy and state["answered"] >= state["turns"] and idle > 1',
        "",
        "    def speak_then_hang_up():",
        "        try:",
        "            send(audio)",
        *["    " + line for line in finish],
        "            while not finished():",
        "                time.sleep(0.1)",
        "        except Exception as e:  # the connection went away",
        '            print(f"stopped sending: {e}", file=sys.stderr)',
        "        connection.close()",
        "",
        "    threading.Thread(target=speak_then_hang_up, daemon=True).start()",
        "    for event in connection:",
        '        state["last"] = time.monotonic()',
        '        if event.type == "input_audio_buffer.speech_started":',
        '            state["speaking"] = True',
        '        elif event.type == "input_audio_buffer.speech_stopped":',
        '            state["speaking"] = False',
        *on_commit,
        '        elif event.type == "conversation.item.input_audio_transcription.completed":',
        "            end_line()",
        '            print("you:", event.transcript.strip())',
        '        elif event.type == "response.created":',
        '            state["active"][event.response.id] = state["turns"]',
        '            state["requested"] = max(0, state["requested"] - 1)',
        '        elif event.type in ("response.output_audio_transcript.delta", "response.output_text.delta"):',
        '            if not state["midline"]:',
        '                print("assistant: ", end="")',
        '                state["midline"] = True',
        '            print(event.delta, end="", flush=True)',
        '        elif event.type == "response.output_audio.delta":',
        "            reply += base64.b64decode(event.delta)",
        '        elif event.type == "error":',
        "            end_line()",
        '            state["requested"] = 0  # a request the server refused gets no response',
        '            print(f"error ({event.error.type}): {event.error.message}", file=sys.stderr)',
        '        elif event.type == "response.done":',
        "            end_line()",
        "            response = event.response",
        '            print(f"[response {response.status}]")',
        '            calls = [item for item in response.output or [] if item.type == "function_call"]',
        "            for call in calls:",
        '                print(f"tool call: {call.name}({call.arguments})")',
        "                output = handle_tool(call.name, call.arguments)",
        '                item = {"type": "function_call_output", "call_id": call.call_id, "output": output}',
        "                connection.conversation.item.create(item=item)",
        '            turn = state["active"].pop(response.id, None)',
        "            if turn is None:  # its response.created never came",
        '                state["requested"] = max(0, state["requested"] - 1)',
        '                turn = state["turns"]',
        '            if calls and response.status == "completed":',
        '                state["requested"] += 1',
        "                connection.response.create()  # the model goes on with the tools' results",
        "            else:",
        '                state["answered"] = max(state["answered"], turn)',
        "",
        "end_line()",
        'with wave.open("reply.wav", "wb") as w:',
        "    w.setnchannels(1)",
        "    w.setsampwidth(2)",
        "    w.setframerate(RATE)",
        "    w.writeframes(bytes(reply))",
        'print(f"reply.wav: {len(reply) / (RATE * 2):.1f} s of the assistant\'s audio")',
        'if state["gave_up"]:',
        '    sys.exit(f"no answer from the server within {PATIENCE} s; hung up")',
    ]
    return "\n".join(lines) + "\n"


def _realtime_js(spec: RealtimeSessionSpec, base_url: str | None) -> str:
    lines = [
        'import { OpenAIRealtimeWS } from "openai/realtime/ws"; // npm install openai ws',
        *_js_client(base_url),
        "",
        f"const rt = new OpenAIRealtimeWS({{ model: {json.dumps(spec.model)} }}, client);",
        'rt.socket.on("open", () => {',
        f'  rt.send({{ type: "session.update", session: {_js(spec.to_session(), 1)} }});',
        f'  rt.send({{ type: "conversation.item.create", item: {_js(_GREETING, 1)} }});',
        '  rt.send({ type: "response.create" });',
        "});",
        'rt.on("response.output_audio_transcript.delta", (event) => process.stdout.write(event.delta));',
        'rt.on("response.output_text.delta", (event) => process.stdout.write(event.delta));',
        'rt.on("error", (err) => console.error(err));',
        'rt.on("response.done", () => rt.close());',
    ]
    return "\n".join(lines) + "\n"


def _client_secret_curl(session: dict[str, Any], base_url: str | None, note: list[str]) -> str:
    """curl can mint a client secret for a session (a browser or phone then connects with it)."""
    url = (base_url or OPENAI_BASE) + "/realtime/client_secrets"
    lines = [
        *note,
        " \\\n  ".join(
            [
                f"curl -X POST {shlex.quote(url)}",
                _curl_auth(base_url),
                '-H "Content-Type: application/json"',
                f"-d {_shell_json({'session': session})}",
            ]
        ),
    ]
    return "\n".join(lines) + "\n"


def _realtime_curl(spec: RealtimeSessionSpec, base_url: str | None) -> str:
    note = [
        "# Realtime runs over WebSocket/WebRTC; curl mints a short-lived client secret",
        "# with this session config, for a browser or phone client to connect with.",
    ]
    return _client_secret_curl(spec.to_session(), base_url, note)


# ------------------------------------------------------------ realtime transcription

_TRANSCRIBE_WAV = "recording.wav"


def _realtime_transcription_python(spec: RealtimeTranscriptionSpec, base_url: str | None, file_path: str | None) -> str:
    """A script that plays a WAV file into a transcription session at a microphone's pace and
    prints each turn as it grows (deltas), stamped with where it starts in the recording."""
    client = _py_client(base_url)
    if client[0] == "import os":
        client = client[2:]
    stdlib = sorted({"base64", "sys", "threading", "time", "wave"} | ({"os"} if base_url else set()))
    rate = get_catalog().realtime.pcm_rate
    manual = spec.turn_detection == "none"
    ending = (
        [
            "        # No turn detection: the whole recording is one turn, committed by hand.",
            "        connection.input_audio_buffer.commit()",
        ]
        if manual
        else ["        send(bytes(FRAME * 2 * 38))  # 1.5 s of silence: the server's VAD ends the last turn"]
    )
    lines = [
        *(f"import {m}" for m in stdlib),
        "",
        *client,
        "",
        f"WAV = {json.dumps(file_path or _TRANSCRIBE_WAV)}  # 16-bit PCM at 24 kHz, mono (or the left channel)",
        f"RATE = {rate}",
        "FRAME = RATE // 25  # 40 ms of samples",
        "PATIENCE = 120  # seconds to wait for the server (local models may load on first use)",
        f"SESSION = {_py(spec.to_session())}",
        "",
        "",
        *_PY_READ_WAV,
        "",
        "",
        "audio = read_wav(WAV)",
        'state = {"committed": set(), "done": set(), "started": {}, "line": None, "last": time.monotonic()}',
        "",
        "",
        "def stamp(ms):",
        '    return f"[{ms // 60000}:{ms % 60000 / 1000:04.1f}]"',
        "",
        "",
        "def end_line():",
        '    if state["line"] is not None:',
        "        print()",
        '        state["line"] = None',
        "",
        "",
        "with client.realtime.connect(**" + _py(spec.to_kwargs()) + ") as connection:",
        "    connection.session.update(session=SESSION)",
        "",
        "    def send(pcm):",
        '        """Append audio in 40 ms chunks at real-time pace, like a microphone."""',
        "        start = time.monotonic()",
        "        for n, i in enumerate(range(0, len(pcm), FRAME * 2)):",
        "            connection.input_audio_buffer.append(audio=base64.b64encode(pcm[i : i + FRAME * 2]).decode())",
        "            time.sleep(max(0.0, start + (n + 1) * 0.04 - time.monotonic()))",
        "",
        "    def speak_then_hang_up():",
        "        try:",
        "            send(audio)",
        *["    " + line for line in ending],
        '            while time.monotonic() - state["last"] < PATIENCE and (',
        '                state["committed"] - state["done"] or time.monotonic() - state["last"] < 1.5',
        "            ):",
        "                time.sleep(0.1)",
        "        except Exception as e:  # the connection went away",
        '            print(f"stopped sending: {e}", file=sys.stderr)',
        "        connection.close()",
        "",
        "    threading.Thread(target=speak_then_hang_up, daemon=True).start()",
        "    for event in connection:",
        '        state["last"] = time.monotonic()',
        '        if event.type == "input_audio_buffer.speech_started":',
        '            state["started"][event.item_id] = event.audio_start_ms',
        '        elif event.type == "input_audio_buffer.committed":',
        '            state["committed"].add(event.item_id)',
        '        elif event.type == "conversation.item.input_audio_transcription.delta":',
        "            # the text grows while the turn is spoken; completed has the whole turn",
        '            if state["line"] != event.item_id:',
        "                end_line()",
        '                print(stamp(state["started"].get(event.item_id, 0)), end=" ")',
        '                state["line"] = event.item_id',
        '            print(event.delta, end="", flush=True)',
        '        elif event.type == "conversation.item.input_audio_transcription.completed":',
        '            if state["line"] == event.item_id:',
        "                end_line()",
        "            elif event.transcript:",
        "                end_line()",
        '                print(stamp(state["started"].get(event.item_id, 0)), event.transcript)',
        '            state["done"].add(event.item_id)',
        '        elif event.type == "conversation.item.input_audio_transcription.failed":',
        "            end_line()",
        '            print(f"transcription failed: {event.error.message}", file=sys.stderr)',
        '            state["done"].add(event.item_id)',
        '        elif event.type == "error":',
        "            end_line()",
        '            print(f"error ({event.error.type}): {event.error.message}", file=sys.stderr)',
        "",
        "end_line()",
    ]
    return "\n".join(lines) + "\n"


def _realtime_transcription_js(spec: RealtimeTranscriptionSpec, base_url: str | None) -> str:
    """The session opened with the npm SDK; each turn's text printed as it grows."""
    lines = [
        'import { OpenAIRealtimeWS } from "openai/realtime/ws"; // npm install openai ws',
        *_js_client(base_url),
        "",
        'const rt = new OpenAIRealtimeWS({ intent: "transcription" }, client);',
        'rt.socket.on("open", () => {',
        f'  rt.send({{ type: "session.update", session: {_js(spec.to_session(), 1)} }});',
        "  // then send microphone audio (PCM16, 24 kHz, mono) in small chunks:",
        '  // rt.send({ type: "input_audio_buffer.append", audio: chunk.toString("base64") });',
        "});",
        'rt.on("session.updated", (event) =>',
        '  console.log("transcribing with", event.session.audio.input.transcription.model),',
        ");",
        'rt.on("conversation.item.input_audio_transcription.delta", (event) => process.stdout.write(event.delta));',
        'rt.on("conversation.item.input_audio_transcription.completed", () => process.stdout.write("\\n"));',
        'rt.on("error", (err) => console.error(err));',
    ]
    return "\n".join(lines) + "\n"


def _realtime_transcription_curl(spec: RealtimeTranscriptionSpec, base_url: str | None) -> str:
    note = [
        "# Realtime transcription runs over WebSocket/WebRTC; curl mints a short-lived client",
        "# secret with this transcription session, for a browser or phone client to connect with.",
    ]
    return _client_secret_curl(spec.to_session(), base_url, note)


# -------------------------------------------------------------------------- entry


def _spec_models(spec: Spec) -> list[str]:
    models = [spec.model]
    if isinstance(spec, RealtimeSessionSpec) and spec.transcription_model:
        models.append(spec.transcription_model)
    return models


def lifecycle_warning(spec: Spec, *, chat_model: str | None = None) -> str:
    """One sentence per deprecated (or retired) model the code uses, on one line; "" when all are current."""
    models = [*_spec_models(spec), *([chat_model] if chat_model else [])]
    warnings = [w for w in dict.fromkeys(code_warning(m) for m in dict.fromkeys(models)) if w]
    return " ".join(warnings)


def render(
    spec: Spec,
    language: Language,
    *,
    base_url: str | None = None,
    streaming: bool = True,
    file_path: str | None = None,
    chat_model: str | None = None,
) -> str:
    """Code that reproduces ``spec``.

    ``base_url`` None means OpenAI (no base_url line; the key comes from
    ``OPENAI_API_KEY``). ``file_path`` overrides the input file name shown (default:
    the file's base name). ``streaming`` picks the streaming variant for speech.
    ``chat_model`` (the chained pipeline's) only adds to the lifecycle warning: a
    deprecated model puts one comment line with its shutdown date above the code.
    """
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of: {', '.join(LANGUAGES)}")
    code = _render(spec, language, base_url=base_url, streaming=streaming, file_path=file_path)
    warning = lifecycle_warning(spec, chat_model=chat_model)
    if not warning:
        return code
    return f"{'//' if language == 'js' else '#'} {warning}\n{code}"


def _render(spec: Spec, language: Language, *, base_url: str | None, streaming: bool, file_path: str | None) -> str:
    if isinstance(spec, SpeechSpec):
        if language == "python":
            return _speech_python(spec, base_url, streaming)
        return _speech_js(spec, base_url) if language == "js" else _speech_curl(spec, base_url)
    if isinstance(spec, TranscriptionSpec):
        fn = {"python": _transcription_python, "js": _transcription_js, "curl": _transcription_curl}[language]
        return fn(spec, base_url, file_path)
    if isinstance(spec, ChatAudioSpec):
        fn = {"python": _chat_python, "js": _chat_js, "curl": _chat_curl}[language]
        return fn(spec, base_url, file_path)
    if isinstance(spec, RealtimeSessionSpec):
        if language == "python" and file_path:
            return _realtime_replay_python(spec, base_url, file_path)
        fn = {"python": _realtime_python, "js": _realtime_js, "curl": _realtime_curl}[language]
        return fn(spec, base_url)
    if isinstance(spec, RealtimeTranscriptionSpec):
        if language == "python":
            return _realtime_transcription_python(spec, base_url, file_path)
        return (_realtime_transcription_js if language == "js" else _realtime_transcription_curl)(spec, base_url)
    if isinstance(spec, RealtimeSpeechSpec):  # Jinja2 templates (snippet_templates imports this module)
        from playground.core.snippet_templates import realtime_speech

        return realtime_speech(spec, language, base_url=base_url)
    raise TypeError(f"no snippet renderer for {type(spec).__name__}")


def render_all(spec: Spec, *, base_url: str | None = None, file_path: str | None = None) -> dict[str, str]:
    return {lang: render(spec, lang, base_url=base_url, file_path=file_path) for lang in LANGUAGES}
