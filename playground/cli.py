"""The ``playground`` command: run the app, serve the backend, one-shot TTS and STT, evals."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from playground import __version__
from playground.core import workflows
from playground.core.catalog import get_catalog
from playground.core.errors import PlaygroundError, SpecError
from playground.core.lifecycle import code_warning, describe
from playground.core.snippets import LANGUAGES, render

if TYPE_CHECKING:
    from playground.client.providers import Provider

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


def _tts_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """``playground tts``: each option's help names both workflows' choices and defaults."""
    cat = get_catalog()
    rt, sp = workflows.get(workflows.REALTIME), workflows.get(workflows.SPEECH)

    def per_workflow(realtime: str, speech: str) -> str:
        return f"realtime: {realtime} | speech: {speech}"

    def voices(w: workflows.Workflow) -> str:
        return ", ".join(f"{v} (default)" if v == w.default_voice else v for v in w.voices)

    def formats(w: workflows.Workflow) -> str:
        return ", ".join(f"{f} (default)" if f == w.default_format else f for f, _ in w.formats)

    tts = sub.add_parser(
        "tts",
        help="text to speech, one shot",
        description=(
            "Text to speech, one shot. --workflow realtime (the default): "
            + workflows.describe(workflows.REALTIME)
            + f" It writes WAV (16-bit; G.711 decoded at 8 kHz). --workflow speech: {workflows.label('speech')}; "
            + workflows.describe(workflows.SPEECH)
        ).replace("%", "%%"),
    )
    tts.add_argument("text", help=f"what to say (at most {cat.limits.speech_input_max_chars} characters)")
    tts.add_argument(
        "--workflow",
        choices=workflows.WORKFLOWS,
        default=workflows.DEFAULT,
        help=f"how the text is sent (default {workflows.DEFAULT}); the options below follow it",
    )
    tts.add_argument("--voice", help=per_workflow(voices(rt), voices(sp)))
    tts.add_argument(
        "--model",
        help=per_workflow(_model_help(rt.models, rt.default_model), _model_help(sp.models, sp.default_model)),
    )
    tts.add_argument("--instructions", default="", help="style: tone, pace, emotion… (not for tts-1*)")
    tts.add_argument(
        "--speed",
        type=float,
        default=1.0,
        help=f"1.0 = normal; {per_workflow(f'{rt.speed_min:g}–{rt.speed_max:g}', f'{sp.speed_min:g}–{sp.speed_max:g}')}"
        " (outside it: held to the range, with a note)",
    )
    tts.add_argument(
        "--format",
        help=per_workflow(formats(rt) + " (pcm, pcmu, pcma for short; the file is WAV)", formats(sp)),
    )
    tts.add_argument("--stream-format", choices=["audio", "sse"], help="speech workflow only (default audio)")
    tts.add_argument(
        "-o",
        "--output",
        type=Path,
        help="output file (default speech.wav for realtime, which only writes WAV: any other extension is "
        "refused; speech.<format> for speech)",
    )
    tts.add_argument("--show-code", choices=LANGUAGES, help="print the code that makes the same request")


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

    _tts_parser(sub)

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

    ev = sub.add_parser(
        "eval",
        help="run voice-agent eval scenarios (exit 1 when an expectation fails)",
        description=(
            "Play each scenario's turns into a realtime session in real time and check every expectation. "
            "Exit 0 when all pass, 1 when any fails, 2 when a scenario file has a mistake."
        ),
    )
    ev.add_argument("files", nargs="+", type=Path, metavar="FILE", help="scenario YAML file(s)")
    ev.add_argument("--runs", type=int, help="repeat each scenario this many times (default: its own runs)")
    ev.add_argument("--mode", choices=("realtime", "chained"), default="realtime", help="default realtime")
    ev.add_argument(
        "--chat-model",
        help=f"chained mode's chat model (default {cat.chat.default_model})",
    )
    ev.add_argument("--junit", type=Path, help="write JUnit XML here (one testsuite per scenario)")
    ev.add_argument("--json", type=Path, help="write the reports as JSON here")
    ev.add_argument("--html", type=Path, help="write an HTML report here (one file per scenario: NAME-<file>.html)")
    return p


@contextlib.contextmanager
def _provider_for_cli() -> Iterator[tuple[Provider, str | None]]:
    """The active provider, plus the base URL snippets should show.

    With the embedded provider nothing may be listening yet, so the backend is
    served in-process on a free loopback port for the duration of the command.
    """
    from playground.client.providers import embedded_provider, resolve_provider

    provider = resolve_provider(app_url=f"http://127.0.0.1:{DEFAULT_PORT}")
    if provider.kind != "embedded":
        yield provider, provider.snippet_base_url
        return
    from playground.backend.app import create_standalone_app
    from playground.serving import BackgroundServer

    with BackgroundServer(create_standalone_app()) as url:
        yield embedded_provider(url), provider.snippet_base_url


@contextlib.contextmanager
def _runner_for_cli() -> Iterator[tuple[object, str | None]]:
    """A runner for the active provider, plus the base URL snippets should show."""
    from playground.client.runner import Runner

    with _provider_for_cli() as (provider, snippet_url):
        yield Runner(provider), snippet_url


def _refuse(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def _tts_spec(args: argparse.Namespace) -> workflows.TTSSpec:
    """The spec Play would send on the chosen workflow, with what the command line asked for.

    ``workflows.tts_spec`` quietly drops or swaps what does not fit a workflow (as the UI's
    pickers do); here an explicit model, format or style that does not fit is an error,
    with the spec's own message. A speed outside the range is held to it, with a note.
    """
    w = workflows.get(args.workflow)
    fmt = args.format
    if args.workflow == workflows.REALTIME and fmt and "/" not in fmt and f"audio/{fmt}" in dict(w.formats):
        fmt = f"audio/{fmt}"
    speed, note = workflows.clamp_speed(args.workflow, args.speed)
    spec = workflows.tts_spec(
        args.workflow,
        input=args.text,
        voice=args.voice or w.default_voice,
        model=args.model,
        instructions=args.instructions,
        speed=speed,
        fmt=fmt,
    )
    realtime = args.workflow == workflows.REALTIME
    asked = {"model": args.model, ("output_format" if realtime else "response_format"): fmt}
    asked["instructions"] = args.instructions.strip()
    for name, value in asked.items():
        if value and getattr(spec, name) != value:
            try:  # the spec's own message, listing what the workflow takes
                spec = dataclasses.replace(spec, **{name: value}).validate()
            except SpecError as e:
                other = workflows.SPEECH if realtime else workflows.REALTIME
                hint = f" ({value} is for --workflow {other})" if _fits(other, name, value) else ""
                raise PlaygroundError(f"{e}{hint}") from None
    spec.validate()
    if note:
        print("note: " + note.removeprefix("⚠️ ").replace("**", ""), file=sys.stderr)
    return spec


def _fits(workflow: str, name: str, value: str) -> bool:
    """Whether a model or format the other workflow was given belongs to ``workflow``."""
    w = workflows.get(workflow)
    if name == "model":
        return value in w.models or (
            workflow == workflows.REALTIME and bool(get_catalog().canonical_realtime_model(value))
        )
    return name.endswith("format") and value in dict(w.formats)


def _cmd_tts(args: argparse.Namespace) -> int:
    if args.stream_format and args.workflow != workflows.SPEECH:
        return _refuse("--stream-format is for --workflow speech (realtime audio always streams)")
    spec = _tts_spec(args)
    realtime = args.workflow == workflows.REALTIME
    if args.stream_format:
        spec = dataclasses.replace(spec, stream_format=args.stream_format).validate()
    out = args.output or Path(spec.file_name)
    if realtime and out.suffix.lower() != ".wav":
        ext = out.suffix.lstrip(".").lower()
        other = f" (or --workflow speech --format {ext})" if ext in dict(workflows.get("speech").formats) else ""
        return _refuse(f"the realtime workflow writes WAV: name a .wav file, not {out.name}{other}")
    _warn_lifecycle(spec.model)
    with _runner_for_cli() as (runner, snippet_url):
        if args.show_code:
            print(render(spec, args.show_code, base_url=snippet_url))
        result = runner.say(spec)  # type: ignore[attr-defined]
    out.write_bytes(result.audio)
    print(f"wrote {out} ({len(result.audio)} bytes) · {result.summary()}", file=sys.stderr)
    if result.instructions_applied:
        print(f"instructions applied: {result.instructions_applied}", file=sys.stderr)
    if realtime:
        _report_transcript(spec.input, result.transcript or "")
    return 0


def _report_transcript(text: str, transcript: str) -> None:
    """What the model said it said, and a note when that is not the text as written."""
    from playground.core.textmetrics import word_diff

    if not transcript.strip():
        print("transcript: (none came back)", file=sys.stderr)
        return
    print(f"transcript: {transcript}", file=sys.stderr)
    diff = word_diff(text, transcript, literal=True)
    if diff.wer:
        changed = diff.substitutions + diff.deletions + diff.insertions
        print(
            f"note: the transcript differs from the text ({changed} word(s) changed, "
            f"{diff.reference_words} in the text): the model reworded it",
            file=sys.stderr,
        )


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


def _cmd_eval(args: argparse.Namespace) -> int:
    """Every file is parsed before anything connects: a mistake exits 2 naming file:line:field."""
    import asyncio

    from playground.evals.loader import load_scenario
    from playground.evals.report import junit_document
    from playground.evals.runner import run_scenario
    from playground.evals.scenario import ScenarioError

    if args.runs is not None and args.runs < 1:
        return _refuse("--runs must be at least 1")
    try:
        scenarios = [load_scenario(f) for f in args.files]
    except ScenarioError as e:
        return _refuse(str(e))
    live = sys.stderr.isatty()

    def progress(done: int, total: int, note: str) -> None:
        if live:
            print(f"\r  {done}/{total} {note}"[:100].ljust(100), end="", file=sys.stderr, flush=True)

    reports = []
    with _provider_for_cli() as (provider, _):
        for path, scenario in zip(args.files, scenarios, strict=True):
            print(f"eval {path} ({scenario.name}) on {provider.label}, {args.mode}…", file=sys.stderr)
            report = asyncio.run(
                run_scenario(
                    scenario, provider, runs=args.runs, mode=args.mode, chat_model=args.chat_model, on_progress=progress
                )
            )
            if live:
                print(file=sys.stderr)
            print(report.table() + "\n")
            reports.append(report)
    if args.junit:
        args.junit.write_text(junit_document(reports), encoding="utf-8")
    if args.json:
        body = {"passed": all(r.passed for r in reports), "scenarios": [r.to_json() for r in reports]}
        args.json.write_text(_json(body), encoding="utf-8")
    if args.html:
        for path, report in zip(args.files, reports, strict=True):
            out = args.html if len(reports) == 1 else args.html.with_name(f"{args.html.stem}-{path.stem}.html")
            out.write_text(report.to_html(), encoding="utf-8")
    failed = [r.scenario for r in reports if not r.passed]
    print(f"{len(reports) - len(failed)}/{len(reports)} scenario(s) passed", file=sys.stderr)
    return 1 if failed else 0


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
    from playground.serving import KEEP_ALIVE_S

    refusal = _exposed_without_secret(args.host, "PLAYGROUND_PASSWORD")
    if refusal:
        print(f"error: {refusal}", file=sys.stderr)
        return 2
    app = create_app(host=args.host, port=args.port, password=os.environ.get("PLAYGROUND_PASSWORD") or None)
    print(f"Audio playground on http://{public_host(args.host)}:{args.port}", file=sys.stderr)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", timeout_keep_alive=KEEP_ALIVE_S)
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from playground.backend.app import create_standalone_app
    from playground.serving import KEEP_ALIVE_S

    refusal = _exposed_without_secret(args.host, "PLAYGROUND_API_KEY")
    if refusal:
        print(f"error: {refusal}", file=sys.stderr)
        return 2

    print(f"OpenAI-compatible backend on http://{args.host}:{args.port}/v1", file=sys.stderr)
    app = create_standalone_app(warm=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", timeout_keep_alive=KEEP_ALIVE_S)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    args = _parser().parse_args(argv)
    level = os.environ.get("PLAYGROUND_LOG_LEVEL", "").upper() or ("INFO" if args.verbose else "WARNING")
    logging.basicConfig(level=getattr(logging, level, logging.WARNING), format="%(levelname)s %(name)s: %(message)s")
    commands = {
        "run": _cmd_run,
        "serve": _cmd_serve,
        "tts": _cmd_tts,
        "transcribe": _cmd_transcribe,
        "eval": _cmd_eval,
    }
    try:
        return commands[args.command](args)
    except PlaygroundError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
