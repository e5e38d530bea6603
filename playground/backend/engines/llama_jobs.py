"""Continuous batching for ``LlamaLLM``: several replies share one llama.cpp context.

Each admitted reply (a ``Job``) owns one of the context's ``n_seq_max`` sequences. One
worker thread loops: admit waiting jobs to free sequences, then run one *step*: a single
``llama_decode`` of a batch holding the next token of every runnable job (plus a chunk
of each new job's prompt), after which each job samples from its own logits row with its
own sampler (grammar and repeat penalty stay per job). A new turn therefore waits one
step for its prefill, not for other replies to end; and since a step reads the weights
once, four replies cost little more than one.

Read-ahead is bounded: a job with ``READ_AHEAD`` unread deltas is *parked* (left out of
steps; its sequence and KV stay) until its reader takes one. Parked for ``stall_s`` it is
cancelled, its sequence freed, and its reader, should it come back, gets
``ReaderStalledError``.

Priority (``playground.backend.scheduling``): jobs waiting for a sequence are admitted
INTERACTIVE first, then by arrival. A step's cost grows with its batch, so the jobs that
someone is waiting on get the short steps: in a step, only the most urgent *tier* of
runnable jobs joins, where the tiers are, in order, interactive jobs still on their first
``FIRST_TOKENS`` tokens (the clause a listener waits to hear; a reader that has it says
so with ``Reply.first_words_out``), other interactive jobs, then bulk jobs of each kind;
every ``BULK_EVERY``-th step also takes the others whose readers have fewer than
``LOW_WATER`` deltas left, so none starves. A spoken reply needs about four tokens a
second to keep ahead of its playback, so one step in four is plenty once its first clause
is out, and none at all while its reader has a sentence in hand.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from playground.backend.engines.base import ChatDelta, EngineBusyError, ReaderStalledError
from playground.backend.scheduling import Priority

if TYPE_CHECKING:
    from playground.backend.engines.llama_llm import LlamaLLM

__all__ = ["BULK_EVERY", "FIRST_TOKENS", "PREFILL_CHUNK", "READ_AHEAD", "Job", "Reply", "Scheduler"]

#: unread deltas a job may run ahead of its reader: about two sentences, so a reader that
#: pauses to speak one never waits for tokens, while one that stops reading holds a
#: parked sequence and this much memory, never the generator
READ_AHEAD = 32
#: prompt tokens one step decodes: a step with a long prefill delays every other job's
#: next token, so a long prompt goes in chunks of this many, between generating steps
PREFILL_CHUNK = 128
#: while a more urgent job is runnable, the others join one step in this many
BULK_EVERY = 4
#: while more urgent replies run, another joins one step in ``BULK_EVERY`` only if its
#: reader has fewer than this many deltas left unread (a spoken reply that is ahead waits)
LOW_WATER = 8
#: a reply's first tokens, which decide how soon it is heard, outrank later tokens of others
FIRST_TOKENS = 48
#: how long after they are wanted later tokens are due (``Scheduler._cpu_turn``): a spoken
#: reply's text runs seconds ahead of its audio, so they may wait for a first sentence
LATER_TOKENS_SLACK_S = 0.5
#: how often a step waiting for a CPU slot looks for new replies
REPLAN_S = 0.02

_REPLACEMENT_CHAR = "\ufffd"


@dataclass(eq=False)
class Job:
    """One request: its inputs, its bounded delta buffer, and (once admitted) its sequence."""

    messages: list[dict[str, str]]
    max_tokens: int
    temperature: float
    #: GBNF grammar the reply must follow (from a JSON schema), or None
    grammar: str | None = None
    priority: Priority = Priority.INTERACTIVE
    cancel: threading.Event = field(default_factory=threading.Event)
    #: deltas (and at most one exception) not yet read
    buf: deque = field(default_factory=deque)
    ready: threading.Condition | None = None
    arrival: int = 0
    produced: int = 0
    taken: int = 0
    done: bool = False
    finished_at: float | None = None
    parked_since: float | None = None
    # worker state, set at admission
    seq: int = -1
    prompt: list[int] = field(default_factory=list)
    #: prompt tokens whose KV an earlier reply on the same sequence left
    reused: int = 0
    #: tokens to decode next: the prompt's unseen suffix, then the last sampled token
    pending: list[int] = field(default_factory=list)
    pos: int = 0
    budget: int = 0
    sampler: Any = None
    out: list[int] = field(default_factory=list)
    sent: str = ""
    #: the reader has what it waited for (``Reply.first_words_out``): no longer urgent
    heard: bool = False


class Reply(Iterator[ChatDelta]):
    """The caller's side of a job: deltas in order; ``close()`` (or dropping it) cancels."""

    def __init__(self, job: Job, scheduler: Scheduler):
        self._job = job
        self._scheduler = scheduler
        self._done = False

    def __next__(self) -> ChatDelta:
        if self._done:
            raise StopIteration
        item = self._scheduler.take(self._job)
        if isinstance(item, BaseException):
            self._done = True
            raise item
        if item.finish_reason is not None:
            self._done = True
        return item

    def first_words_out(self) -> None:
        """The reader has the words it was waiting on (a spoken reply's first sentence is
        being said): the rest of this reply stops outranking other replies' first tokens
        (otherwise it does so for ``FIRST_TOKENS``)."""
        self._job.heard = True

    def close(self) -> None:
        self._done = True
        self._scheduler.cancel(self._job)

    def __del__(self) -> None:
        self._job.cancel.set()  # no lock here: the collector may run inside the worker

    # introspection, for tests and benchmarks
    @property
    def unread(self) -> int:
        """Deltas generated and not yet read."""
        return self._job.produced - self._job.taken

    @property
    def generated(self) -> int:
        """Tokens generated so far."""
        return len(self._job.out)

    @property
    def finished(self) -> bool:
        """Generation is over (finished, failed, cancelled or stalled)."""
        return self._job.done

    @property
    def finished_at(self) -> float | None:
        return self._job.finished_at

    @property
    def reused(self) -> int:
        return self._job.reused


class Scheduler:
    """The waiting queue, the sequences and the worker thread of one ``LlamaLLM``."""

    def __init__(self, engine: LlamaLLM) -> None:
        self.engine = engine
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._waiting: list[Job] = []
        self._active: list[Job] = []
        self._arrivals = itertools.count()
        self._steps = 0
        #: whether a claim for a reply's first words holds a CPU slot (``_claim_cpu``; it
        #: may not, with one slot or a Whisper window in the other: see ``CpuSlots.claim``)
        self._claimed = False
        #: when the step waiting for a CPU slot was first wanted (its deadline is set by it)
        self._turn_wanted: float | None = None
        #: replies cancelled because their reader stopped (for status pages and tests)
        self.stalled = 0
        self._worker: threading.Thread | None = None
        self.reset()

    def reset(self) -> None:
        """Every sequence free and empty (a new context)."""
        n = self.engine.n_seq_max
        self._n_threads = self.engine.n_threads  # a new context starts on the engine's threads
        with self._lock:
            self._free = list(range(n))
            #: per sequence: the tokens whose KV it holds, and the step it was last freed
            self._tokens: list[list[int]] = [[] for _ in range(n)]
            self._freed_at = [0] * n

    # -- callers' side ---------------------------------------------------------------
    def submit(self, job: Job) -> None:
        with self._lock:
            queued = sum(1 for j in self._waiting if not j.cancel.is_set()) - len(self._free)
            if queued >= self.engine.max_waiting:
                raise EngineBusyError(f"{queued} chat requests are already waiting; try again shortly")
            job.arrival = next(self._arrivals)
            job.ready = threading.Condition(self._lock)
            self._waiting.append(job)
            self._wake.notify()
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._run, name="llama-generate", daemon=True)
                self._worker.start()

    def take(self, job: Job) -> ChatDelta | BaseException:
        with self._lock:
            assert job.ready is not None
            while not job.buf:
                job.ready.wait()
            item = job.buf.popleft()
            if isinstance(item, ChatDelta):
                job.taken += 1
            if job.parked_since is not None:
                self._wake.notify()  # room again: the worker resumes it
            return item

    def qsize(self) -> int:
        """Requests waiting or generating (cancelled ones not counted)."""
        with self._lock:
            return sum(1 for j in (*self._waiting, *self._active) if not j.cancel.is_set())

    def cancel(self, job: Job) -> None:
        job.cancel.set()
        with self._lock:
            self._wake.notify()

    # -- worker side -----------------------------------------------------------------
    def _put(self, job: Job, item: ChatDelta | BaseException) -> None:
        with self._lock:
            job.buf.append(item)
            if isinstance(item, ChatDelta):
                job.produced += 1
            assert job.ready is not None
            job.ready.notify()

    def _release(self, job: Job, error: BaseException | None = None, *, clear: bool = False) -> None:
        """The job is over: queue ``error`` for its reader (if any) and free its sequence;
        ``clear`` forgets the sequence's KV (its state is unknown after a failure)."""
        with self._lock:
            self._drop(job, error)
        if clear and job.seq >= 0 and self.engine._ctx is not None:
            self.engine._ctx.memory_seq_rm(job.seq, -1, -1)
            self._tokens[job.seq] = []

    def _drop(self, job: Job, error: BaseException | None) -> None:
        """``_release`` with the lock held (its KV kept)."""
        if job.done:  # over already: its final delta or error stays as it is
            return
        if error is not None:
            job.buf.clear()  # the reply is broken anyway: its reader learns at once
            job.buf.append(error)
            assert job.ready is not None
            job.ready.notify()
        job.done = True
        job.finished_at = time.monotonic()
        if job in self._active:
            self._active.remove(job)
            self._free.append(job.seq)
            self._freed_at[job.seq] = self._steps

    def fail_all(self, error: BaseException) -> None:
        """Fail every admitted job (the context is going away); caller holds the gen lock."""
        for job in list(self._active):
            self._release(job, error)

    def _plan(self) -> tuple[list[Job], list[Job]]:
        """Under the lock: reap cancelled and stalled jobs, pick the jobs to admit (as
        many as sequences are free, INTERACTIVE first) and the runnable active jobs."""
        now = time.monotonic()
        self._waiting = [j for j in self._waiting if not j.cancel.is_set()]
        runnable = []
        for job in list(self._active):
            if job.cancel.is_set():
                self._drop(job, None)
            elif len(job.buf) >= READ_AHEAD:
                job.parked_since = job.parked_since or now
                if now - job.parked_since >= self.engine.stall_s:
                    stall = self.engine.stall_s
                    self._drop(job, ReaderStalledError(f"reply cancelled: its reader took nothing for {stall:g} s"))
                    self.stalled += 1
            else:
                job.parked_since = None
                runnable.append(job)
        self._waiting.sort(key=lambda j: (j.priority, j.arrival))
        n = len(self._free)
        admit, self._waiting = self._waiting[:n], self._waiting[n:]
        return admit, runnable

    def _timeout(self) -> float | None:
        """How long the idle worker may sleep: until the next parked job would stall,
        and at most a second while jobs are active (a dropped reply only sets a flag)."""
        if not self._active:
            return None
        now = time.monotonic()
        due = [j.parked_since + self.engine.stall_s - now for j in self._active if j.parked_since is not None]
        return max(0.005, min([1.0, *due]))

    def _run(self) -> None:
        while True:
            with self._lock:
                admit, runnable = self._plan()
                while not admit and not runnable:
                    self._claim_cpu(False)
                    self._wake.wait(self._timeout())
                    admit, runnable = self._plan()
            with contextlib.ExitStack() as turn:
                if not self._cpu_turn(turn, (*admit, *runnable)):
                    continue  # a reply may have come meanwhile: plan again
                with self.engine._gen_lock:
                    runnable = [j for j in runnable if not j.done]  # close() may have failed some meanwhile
                    for job in admit:
                        try:
                            self._start(job)
                        except BaseException as e:  # noqa: BLE001 - handed to the caller, never lost here
                            self._release(job, e, clear=job.seq >= 0)
                        else:
                            runnable.append(job)
                    if runnable and self.engine._ctx is not None:
                        try:
                            with self._threads():
                                self._step(self._pick(runnable))
                        except Exception as e:  # noqa: BLE001 - a bug here must not leave readers waiting
                            for job in runnable:
                                self._release(job, e, clear=True)
            self._turn_wanted = None

    def _cpu_turn(self, turn: contextlib.ExitStack, jobs: tuple[Job, ...]) -> bool:
        """Whether this step may run now. While an interactive reply is on its first words
        the worker holds a claimed slot (``_claim_cpu``) and runs at once; otherwise each
        step takes a slot like any other engine step, due ``LATER_TOKENS_SLACK_S`` after it
        was first wanted, so a stream's first sentence goes before later tokens that nobody
        will hear for seconds. The wait is given up every ``REPLAN_S`` to look for new jobs."""
        urgent = any(_tier(j) == _FIRST_WORDS for j in jobs)
        self._claim_cpu(urgent)
        cpu = self.engine.cpu
        if urgent or cpu is None:
            return True
        if self._turn_wanted is None:
            self._turn_wanted = time.monotonic()
        due = self._turn_wanted + LATER_TOKENS_SLACK_S
        try:
            turn.enter_context(cpu.hold(deadline=due, priority=min(j.priority for j in jobs), timeout=REPLAN_S))
        except TimeoutError:
            return False
        return True

    @contextlib.contextmanager
    def _threads(self) -> Iterator[None]:
        """A step on more threads while a CPU slot is free and nobody waits for it: on an
        otherwise idle core a second thread halves a step (measured on 2 cores: 22 → 10.5
        ms a token), while beside busy cores llama.cpp's threads spin-wait for each other
        and a step on two is slower than on one. The slot is held for the step, so no
        engine step starts on that core meanwhile."""
        eng = self.engine
        wide = bool(eng.spare_threads) and eng.cpu is not None and eng.cpu.take_spare()
        n = eng.n_threads + (eng.spare_threads if wide else 0)
        if n != self._n_threads:
            eng._ctx.set_n_threads(n, n)
            self._n_threads = n
        try:
            yield
        finally:
            if wide:
                eng.cpu.give_back()

    def _claim_cpu(self, urgent: bool) -> None:
        """Hold one of the engines' CPU slots while someone waits on a reply's first words,
        so speech and Whisper steps leave this thread a core (where there is a slot to
        spare: asked again each step, since a Whisper window may have ended); give it
        back after."""
        cpu = self.engine.cpu
        if cpu is None:
            return
        if urgent and not self._claimed:
            self._claimed = cpu.claim()
        elif not urgent and self._claimed:
            cpu.unclaim()
            self._claimed = False

    def _start(self, job: Job) -> None:
        """Give the job the free sequence whose cached tokens share the longest prefix
        with its prompt (a conversation's next turn), drop the rest of that sequence's
        KV, and leave only the new suffix to decode. At least the last prompt token is
        decoded, for its logits."""
        self.engine.load()
        self.engine._prepare(job)
        ctx, prompt = self.engine._ctx, job.prompt

        def shared(seq: int) -> int:
            n = 0
            for a, b in zip(self._tokens[seq], prompt, strict=False):
                if a != b:
                    break
                n += 1
            return n

        with self._lock:
            seq = max(self._free, key=lambda s: (shared(s), -self._freed_at[s]))  # ties: least recently used
            self._free.remove(seq)
            job.seq = seq
            self._active.append(job)
        n = min(shared(seq), len(prompt) - 1)
        if n <= 0 or not ctx.memory_seq_rm(seq, n, -1):
            ctx.memory_seq_rm(seq, -1, -1)
            n = 0
        self._tokens[seq] = prompt[:n]
        job.reused, job.pos, job.pending = n, n, prompt[n:]

    def _pick(self, runnable: list[Job]) -> list[Job]:
        self._steps += 1
        best = min(map(_tier, runnable))
        if not self._steps % BULK_EVERY:  # the others' turn, if their readers are running short
            runnable = [j for j in runnable if _tier(j) == best or len(j.buf) < LOW_WATER]
        else:
            runnable = [j for j in runnable if _tier(j) == best]
            if best == _FIRST_WORDS:
                # One at a time, oldest first. On one CPU thread a step costs about the same
                # per token however many replies share it (measured: 15, 30 and 43 ms a step
                # for 1, 2 and 3 replies), so sharing gains nothing: two replies starting
                # together would both be heard late, while one after the other the first is
                # heard as soon as it can be and the second about when it would have anyway.
                runnable = [min(runnable, key=lambda j: j.arrival)]
        # generating jobs first (one token each), then prefill, interactive before bulk
        return sorted(runnable, key=lambda j: (len(j.pending) > 1, j.priority, j.arrival))

    def _step(self, jobs: list[Job]) -> None:
        eng = self.engine
        ctx, batch = eng._ctx, eng._batch
        batch.clear()
        # chunk prompts only while other jobs wait on this step; alone, a prompt goes whole
        alone = not any(len(j.pending) == 1 for j in jobs)
        room = eng.n_batch
        prefill = room if alone else PREFILL_CHUNK
        chunks: list[tuple[Job, int]] = []
        rows: list[tuple[Job, int]] = []
        for job in jobs:
            take = min(len(job.pending), room, 1 if len(job.pending) == 1 else prefill)
            if take <= 0:
                continue
            if len(job.pending) > 1:
                prefill -= take
            last = take == len(job.pending)
            for i in range(take):
                batch.add(job.pending[i], job.pos + i, [job.seq], last and i == take - 1)
            if last:
                rows.append((job, batch.n_tokens - 1))
            chunks.append((job, take))
            room -= take
        if not chunks:
            return
        try:
            ctx.decode(batch)
        except BaseException as e:  # noqa: BLE001 - every job in the batch learns of it
            for job, _ in chunks:
                self._release(job, e, clear=True)
            return
        for job, take in chunks:
            self._tokens[job.seq].extend(job.pending[:take])
            job.pos += take
            job.pending = job.pending[take:]
        for job, row in rows:
            try:
                self._advance(job, job.sampler.sample(ctx, row))
            except BaseException as e:  # noqa: BLE001 - that job's caller gets it
                self._release(job, e, clear=True)

    def _advance(self, job: Job, token: int) -> None:
        """Hand the sampled token to the job: a delta, maybe the end, else decode it next."""
        vocab = self.engine._vocab
        if vocab.is_eog(token):
            self._finish(job, "stop")
            return
        job.out.append(token)
        # Detokenise the whole reply and send what is new: a token may end mid-character
        # (byte tokens), so hold back while the tail is incomplete.
        text = vocab.detokenize(job.out, False, False)
        if not text.endswith(_REPLACEMENT_CHAR) and len(text) > len(job.sent):
            self._put(job, ChatDelta(text=text[len(job.sent) :]))
            job.sent = text
        if len(job.out) >= job.budget:
            self._finish(job, "length")
        else:
            job.pending = [token]

    def _finish(self, job: Job, reason: str) -> None:
        text = self.engine._vocab.detokenize(job.out, False, False) if job.out else ""
        final = ChatDelta(
            text=text[len(job.sent) :],
            finish_reason=reason,
            prompt_tokens=len(job.prompt),
            completion_tokens=len(job.out),
        )
        self._release(job)  # first: a reader that has the final delta finds the job gone
        self._put(job, final)


#: the tier of an interactive reply still on its first tokens
_FIRST_WORDS = (int(Priority.INTERACTIVE), False)


def _tier(job: Job) -> tuple[int, bool]:
    """Lower is more urgent: the priority, then whether the first tokens are out."""
    return (int(job.priority), job.heard or len(job.out) >= FIRST_TOKENS)
