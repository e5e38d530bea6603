"""Small signal tools for shaping local TTS output."""

from __future__ import annotations

import numpy as np

__all__ = ["time_stretch"]


def time_stretch(samples: np.ndarray, factor: float, rate: int) -> np.ndarray:
    """Change duration by ``factor`` (>1 longer) keeping pitch: WSOLA.

    Overlap-adds 40 ms Hann frames at a fixed output hop, taking each input frame
    where it best continues the previous one (searched within ±10 ms), which avoids
    the phasing of plain overlap-add. Used only for the part of a speed request an
    engine cannot honour itself.
    """
    x = np.asarray(samples, dtype=np.float32)
    win = max(64, int(0.040 * rate))
    if abs(factor - 1.0) < 1e-3 or len(x) < 2 * win:
        return x
    hop_out = win // 2
    hop_in = hop_out / factor
    tol = int(0.010 * rate)
    window = np.hanning(win).astype(np.float32)
    n_frames = int((len(x) - win - tol) / hop_in)
    if n_frames < 2:
        return x
    padded = np.concatenate([x, np.zeros(win + 2 * tol, np.float32)])
    out = np.zeros(n_frames * hop_out + win, np.float32)
    norm = np.zeros_like(out)
    prev_end = 0  # where the natural continuation of the last frame starts in the input
    for i in range(n_frames):
        target = int(i * hop_in)
        if i == 0:
            start = 0
        else:
            lo = max(0, target - tol)
            region = padded[lo : lo + win + 2 * tol]
            ref = padded[prev_end : prev_end + win]
            scores = np.correlate(region, ref, mode="valid")
            start = lo + int(np.argmax(scores))
        frame = padded[start : start + win]
        pos = i * hop_out
        out[pos : pos + win] += frame * window
        norm[pos : pos + win] += window
        prev_end = start + hop_out
    out /= np.maximum(norm, 1e-3)
    return out[: int(len(x) * factor)]
