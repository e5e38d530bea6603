"""A process that exits while an engine is still working exits cleanly, not with an abort."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.models

#: a daemon thread keeps Silero (onnxruntime) busy while the main thread returns
SCRIPT = textwrap.dedent(
    """
    import threading, time
    import numpy as np
    from playground.backend.engines.manager import EngineManager
    from playground.backend.settings import BackendSettings

    engines = EngineManager(BackendSettings())
    ready = threading.Event()

    def work():
        vad = engines.vad()
        ready.set()
        for _ in range(400):
            vad.stream().feed(np.zeros(16000, np.float32))

    threading.Thread(target=work, daemon=True).start()
    ready.wait()
    time.sleep(0.2)
    print("main returns", flush=True)
    """
)


def test_exiting_under_a_running_engine_call_waits_for_it():
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
    assert "main returns" in done.stdout and "terminate called" not in done.stderr
