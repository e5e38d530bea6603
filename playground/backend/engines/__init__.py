"""Local model engines behind small interfaces (see ``base``)."""

from playground.backend.engines.base import (
    ChatDelta,
    LLMEngine,
    Segment,
    STTEngine,
    STTOptions,
    STTResult,
    TTSEngine,
    Word,
)

__all__ = [
    "ChatDelta",
    "LLMEngine",
    "STTEngine",
    "STTOptions",
    "STTResult",
    "Segment",
    "TTSEngine",
    "Word",
]
