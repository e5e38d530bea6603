"""Let native engine work finish before the interpreter is torn down.

The engines run on worker threads (Starlette's and AnyIO's are daemon threads). If the
process exits while one of them is inside onnxruntime, CTranslate2 or llama.cpp (a model
still loading after its client left, a phrase still being spoken), the interpreter's
teardown pulls the runtime out from under the call and the process aborts ("terminate
called without an active exception", exit status 134) after everything else succeeded.
``wait_for_engine_work`` runs at exit and waits, bounded, until no daemon thread is inside
an engine; idle workers (waiting for a job) do not count.
"""

from __future__ import annotations

import atexit
import logging
import sys
import threading
import time
from types import FrameType

__all__ = ["engine_threads", "wait_for_engine_work"]

log = logging.getLogger(__name__)

#: path parts of the code that calls into native runtimes
ENGINE_CODE = (
    "/playground/backend/engines/",
    "/faster_whisper/",
    "/ctranslate2/",
    "/onnxruntime/",
    "/llama_cpp/",
    "/piper/",
)
#: the longest the exit waits: a cold model load is the slowest engine work there is
EXIT_WAIT_SECONDS = 30.0


#: where a worker waits for its next job (its innermost frame): idle, whatever called it
WAITING = ("/threading.py", "/queue.py")


def _in_engine(frame: FrameType | None) -> bool:
    if frame is None or frame.f_code.co_filename.endswith(WAITING):
        return False
    while frame is not None:
        if any(part in frame.f_code.co_filename for part in ENGINE_CODE):
            return True
        frame = frame.f_back
    return False


def _where(frame: FrameType | None) -> str:
    if frame is None:
        return "?"
    return f"{frame.f_code.co_filename.rsplit('/', 2)[-1]}:{frame.f_lineno} in {frame.f_code.co_name}"


def engine_threads() -> list[threading.Thread]:
    """Daemon threads that are inside engine code right now."""
    frames = sys._current_frames()
    me = threading.current_thread()
    return [
        t
        for t in threading.enumerate()
        if t.daemon and t is not me and t.ident is not None and _in_engine(frames.get(t.ident))
    ]


def wait_for_engine_work(timeout: float = EXIT_WAIT_SECONDS) -> bool:
    """Wait until no daemon thread is inside an engine; False if some still were at the deadline."""
    deadline = time.monotonic() + timeout
    while busy := engine_threads():
        if time.monotonic() >= deadline:
            frames = sys._current_frames()
            where = [_where(frames.get(t.ident)) for t in busy if t.ident is not None]
            log.warning("exiting while %d engine call(s) still run: %s", len(busy), where)
            return False
        time.sleep(0.05)
    return True


atexit.register(wait_for_engine_work)
