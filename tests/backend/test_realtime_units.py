"""The realtime building blocks on their own: streaming VAD, turn detection, G.711,
constrained LLM output and prefix reuse, transcript cutting."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from playground.backend.realtime.codecs import InputDecoder, OutputEncoder
from playground.backend.realtime.conversation import Entry, cut_transcript, llm_messages, parse_item
from playground.backend.realtime.protocol import RealtimeError
from playground.backend.realtime.turns import Paused, Resumed, Started, Stopped, TurnDetector, finished_thought
from tests.backend.realtime_support import clip

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop


@pytest.mark.models
def test_streaming_vad_matches_faster_whispers_batch_run():
    """Fed in uneven appends, the stream gives faster-whisper's own probabilities."""
    from faster_whisper.vad import get_vad_model

    from playground.backend.engines.silero_vad import SileroVAD

    x = clip("jfk.flac", 16000)
    x = x[: len(x) // 512 * 512]
    expected = get_vad_model()(x.copy()).reshape(-1)
    stream = SileroVAD().stream()
    got, i = [], 0
    for size in [700, 1900, 333, 4096, 10000] * 100:
        got.append(stream.feed(x[i : i + size]))
        i += size
        if i >= len(x):
            break
    probs = np.concatenate(got)
    assert len(probs) == len(expected)
    # faster-whisper zeroes the last frame's final 64 samples in place (its ``context[-1] = 0``
    # writes through a view), so only its last frame sees different audio
    np.testing.assert_allclose(probs[:-1], expected[:-1], atol=1e-4)
    assert probs.max() > 0.9 and probs[:5].max() < 0.5  # speech found; the first frames are quiet


def _feed(det: TurnDetector, probs: list[float]) -> list:
    out = []
    for i, p in enumerate(probs):
        out += det.feed(i * 32, (i + 1) * 32, p)
    return out


def test_turn_detector_pads_start_waits_silence_and_resumes():
    det = TurnDetector(threshold=0.5, prefix_padding_ms=300, silence_ms=320)
    events = _feed(det, [0.1] * 20 + [0.9] * 10 + [0.1] * 5 + [0.9] * 5 + [0.1] * 12)
    assert events[0] == Started(audio_start_ms=20 * 32 - 300, speech_ms=640)
    assert events[1] == Paused(30 * 32) and events[2] == Resumed(35 * 32)
    assert events[3] == Paused(40 * 32)
    assert events[4] == Stopped(audio_end_ms=40 * 32 + 320, speech_end_ms=40 * 32)
    assert not det.in_speech and det.floor_ms == 40 * 32 + 320
    # the next turn's padding never reaches back into the previous turn
    (nxt,) = det.feed(52 * 32, 53 * 32, 0.9)  # 300 ms of padding would start at 1364 ms
    assert nxt == Started(audio_start_ms=det.floor_ms, speech_ms=52 * 32) and det.floor_ms == 40 * 32 + 320
    det2 = TurnDetector(threshold=0.5, prefix_padding_ms=5000, silence_ms=320)
    assert _feed(det2, [0.9])[0].audio_start_ms == 0


def test_semantic_detector_waits_for_a_verdict():
    det = TurnDetector(threshold=0.5, prefix_padding_ms=0, silence_ms=None)
    events = _feed(det, [0.9] * 5 + [0.1] * 100)
    assert [type(e) for e in events] == [Started, Paused]  # no verdict, no end
    det.set_silence(200)
    assert isinstance(det.feed(105 * 32, 106 * 32, 0.1)[0], Stopped)


@pytest.mark.parametrize(
    ("text", "finished"),
    [
        ("Ask what you can do for your country.", True),
        ("What time is it?", True),
        ("And so my fellow Americans,", False),
        ("I was thinking that we could...", False),
        ("Let me check the weather and.", False),
        ("", False),
        ("Um", False),
    ],
)
def test_finished_thought(text, finished):
    assert finished_thought(text) is finished


def test_g711_round_trips_within_its_quantisation():
    t = np.arange(24000) / 24000
    tone = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    for fmt, decode in (("audio/pcmu", audioop.ulaw2lin), ("audio/pcma", audioop.alaw2lin)):
        enc = OutputEncoder(fmt)
        data = b"".join(enc.encode(tone[i : i + 960]) for i in range(0, len(tone), 960)) + enc.finish()
        assert abs(len(data) - 8000) <= 16  # one byte per 8 kHz sample
        back = InputDecoder(fmt)
        y = np.concatenate([back.decode(data[i : i + 160]) for i in range(0, len(data), 160)])
        lin = np.frombuffer(decode(data, 2), "<i2") / 32768
        assert np.corrcoef(lin[400:7600], np.sin(2 * np.pi * 440 * np.arange(400, 7600) / 8000))[0, 1] > 0.95
        assert 0 <= 24000 - len(y) < 1200 and np.abs(y[2000:20000]).max() > 0.4


def test_pcm16_decoder_carries_an_odd_byte():
    dec = InputDecoder("audio/pcm")
    data = (np.arange(10, dtype="<i2") * 1000).tobytes()
    parts = [dec.decode(data[:3]), dec.decode(data[3:8]), dec.decode(data[8:])]
    assert np.array_equal(np.concatenate(parts) * 32768, np.arange(10) * 1000)


def test_transcript_is_cut_where_the_listener_stopped():
    spans = [(0, 1000, "Hello there."), (1000, 3000, "The weather today is lovely and warm.")]
    assert cut_transcript(spans, 1000) == "Hello there."
    assert cut_transcript(spans, 2000) == "Hello there. The weather today"
    assert cut_transcript(spans, 0) == ""
    assert cut_transcript(spans, 3000).endswith("warm.")


def test_tool_results_join_the_turn_that_asked():
    user, _ = parse_item({"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Weather?"}]})
    call, _ = parse_item({"type": "function_call", "call_id": "c1", "name": "get_weather", "arguments": "{}"})
    out, _ = parse_item({"type": "function_call_output", "call_id": "c1", "output": '{"temperature_c": 18}'})
    messages = llm_messages("Be kind.", [Entry(item=user), Entry(item=call), Entry(item=out)])
    assert messages == [
        {"role": "system", "content": "Be kind."},
        {
            "role": "user",
            "content": "Weather?\n\n(get_weather says: temperature c: 18. Use these facts in the answer.)",
        },
    ]


def test_item_parsing_refuses_images_and_bad_roles():
    with pytest.raises(RealtimeError) as e:
        parse_item({"type": "message", "role": "user", "content": [{"type": "input_image", "image_url": "x"}]})
    assert e.value.code == "unsupported_content"
    with pytest.raises(RealtimeError) as e:
        parse_item({"type": "message", "role": "robot", "content": [{"type": "input_text", "text": "x"}]})
    assert e.value.param == "item.role"


@pytest.mark.models
def test_schema_constrained_output_is_valid_json_for_the_schema():
    from playground.backend.engines.llama_llm import LlamaLLM

    llm = LlamaLLM(n_threads=2)
    schema = {
        "type": "object",
        "properties": {"city": {"type": "string"}, "days": {"type": "integer"}, "unit": {"enum": ["C", "F"]}},
        "required": ["city", "days", "unit"],
        "additionalProperties": False,
    }
    for prompt in ("Forecast for Rome for three days in Celsius.", "Hello!", "Write a poem about the sea."):
        text = "".join(
            d.text
            for d in llm.chat([{"role": "user", "content": prompt}], max_tokens=200, temperature=0.0, schema=schema)
        )
        value = json.loads(text)
        assert set(value) == {"city", "days", "unit"} and isinstance(value["days"], int) and value["unit"] in "CF"


@pytest.mark.models
def test_prefix_reuse_gives_the_same_reply_as_a_cold_context():
    from playground.backend.engines.llama_llm import LlamaLLM

    llm = LlamaLLM(n_threads=2)
    base = [{"role": "system", "content": "You are brief."}, {"role": "user", "content": "Name a fruit."}]
    first = "".join(d.text for d in llm.chat(base, max_tokens=16, temperature=0))
    longer = [*base, {"role": "assistant", "content": first.strip()}, {"role": "user", "content": "And a colour?"}]
    reply = llm.chat(longer, max_tokens=16, temperature=0)
    warm = "".join(d.text for d in reply)
    assert reply.reused > 0  # the first turn's tokens were not decoded again
    cold_llm = LlamaLLM(n_threads=2)
    cold = "".join(d.text for d in cold_llm.chat(longer, max_tokens=16, temperature=0))
    assert warm == cold
    llm.close()
    cold_llm.close()
