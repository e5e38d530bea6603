"""onnxruntime settings shared by the ONNX engines (Piper, Kokoro)."""

from __future__ import annotations

import os
from typing import Any

__all__ = ["default_threads", "session_options"]


def default_threads() -> int:
    """Intra-op threads: at most 2, since other engines share the machine's cores."""
    return max(1, min(2, os.cpu_count() or 1))


def session_options(threads: int) -> Any:
    """Small fixed thread pool without busy-waiting, so idle workers leave the other core free."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # spinning threads burn a whole core between calls and slow down concurrent engines
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return opts
