"""`python -m bench.llm`: the local LLM's throughput alone and batched, and how soon a new
reply starts while others generate (the realtime turn's case).

Figures: generated tokens/s for 1 reply and for 4 at once; time to the first delta of a
short reply on an idle engine, and while 3 long replies generate (interactive, then bulk).
"""

from __future__ import annotations

import statistics
import threading
import time

from playground.backend.engines.llama_llm import LlamaLLM
from playground.backend.scheduling import Priority, use_priority

STORY = [{"role": "user", "content": "Write a long story about a dragon."}]
QUESTION = [{"role": "user", "content": "What is the capital of France?"}]
TOKENS = 128
ROUNDS = 5


def _tokens(engine: LlamaLLM, messages: list[dict], max_tokens: int) -> int:
    return list(engine.chat(messages, max_tokens=max_tokens, temperature=0.7))[-1].completion_tokens


def throughput(engine: LlamaLLM, n: int) -> float:
    """Generated tokens per second with ``n`` replies at once."""
    counts = [0] * n

    def run(i: int) -> None:
        counts[i] = _tokens(engine, STORY, TOKENS)

    start = time.perf_counter()
    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / (time.perf_counter() - start)


def first_delta(engine: LlamaLLM) -> float:
    start = time.perf_counter()
    reply = engine.chat(QUESTION, max_tokens=16, temperature=0.0)
    next(reply)
    took = time.perf_counter() - start
    reply.close()
    return took


def first_delta_under_load(engine: LlamaLLM, others: int, priority: Priority) -> float:
    """First delta of a short reply while ``others`` long replies are being read."""
    started = threading.Barrier(others + 1)
    stop = threading.Event()

    def long_reply() -> None:
        with use_priority(priority):
            reply = engine.chat(STORY, max_tokens=400, temperature=0.7)
        next(reply)
        started.wait()
        for _ in reply:
            if stop.is_set():
                break
        reply.close()

    threads = [threading.Thread(target=long_reply) for _ in range(others)]
    for t in threads:
        t.start()
    started.wait()
    time.sleep(0.3)  # all of them in their generating steps
    took = first_delta(engine)
    stop.set()
    for t in threads:
        t.join()
    return took


def main() -> None:
    engine = LlamaLLM(n_seq_max=4)
    engine.load()
    _tokens(engine, QUESTION, 8)  # warm-up
    one, four = throughput(engine, 1), throughput(engine, 4)
    print(f"llm  throughput: 1 reply {one:.1f} tok/s; 4 at once {four:.1f} tok/s ({four / one:.2f}x)")
    idle = statistics.median(first_delta(engine) for _ in range(ROUNDS))
    print(f"llm  first delta: idle {idle * 1000:.0f} ms")
    for priority in (Priority.INTERACTIVE, Priority.BULK):
        busy = [first_delta_under_load(engine, 3, priority) for _ in range(ROUNDS)]
        print(
            f"llm  first delta while 3 {priority.name.lower()} replies generate: "
            f"median {statistics.median(busy) * 1000:.0f} ms, max {max(busy) * 1000:.0f} ms"
        )
    engine.close()


if __name__ == "__main__":
    main()
