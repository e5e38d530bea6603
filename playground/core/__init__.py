"""Pure logic: catalog, request specs, snippets, audio utilities, pricing.

Imports no Gradio, no network client and nothing from the backend.
"""

from playground.core.catalog import Catalog, get_catalog, load_catalog
from playground.core.errors import CatalogError, PlaygroundError, Problem, ProviderError, SpecError
from playground.core.specs import ChatAudioSpec, RealtimeSessionSpec, SpeechSpec, TranscriptionSpec

__all__ = [
    "Catalog",
    "CatalogError",
    "ChatAudioSpec",
    "PlaygroundError",
    "Problem",
    "ProviderError",
    "RealtimeSessionSpec",
    "SpecError",
    "SpeechSpec",
    "TranscriptionSpec",
    "get_catalog",
    "load_catalog",
]
