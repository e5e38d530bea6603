"""Start the playground as a user does (``python app.py``) on a free port, for end-to-end tests."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx2 as httpx

from playground.serving import free_port

REPO = Path(__file__).resolve().parents[2]


def wait_until_serving(
    url: str, proc: subprocess.Popen, *, timeout: float = 90, headers: dict[str, str] | None = None
) -> httpx.Response:
    """Poll ``url`` until it answers 200; fail with the process's output if it exits or times out."""
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited early:\n{proc.stdout.read() if proc.stdout else ''}")
        try:
            response = httpx.get(url, timeout=2, headers=headers or {})
            if response.status_code == 200:
                return response
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")
        time.sleep(0.3)


@contextmanager
def launched_app(
    extra_env: dict[str, str], *, startup_s: float = 90, host: str = "127.0.0.1"
) -> Iterator[tuple[str, list[str]]]:
    """Yields (url, output); ``output`` receives the process's combined output once it has stopped.

    With ``PLAYGROUND_PASSWORD`` in ``extra_env`` the readiness probe signs in with it.
    """
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "PLAYGROUND_API_KEY"))}
    env.update(extra_env)
    password = extra_env.get("PLAYGROUND_PASSWORD")
    probe_headers = {"authorization": f"Bearer {password}"} if password else {}
    proc = subprocess.Popen(
        [sys.executable, "app.py", "--host", host, "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    output: list[str] = []
    try:
        wait_until_serving(url + "/healthz", proc, timeout=startup_s, headers=probe_headers)
        yield url, output
    finally:
        proc.terminate()
        try:
            out, _ = proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
        output.append(out or "")
