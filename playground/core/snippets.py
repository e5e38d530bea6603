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

from playground.core.specs import (
    ChatAudioSpec,
    RealtimeSessionSpec,
    Spec,
    SpeechSpec,
    TranscriptionSpec,
)

__all__ = ["LANGUAGES", "Language", "render", "render_all"]

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
        lines += [
            "print(result.text)",
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


def _transcription_curl(spec: TranscriptionSpec, base_url: str | None, file_path: str | None) -> str:
    url = (base_url or OPENAI_BASE) + spec.endpoint
    parts = [f"curl {shlex.quote(url)}", _curl_auth(base_url)]
    parts.append("-F " + shlex.quote(f"file=@{_file_label(spec, file_path)}"))
    parts += ["-F " + shlex.quote(f"{k}={v}") for k, v in form_fields(spec)]
    if spec.stream:
        parts.append("--no-buffer")
    return " \\\n  ".join(parts) + "\n"


# -------------------------------------------------------------------- chat audio


def _chat_kwargs(spec: ChatAudioSpec, code: _Code) -> dict[str, Any]:
    """``to_kwargs()`` with the base64 audio replaced by a variable reference."""
    kw = spec.to_kwargs()
    for msg in kw["messages"]:
        if isinstance(msg["content"], list):
            for part in msg["content"]:
                if part["type"] == "input_audio":
                    part["input_audio"]["data"] = code
    return kw


def _chat_python(spec: ChatAudioSpec, base_url: str | None, file_path: str | None) -> str:
    head = (
        _imports_first(_py_client(base_url), ["import base64"])
        if (spec.input_audio or "audio" in spec.modalities)
        else _py_client(base_url)
    )
    lines = [*head, ""]
    if spec.input_audio:
        name = file_path or Path(spec.input_audio).name
        lines += [
            f'with open({json.dumps(name)}, "rb") as f:',
            '    audio_b64 = base64.b64encode(f.read()).decode("ascii")',
            "",
        ]
    kw = _chat_kwargs(spec, _Code("audio_b64"))
    lines += [
        "completion = client.chat.completions.create(",
        _py_kwargs(kw, 0),
        ")",
        "message = completion.choices[0].message",
    ]
    if "audio" in spec.modalities:
        lines += [
            "print(message.audio.transcript)",
            f'with open("{spec.file_name}", "wb") as out:',
            "    out.write(base64.b64decode(message.audio.data))",
        ]
    else:
        lines.append("print(message.content)")
    return "\n".join(lines) + "\n"


def _chat_js(spec: ChatAudioSpec, base_url: str | None, file_path: str | None) -> str:
    lines = ['import fs from "node:fs";', *_js_client(base_url), ""]
    if spec.input_audio:
        name = file_path or Path(spec.input_audio).name
        lines.append(f'const audioB64 = fs.readFileSync({json.dumps(name)}).toString("base64");')
    kw = _chat_kwargs(spec, _Code("audioB64"))
    lines += [
        f"const completion = await client.chat.completions.create({_js(kw)});",
        "const message = completion.choices[0].message;",
    ]
    if "audio" in spec.modalities:
        lines += [
            "console.log(message.audio.transcript);",
            f'fs.writeFileSync("{spec.file_name}", Buffer.from(message.audio.data, "base64"));',
        ]
    else:
        lines.append("console.log(message.content);")
    return "\n".join(lines) + "\n"


def _chat_curl(spec: ChatAudioSpec, base_url: str | None, file_path: str | None) -> str:
    url = (base_url or OPENAI_BASE) + spec.endpoint
    prefix: list[str] = []
    kw = spec.to_kwargs()
    if spec.input_audio:
        name = file_path or Path(spec.input_audio).name
        prefix.append(f"AUDIO_B64=$(base64 < {shlex.quote(name)} | tr -d '\\n')")
        kw = _chat_kwargs(spec, _Code("__AUDIO_B64__"))
        body = json.dumps(kw, indent=2, ensure_ascii=False, default=lambda c: c.code)
        # Unquoted heredoc so $AUDIO_B64 expands; escape everything else the shell would touch.
        body = body.replace("\\", "\\\\").replace("$", "\\$").replace("`", "\\`")
        body = body.replace("__AUDIO_B64__", "$AUDIO_B64")
        cmd = " \\\n  ".join(
            [f"curl {shlex.quote(url)}", _curl_auth(base_url), '-H "Content-Type: application/json"', "-d @- <<EOF"]
        )
        return "\n".join([*prefix, cmd, body, "EOF"]) + "\n"
    cmd = " \\\n  ".join(
        [
            f"curl {shlex.quote(url)}",
            _curl_auth(base_url),
            '-H "Content-Type: application/json"',
            f"-d {_shell_json(kw)}",
        ]
    )
    return cmd + "\n"


# ---------------------------------------------------------------------- realtime


_GREETING = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Hello! Who are you?"}]}


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


def _realtime_replay_python(spec: RealtimeSessionSpec, base_url: str | None, file_path: str) -> str:
    """A script that plays your side of a recorded conversation into a realtime session
    (in real time, so turns and interruptions happen as they did) and saves the replies."""
    client = _py_client(base_url)
    if client[0] == "import os":
        client = client[2:]
    stdlib = sorted({"base64", "json", "sys", "threading", "time", "wave"} | ({"os"} if base_url else set()))
    names = [t["name"] for t in spec.tools if t.get("type") == "function"]
    manual = spec.turn_detection == "none"
    finish = (
        [
            "    connection.input_audio_buffer.commit()  # push-to-talk: the whole recording is one turn",
            "    connection.response.create()",
        ]
        if manual
        else ["    send(bytes(RATE * 2 * 3 // 2))  # 1.5 s of silence ends the last turn"]
    )
    lines = [
        *(f"import {m}" for m in stdlib),
        "",
        *client,
        "",
        f"WAV = {json.dumps(file_path)}  # your side: mono, or the left channel of the playground's export",
        "RATE = 24000",
        "FRAME = RATE // 25  # 40 ms",
        f"SESSION = {_py(spec.to_session())}",
        "",
        "",
        "def read_wav(path):",
        "    try:",
        '        with wave.open(path, "rb") as w:',
        "            if w.getframerate() != RATE or w.getsampwidth() != 2:",
        '                found = f"{8 * w.getsampwidth()}-bit at {w.getframerate()} Hz"',
        '                sys.exit(f"{path}: need 16-bit PCM at {RATE} Hz, not {found}")',
        "            step = 2 * w.getnchannels()",
        "            data = w.readframes(w.getnframes())",
        "    except (wave.Error, EOFError) as e:",
        '        sys.exit(f"{path}: not a readable WAV file ({e})")',
        '    return b"".join(data[i : i + 2] for i in range(0, len(data), step)) if step > 2 else data',
        "",
        "",
        "def handle_tool(name, arguments):",
        f'    """Answer a function call ({", ".join(names) or "no tools in this session"}): put your code here."""',
        '    return json.dumps({"error": f"{name} is not implemented in this script", "arguments": arguments})',
        "",
        "",
        "audio = read_wav(WAV)",
        "reply = bytearray()",
        'state = {"busy": False, "last": time.monotonic()}',
        "",
        f"with client.realtime.connect(model={json.dumps(spec.model)}) as connection:",
        "    connection.session.update(session=SESSION)",
        "",
        "    def send(pcm):",
        "        for i in range(0, len(pcm), FRAME * 2):  # in real time, like a microphone",
        "            connection.input_audio_buffer.append(audio=base64.b64encode(pcm[i : i + FRAME * 2]).decode())",
        "            time.sleep(0.04)",
        "",
        "    def speak_then_hang_up():",
        "        send(audio)",
        *["    " + line for line in finish],
        '        while state["busy"] or time.monotonic() - state["last"] < 3:',
        "            time.sleep(0.2)",
        "        connection.close()",
        "",
        "    threading.Thread(target=speak_then_hang_up, daemon=True).start()",
        "    for event in connection:",
        '        state["last"] = time.monotonic()',
        '        if event.type == "conversation.item.input_audio_transcription.completed":',
        '            print("you:", event.transcript)',
        '        elif event.type == "response.created":',
        '            state["busy"] = True',
        '        elif event.type in ("response.output_audio_transcript.delta", "response.output_text.delta"):',
        '            print(event.delta, end="", flush=True)',
        '        elif event.type == "response.output_audio.delta":',
        "            reply += base64.b64decode(event.delta)",
        '        elif event.type == "error":',
        '            print("error:", event.error.message)',
        '        elif event.type == "response.done":',
        '            print(f"  [{event.response.status}]")',
        '            calls = [item for item in event.response.output if item.type == "function_call"]',
        "            for call in calls:",
        "                output = handle_tool(call.name, call.arguments)",
        '                item = {"type": "function_call_output", "call_id": call.call_id, "output": output}',
        "                connection.conversation.item.create(item=item)",
        '            if calls and event.response.status == "completed":',
        "                connection.response.create()",
        "            else:",
        '                state["busy"] = False',
        "",
        'with wave.open("reply.wav", "wb") as w:',
        "    w.setnchannels(1)",
        "    w.setsampwidth(2)",
        "    w.setframerate(RATE)",
        "    w.writeframes(bytes(reply))",
        'print(f"reply.wav: {len(reply) / (RATE * 2):.1f} s of the assistant\'s audio")',
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


def _realtime_curl(spec: RealtimeSessionSpec, base_url: str | None) -> str:
    url = (base_url or OPENAI_BASE) + "/realtime/client_secrets"
    lines = [
        "# Realtime runs over WebSocket/WebRTC; curl mints a short-lived client secret",
        "# with this session config, for a browser or phone client to connect with.",
        " \\\n  ".join(
            [
                f"curl -X POST {shlex.quote(url)}",
                _curl_auth(base_url),
                '-H "Content-Type: application/json"',
                f"-d {_shell_json({'session': spec.to_session()})}",
            ]
        ),
    ]
    return "\n".join(lines) + "\n"


# -------------------------------------------------------------------------- entry


def render(
    spec: Spec,
    language: Language,
    *,
    base_url: str | None = None,
    streaming: bool = True,
    file_path: str | None = None,
) -> str:
    """Code that reproduces ``spec``.

    ``base_url`` None means OpenAI (no base_url line; the key comes from
    ``OPENAI_API_KEY``). ``file_path`` overrides the input file name shown (default:
    the file's base name). ``streaming`` picks the streaming variant for speech.
    """
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of: {', '.join(LANGUAGES)}")
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
    raise TypeError(f"no snippet renderer for {type(spec).__name__}")


def render_all(spec: Spec, *, base_url: str | None = None, file_path: str | None = None) -> dict[str, str]:
    return {lang: render(spec, lang, base_url=base_url, file_path=file_path) for lang in LANGUAGES}
