"""Signal tools for shaping local TTS output, on FFmpeg's filters through PyAV."""

from __future__ import annotations

import numpy as np

__all__ = ["DENOISE_CHAINS", "denoise", "denoise_chain", "time_stretch"]

#: one atempo stage accepts tempos in this range; larger changes chain stages
_ATEMPO_RANGE = (0.5, 2.0)
#: silence appended before stretching (seconds), then trimmed to the exact length
_TAIL_S = 0.1


def _atempo_stages(tempo: float) -> list[float]:
    stages = []
    while tempo < _ATEMPO_RANGE[0]:
        stages.append(_ATEMPO_RANGE[0])
        tempo /= _ATEMPO_RANGE[0]
    while tempo > _ATEMPO_RANGE[1]:
        stages.append(_ATEMPO_RANGE[1])
        tempo /= _ATEMPO_RANGE[1]
    return [*stages, tempo]


def time_stretch(samples: np.ndarray, factor: float, rate: int) -> np.ndarray:
    """Change duration by ``factor`` (>1 longer) keeping pitch, with FFmpeg's ``atempo``.

    atempo is a WSOLA time-scale modifier; it is used only for the part of a speed
    request an engine cannot honour itself (e.g. 4x on an engine that stops at 2x).
    """
    x = np.ascontiguousarray(samples, dtype=np.float32).reshape(-1)
    if abs(factor - 1.0) < 1e-3 or len(x) == 0:
        return x
    target = round(len(x) * factor)
    # atempo drops its last partial window: feed a little silence so no speech is lost
    x = np.concatenate([x, np.zeros(int(_TAIL_S * rate), np.float32)])
    y = _run_filters(x, rate, [("atempo", f"{tempo:.6f}") for tempo in _atempo_stages(1.0 / factor)])
    return y[:target] if len(y) >= target else np.concatenate([y, np.zeros(target - len(y), np.float32)])


#: FFmpeg filter chains per realtime ``noise_reduction`` type: a close microphone gets a
#: gentle FFT denoiser; a far one (laptop, conference room) a stronger one and a higher
#: high-pass for the room rumble it picks up
DENOISE_CHAINS: dict[str, list[tuple[str, str]]] = {
    "near_field": [("highpass", "f=80"), ("afftdn", "nr=12:nf=-50:nt=w")],
    "far_field": [("highpass", "f=120"), ("afftdn", "nr=20:nf=-42:nt=w")],
}


#: afftdn's range for the amount of reduction (dB)
_NR_RANGE = (0.01, 97.0)


def denoise_chain(kind: str, strength: float = 1.0) -> list[tuple[str, str]]:
    """The filter chain for ``kind`` with its reduction (``afftdn``'s ``nr``, in dB) scaled by
    ``strength`` (the realtime ``noise_reduction.strength``; 1 = the chain as listed)."""
    out = []
    for name, args in DENOISE_CHAINS[kind]:
        if name == "afftdn":
            opts = dict(part.split("=", 1) for part in args.split(":"))
            nr = min(max(float(opts["nr"]) * strength, _NR_RANGE[0]), _NR_RANGE[1])
            opts["nr"] = f"{nr:g}"
            args = ":".join(f"{k}={v}" for k, v in opts.items())
        out.append((name, args))
    return out


def denoise(samples: np.ndarray, rate: int, kind: str, strength: float = 1.0) -> np.ndarray:
    """Reduce steady background noise with FFmpeg's ``afftdn``; the length is kept.

    ``strength`` scales the amount of reduction (2 = twice the dB of ``DENOISE_CHAINS``).
    """
    x = np.ascontiguousarray(samples, dtype=np.float32).reshape(-1)
    if len(x) == 0:
        return x
    y = _run_filters(x, rate, denoise_chain(kind, strength))
    return y[: len(x)] if len(y) >= len(x) else np.concatenate([y, np.zeros(len(x) - len(y), np.float32)])


def _run_filters(x: np.ndarray, rate: int, chain: list[tuple[str, str]]) -> np.ndarray:
    """Push mono float32 samples through an FFmpeg audio filter chain and collect the output."""
    import av
    from av.filter import Graph

    graph = Graph()
    node = graph.add_abuffer(format="flt", sample_rate=rate, layout="mono", channels=1)
    for name, args in chain:
        stage = graph.add(name, args)
        node.link_to(stage)
        node = stage
    sink = graph.add("abuffersink")
    node.link_to(sink)
    graph.configure()
    frame = av.AudioFrame.from_ndarray(x.reshape(1, -1), format="flt", layout="mono")
    frame.sample_rate = rate
    graph.push(frame)
    graph.push(None)
    out: list[np.ndarray] = []
    while True:
        try:
            out.append(graph.pull().to_ndarray().reshape(-1))
        except (av.error.EOFError, av.error.BlockingIOError):
            break
    return np.concatenate(out).astype(np.float32, copy=False) if out else np.zeros(0, np.float32)
