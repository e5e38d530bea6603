"""Voice activity detection with Silero VAD v6, the ONNX file that ships inside faster-whisper.

faster-whisper only runs the model over a whole recording; realtime sessions need it
frame by frame as audio arrives, so this wraps the same ONNX graph as a stream: each
32 ms frame (512 samples at 16 kHz) is fed with the 64 samples before it and the LSTM
state the previous frame left, which is exactly what the batched call does row by row.
No torch, no download: the file is located through faster-whisper's assets folder.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np

from playground.backend.assets import AssetMissingError
from playground.backend.engines.base import VADEngine, VADStream

__all__ = ["SileroVAD", "model_path"]

_FRAME = 512
_CONTEXT = 64
_STATE_SHAPE = (1, 1, 128)


def model_path() -> Path:
    try:
        from faster_whisper.utils import get_assets_path
    except ImportError as e:
        raise AssetMissingError("Silero VAD ships inside faster-whisper: pip install faster-whisper") from e
    path = Path(get_assets_path()) / "silero_vad_v6.onnx"
    if not path.is_file():
        raise AssetMissingError(f"Silero VAD model not found at {path}; reinstall faster-whisper")
    return path


class _Stream(VADStream):
    def __init__(self, engine: SileroVAD):
        self._engine = engine
        self._h = np.zeros(_STATE_SHAPE, np.float32)
        self._c = np.zeros(_STATE_SHAPE, np.float32)
        self._context = np.zeros(_CONTEXT, np.float32)
        self._pending = np.zeros(0, np.float32)

    def feed(self, samples: np.ndarray) -> np.ndarray:
        x = np.concatenate([self._pending, np.asarray(samples, np.float32).reshape(-1)])
        n = len(x) // _FRAME
        self._pending = x[n * _FRAME :]
        if n == 0:
            return np.zeros(0, np.float32)
        frames = x[: n * _FRAME].reshape(n, _FRAME)
        # each row carries the 64 samples that precede it, as faster-whisper's batch does
        before = np.concatenate([self._context[None, :], frames[:-1, -_CONTEXT:]], axis=0)
        rows = np.concatenate([before, frames], axis=1)
        self._context = frames[-1, -_CONTEXT:].copy()
        probs, self._h, self._c = self._engine.run(rows, self._h, self._c)
        return np.asarray(probs, np.float32).reshape(-1)


class SileroVAD(VADEngine):
    """One ONNX session shared by every stream (onnxruntime's ``run`` is thread-safe)."""

    sample_rate = 16000
    frame_samples = _FRAME

    def __init__(self, path: str | Path | None = None):
        self._path = Path(path) if path else None
        self._session: Any = None
        self._lock = threading.Lock()

    def load(self) -> None:
        if self._session is not None:
            return
        with self._lock:
            if self._session is None:
                import onnxruntime as ort

                opts = ort.SessionOptions()
                opts.intra_op_num_threads = 1  # a frame is tiny; more threads only add overhead
                opts.inter_op_num_threads = 1
                opts.log_severity_level = 4
                opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
                self._session = ort.InferenceSession(
                    str(self._path or model_path()), providers=["CPUExecutionProvider"], sess_options=opts
                )

    def run(self, rows: np.ndarray, h: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        self.load()
        probs, h, c = self._session.run(None, {"input": rows, "h": h, "c": c})
        return probs, h, c

    def stream(self) -> VADStream:
        return _Stream(self)
