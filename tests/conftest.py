"""Shared fixtures: test data from ../shared, a recording OpenAI-compatible server."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
# Many tests mean a particular model that OpenAI retires on a date (tts-1, whisper-1, ...):
# the embedded backend keeps serving them, so the suite passes the same after every
# shutdown date (`PLAYGROUND_TODAY=2027-03-01 make test` proves it). The lifecycle tests
# unset this where they mean the real behaviour: 404 model_not_found for a retired name.
os.environ.setdefault("PLAYGROUND_SERVE_RETIRED", "1")

from playground.serving import BackgroundServer
from tests.support.recording_server import RecordingServer

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SPEECH_DIR = SHARED / "testdata" / "speech"
#: a key-shaped secret that must never leak anywhere
SECRET_KEY = "sk-test-" + "Zq9" * 12


IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """In CI nothing skips: a missing runtime, model, browser or node is a failure.

    Outside CI a skip stays a skip, and ``-ra`` prints its reason in the summary.
    """
    outcome = yield
    _fail_skips_in_ci(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector):
    """The same for a whole module skipped at import (``pytest.importorskip``)."""
    outcome = yield
    _fail_skips_in_ci(outcome.get_result())


def _fail_skips_in_ci(report: pytest.TestReport | pytest.CollectReport) -> None:
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, which must run everything: {reason}"


@pytest.fixture(scope="session")
def speech_dir() -> Path:
    if not (SPEECH_DIR / "manifest.json").is_file():
        pytest.fail(f"test recordings missing: expected {SPEECH_DIR} (../shared beside the repo)")
    return SPEECH_DIR


@pytest.fixture(scope="session")
def manifest(speech_dir: Path) -> dict:
    return {c["file"]: c for c in json.loads((speech_dir / "manifest.json").read_text())["clips"]}


@pytest.fixture(scope="session")
def backend_url(tmp_path_factory) -> Iterator[str]:
    """The real embedded backend, live on a loopback port for the whole session."""
    from playground.backend.app import create_standalone_app
    from playground.backend.settings import BackendSettings

    os.environ.setdefault("PLAYGROUND_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    with BackgroundServer(create_standalone_app(BackendSettings(api_key=None))) as url:
        yield url


@pytest.fixture(scope="session")
def _recording_server() -> Iterator[tuple[RecordingServer, str]]:
    server = RecordingServer()
    with BackgroundServer(server.app) as url:
        yield server, url


@pytest.fixture
def recorder(_recording_server: tuple[RecordingServer, str]) -> RecordingServer:
    server, url = _recording_server
    server.clear()
    server.url = url  # type: ignore[attr-defined]
    server.base_url = url + "/v1"  # type: ignore[attr-defined]
    return server


@pytest.fixture
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No provider variables and a private cache/user folder."""
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "PLAYGROUND_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("PLAYGROUND_DATA_DIR", str(tmp_path / "data"))
    return tmp_path
