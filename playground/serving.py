"""Run an ASGI app on 127.0.0.1 in a background thread (CLI one-shots, tests, benches)."""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType

import uvicorn

__all__ = ["KEEP_ALIVE_S", "BackgroundServer", "free_port"]

#: How long an idle keep-alive connection stays open (uvicorn's default is 5 s). Longer than
#: the clients' own idle expiry (httpx, under the Python SDK: 5 s; Node's undici: 4 s), so
#: the client is the one to close it: when both gave up at 5 s, a request sent on a
#: connection the server was closing that instant failed with a connection error (seen
#: under the mixed-load bench, whose players wait out their audio between requests).
KEEP_ALIVE_S = 20


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class BackgroundServer:
    """``with BackgroundServer(app) as url:`` serves ``app`` until the block ends."""

    def __init__(self, app: object, *, host: str = "127.0.0.1", port: int | None = None, log_level: str = "warning"):
        self.host, self.port = host, port or free_port(host)
        config = uvicorn.Config(
            app, host=self.host, port=self.port, log_level=log_level, lifespan="on", timeout_keep_alive=KEEP_ALIVE_S
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name=f"server:{self.port}", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 30.0) -> str:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"server on {self.url} did not start")
            time.sleep(0.02)
        return self.url

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc: tuple[type[BaseException] | None, BaseException | None, TracebackType | None]) -> None:
        self.stop()
