"""Engine interfaces: the only thing routes know about models.

Each interface is one to three methods so a better model drops in without touching
routes. Engines are plain synchronous objects; the backend runs them in worker threads
(CPU work never blocks the event loop) and holds one instance per model, created
lazily by the manager. Implementations must be safe to call from several threads at
once or serialise themselves with a lock.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "SHAPES",
    "ChatDelta",
    "EngineBusyError",
    "LLMEngine",
    "ReaderStalledError",
    "STTEngine",
    "STTOptions",
    "STTResult",
    "Segment",
    "TTSEngine",
    "VADEngine",
    "VADStream",
    "VoiceShape",
    "Word",
]

#: every ``VoiceShape`` field an engine may render itself
SHAPES = frozenset({"pitch", "formant", "intonation", "breath"})


@dataclass(frozen=True, slots=True)
class VoiceShape:
    """How a voice departs from its engine's stock speaker. Neutral values change nothing.

    Engines list the fields they render in ``TTSEngine.shapes``; the synthesizer does
    ``pitch`` itself (by resampling, which moves formants too) for engines that cannot,
    and the catalog may only ask an engine for the other fields when it lists them.
    """

    #: semitones; formant-preserving where the engine renders it
    pitch: float = 0.0
    #: semitones of vocal-tract scaling: negative sounds larger (deeper timbre), positive smaller
    formant: float = 0.0
    #: multiplier of pitch movement around the speaker's median (1 = as trained, >1 livelier)
    intonation: float = 1.0
    #: dB added to the breath (noise) component
    breath: float = 0.0

    @property
    def neutral(self) -> bool:
        return self == VoiceShape()


class TTSEngine(ABC):
    """Text to float32 mono samples at ``sample_rate``, one sentence-sized chunk at a time."""

    #: native sample rate of the samples ``synthesize`` returns (Hz)
    sample_rate: int
    #: the length scales the engine honours; callers time-stretch beyond them
    length_scale_range: tuple[float, float] = (0.1, 10.0)
    #: the ``VoiceShape`` fields this engine renders itself (see ``SHAPES``)
    shapes: frozenset[str] = frozenset()

    @abstractmethod
    def synthesize(
        self, text: str, *, speaker: str, length_scale: float = 1.0, shape: VoiceShape | None = None
    ) -> np.ndarray:
        """Speak ``text`` (a sentence or short paragraph) with a named speaker.

        ``length_scale`` > 1 is slower speech, < 1 faster (1 / speed). ``shape`` fields the
        engine does not list in ``shapes`` are ignored. Returns float32 samples in [-1, 1],
        shape (n,).
        """

    @abstractmethod
    def speakers(self) -> list[str]:
        """Speaker names this engine accepts."""

    def warm(self) -> None:
        """Load the model and run one short sentence, so the next call is as fast as any."""
        self.synthesize("Ready.", speaker=self.speakers()[0])


@dataclass(slots=True)
class Word:
    start: float
    end: float
    word: str
    probability: float = 1.0


@dataclass(slots=True)
class Segment:
    id: int
    start: float
    end: float
    text: str
    avg_logprob: float = 0.0
    no_speech_prob: float = 0.0
    compression_ratio: float = 1.0
    temperature: float = 0.0
    tokens: list[int] = field(default_factory=list)
    words: list[Word] = field(default_factory=list)
    #: who speaks (diarized output): "A", "B"… by channel; None: one voice
    speaker: str | None = None


@dataclass(slots=True)
class STTOptions:
    """Per-call knobs, mirroring the API's form fields."""

    #: ISO-639-1 code, or None to detect
    language: str | None = None
    #: text that biases vocabulary and spelling (Whisper's initial prompt)
    prompt: str | None = None
    #: 0 = greedy; the API allows 0..1
    temperature: float = 0.0
    #: compute per-word timestamps (slower)
    word_timestamps: bool = False
    #: "transcribe" or "translate" (to English)
    task: str = "transcribe"
    #: words or phrases to listen for (the API's ``keywords``; Whisper's ``hotwords`` prompt)
    keywords: tuple[str, ...] = ()
    #: the languages the audio may be in (the API's ``languages``): detection picks the most
    #: likely of these; one is used as ``language``
    languages: tuple[str, ...] = ()
    #: retry at higher temperatures when a decode looks like a failure loop (Whisper's ladder);
    #: off where a fast answer beats a second try (live translation, phrase by phrase)
    fallback: bool = True
    #: set when the caller no longer wants the text (a speculative decode the speaker talked
    #: over): the engine stops before its next window, or before starting
    cancel: threading.Event | None = None
    #: how many seconds after the call the text is due: a live transcript that asked for a
    #: long delay lets one that asked for a short delay go first (``CpuSlots`` deadlines)
    due_s: float = 0.0


@dataclass(slots=True)
class STTResult:
    """Eager metadata; ``segments`` is a lazy iterator so text can stream as decoded."""

    language: str
    duration: float
    segments: Iterator[Segment]


class STTEngine(ABC):
    #: the sample rate ``transcribe`` expects (Hz)
    sample_rate: int = 16000

    @abstractmethod
    def transcribe(self, audio: np.ndarray, options: STTOptions) -> STTResult:
        """Transcribe float32 mono samples at ``sample_rate``."""


@dataclass(slots=True)
class ChatDelta:
    """One streamed piece of a chat reply: text, or the end with token counts."""

    text: str = ""
    finish_reason: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0


class EngineBusyError(RuntimeError):
    """The engine's queue is full; the caller should retry later (HTTP 429)."""


class ReaderStalledError(TimeoutError):
    """The reply's reader took nothing for the stall limit, so its generation was cancelled
    (the sequence it held goes to someone who reads)."""


class LLMEngine(ABC):
    @abstractmethod
    def chat(
        self,
        messages: list[dict],
        *,
        max_tokens: int = 256,
        temperature: float = 0.7,
        schema: dict | None = None,
    ) -> Iterator[ChatDelta]:
        """Stream a reply to OpenAI-shaped ``messages`` (role/content strings).

        The last delta has ``finish_reason`` set and the token counts. Generation never
        waits on the reader, and closing the iterator early stops it. May raise
        ``EngineBusyError`` when too many requests are already waiting. With ``schema``
        (a JSON Schema) the reply is JSON that the schema accepts: small models cannot
        be trusted to follow a format, so engines constrain sampling rather than hope.
        """


class VADStream(ABC):
    """One audio stream's detector state (a session's microphone)."""

    @abstractmethod
    def feed(self, samples: np.ndarray) -> np.ndarray:
        """Float32 samples at the engine's rate in; one speech probability per whole
        frame completed so far out (leftover samples wait for the next call)."""


class VADEngine(ABC):
    """Speech probability per fixed-size frame; the model is shared, state is per stream."""

    sample_rate: int = 16000
    #: samples per frame the probabilities refer to
    frame_samples: int = 512

    @abstractmethod
    def stream(self) -> VADStream:
        """A fresh detector state for a new audio stream."""
