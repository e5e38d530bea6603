"""How a voice sounds, in two numbers, so "no two voices alike" can be checked.

Measured with Praat (``praat-parselmouth``) on the same text for every voice:

* **median pitch**: the median F0 of voiced frames, in Hz (and semitones re 100 Hz);
* **timbre**: the mean of 12 mel-frequency cepstral coefficients (c1..c12) over the
  clip, the usual compact description of spectral envelope: vocal-tract size,
  brightness and breathiness all move it. Distances between voices are Euclidean
  distances between these vectors; the same voice rendered twice on the same text lands
  within about 5 of itself (Piper's sampling noise), different texts move it by tens.

Two voices count as alike when their median pitches are within ``MIN_PITCH_ST`` and
their timbres within ``MIN_TIMBRE``; the catalog's 13 voices must have no such pair.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

__all__ = ["MIN_PITCH_ST", "MIN_TIMBRE", "Voiceprint", "alike_pairs", "measure", "nearest"]

#: semitones of median pitch that make two otherwise similar voices distinct
MIN_PITCH_ST = 2.0
#: MFCC-mean distance that makes two voices of similar pitch distinct (4x the re-render noise)
MIN_TIMBRE = 20.0


@dataclass(frozen=True)
class Voiceprint:
    name: str
    median_hz: float
    #: spread of pitch around its median (standard deviation, semitones): intonation
    movement_st: float
    mfcc: np.ndarray
    seconds: float

    @property
    def median_st(self) -> float:
        return 12 * float(np.log2(self.median_hz / 100.0))

    def pitch_gap(self, other: Voiceprint) -> float:
        return abs(self.median_st - other.median_st)

    def timbre_gap(self, other: Voiceprint) -> float:
        return float(np.linalg.norm(self.mfcc - other.mfcc))

    def alike(self, other: Voiceprint) -> bool:
        return self.pitch_gap(other) < MIN_PITCH_ST and self.timbre_gap(other) < MIN_TIMBRE


def measure(name: str, samples: np.ndarray, rate: int) -> Voiceprint:
    import parselmouth

    sound = parselmouth.Sound(np.asarray(samples, dtype=np.float64), rate)
    f0 = sound.to_pitch(pitch_floor=60, pitch_ceiling=500).selected_array["frequency"]
    voiced = f0[f0 > 0]
    if len(voiced) == 0:
        raise ValueError(f"{name}: no voiced frames")
    semitones = 12 * np.log2(voiced / 100.0)
    mfcc = sound.to_mfcc(number_of_coefficients=12).to_array()[1:13].mean(axis=1)
    return Voiceprint(
        name=name,
        median_hz=float(np.median(voiced)),
        movement_st=float(np.std(semitones)),
        mfcc=mfcc,
        seconds=len(samples) / rate,
    )


def nearest(prints: list[Voiceprint]) -> dict[str, tuple[Voiceprint, float, float]]:
    """Each voice's closest other voice, by pitch gap plus timbre gap scaled to the same bar."""
    out = {}
    for p in prints:
        others = [q for q in prints if q is not p]
        q = min(others, key=lambda o: p.pitch_gap(o) / MIN_PITCH_ST + p.timbre_gap(o) / MIN_TIMBRE)
        out[p.name] = (q, p.pitch_gap(q), p.timbre_gap(q))
    return out


def alike_pairs(prints: list[Voiceprint]) -> list[tuple[str, str]]:
    return [(a.name, b.name) for a, b in itertools.combinations(prints, 2) if a.alike(b)]
