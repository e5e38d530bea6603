"""Waveform and spectrogram figures built from real signals."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from playground.core.plots import spectrogram_figure, waveform_figure

RATE = 24_000


def tone(freq: float, seconds: float, rate: int = RATE, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def test_waveform_trace_axes_and_layout() -> None:
    audio = tone(440, 2.0)
    fig = waveform_figure(audio, RATE, title="Take 1", color="#123456")
    assert isinstance(fig, go.Figure)
    [trace] = fig.data
    assert isinstance(trace, go.Scatter)
    assert trace.line.color == "#123456"
    assert tuple(fig.layout.xaxis.range) == pytest.approx((0, 2.0))
    assert tuple(fig.layout.yaxis.range) == (-1, 1)
    assert fig.layout.height == 180 and fig.layout.showlegend is False
    assert fig.layout.title.text == "Take 1"
    x = np.asarray(trace.x)
    assert x[0] == 0 and 1.99 < x[-1] <= 2.0


def test_waveform_downsampling_caps_points_and_keeps_the_envelope() -> None:
    audio = tone(50, 60.0, amplitude=0.8)  # 1.44 M samples
    audio[RATE * 30] = -0.99  # a one-sample click must survive downsampling
    fig = waveform_figure(audio, RATE, max_points=1000)
    y = np.asarray(fig.data[0].y)
    x = np.asarray(fig.data[0].x)
    assert len(y) <= 1000 and len(x) == len(y)
    assert y.min() == pytest.approx(-0.99) and y.max() == pytest.approx(0.8, abs=1e-3)
    assert np.all(np.diff(x) >= 0)
    assert x[-1] == pytest.approx(60.0, abs=1e-3)
    assert tuple(fig.layout.xaxis.range) == pytest.approx((0, 60.0))


def test_waveform_short_audio_is_drawn_sample_by_sample() -> None:
    audio = np.array([0.0, 0.5, -0.5, 0.25], dtype=np.float32)
    fig = waveform_figure(audio, 8000)
    np.testing.assert_allclose(np.asarray(fig.data[0].y), audio)
    np.testing.assert_allclose(np.asarray(fig.data[0].x), np.arange(4) / 8000, rtol=1e-6)


def test_stereo_is_mixed_to_mono() -> None:
    left, right = tone(440, 0.1), -tone(440, 0.1)
    stereo = np.column_stack([left, right])
    fig = waveform_figure(stereo, RATE)
    assert np.abs(np.asarray(fig.data[0].y)).max() == 0  # opposite phases cancel
    spec = spectrogram_figure(np.column_stack([left, left]), RATE)
    assert isinstance(spec.data[0], go.Heatmap)


@pytest.mark.parametrize("make", [waveform_figure, spectrogram_figure])
def test_empty_audio_gives_a_no_audio_figure(make) -> None:
    for empty in (np.zeros(0, dtype=np.float32), np.zeros((0, 2), dtype=np.float32)):
        fig = make(empty, RATE)
        assert len(fig.data) == 0
        assert [a.text for a in fig.layout.annotations] == ["no audio"]


def test_spectrogram_peak_is_at_the_tone_frequency() -> None:
    fig = spectrogram_figure(tone(1000, 1.5), RATE, title="spec")
    [trace] = fig.data
    assert isinstance(trace, go.Heatmap)
    z, y, x = np.asarray(trace.z), np.asarray(trace.y), np.asarray(trace.x)
    assert z.shape == (len(y), len(x))
    assert z.max() == pytest.approx(0) and z.min() >= -80
    peak_hz = y[np.argmax(z.mean(axis=1))]
    assert abs(peak_hz - 1000) <= RATE / 512
    assert y[-1] <= 8000 and y[0] == 0
    assert tuple(fig.layout.xaxis.range) == pytest.approx((0, 1.5))
    assert 0 < x[0] < x[-1] <= 1.5
    assert fig.layout.height == 220 and trace.colorscale is not None


def test_spectrogram_short_audio_and_low_sample_rate() -> None:
    short = tone(440, 0.005)  # 120 samples < n_fft
    fig = spectrogram_figure(short, RATE)
    z = np.asarray(fig.data[0].z)
    assert z.shape[1] == 1
    assert tuple(fig.layout.xaxis.range) == pytest.approx((0, 0.005))
    # max_freq above Nyquist is capped at Nyquist
    low = spectrogram_figure(tone(440, 0.5, rate=8000), 8000, max_freq=20_000)
    assert np.asarray(low.data[0].y)[-1] == 4000


def test_spectrogram_silence_is_all_floor() -> None:
    z = np.asarray(spectrogram_figure(np.zeros(RATE, dtype=np.float32), RATE).data[0].z)
    assert np.all(z == -80)


def test_spectrogram_long_audio_is_capped_in_frames() -> None:
    fig = spectrogram_figure(tone(300, 120.0), RATE, max_frames=500)
    x = np.asarray(fig.data[0].x)
    assert len(x) <= 500
    assert x[-1] <= 120.0 and x[-1] > 119.0


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="sample_rate"):
        waveform_figure(tone(440, 0.1), 0)
    with pytest.raises(ValueError, match="channels"):
        spectrogram_figure(np.zeros((2, 2, 2)), RATE)


def test_run_trace_marks_each_moment_and_each_chunk():
    from playground.core.plots import run_trace_figure

    fig = run_trace_figure({"ttfb_ms": 30.0, "total_ms": 400.0, "chunks": [[30.0, 4096], [80.0, 8000]]})
    steps, chunks = fig.data[1], fig.data[2]
    assert list(steps.x) == [0, 30.0, 400.0] and list(steps.text) == ["sent", "first byte", "done"]
    assert list(chunks.x) == [30.0, 80.0] and list(chunks.customdata) == [4096, 8000]


def test_word_timeline_draws_every_word_under_the_waveform():
    import numpy as np

    from playground.core.plots import word_timeline_figure

    words = [(0.1, 0.4, "ask"), (0.45, 0.7, "not"), (0.8, 1.6, "what")]
    fig = word_timeline_figure(np.zeros(16000, np.float32), 16000, words)
    labels = fig.data[-1]
    assert list(labels.text) == ["ask", "not", "what"] and len(fig.layout.shapes) == 3
    assert fig.layout.xaxis.range[1] >= 1.6  # a word past the audio's end still shows


def test_event_timeline_puts_each_event_on_its_family_lane():
    from playground.core.plots import event_timeline_figure

    events = [(0.0, "session.created"), (120.0, "input_audio_buffer.speech_started"),
              (900.0, "input_audio_buffer.speech_stopped"), (950.0, "response.created"),
              (1200.0, "response.output_audio.delta"), (1240.0, "response.output_audio.delta"),
              (1500.0, "response.done"), (1600.0, "something.new")]  # fmt: skip
    fig = event_timeline_figure(events, marks={"speech ends": 900.0})
    lanes = {trace.name: list(trace.x) for trace in fig.data}
    assert lanes["input audio"] == [120.0, 900.0]
    assert lanes["audio out"] == [1200.0, 1240.0]
    assert lanes["response"] == [950.0, 1500.0] and lanes["other"] == [1600.0]
    assert sum(len(xs) for xs in lanes.values()) == len(events)
    assert fig.layout.shapes[0].x0 == 900.0


def test_stage_figure_draws_each_stage_from_its_start():
    from playground.core.plots import stage_figure

    rows = [("pipeline", "listen", 0, 500), ("pipeline", "think", 500, 1300), ("realtime", "listen", 0, 500)]
    fig = stage_figure(rows)
    bars = [(t.y[0], t.name, t.base[0], t.x[0]) for t in fig.data]
    assert bars == [("pipeline", "listen", 0, 500), ("pipeline", "think", 500, 800), ("realtime", "listen", 0, 500)]
    assert [t.showlegend for t in fig.data] == [True, True, False]  # one legend entry per stage


def test_audio_grid_has_a_waveform_and_a_spectrogram_per_clip():
    from playground.core.plots import audio_grid_figure

    t = np.arange(RATE) / RATE
    clips = [("low", np.sin(2 * np.pi * 200 * t).astype(np.float32), RATE),
             ("short", np.sin(2 * np.pi * 2000 * t[: RATE // 2]).astype(np.float32), RATE)]  # fmt: skip
    fig = audio_grid_figure(clips)
    kinds = [type(trace) for trace in fig.data]
    assert kinds == [go.Scatter, go.Heatmap, go.Scatter, go.Heatmap]
    assert not any(trace.showscale for trace in fig.data if isinstance(trace, go.Heatmap))
    assert tuple(fig.layout.xaxis.range) == (0, 1.0)  # the longest clip sets the shared axis
