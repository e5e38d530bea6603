"""A live embedded backend on 127.0.0.1 and SDK clients for it, shared by the contract tests."""

from __future__ import annotations

import re

import jiwer
import numpy as np
import pytest
from openai import AsyncOpenAI, OpenAI

from playground.core import audio
from playground.core.encode import encode_with_ffmpeg


@pytest.fixture(scope="session")
def client(backend_url: str) -> OpenAI:
    return OpenAI(base_url=backend_url + "/v1", api_key="local", max_retries=0, timeout=300)


def async_client(backend_url: str) -> AsyncOpenAI:
    """A fresh async client: connection pools must not outlive the event loop that made them."""
    return AsyncOpenAI(base_url=backend_url + "/v1", api_key="local", max_retries=0, timeout=300)


_PUNCT = re.compile(r"[^\w\s']")


def normalise(text: str) -> str:
    text = text.lower().replace("-", " ")
    return " ".join(_PUNCT.sub(" ", text).split())


def wer(reference: str, hypothesis: str) -> float:
    return jiwer.wer(normalise(reference), normalise(hypothesis))


def encode_with_av(samples: np.ndarray, rate: int, container: str, codec: str) -> bytes:
    """Real files in other containers, for decode tests."""
    return encode_with_ffmpeg(samples, rate, container=container, codec=codec)


def decoded(data: bytes, fmt: str | None = None) -> audio.DecodedAudio:
    return audio.decode(data, fmt)


#: case id -> answered correctly, filled by ``test_hostile_inputs`` for the terminal summary
HOSTILE_RESULTS = pytest.StashKey[dict[str, bool]]()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    """One line with the number of hostile inputs sent, shown even with ``-q``."""
    results = config.stash.get(HOSTILE_RESULTS, {})
    if not results:
        return
    good = sum(results.values())
    if good == len(results):
        line = f"hostile inputs: {good}, all answered with an OpenAI error envelope; server still serving"
    else:
        line = f"hostile inputs: {good} of {len(results)} answered with an OpenAI error envelope"
    terminalreporter.write_line(line)
