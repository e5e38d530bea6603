"""Small plotly figures of audio: a waveform envelope and a dB spectrogram.

Both are computed with numpy only and kept light enough to send to a browser: the waveform
is reduced to a min/max envelope and the spectrogram to a bounded number of frames, so an
hour of audio costs about as much as a few seconds.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import plotly.graph_objects as go

__all__ = [
    "DEFAULT_COLOR",
    "audio_grid_figure",
    "event_timeline_figure",
    "run_trace_figure",
    "spectrogram_figure",
    "stage_figure",
    "waveform_figure",
    "word_timeline_figure",
]

DEFAULT_COLOR = "#7c3aed"
FLOOR_DB = -80.0


def _mono(samples: np.ndarray) -> np.ndarray:
    """float32 mono from (n,) or (n, channels) audio."""
    data = np.asarray(samples)
    if data.ndim == 2:
        data = data.mean(axis=1) if data.shape[1] else np.zeros(data.shape[0])
    elif data.ndim != 1:
        raise ValueError(f"expected audio shaped (n,) or (n, channels), got {data.shape}")
    return data.astype(np.float32, copy=False)


def _check_rate(sample_rate: int) -> None:
    if not sample_rate > 0:
        raise ValueError(f"sample_rate must be positive, got {sample_rate}")


def _layout(fig: go.Figure, *, title: str, height: int, duration: float) -> go.Figure:
    fig.update_layout(
        title={"text": title, "font": {"size": 13}} if title else None,
        height=height,
        margin={"l": 50, "r": 10, "t": 30 if title else 10, "b": 35},
        showlegend=False,
        template="plotly_white",
    )
    fig.update_xaxes(title_text="seconds", range=[0, duration])
    return fig


def _no_audio(title: str, height: int) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text="no audio", showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
    _layout(fig, title=title, height=height, duration=1.0)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def waveform_figure(
    samples: np.ndarray,
    sample_rate: int,
    *,
    title: str = "",
    max_points: int = 4000,
    color: str = DEFAULT_COLOR,
) -> go.Figure:
    """Amplitude over time; long audio is drawn as a min/max envelope of at most ``max_points``."""
    _check_rate(sample_rate)
    if max_points < 2:
        raise ValueError(f"max_points must be at least 2, got {max_points}")
    mono = _mono(samples)
    n = len(mono)
    if n == 0:
        return _no_audio(title, 180)
    if n <= max_points:
        x = np.arange(n, dtype=np.float64) / sample_rate
        y = mono
    else:
        # each bucket contributes its min and max, at its first and last sample time
        buckets = max_points // 2
        edges = np.linspace(0, n, buckets + 1).astype(np.int64)
        lows = np.minimum.reduceat(mono, edges[:-1])
        highs = np.maximum.reduceat(mono, edges[:-1])
        x = np.column_stack([edges[:-1], edges[1:] - 1]).ravel() / sample_rate
        y = np.column_stack([lows, highs]).ravel()
    fig = go.Figure(
        go.Scatter(
            x=x.astype(np.float32),
            y=y,
            mode="lines",
            line={"color": color, "width": 1},
            hovertemplate="%{x:.2f} s<br>%{y:.3f}<extra></extra>",
        )
    )
    _layout(fig, title=title, height=180, duration=n / sample_rate)
    fig.update_yaxes(title_text="amplitude", range=[-1, 1], zeroline=True)
    return fig


def spectrogram_figure(
    samples: np.ndarray,
    sample_rate: int,
    *,
    title: str = "",
    n_fft: int = 512,
    hop: int | None = None,
    max_freq: float = 8000,
    max_frames: int = 1000,
    colorscale: str = "Magma",
) -> go.Figure:
    """Short-time Fourier magnitude in dB (0 = loudest, floored at -80) over time and frequency.

    Uses a Hann window and ``hop = n_fft // 4`` by default; the hop grows when needed so at most
    ``max_frames`` columns are drawn. Audio shorter than ``n_fft`` is zero-padded to one frame.
    """
    _check_rate(sample_rate)
    if n_fft < 2:
        raise ValueError(f"n_fft must be at least 2, got {n_fft}")
    if hop is not None and hop < 1:
        raise ValueError(f"hop must be at least 1, got {hop}")
    if max_frames < 1:
        raise ValueError(f"max_frames must be at least 1, got {max_frames}")
    mono = _mono(samples)
    n = len(mono)
    if n == 0:
        return _no_audio(title, 220)

    hop = hop or max(1, n_fft // 4)
    if n > n_fft and max_frames > 1:
        hop = max(hop, math.ceil((n - n_fft) / (max_frames - 1)))
    frames = 1 + max(0, math.ceil((n - n_fft) / hop))
    padded = np.zeros(n_fft + (frames - 1) * hop, dtype=np.float32)
    padded[:n] = mono
    windows = np.lib.stride_tricks.sliding_window_view(padded, n_fft)[::hop][:frames]
    magnitude = np.abs(np.fft.rfft(windows * np.hanning(n_fft).astype(np.float32), axis=1))

    ref = max(float(magnitude.max()), 1e-12)
    db = 20 * np.log10(np.maximum(magnitude, ref * 10 ** (FLOOR_DB / 20)) / ref)
    freqs = np.fft.rfftfreq(n_fft, 1 / sample_rate)
    keep = freqs <= min(max_freq, sample_rate / 2)
    duration = n / sample_rate
    # frame centres; a lone zero-padded frame is drawn over the audio it actually holds
    times = np.minimum((np.arange(frames) * hop + n_fft / 2) / sample_rate, duration)
    if frames == 1:
        times = np.array([duration / 2])

    fig = go.Figure(
        go.Heatmap(
            x=times.astype(np.float32),
            y=freqs[keep].astype(np.float32),
            z=np.rint(db[:, keep].T).astype(np.int8),  # whole dB are plenty and 4x lighter to send
            zmin=FLOOR_DB,
            zmax=0,
            colorscale=colorscale,
            colorbar={"title": {"text": "dB"}, "thickness": 10},
            hovertemplate="%{x:.2f} s<br>%{y:.0f} Hz<br>%{z:.0f} dB<extra></extra>",
        )
    )
    _layout(fig, title=title, height=220, duration=duration)
    fig.update_yaxes(title_text="Hz", range=[0, float(freqs[keep][-1])])
    return fig


def word_timeline_figure(
    samples: np.ndarray,
    sample_rate: int,
    words: list[tuple[float, float, str]],
    *,
    title: str = "",
    rows: int = 3,
) -> go.Figure:
    """The waveform with each transcribed word drawn under it as a bar from its start to
    its end, staggered over ``rows`` lanes so neighbours do not overlap."""
    fig = waveform_figure(samples, sample_rate, title=title)
    duration = len(_mono(samples)) / sample_rate if len(samples) else 1.0
    lane_y = [-1.25 - 0.3 * k for k in range(rows)]
    for i, (start, end, _) in enumerate(words):
        y = lane_y[i % rows]
        fig.add_shape(
            type="rect", x0=start, x1=max(end, start + 0.02), y0=y - 0.12, y1=y + 0.12,
            line={"width": 0}, fillcolor="rgba(124, 58, 237, 0.18)",
        )  # fmt: skip
    if words:
        fig.add_trace(
            go.Scatter(
                x=[(s + e) / 2 for s, e, _ in words],
                y=[lane_y[i % rows] for i in range(len(words))],
                text=[w for _, _, w in words],
                mode="text",
                textfont={"size": 11},
                customdata=[[s, e] for s, e, _ in words],
                hovertemplate="%{text}<br>%{customdata[0]:.2f}–%{customdata[1]:.2f} s<extra></extra>",
            )
        )
    fig.update_layout(height=180 + 28 * rows)
    fig.update_yaxes(range=[lane_y[-1] - 0.25, 1], tickvals=[-1, 0, 1])
    fig.update_xaxes(range=[0, max(duration, max((e for _, e, _ in words), default=0.0))])
    return fig


def run_trace_figure(timings: dict[str, Any], *, title: str = "Trace") -> go.Figure:
    """A run's timeline: request sent at 0, each recorded moment (ms) as a marked step, and
    under it each chunk of the response as it arrived (marker size ~ its bytes)."""
    steps = sorted(((k, float(v)) for k, v in timings.items() if isinstance(v, int | float)), key=lambda kv: kv[1])
    chunks = [(float(t), int(n)) for t, n in timings.get("chunks") or []]
    names = {"ttfb_ms": "first byte", "total_ms": "done", "heard_ms": "first heard"}
    fig = go.Figure()
    if steps:
        end = steps[-1][1]
        fig.add_trace(
            go.Bar(
                x=[end], y=["request"], base=[0], orientation="h", marker={"color": "rgba(124, 58, 237, 0.2)"},
                hovertemplate="request → done: %{x:.0f} ms<extra></extra>",
            )
        )  # fmt: skip
        fig.add_trace(
            go.Scatter(
                x=[0, *(v for _, v in steps)],
                y=["request"] * (len(steps) + 1),
                mode="markers+text",
                text=["sent", *(names.get(k, k.removesuffix("_ms")) for k, _ in steps)],
                textposition=["top center" if i % 2 == 0 else "bottom center" for i in range(len(steps) + 1)],
                marker={"size": 11, "color": DEFAULT_COLOR},
                hovertemplate="%{text}: %{x:.0f} ms<extra></extra>",
            )
        )
    if chunks:
        fig.add_trace(
            go.Scatter(
                x=[t for t, _ in chunks], y=["chunks"] * len(chunks), mode="markers",
                marker={"size": [max(5, min(16, 4 + n ** 0.5 / 12)) for _, n in chunks], "color": "#f59e0b"},
                customdata=[n for _, n in chunks], hovertemplate="%{x:.0f} ms: %{customdata} bytes<extra></extra>",
            )
        )  # fmt: skip
    fig.update_layout(
        title={"text": title, "font": {"size": 13}},
        height=200 if chunks else 170,
        showlegend=False,
        template="plotly_white",
        margin={"l": 60, "r": 20, "t": 30, "b": 35},
    )
    end = steps[-1][1] if steps else 1.0
    fig.update_xaxes(title_text="ms since the request was sent", range=[-0.08 * end, 1.12 * end])
    return fig


#: lanes of the realtime event timeline, by event-name prefix (first match wins)
_EVENT_LANES = (
    ("input_audio_buffer.", "input audio"),
    ("conversation.item.input_audio_transcription.", "transcription"),
    ("conversation.", "conversation"),
    ("response.output_audio.delta", "audio out"),
    ("response.output_audio_transcript.", "reply text"),
    ("response.output_text.", "reply text"),
    ("response.function_call_arguments.", "tool call"),
    ("response.", "response"),
    ("session.", "session"),
    ("error", "errors"),
)


def event_timeline_figure(
    events: list[tuple[float, str]], *, marks: dict[str, float] | None = None, title: str = "Events"
) -> go.Figure:
    """A realtime session as it happened: each server event a marker at its arrival time (ms),
    on a lane for its family (input audio, transcription, response, audio out…), with
    vertical lines at ``marks`` such as the end of the user's speech."""
    lanes: dict[str, list[tuple[float, str]]] = {}
    for t, kind in events:
        lane = next((name for prefix, name in _EVENT_LANES if kind.startswith(prefix)), "other")
        lanes.setdefault(lane, []).append((float(t), kind))
    order = [name for _, name in _EVENT_LANES if name in lanes] + (["other"] if "other" in lanes else [])
    order = list(dict.fromkeys(order))
    fig = go.Figure()
    for lane in reversed(order):
        points = lanes[lane]
        dense = lane == "audio out"  # one tick per audio delta
        fig.add_trace(
            go.Scatter(
                x=[t for t, _ in points],
                y=[lane] * len(points),
                mode="markers",
                name=lane,
                text=[k for _, k in points],
                marker={"size": 9 if dense else 10, "symbol": "line-ns-open" if dense else "circle"},
                hovertemplate="%{text}<br>%{x:.0f} ms<extra></extra>",
            )
        )
    end = max((t for t, _ in events), default=1.0)
    for label, at in (marks or {}).items():
        fig.add_vline(x=at, line={"dash": "dot", "color": "#64748b"}, annotation_text=label)
        end = max(end, at)
    fig.update_layout(
        title={"text": title, "font": {"size": 13}},
        height=90 + 34 * max(1, len(order)),
        showlegend=False,
        template="plotly_white",
        margin={"l": 110, "r": 20, "t": 40, "b": 35},
    )
    fig.update_xaxes(title_text="ms since the session opened", range=[-0.02 * end, 1.04 * end])
    return fig


def stage_figure(rows: list[tuple[str, str, float, float]], *, title: str = "Where the time goes") -> go.Figure:
    """Latency as stacked stages: each row a pipeline, each ``(row, stage, start_ms, end_ms)``
    a bar, so sequential and overlapping stages read at a glance."""
    fig = go.Figure()
    palette = ["#7c3aed", "#0ea5e9", "#f59e0b", "#10b981", "#ef4444", "#64748b"]
    colors: dict[str, str] = {}
    for row, stage, start, end in rows:
        color = colors.setdefault(stage, palette[len(colors) % len(palette)])
        fig.add_trace(
            go.Bar(
                x=[max(0.0, end - start)], y=[row], base=[start], orientation="h", name=stage,
                marker={"color": color}, legendgroup=stage, showlegend=stage not in {t.name for t in fig.data},
                hovertemplate=f"{stage}: %{{base:.0f}} → %{{x:.0f}} ms long<extra>{row}</extra>",
            )
        )  # fmt: skip
    fig.update_layout(
        title={"text": title, "font": {"size": 13}},
        barmode="overlay",
        height=150 + 40 * len({r for r, *_ in rows}),
        template="plotly_white",
        margin={"l": 170, "r": 20, "t": 80, "b": 45},
        legend={"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
    )
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(title_text="ms since the user stopped speaking")
    return fig


def audio_grid_figure(items: list[tuple[str, np.ndarray, int]], *, title: str = "") -> go.Figure:
    """Several clips one under another: waveform on the left, spectrogram on the right,
    on a shared time axis so lengths and pauses compare directly."""
    from plotly.subplots import make_subplots

    n = max(1, len(items))
    titles = [text for label, _, _ in items for text in (label, "")]  # over each waveform, read left to right
    fig = make_subplots(
        rows=n, cols=2, shared_xaxes=True, column_widths=[0.45, 0.55], horizontal_spacing=0.06,
        vertical_spacing=0.3 / n, subplot_titles=titles or None,
    )  # fmt: skip
    for annotation in fig.layout.annotations:
        annotation.update(x=0, xanchor="left", font={"size": 12})
    longest = 0.0
    for row, (_, samples, rate) in enumerate(items, start=1):
        longest = max(longest, len(_mono(samples)) / rate if len(samples) else 0.0)
        for trace in waveform_figure(samples, rate).data:
            fig.add_trace(trace, row=row, col=1)
        for trace in spectrogram_figure(samples, rate).data:
            if isinstance(trace, go.Heatmap):
                trace.showscale = False
            fig.add_trace(trace, row=row, col=2)
        fig.update_yaxes(range=[-1, 1], showticklabels=False, row=row, col=1)
        fig.update_yaxes(showticklabels=row == n, row=row, col=2)
    fig.update_xaxes(range=[0, longest or 1.0])
    fig.update_xaxes(title_text="seconds", row=n)
    fig.update_layout(
        title={"text": title, "font": {"size": 13}},
        height=80 + 150 * n,
        showlegend=False,
        template="plotly_white",
        margin={"l": 30, "r": 60, "t": 50 if title else 30, "b": 40},
    )
    return fig
