"""``POST /audio/transcriptions`` and ``/audio/translations`` on local Whisper.

The multipart form is read exactly as the SDK sends it (``include[]``,
``timestamp_granularities[]``, ``chunking_strategy[type]``, ``stream="true"``); the
rules are the playground's own ``TranscriptionSpec``. A field OpenAI's request does not
have is refused, as OpenAI does; those it has that mean nothing locally are ignored.
Oversize bodies are refused by ``limits.BodyLimit`` before they are read; the upload is
decoded straight to 16 kHz mono and refused past the catalog's ``audio_max_seconds``.
Decoding stops as soon as the client goes away, so an abandoned hour of audio does not
keep the cores busy.

A two-channel file whose channels carry different voices (a call or interview recorded
one speaker per channel) is transcribed channel by channel and the segments merged by
time: a mono mix of overlapping speakers is what Whisper hears worst.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import dataclasses
import functools
import json
import logging
import math
import re
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import PurePath
from typing import Any

import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.datastructures import UploadFile

from playground.backend.engines.base import Segment, STTOptions, STTResult
from playground.backend.errors import APIError, engine_failure, spec_error
from playground.backend.localmap import stt_model_for
from playground.backend.models_gate import check_model
from playground.backend.scheduling import Priority, current_priority, use_priority
from playground.backend.subtitles import LANGUAGE_NAMES, to_srt, to_vtt
from playground.core import audio
from playground.core.catalog import get_catalog
from playground.core.specs import TranscriptionSpec

router = APIRouter(tags=["audio"])
log = logging.getLogger(__name__)

#: the form fields of OpenAI's transcription request (translations take a subset), by
#: name before any ``[]`` / ``[key]`` suffix
FORM_FIELDS = frozenset(
    {
        "file",
        "model",
        "language",
        "languages",
        "keywords",
        "prompt",
        "response_format",
        "temperature",
        "include",
        "timestamp_granularities",
        "stream",
        "chunking_strategy",
        "known_speaker_names",
        "known_speaker_references",
    }
)


#: the fields that are arrays, sent as ``name[]=…`` repeated (or ``name=…``)
LIST_FIELDS = (
    "include",
    "timestamp_granularities",
    "keywords",
    "languages",
    "known_speaker_names",
    "known_speaker_references",
)
#: OpenAI's limit on known speakers per request
KNOWN_SPEAKERS_MAX = 4
_ISO_639_1 = re.compile(r"^[a-z]{2}$")
_DATA_URL = re.compile(r"^data:audio/[\w.+-]+(;[\w-]+=[\w.-]+)*;base64,(?P<data>[A-Za-z0-9+/=\s]+)$")


def _too_large() -> APIError:
    mib = get_catalog().limits.upload_max_bytes / 2**20
    return APIError(
        f"Maximum content size limit ({mib:g} MiB) exceeded.", status=413, param="file", code="file_too_large"
    )


async def _read_form(request: Request) -> tuple[UploadFile, dict[str, Any]]:
    limit = get_catalog().limits.upload_max_bytes
    if "multipart/form-data" not in request.headers.get("content-type", ""):
        raise APIError("Expected a multipart/form-data body with a 'file' field.", param="file", code="invalid_value")
    try:
        form = await request.form(max_files=1, max_fields=64)
    except Exception as e:
        why = getattr(e, "detail", e)  # starlette's MultiPartException str() prefixes "400: "
        raise APIError(f"Could not parse the multipart form: {why}", param="file", code="invalid_value") from e
    upload: UploadFile | None = None
    fields: dict[str, Any] = {name: [] for name in LIST_FIELDS}
    fields["chunking_strategy"] = None
    chunking: dict[str, Any] = {}
    for key, value in form.multi_items():
        if isinstance(value, UploadFile):
            if key == "file":
                upload = value
            continue  # a file under another name: reported below as the missing 'file'
        name = key.partition("[")[0]
        if name not in FORM_FIELDS:
            raise APIError(f"Unrecognized request argument supplied: {key}", param=key, code="unknown_parameter")
        if name in LIST_FIELDS:  # ``include[]=a`` (the SDK) or ``include=a``
            fields[name].append(value)
        elif key.startswith("chunking_strategy["):
            chunking[key[len("chunking_strategy[") : -1]] = value
        else:
            fields[key] = value
    if chunking:
        fields["chunking_strategy"] = chunking
    if upload is None:
        raise APIError("Missing required parameter: 'file'.", param="file", code="missing_required_parameter")
    if upload.size is not None and upload.size > limit:
        raise _too_large()
    return upload, fields


def _float(fields: dict[str, Any], name: str) -> float | None:
    raw = fields.get(name)
    if raw in (None, ""):
        return None
    try:
        return float(raw)
    except ValueError:
        raise APIError(f"Invalid '{name}': expected a number, got {raw!r}.", param=name, code="invalid_value") from None


def _chunking(raw: Any) -> Any:
    """``chunking_strategy`` as sent: a dict (``chunking_strategy[type]=…``), "auto", or JSON text."""
    if not isinstance(raw, str) or not raw.startswith("{"):
        return raw
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        raise APIError(
            "Invalid 'chunking_strategy': not valid JSON.", param="chunking_strategy", code="invalid_value"
        ) from None


def _unsupported(name: str, model: str, which: list[str]) -> APIError:
    return APIError(
        f"Unsupported parameter: '{name}' is not supported with {model}; models that take it: {', '.join(which)}.",
        param=name,
        code="unsupported_parameter",
    )


def _realtime_only(model: str) -> APIError:
    """A model of realtime transcription only: it exists (``/v1/models`` lists it), this
    endpoint does not take it. OpenAI answers a known model on the wrong endpoint with a
    400 naming ``model`` (a 404 would say it does not exist at all)."""
    files = [m for m, e in get_catalog().file_transcription_models.items() if e.shutdown is None] or list(
        get_catalog().file_transcription_models
    )
    return APIError(
        f"Invalid 'model': {model} transcribes realtime sessions only (connect to /v1/realtime with "
        f"intent=transcription) and is not supported by this endpoint; for a file use {', '.join(files)}.",
        param="model",
        code="invalid_value",
    )


@dataclasses.dataclass(frozen=True)
class Extras:
    """The 2026 fields: keywords, candidate languages, known speakers (checked per model)."""

    keywords: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    speaker_names: tuple[str, ...] = ()


def _extras(fields: dict[str, Any], model: str) -> Extras:
    """``keywords[]``, ``languages[]``, ``known_speaker_names[]``/``known_speaker_references[]``:
    each only for a model whose catalog entry takes it, else a 400 naming the field."""
    cat = get_catalog()
    entry = cat.transcription_model(model)
    if entry is None:
        return Extras()
    tables = cat.file_transcription_models.values()
    keywords = tuple(str(k).strip() for k in fields["keywords"])
    if keywords:
        if not entry.keywords:
            raise _unsupported("keywords", model, [m.id for m in tables if m.keywords])
        if any(not k for k in keywords):
            raise APIError("Invalid 'keywords': a keyword must not be empty.", param="keywords", code="invalid_value")
    languages = tuple(str(x).strip() for x in fields["languages"])
    if languages:
        if not entry.languages:
            raise _unsupported("languages", model, [m.id for m in tables if m.languages])
        for lang in languages:
            if not _ISO_639_1.match(lang) or lang not in whisper_languages():
                raise APIError(
                    f"Invalid 'languages': {lang!r} is not an ISO-639-1 language code (such as 'en').",
                    param="languages",
                    code="invalid_value",
                )
    names = tuple(str(n) for n in fields["known_speaker_names"])
    refs = [str(r) for r in fields["known_speaker_references"]]
    if names or refs:
        which = "known_speaker_names" if names else "known_speaker_references"
        if not entry.known_speakers:
            raise _unsupported(which, model, [m.id for m in tables if m.known_speakers])
        if len(names) > KNOWN_SPEAKERS_MAX:
            raise APIError(
                f"Invalid 'known_speaker_names': at most {KNOWN_SPEAKERS_MAX} known speakers; got {len(names)}.",
                param="known_speaker_names",
                code="invalid_value",
            )
        if any(not n.strip() for n in names):
            raise APIError(
                "Invalid 'known_speaker_names': a name must not be empty.",
                param="known_speaker_names",
                code="invalid_value",
            )
        if len(refs) != len(names):
            raise APIError(
                f"Invalid 'known_speaker_references': one reference per known speaker name; got {len(refs)} "
                f"references for {len(names)} names.",
                param="known_speaker_references",
                code="invalid_value",
            )
        for i, ref in enumerate(refs):
            _check_reference(ref, i)
    return Extras(keywords=keywords, languages=languages, speaker_names=tuple(n.strip() for n in names))


@functools.cache
def whisper_languages() -> frozenset[str]:
    """The ISO-639-1 codes Whisper knows."""
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    return frozenset(_LANGUAGE_CODES)


def _check_reference(ref: str, i: int) -> None:
    """A known speaker's reference: a data URL of audio (``data:audio/wav;base64,…``). Locally its
    shape is checked and it is not listened to: names go to speakers by first appearance."""
    param = f"known_speaker_references[{i}]"
    found = _DATA_URL.match(ref)
    if found is None:
        raise APIError(
            f"Invalid '{param}': expected a data URL of audio such as 'data:audio/wav;base64,...'.",
            param="known_speaker_references",
            code="invalid_value",
        )
    try:
        data = base64.b64decode("".join(found["data"].split()), validate=True)
    except (ValueError, binascii.Error):
        data = b""
    if not data:
        raise APIError(
            f"Invalid '{param}': the data URL holds no valid base64 audio.",
            param="known_speaker_references",
            code="invalid_value",
        )


def _spec(fields: dict[str, Any], task: str) -> TranscriptionSpec:
    if not fields.get("model"):
        raise APIError("Missing required parameter: 'model'.", param="model", code="missing_required_parameter")
    model = str(fields["model"])
    check_model(model)
    known = get_catalog().transcription_model(model)
    if known is not None and not known.file:
        raise _realtime_only(model)
    stream = str(fields.get("stream", "false")).lower() == "true"
    entry = get_catalog().transcription_model(model)
    if entry is not None and not entry.stream:
        stream = False  # as OpenAI does: whisper-1 ignores `stream`
    spec = TranscriptionSpec(
        file="upload",
        model=model,
        task=task,  # type: ignore[arg-type]
        language=str(fields.get("language") or ""),
        prompt=str(fields.get("prompt") or ""),
        temperature=_float(fields, "temperature"),
        response_format=str(fields.get("response_format") or "json"),
        timestamp_granularities=tuple(fields["timestamp_granularities"]),
        include_logprobs="logprobs" in fields["include"],
        stream=stream,
        chunking_strategy=_chunking(fields.get("chunking_strategy")),
    )
    problems = spec.problems(check_file=False)
    if problems:
        raise spec_error(problems)
    return spec


async def _decode(upload: UploadFile, rate: int) -> np.ndarray:
    """The upload as mono float32 at the engine's ``rate``, refused when empty, too long or too short."""
    name = upload.filename or ""
    ext = PurePath(name).suffix.lower().lstrip(".")
    cat = get_catalog()
    allowed = cat.transcription_input_formats
    if ext and ext not in allowed:
        raise APIError(
            f"Invalid file format. Supported formats: {', '.join(allowed)}", param="file", code="invalid_value"
        )
    if upload.size == 0:
        raise APIError("The audio file is empty.", param="file", code="invalid_value")
    await upload.seek(0)
    try:
        samples = await run_in_threadpool(
            audio.decode_mono, upload.file, rate, max_seconds=cat.limits.audio_max_seconds
        )
    except audio.AudioTooLongError as e:
        raise APIError(
            f"Audio is longer than the limit of {cat.limits.audio_max_seconds} seconds; split it into shorter files.",
            param="file",
            code="audio_too_long",
        ) from e
    except audio.AudioDecodeError as e:
        raise APIError(f"Audio file might be corrupted or unsupported: {e}", param="file", code="invalid_value") from e
    if len(samples) < rate // 10:  # under 0.1 s
        raise APIError(
            "Audio file is too short. Minimum audio length is 0.1 seconds.", param="file", code="audio_too_short"
        )
    return samples


class ClientGone(Exception):
    """The client disconnected; its work was stopped and nobody is left to answer."""


async def _wait_for_disconnect(request: Request) -> None:
    while (await request.receive())["type"] != "http.disconnect":
        pass


async def _collect(request: Request, segments: Iterator[Segment]) -> list[Segment]:
    """Decode every segment in a worker thread, stopping between segments if the client leaves."""
    stop = threading.Event()

    def work() -> list[Segment]:
        out: list[Segment] = []
        for segment in segments:
            out.append(segment)
            if stop.is_set():
                break
        return out

    job = asyncio.ensure_future(run_in_threadpool(work))
    watch = asyncio.ensure_future(_wait_for_disconnect(request))
    try:
        await asyncio.wait({job, watch}, return_when=asyncio.FIRST_COMPLETED)
        if not job.done():
            stop.set()
            raise ClientGone
        return job.result()
    finally:
        watch.cancel()


def _words_json(segments: list[Segment]) -> list[dict[str, Any]]:
    """All words in time order (two speaker channels interleave their segments' words)."""
    words = sorted((w for s in segments for w in s.words), key=lambda w: w.start)
    return [{"word": w.word.strip(), "start": round(w.start, 3), "end": round(w.end, 3)} for w in words]


def _logprobs(segments: list[Segment]) -> list[dict[str, Any]]:
    out = []
    for s in segments:
        for w in s.words:
            token = w.word
            out.append({"token": token, "logprob": math.log(max(w.probability, 1e-9)), "bytes": list(token.encode())})
    return out


#: the shortest cue a clamped segment keeps, so every subtitle starts before it ends
MIN_CUE_S = 0.01


def within(segments: list[Segment], duration: float) -> list[Segment]:
    """Segments inside the audio: Whisper's window arithmetic (and a fallback decode at a
    higher temperature) can place an end past the last sample or a start on its end; a
    subtitle player wants 0 <= start < end <= duration."""
    out = []
    for s in segments:
        end = min(max(s.end, 0.0), duration)
        start = min(max(s.start, 0.0), end)
        if end - start < MIN_CUE_S:
            start = max(0.0, end - MIN_CUE_S)
            end = start + MIN_CUE_S
        out.append(s if (start, end) == (s.start, s.end) else dataclasses.replace(s, start=start, end=end))
    return out


def speaker_labels(segments: list[Segment], names: tuple[str, ...] = ()) -> list[str]:
    """Each segment's speaker: "A", "B"… in order of first appearance, or the known speakers'
    names given in that order (a speaker past the names keeps its letter)."""
    order: dict[str, str] = {}
    out = []
    for s in segments:
        key = s.speaker or "A"
        if key not in order:
            n = len(order)
            order[key] = names[n] if n < len(names) else chr(ord("A") + n)
        out.append(order[key])
    return out


def _render(
    spec: TranscriptionSpec, segments: list[Segment], language: str, duration: float, extras: Extras = Extras()
) -> Response:
    segments = within(segments, duration)
    text = " ".join(s.text.strip() for s in segments).strip()
    usage = {"type": "duration", "seconds": max(1, math.ceil(duration))}
    fmt = spec.response_format
    if fmt == "text":
        return PlainTextResponse(text + "\n")
    if fmt == "srt":
        return PlainTextResponse(to_srt(segments))
    if fmt == "vtt":
        return PlainTextResponse(to_vtt(segments), media_type="text/vtt")
    if fmt == "verbose_json":
        grains = set(spec.timestamp_granularities) or {"segment"}
        body: dict[str, Any] = {
            "task": "translate" if spec.task == "translate" else "transcribe",
            "language": LANGUAGE_NAMES.get(language, language),
            "duration": round(duration, 3),
            "text": text,
        }
        if "segment" in grains:
            body["segments"] = [
                {
                    "id": s.id,
                    "seek": 0,
                    "start": round(s.start, 3),
                    "end": round(s.end, 3),
                    "text": s.text,
                    "tokens": s.tokens,
                    "temperature": s.temperature,
                    "avg_logprob": s.avg_logprob,
                    "compression_ratio": s.compression_ratio,
                    "no_speech_prob": s.no_speech_prob,
                }
                for s in segments
            ]
        if "word" in grains:
            body["words"] = _words_json(segments)
        body["usage"] = usage
        return JSONResponse(body)
    if fmt == "diarized_json":
        body = {
            "task": "transcribe",
            "duration": round(duration, 3),
            "text": text,
            "segments": [
                {
                    "type": "transcript.text.segment",
                    "id": f"seg_{s.id}",
                    "start": s.start,
                    "end": s.end,
                    "text": s.text.strip(),
                    "speaker": speaker,
                }
                for s, speaker in zip(segments, speaker_labels(segments, extras.speaker_names), strict=True)
            ],
            "usage": usage,
        }
        return JSONResponse(body)
    body = {"text": text}
    if spec.include_logprobs:
        body["logprobs"] = _logprobs(segments)
    body["usage"] = usage
    return JSONResponse(body)


#: below this correlation the two channels are taken for two speakers (a panned mono
#: source or a stereo music mix sits far above it)
SPEAKER_CHANNELS_MAX_CORRELATION = 0.3
#: the check decodes the whole file at its own rate and channels: only short files (2 min
#: of 48 kHz stereo is ~46 MB of float32; longer uploads keep the streaming mono path)
SPEAKER_CHANNELS_MAX_SECONDS = 120


def _speaker_channels(data: bytes, rate: int) -> list[np.ndarray] | None:
    """Each channel at ``rate`` when a two-channel file holds one voice per channel, else None."""
    try:
        sound = audio.decode(data)
    except audio.AudioDecodeError:
        return None
    if sound.channels != 2:
        return None
    left, right = sound.samples[:, 0], sound.samples[:, 1]
    if min(float(np.sqrt(np.mean(left**2))), float(np.sqrt(np.mean(right**2)))) < 1e-3:
        return None  # one channel is (nearly) silent: the mono mix is that voice
    if float(np.corrcoef(left, right)[0, 1]) > SPEAKER_CHANNELS_MAX_CORRELATION:
        return None
    return [audio.resample(ch, sound.sample_rate, rate) for ch in (left, right)]


def _priority_for(seconds: float) -> Priority:
    """A long file is bulk work: it yields to realtime turns and short files between windows."""
    if seconds > get_catalog().limits.bulk_audio_seconds:
        return Priority.BULK
    return current_priority()


async def _transcribe(engine: Any, samples: np.ndarray, channels: list[np.ndarray] | None, options: Any) -> Any:
    """One pass over the mono mix, or one per speaker channel with the segments merged by time."""
    if channels is None:
        return await run_in_threadpool(engine.transcribe, samples, options)
    results = [await run_in_threadpool(engine.transcribe, ch, options) for ch in channels]

    def merge() -> list[Segment]:
        each = [dataclasses.replace(s, speaker="AB"[i]) for i, r in enumerate(results) for s in r.segments]
        segments = sorted(each, key=lambda s: s.start)
        for i, s in enumerate(segments):
            s.id = i
        return segments

    merged = await run_in_threadpool(merge)
    return STTResult(language=results[0].language, duration=results[0].duration, segments=iter(merged))


async def _handle(request: Request, task: str) -> Response:
    upload, fields = await _read_form(request)
    spec = _spec(fields, task)
    extras = _extras(fields, spec.model)
    language = spec.language or (extras.languages[0] if len(extras.languages) == 1 else None)
    local = stt_model_for(spec.model, language, translate=task == "translate")
    # a file: nobody hears it as it goes, so it runs on the background copy of the model
    engine = request.app.state.engines.stt(local, background=True)  # no model loads until it transcribes
    samples = await _decode(upload, engine.sample_rate)
    channels = None
    if len(samples) <= SPEAKER_CHANNELS_MAX_SECONDS * engine.sample_rate:
        await upload.seek(0)
        channels = await run_in_threadpool(_speaker_channels, await upload.read(), engine.sample_rate)
    options = STTOptions(
        language=spec.language or None,
        prompt=spec.prompt or None,
        temperature=spec.temperature or 0.0,
        word_timestamps="word" in spec.timestamp_granularities or spec.include_logprobs,
        task=task,
        keywords=extras.keywords,
        languages=extras.languages,
    )
    try:
        with use_priority(_priority_for(len(samples) / engine.sample_rate)):
            result = await _transcribe(engine, samples, channels, options)
    except ValueError as e:  # the engine's own checks (e.g. a language it cannot hear)
        raise APIError(str(e), param="language", code="invalid_value") from e
    except Exception as e:
        log.exception("transcription failed")
        raise engine_failure("transcription engine") from e
    duration = len(samples) / engine.sample_rate

    if spec.stream:

        async def events() -> AsyncIterator[bytes]:
            parts: list[str] = []
            try:
                async for seg in iterate_in_threadpool(result.segments):
                    piece = seg.text if parts else seg.text.lstrip()
                    parts.append(piece)
                    yield f"data: {json.dumps({'type': 'transcript.text.delta', 'delta': piece})}\n\n".encode()
            except Exception:
                log.exception("transcription stream failed mid-way")
            usage = {"type": "duration", "seconds": max(1, math.ceil(duration))}
            done = {"type": "transcript.text.done", "text": "".join(parts).strip(), "usage": usage}
            yield f"data: {json.dumps(done)}\n\n".encode()

        return StreamingResponse(events(), media_type="text/event-stream")

    try:
        segments = await _collect(request, result.segments)
    except ClientGone:
        log.info("transcription stopped: the client went away")
        return Response(status_code=499)  # nobody reads it; 499 marks it in access logs
    except Exception as e:
        log.exception("transcription failed")
        raise engine_failure("transcription engine") from e
    return _render(spec, segments, result.language, duration, extras)


@router.post("/audio/transcriptions")
async def create_transcription(request: Request) -> Response:
    return await _handle(request, "transcribe")


@router.post("/audio/translations")
async def create_translation(request: Request) -> Response:
    return await _handle(request, "translate")
