"""CPU slots: interactive before bulk, earliest deadline first; the header reaches the engines;
a bulk batch cannot hold back a Play click on the real backend; files are transcribed in the
background, beside the slots."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from playground.backend.app import create_standalone_app
from playground.backend.engines.manager import EngineManager
from playground.backend.scheduling import (
    BACKGROUND_NICE,
    CpuSlots,
    Priority,
    can_run_in_background,
    current_priority,
    priority_from_header,
    use_priority,
)
from playground.backend.settings import BackendSettings
from playground.client.providers import BULK_HEADERS, embedded_provider
from playground.serving import BackgroundServer


async def _served_order(slots: CpuSlots, waiters: list[tuple[str, Priority, float]]) -> list[str]:
    """Hold the only slot, queue ``waiters`` (name, priority, deadline), release, and
    return the order they were served in."""
    order: list[str] = []
    gate = asyncio.Event()

    async def holder() -> None:
        async with slots.slot():
            await gate.wait()

    async def waiter(name: str, priority: Priority, deadline: float) -> None:
        async with slots.slot(deadline=deadline, priority=priority):
            order.append(name)
            await asyncio.sleep(0)

    first = asyncio.create_task(holder())
    await asyncio.sleep(0)
    tasks = []
    for w in waiters:
        tasks.append(asyncio.create_task(waiter(*w)))
        await asyncio.sleep(0)  # each joins the queue in this order
    assert slots.waiting == len(waiters)
    gate.set()
    await asyncio.gather(first, *tasks)
    return order


def test_interactive_work_is_served_before_bulk_and_earliest_deadline_first():
    now = time.monotonic()
    order = asyncio.run(
        _served_order(
            CpuSlots(1),
            [
                ("bulk-early", Priority.BULK, now - 10),
                ("later-chunk", Priority.INTERACTIVE, now + 3),
                ("first-chunk", Priority.INTERACTIVE, now),
                ("bulk-late", Priority.BULK, now + 5),
                ("first-chunk-2", Priority.INTERACTIVE, now),
            ],
        )
    )
    assert order == ["first-chunk", "first-chunk-2", "later-chunk", "bulk-early", "bulk-late"]


def test_a_cancelled_waiter_gives_its_slot_on():
    async def run() -> list[str]:
        slots = CpuSlots(1)
        served: list[str] = []
        gate = asyncio.Event()

        async def hold() -> None:
            async with slots.slot():
                await gate.wait()

        async def wait(name: str) -> None:
            async with slots.slot():
                served.append(name)

        holder = asyncio.create_task(hold())
        await asyncio.sleep(0)
        doomed = asyncio.create_task(wait("doomed"))
        await asyncio.sleep(0)
        survivor = asyncio.create_task(wait("survivor"))
        await asyncio.sleep(0)
        doomed.cancel()
        gate.set()
        await asyncio.wait_for(asyncio.gather(holder, survivor), 5)
        # every slot came back: a new step is served at once
        async with slots.slot():
            served.append("after")
        return served

    assert asyncio.run(run()) == ["survivor", "after"]


def test_long_steps_leave_a_slot_for_short_ones():
    async def run() -> tuple[list[str], int]:
        slots = CpuSlots(2)
        served: list[str] = []
        gate = asyncio.Event()

        async def step(name: str, long: bool, hold: bool) -> None:
            async with slots.slot(long=long):
                served.append(name)
                if hold:
                    await gate.wait()

        window = asyncio.create_task(step("window-1", True, True))
        await asyncio.sleep(0)
        queued = asyncio.create_task(step("window-2", True, True))  # would fill the last slot
        await asyncio.sleep(0)
        waiting_windows = slots.waiting
        # the second window waits although a slot is free; the sentence that came after takes it
        await asyncio.wait_for(step("sentence", False, False), 5)
        gate.set()
        await asyncio.wait_for(asyncio.gather(window, queued), 5)
        return served, waiting_windows

    served, waiting = asyncio.run(run())
    assert waiting == 1
    assert served == ["window-1", "sentence", "window-2"]
    assert CpuSlots(1).long_max == 1  # with one slot, a long step may still have it


def test_a_claim_goes_ahead_of_the_queue_and_keeps_long_steps_out():
    async def run() -> list[str]:
        slots = CpuSlots(2)
        served: list[str] = []
        gate = asyncio.Event()

        async def step(name: str, long: bool = False, hold: bool = False) -> None:
            async with slots.slot(long=long):
                served.append(name)
                if hold:
                    await gate.wait()

        busy = asyncio.create_task(step("sentence-1", hold=True))
        await asyncio.sleep(0)
        slots.claim()  # the LLM: the last free slot, though a long step may have wanted it
        window = asyncio.create_task(step("window", long=True))
        sentence = asyncio.create_task(step("sentence-2"))
        await asyncio.sleep(0)
        assert slots.waiting == 2 and served == ["sentence-1"]
        gate.set()  # one slot frees: the sentence takes it, the window waits for the claim
        await asyncio.wait_for(sentence, 5)
        await asyncio.sleep(0)
        assert not window.done()
        slots.unclaim()
        await asyncio.wait_for(asyncio.gather(busy, window), 5)
        return served

    assert asyncio.run(run()) == ["sentence-1", "sentence-2", "window"]


def test_a_claim_never_takes_the_last_slot():
    one = CpuSlots(1)
    assert one.claim() is False and one.claimed == 0  # the claimed work runs beside the slot
    with one.hold(timeout=1):  # a sentence of speech is not kept waiting by it
        assert one.waiting == 0
    two = CpuSlots(2)
    assert two.claim() is True and two.claim() is False and two.claimed == 1
    with two.hold(timeout=1):
        with pytest.raises(TimeoutError):  # the one unclaimed slot is held: the queue waits
            with two.hold(timeout=0.05):
                pass
    two.unclaim()
    assert two.claimed == 0 and two.take_spare() and two.take_spare()
    two.give_back()
    two.give_back()
    with two.hold(long=True, timeout=1):  # a Whisper window holds one: the other is the queue's
        assert two.claim() is False and two.claimed == 0
        with two.hold(timeout=1):
            pass
    assert two.claim() is True  # the window is done: the claim is had again


def test_a_spare_slot_is_only_one_nobody_waits_for():
    slots = CpuSlots(2)
    assert slots.take_spare()  # both free: one can be spared
    with slots.hold():
        assert not slots.take_spare()  # none left
    slots.give_back()

    async def run() -> bool:
        gate = asyncio.Event()

        async def window() -> None:
            async with slots.slot(long=True):
                await gate.wait()

        first = asyncio.create_task(window())
        await asyncio.sleep(0)
        second = asyncio.create_task(window())  # held back: one slot stays for short steps
        await asyncio.sleep(0)
        assert slots.waiting == 1
        spared = slots.take_spare()  # a slot is free, but the machine is busy: not spare
        gate.set()
        await asyncio.gather(first, second)
        return spared

    assert asyncio.run(run()) is False
    assert slots.take_spare() and slots.take_spare() and not slots.take_spare()


def test_threads_wait_in_the_same_queue_as_tasks():
    slots = CpuSlots(1)
    order: list[str] = []
    started = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with slots.hold():
            started.set()
            release.wait(5)

    def work(name: str, priority: Priority) -> None:
        with slots.hold(priority=priority):
            order.append(name)

    holder = threading.Thread(target=hold)
    holder.start()
    started.wait(5)
    bulk = threading.Thread(target=work, args=("bulk", Priority.BULK))
    bulk.start()
    while slots.waiting < 1:
        time.sleep(0.001)
    urgent = threading.Thread(target=work, args=("interactive", Priority.INTERACTIVE))
    urgent.start()
    while slots.waiting < 2:
        time.sleep(0.001)
    release.set()
    for t in (holder, bulk, urgent):
        t.join(5)
    assert order == ["interactive", "bulk"]


def test_priority_follows_the_context_into_threads_and_the_header_names_it():
    assert priority_from_header("bulk") is Priority.BULK and priority_from_header(" BULK ") is Priority.BULK
    assert priority_from_header(None) is Priority.INTERACTIVE and priority_from_header("urgent") is Priority.INTERACTIVE
    # the app's own header is the one the backend reads
    ((name, value),) = BULK_HEADERS.items()
    assert priority_from_header(value) is Priority.BULK and name.lower() == "x-playground-priority"

    async def seen_in_a_thread() -> Priority:
        from starlette.concurrency import run_in_threadpool

        with use_priority(Priority.BULK):
            return await run_in_threadpool(current_priority)

    assert asyncio.run(seen_in_a_thread()) is Priority.BULK
    assert current_priority() is Priority.INTERACTIVE


@pytest.fixture(scope="module")
def one_slot_backend() -> Iterator[str]:
    with BackgroundServer(create_standalone_app(BackendSettings(api_key=None, cpu_slots=1, warm_start=False))) as url:
        yield url


BULK_TEXT = "The first sentence of a batch. A second one follows it. Then a third. And a fourth to end."


@pytest.mark.models
def test_a_play_click_overtakes_a_queued_bulk_batch(one_slot_backend):
    """Six bulk requests queue their first chunks; a Play click sent after the batch has begun
    is heard before the queued ones: with one slot, at most the chunk in flight goes first."""
    provider = embedded_provider(one_slot_backend)

    async def run() -> tuple[int, list[float], float]:
        client = provider.async_client()
        bulk = provider.as_bulk().async_client()
        # warm the voice so the batch's first chunk is not the engine load
        await client.audio.speech.create(model="gpt-4o-mini-tts", voice="alloy", input="Ready.", response_format="pcm")
        firsts: list[float] = []
        began = asyncio.Event()

        async def one_bulk() -> None:
            got = False
            async with bulk.audio.speech.with_streaming_response.create(
                model="gpt-4o-mini-tts", voice="alloy", input=BULK_TEXT, response_format="pcm"
            ) as r:
                async for _ in r.iter_bytes():
                    if not got:
                        firsts.append(time.monotonic())
                        began.set()
                    got = True

        batch = [asyncio.create_task(one_bulk()) for _ in range(6)]
        await began.wait()
        sent = time.monotonic()
        async with client.audio.speech.with_streaming_response.create(
            model="gpt-4o-mini-tts", voice="alloy", input="Play this now.", response_format="pcm"
        ) as r:
            async for _ in r.iter_bytes():
                heard = time.monotonic()
                break
        await asyncio.gather(*batch)
        overtaken_by = sum(1 for t in firsts if sent < t < heard)
        return overtaken_by, firsts, heard

    overtaken_by, firsts, _ = asyncio.run(run())
    assert len(firsts) == 6
    # FIFO would serve the five queued first chunks before the click
    assert overtaken_by <= 1


def _thread_cpu_ticks() -> dict[int, tuple[int, int]]:
    """Every thread of this process: (nice, CPU ticks used so far), from /proc."""
    out = {}
    for stat in Path("/proc/self/task").glob("*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            out[int(stat.parent.name)] = (int(fields[16]), int(fields[11]) + int(fields[12]))
    return out


@pytest.mark.models
@pytest.mark.skipif(not can_run_in_background(), reason="threads are ranked alone only on Linux")
def test_a_file_is_transcribed_in_the_background_while_every_slot_is_held(speech_dir):
    """An uploaded file takes no CPU slot: it is transcribed while a step holds the only one,
    by threads the kernel ranks ``BACKGROUND_NICE`` below the server's, which did the work."""
    app = create_standalone_app(BackendSettings(api_key=None, cpu_slots=1, warm_start=False))
    engines = next(route.app for route in app.routes if getattr(route, "path", "") == "/v1").state.engines
    cpu = engines.cpu
    data = (speech_dir / "jfk.flac").read_bytes()
    with BackgroundServer(app) as url:
        client = embedded_provider(url).client().with_options(timeout=60, max_retries=0)
        client.audio.transcriptions.create(model="gpt-4o-mini-transcribe", file=("warm.flac", data))  # loads it
        before = _thread_cpu_ticks()
        with cpu.hold(timeout=1):  # a long step elsewhere: nothing that needs a slot can start
            text = client.audio.transcriptions.create(model="gpt-4o-mini-transcribe", file=("jfk.flac", data)).text
            assert cpu.waiting == 0
        after = _thread_cpu_ticks()
    assert "ask not what your country" in text.lower()
    used = {tid: (nice, ticks - before.get(tid, (nice, 0))[1]) for tid, (nice, ticks) in after.items()}
    background = sum(t for nice, t in used.values() if nice == BACKGROUND_NICE)
    foreground = sum(t for nice, t in used.values() if nice != BACKGROUND_NICE)
    # the encoder and decoder ran on the background threads: most of the request's CPU time
    assert background > foreground, used
    assert any(name.endswith(":background") for name in engines.loaded())


def test_files_use_the_slotted_copy_when_background_files_is_off():
    """``PLAYGROUND_BACKGROUND_FILES=false`` (or a system that cannot rank a thread alone)
    gives files the live turns' copy of the model, in the CPU slots."""
    off = EngineManager(BackendSettings(background_files=False, warm_start=False))
    assert off.stt("tiny.en", background=True) is off.stt("tiny.en")
    on = EngineManager(BackendSettings(warm_start=False))
    files, live = on.stt("tiny.en", background=True), on.stt("tiny.en")
    assert (files is not live) == can_run_in_background()
    assert getattr(files, "background", False) == can_run_in_background() and not getattr(live, "background", True)


@pytest.mark.models
def test_warming_up_loads_the_model_files_use_not_only_the_live_one():
    """Live turns are heard in English (tiny.en); a file comes without a language (base): the
    warm-up loads the background copy of base, so the first file does not wait for it."""
    from playground.backend.app import warm_up

    app = create_standalone_app(BackendSettings(api_key=None))
    backend = next(route.app for route in app.routes if getattr(route, "path", "") == "/v1")
    warm_up(backend).join(timeout=300)
    files = backend.state.engines.stt("base", background=True)
    assert files._model is not None  # loaded by the warm-up, not by this call
    assert getattr(files, "background", False) == can_run_in_background()
