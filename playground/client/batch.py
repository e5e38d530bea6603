"""Run several speech variants at once and hand back each as soon as it finishes.

A comparison must take about as long as its slowest variant, not the sum: every
variant is its own task on the event loop (async SDK clients), and results are
yielded in completion order so the UI can fill each column as its audio arrives.
Either speech workflow runs here: a ``SpeechSpec`` on the async speech endpoint client, a
``RealtimeSpeechSpec`` (one Realtime session per text, a blocking websocket with its own
watchdog) in a worker thread, so a comparison can put the two side by side. Transcription
variants (Compare's transcription models) run the same way; the runner's transcription
call is synchronous, so each one waits in a worker thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from playground.client.providers import Provider
from playground.client.results import SpeechResult, TranscriptionResult
from playground.client.runner import Runner
from playground.core.errors import PlaygroundError
from playground.core.specs import RealtimeSpeechSpec, SpeechSpec, TranscriptionSpec

__all__ = ["Variant", "VariantOutcome", "run_variants"]


@dataclass(frozen=True)
class Variant:
    spec: SpeechSpec | RealtimeSpeechSpec | TranscriptionSpec
    provider: Provider
    label: str = ""


@dataclass(frozen=True)
class VariantOutcome:
    index: int
    variant: Variant
    result: SpeechResult | TranscriptionResult | None = None
    #: a message safe to show (validation or provider error); None on success
    error: str | None = None


async def _run_one(index: int, variant: Variant) -> VariantOutcome:
    runner = Runner(variant.provider.as_bulk())  # a batch yields to realtime turns and Play clicks
    try:
        if isinstance(variant.spec, TranscriptionSpec):
            result: SpeechResult | TranscriptionResult = await asyncio.to_thread(runner.transcribe, variant.spec)
        elif isinstance(variant.spec, RealtimeSpeechSpec):
            result = await asyncio.to_thread(runner.realtime_speech, variant.spec)
        else:
            result = await runner.aspeech(variant.spec)
    except PlaygroundError as e:
        return VariantOutcome(index, variant, error=str(e))
    except Exception as e:  # noqa: BLE001 - one column's failure must not sink the others
        return VariantOutcome(index, variant, error=variant.provider.redact(f"{type(e).__name__}: {e}"))
    return VariantOutcome(index, variant, result=result)


async def run_variants(variants: Sequence[Variant]) -> AsyncIterator[VariantOutcome]:
    """All variants concurrently; outcomes in the order they complete."""
    tasks = [asyncio.ensure_future(_run_one(i, v)) for i, v in enumerate(variants)]
    try:
        for next_done in asyncio.as_completed(tasks):
            yield await next_done
    finally:
        for task in tasks:
            task.cancel()
