"""LlamaLLM serving several replies at once, on the real packaged model: continuous
batching, bounded read-ahead, stalled readers, priority and grammars side by side.

Orderings, not timings: each test asserts which reply got somewhere first."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from playground.backend.engines.llama_jobs import FIRST_TOKENS, READ_AHEAD
from playground.backend.engines.llama_llm import LlamaLLM, ReaderStalledError
from playground.backend.scheduling import CpuSlots, Priority, use_priority
from tests.backend.test_engine_llm import QUESTION, assert_finished, collect, needs_llama

STORY = [{"role": "user", "content": "Write a long story about a dragon."}]


def wait_until(cond: Callable[[], bool], timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, "condition not reached"
        time.sleep(0.02)


@pytest.fixture(scope="module")
def llama() -> Iterator[LlamaLLM]:
    engine = LlamaLLM(n_seq_max=4)
    yield engine
    engine.close()


@needs_llama
def test_a_stalled_reader_parks_and_never_delays_another_reply(llama: LlamaLLM) -> None:
    story = llama.chat(STORY, max_tokens=400, temperature=0.0)
    assert next(story).text  # it is generating; from here on nobody reads it
    short = llama.chat(QUESTION, max_tokens=16, temperature=0.0)
    _, items = collect(short)
    assert_finished(items)
    assert not story.finished  # the short reply ended while the long one was parked or running
    wait_until(lambda: story.unread >= READ_AHEAD or story.finished)
    assert not story.finished and story.unread == READ_AHEAD  # parked at the bound
    _, again = collect(llama.chat(QUESTION, max_tokens=8, temperature=0.0))
    assert_finished(again)
    assert story.unread == READ_AHEAD  # other replies' steps generated nothing for it
    for _ in range(READ_AHEAD + 8):  # the reader comes back: it resumes past the bound
        assert next(story).finish_reason is None
    story.close()
    wait_until(lambda: story.finished)
    assert short.finished_at < story.finished_at


@needs_llama
def test_two_replies_make_progress_together(llama: LlamaLLM) -> None:
    long = llama.chat(STORY, max_tokens=120, temperature=0.0)
    arrivals: list[float] = []

    def read_long() -> None:
        for _ in long:
            arrivals.append(time.monotonic())

    reader = threading.Thread(target=read_long)
    reader.start()
    wait_until(lambda: len(arrivals) > 0)
    short = llama.chat(QUESTION, max_tokens=16, temperature=0.0)
    next(short)
    first_short = time.monotonic()
    assert_finished(list(short))
    reader.join(timeout=120)
    # the short reply started while the long one was still generating (not after it)
    assert long.finished_at is not None and first_short < long.finished_at
    assert any(t > first_short for t in arrivals)


@needs_llama
def test_grammar_holds_for_its_reply_while_interleaved_with_free_text(llama: LlamaLLM) -> None:
    schema = {
        "type": "object",
        "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
        "required": ["city", "days"],
        "additionalProperties": False,
    }
    free = llama.chat(STORY, max_tokens=96, temperature=0.7)
    assert next(free).text
    forecast = [{"role": "user", "content": "Forecast for Rome for three days."}]
    text = "".join(d.text for d in llama.chat(forecast, max_tokens=120, temperature=0.0, schema=schema))
    value = json.loads(text)
    assert set(value) == {"city", "days"} and isinstance(value["days"], int)
    rest, items = collect(free)
    assert_finished(items)
    assert "{" not in rest[:1]  # the free reply was not held to the grammar


@needs_llama
def test_interactive_reply_joins_more_steps_than_bulk(llama: LlamaLLM) -> None:
    with use_priority(Priority.BULK):
        bulk = llama.chat(STORY, max_tokens=48, temperature=0.0)
    assert next(bulk).text
    _, items = collect(llama.chat(QUESTION, max_tokens=16, temperature=0.0))
    assert_finished(items)
    assert not bulk.finished  # arrived first, yet behind: it joined one step in four
    assert_finished(list(bulk))


@needs_llama
def test_a_new_replys_first_tokens_come_before_an_older_replys_later_ones(llama: LlamaLLM) -> None:
    # The older reply is past its first tokens with 6 to go; the new one (about 8 tokens:
    # "The capital of France is Paris.") needs a prefill step and one step per token. Were
    # every step to take both, the older would end first; with the new reply's first tokens
    # ahead, the older joins one step in BULK_EVERY (2 of the new one's ~9) and ends after.
    older = llama.chat(STORY, max_tokens=FIRST_TOKENS + 6, temperature=0.0)
    while older.generated < FIRST_TOKENS:
        assert next(older).finish_reason is None
    new = llama.chat(QUESTION, max_tokens=16, temperature=0.0)
    _, items = collect(new)
    assert_finished(items)
    assert older.finished_at is None or new.finished_at < older.finished_at
    assert_finished(list(older))
    assert older.generated == FIRST_TOKENS + 6  # it was only held back, never cut short


@needs_llama
def test_a_reply_whose_reader_has_its_first_words_stops_outranking_new_ones(llama: LlamaLLM) -> None:
    # as above, but the older reply is still well inside its first tokens: its reader
    # saying it has what it waited for is what moves it behind the new reply
    older = llama.chat(STORY, max_tokens=10, temperature=0.0)
    assert next(older).finish_reason is None
    older.first_words_out()
    new = llama.chat(QUESTION, max_tokens=16, temperature=0.0)
    _, items = collect(new)
    assert_finished(items)
    assert older.finished_at is None or new.finished_at < older.finished_at
    assert_finished(list(older))


@needs_llama
def test_the_worker_claims_a_cpu_slot_only_while_a_reply_is_on_its_first_words() -> None:
    cpu = CpuSlots(2)
    engine = LlamaLLM(n_seq_max=2, cpu=cpu)
    try:
        assert cpu.claimed == 0
        reply = engine.chat(STORY, max_tokens=FIRST_TOKENS + 40, temperature=0.0)
        assert next(reply).text
        claimed_early = cpu.claimed  # the reply is on its first tokens
        with use_priority(Priority.BULK):
            bulk = engine.chat(STORY, max_tokens=FIRST_TOKENS + 40, temperature=0.0)
        assert_finished(list(reply))
        wait_until(lambda: cpu.claimed == 0)  # given back once no interactive reply is starting
        assert next(bulk).text and cpu.claimed == 0  # a bulk reply's first words claim nothing
        assert_finished(list(bulk))
        assert claimed_early == 1
    finally:
        engine.close()
    assert cpu.claimed == 0


@needs_llama
def test_with_one_cpu_slot_first_words_leave_it_to_speech() -> None:
    cpu = CpuSlots(1)
    engine = LlamaLLM(n_seq_max=2, cpu=cpu)
    try:
        reply = engine.chat(STORY, max_tokens=FIRST_TOKENS + 16, temperature=0.0)
        assert next(reply).text
        rest: list = []
        reader = threading.Thread(target=lambda: rest.extend(reply))  # a listener keeps reading
        reader.start()
        with cpu.hold(timeout=5):  # a speech step is served while the reply runs beside it
            claimed, generated = cpu.claimed, reply.generated
        reader.join(30)
        assert_finished(rest)
        assert claimed == 0 and generated < FIRST_TOKENS  # not after the reply's first words
    finally:
        engine.close()
    assert cpu.claimed == 0


@needs_llama
def test_steps_take_a_spare_core_only_when_nothing_else_wants_it() -> None:
    cpu = CpuSlots(2)
    engine = LlamaLLM(n_seq_max=2, cpu=cpu, spare_threads=1)
    try:
        assert_finished(list(engine.chat(QUESTION, max_tokens=8, temperature=0.0)))
        assert engine._ctx.n_threads() == 2  # the machine was idle: its last step ran wide
        release = threading.Event()
        held = threading.Barrier(3)

        def busy() -> None:  # two engine steps (speech, say) hold both slots
            with cpu.hold():
                held.wait(5)
                release.wait(30)

        holders = [threading.Thread(target=busy) for _ in range(2)]
        for t in holders:
            t.start()
        held.wait(5)
        # within its first words the reply claims a slot and runs, on its own thread only
        assert_finished(list(engine.chat(QUESTION, max_tokens=8, temperature=0.0)))
        assert engine._ctx.n_threads() == 1
        release.set()
        for t in holders:
            t.join(5)
        wait_until(lambda: cpu.claimed == 0)  # given back once the reply ended
    finally:
        engine.close()


@needs_llama
def test_a_stalled_reply_is_cancelled_and_its_reader_told() -> None:
    engine = LlamaLLM(n_seq_max=2, stall_s=0.2)
    try:
        stalled = engine.chat(STORY, max_tokens=400, temperature=0.0)
        wait_until(lambda: stalled.finished)  # parked, then cancelled past the stall limit
        assert stalled.unread == READ_AHEAD  # it generated up to the bound, then nothing
        with pytest.raises(ReaderStalledError, match="took nothing"):
            next(stalled)
        assert isinstance(ReaderStalledError("x"), TimeoutError)
        _, items = collect(engine.chat(QUESTION, max_tokens=8, temperature=0.0))
        assert_finished(items)  # its sequence was freed
    finally:
        engine.close()


@needs_llama
def test_interactive_is_admitted_before_bulk_when_sequences_are_busy() -> None:
    engine = LlamaLLM(n_seq_max=1)
    try:
        hog = engine.chat(STORY, max_tokens=400, temperature=0.0)
        assert next(hog).text  # holds the only sequence
        with use_priority(Priority.BULK):
            bulk = [engine.chat(QUESTION, max_tokens=8, temperature=0.0) for _ in range(2)]
        interactive = engine.chat(QUESTION, max_tokens=8, temperature=0.0)
        hog.close()
        for reply in (*bulk, interactive):  # read bulk first: admission order must not care
            assert_finished(list(reply))
        order = sorted([*bulk, interactive], key=lambda r: r.finished_at)
        assert order == [interactive, *bulk]
    finally:
        engine.close()


@needs_llama
def test_closing_the_engine_fails_active_replies() -> None:
    engine = LlamaLLM(n_seq_max=2)
    reply = engine.chat(STORY, max_tokens=400, temperature=0.0)
    assert next(reply).text
    engine.close()
    with pytest.raises(RuntimeError, match="closed"):
        list(reply)
    _, items = collect(engine.chat(QUESTION, max_tokens=8, temperature=0.0))  # loads again
    assert_finished(items)
    engine.close()
