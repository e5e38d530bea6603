"""Providers and the runner: every API call goes through the official ``openai`` SDK."""

from playground.client.providers import Provider, embedded_provider, resolve_provider
from playground.client.results import ChatAudioResult, SpeechResult, TranscriptionResult
from playground.client.runner import Runner

__all__ = [
    "ChatAudioResult",
    "Provider",
    "Runner",
    "SpeechResult",
    "TranscriptionResult",
    "embedded_provider",
    "resolve_provider",
]
