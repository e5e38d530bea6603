"""The app as a user starts it, with private data and cache folders, per test module."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from playground.client.providers import embedded_provider
from playground.ui.context import UIContext, set_context
from tests.support.app_process import REPO, launched_app


@pytest.fixture(scope="module")
def app_url(tmp_path_factory) -> Iterator[str]:
    data = tmp_path_factory.mktemp("data")
    cache = os.environ.get("PLAYGROUND_CACHE_DIR") or str(tmp_path_factory.mktemp("cache"))
    with launched_app({"PLAYGROUND_DATA_DIR": str(data), "PLAYGROUND_CACHE_DIR": cache}) as (url, _):
        yield url


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    """docs/screenshots with UPDATE_SCREENSHOTS=1 (`make screenshots`), else a temp folder."""
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        folder = REPO / "docs" / "screenshots"
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture
def offline_ctx(tmp_path) -> UIContext:
    """A UI context for handler tests that never reach a server (port 9 is discard)."""
    url = "http://127.0.0.1:9"
    context = UIContext.create(embedded_provider(url), app_url=url, data_dir=tmp_path / "data")
    set_context(context)
    return context


@pytest.fixture
def ctx(backend_url, tmp_path) -> UIContext:
    """A UI context on the real embedded backend, for handler tests (a file may define its own)."""
    context = UIContext.create(embedded_provider(backend_url), app_url=backend_url, data_dir=tmp_path / "data")
    context.out_dir = tmp_path / "out"
    set_context(context)
    return context
