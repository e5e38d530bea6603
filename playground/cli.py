"""The ``playground`` command: run the app, serve the backend, one-shot TTS and STT."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from playground import __version__
from playground.core.catalog import get_catalog
from playground.core.errors import PlaygroundError
from playground.core.lifecycle import code_warning, describe
from playground.core.snippets import LANGUAGES, render

__all__ = ["main"]

DEFAULT_PORT = 7860


def _model_help(models: object, default: str) -> str:
    """Each model with its lifecycle ("shuts down 2027-01-06, in 30 days → …"), the default marked."""
    out = []
    for mid in models:  # type: ignore[attr-defined]
        note = describe(mid)
        out.append(f"{mid}{' (default)' if mid == default else ''}{f' [{note}]' if note else ''}")
    return "; ".join(out).replace("%", "%%")


def _warn_lifecycle(model: str) -> None:
    """One line on stderr when the model is deprecated (or retired)."""
    warning = code_warning(model)
    if warning:
        print(f"warning: {warning}", file=sys.stderr)


def _parser() -> argparse.ArgumentParser:
    cat = get_catalog()
    p = argparse.ArgumentParser(
        prog="playground",
        description="Audio playground for OpenAI's speech APIs (offline embedded backend when no key is set).",
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    p.add_argument("-v", "--verbose", action="store_true", help="log more detail")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="start the playground app (UI + embedded backend)")
    run.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1, loopback only)")
    run.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")

    serve = sub.add_parser("serve", help="serve only the OpenAI-compatible backend under /v1")
    serve.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")

    tts = sub.add_parser("tts", help="text to speech, one shot")
    tts.add_argument("text", help=f"what to say (at most {cat.limits.speech_input_max_chars} characters)")
    tts.add_argument("--voice", default=cat.speech_defaults["voice"], help=", ".join(cat.voice_ids))
    tts.add_argument(
        "--model",
        default=cat.speech_defaults["model"],
        help=_model_help(cat.speech_models, cat.speech_defaults["model"]),
    )
    tts.add_argument("--instructions", default="", help="style: tone, pace, emotion… (not for tts-1*)")
    tts.add_argument("--speed", type=float, default=1.0, help=f"{cat.limits.speed} (default 1.0)")
    tts.add_argument("--format", default=cat.speech_defaults["format"], help=", ".join(cat.speech_formats))
    tts.add_argument("--stream-format", choices=["audio", "sse"], default="audio")
    tts.add_argument("-o", "--output", type=Path, help="output file (default speech.<format>)")
    tts.add_argument("--show-code", choices=LANGUAGES, help="print the matching snippet")

    tr = sub.add_parser("transcribe", help="speech to text, one shot")
    tr.add_argument("file", help=f"audio file ({', '.join(cat.transcription_input_formats)})")
    tr.add_argument(
        "--model",
        default=cat.transcription_default_model,
        help=_model_help(cat.file_transcription_models, cat.transcription_default_model),
    )
    tr.add_argument("--format", default="json", help=", ".join(cat.transcription_response_formats))
    tr.add_argument("--language", default="", help="ISO-639-1 code, e.g. en")
    tr.add_argument("--prompt", default="", help="vocabulary hints, e.g. product names")
    tr.add_argument("--keywords", default="", help="comma-separated words or phrases to guide the transcript")
    tr.add_argument("--languages", default="", help="comma-separated possible languages (ISO-639-1), e.g. en,de")
    tr.add_argument("--temperature", type=float, default=None)
    tr.add_argument("--timestamps", default="", help="word,segment (verbose_json only)")
    tr.add_argument("--stream", action="store_true", help="stream text deltas (not whisper-1)")
    tr.add_argument("--translate", action="store_true", help="translate to English (whisper-1)")
    tr.add_argument("-o", "--output", type=Path, help="write the result here too")
    tr.add_argument("--show-code", choices=LANGUAGES, help="print the matching snippet")
    return p


@contextlib.contextmanager
def _runner_for_cli() -> Iterator[tuple[object, str | None]]:
    """A runner for the active provider, plus the base URL snippets should show.

    With the embedded provider nothing may be listening yet, so the backend is
    served in-process on a free loopback port for the duration of the command.
    """
    from playground.client.providers import embedded_provider, resolve_provider
    from playground.client.runner import Runner

    provider = resolve_provider(app_url=f"http://127.0.0.1:{DEFAULT_PORT}")
    if provider.kind != "embedded":
        yield Runner(provider), provider.snippet_base_url
        return
    from playground.backend.app import create_standalone_app
    from playground.serving import BackgroundServer

    with BackgroundServer(create_standalone_app()) as url:
        yield Runner(embedded_provider(url)), provider.snippet_base_url


def _cmd_tts(args: argparse.Namespace) -> int:
    from playground.core.specs import SpeechSpec

    spec = SpeechSpec(
        input=args.text,
        voice=args.voice,
        model=args.model,
        instructions=args.instructions,
        speed=args.speed,
        response_format=args.format,
        stream_format=args.stream_format,
    ).validate()
    _warn_lifecycle(spec.model)
    out = args.output or Path(spec.file_name)
    with _runner_for_cli() as (runner, snippet_url):
        if args.show_code:
            print(render(spec, args.show_code, base_url=snippet_url))
        result = runner.speech(spec)  # type: ignore[attr-defined]
    out.write_bytes(result.audio)
    print(f"wrote {out} ({len(result.audio)} bytes) · {result.summary()}", file=sys.stderr)
    if result.instructions_applied:
        print(f"instructions applied: {result.instructions_applied}", file=sys.stderr)
    return 0


def _cmd_transcribe(args: argparse.Namespace) -> int:
    from playground.core.specs import TranscriptionSpec, split_list

    grains = tuple(g.strip() for g in args.timestamps.split(",") if g.strip())
    spec = TranscriptionSpec(
        file=args.file,
        model=args.model,
        task="translate" if args.translate else "transcribe",
        language=args.language,
        prompt=args.prompt,
        temperature=args.temperature,
        response_format=args.format,
        timestamp_granularities=grains,
        stream=args.stream,
        keywords=split_list(args.keywords),
        languages=split_list(args.languages),
    ).validate()
    _warn_lifecycle(spec.model)
    with _runner_for_cli() as (runner, snippet_url):
        if args.show_code:
            print(render(spec, args.show_code, base_url=snippet_url))
        if spec.stream:
            result = runner.transcribe(spec, on_delta=lambda d: print(d, end="", flush=True))  # type: ignore[attr-defined]
            print()
        else:
            result = runner.transcribe(spec)  # type: ignore[attr-defined]
    body = result.raw if isinstance(result.raw, str) else _json(result.raw)
    if not spec.stream:
        print(body)
    if args.output:
        args.output.write_text(body, encoding="utf-8")
    print(result.summary(), file=sys.stderr)
    return 0


def _json(data: object) -> str:
    import json

    return json.dumps(data, indent=2, ensure_ascii=False)


def _exposed_without_secret(host: str, secret_var: str) -> str | None:
    """The refusal message when ``host`` is reachable from the network and no secret is set."""
    from playground.gate import is_loopback

    if is_loopback(host) or os.environ.get(secret_var):
        return None
    return (
        f"refusing to listen on {host}: anyone on that network could use this server (and its API key). "
        f"Set a password first, e.g. {secret_var}='a long random phrase' playground ... --host {host}, "
        "or keep the default --host 127.0.0.1."
    )


def _cmd_run(args: argparse.Namespace) -> int:
    import uvicorn

    from playground.server import create_app, public_host

    refusal = _exposed_without_secret(args.host, "PLAYGROUND_PASSWORD")
    if refusal:
        print(f"error: {refusal}", file=sys.stderr)
        return 2
    app = create_app(host=args.host, port=args.port, password=os.environ.get("PLAYGROUND_PASSWORD") or None)
    print(f"Audio playground on http://{public_host(args.host)}:{args.port}", file=sys.stderr)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from playground.backend.app import create_standalone_app

    refusal = _exposed_without_secret(args.host, "PLAYGROUND_API_KEY")
    if refusal:
        print(f"error: {refusal}", file=sys.stderr)
        return 2

    print(f"OpenAI-compatible backend on http://{args.host}:{args.port}/v1", file=sys.stderr)
    uvicorn.run(create_standalone_app(warm=True), host=args.host, port=args.port, log_level="warning")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    args = _parser().parse_args(argv)
    level = os.environ.get("PLAYGROUND_LOG_LEVEL", "").upper() or ("INFO" if args.verbose else "WARNING")
    logging.basicConfig(level=getattr(logging, level, logging.WARNING), format="%(levelname)s %(name)s: %(message)s")
    commands = {"run": _cmd_run, "serve": _cmd_serve, "tts": _cmd_tts, "transcribe": _cmd_transcribe}
    try:
        return commands[args.command](args)
    except PlaygroundError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
