"""Multi-turn audio chat through the real SDK: spoken replies referred to by ``audio.id``,
streamed audio deltas that are real speech, and usage split into text and audio tokens."""

from __future__ import annotations

import base64
import io

import numpy as np
import openai
import pytest
import soundfile as sf

from playground.backend.routers.chat import HeardParts, SpokenReplies
from playground.core import audio
from tests.backend.conftest import wer

pytestmark = pytest.mark.models

MODEL = "gpt-audio-mini"
SPOKEN = {"modalities": ["text", "audio"], "audio": {"voice": "coral", "format": "pcm16"}}


@pytest.fixture(scope="module")
def question_wav(speech_dir) -> bytes:
    """JFK's first sentence as a WAV (chat takes wav and mp3, the clip is FLAC)."""
    samples = audio.decode_mono((speech_dir / "jfk.flac").read_bytes(), 16000)[: 16000 * 6]
    buf = io.BytesIO()
    sf.write(buf, samples, 16000, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def _streamed(client, messages: list[dict]) -> tuple[str, str, bytes, object]:
    """(audio id, transcript, PCM, usage) of a streamed spoken reply."""
    stream = client.chat.completions.create(
        model=MODEL, messages=messages, max_completion_tokens=40, stream=True,
        stream_options={"include_usage": True}, **SPOKEN,
    )  # fmt: skip
    ids, words, pcm, usage = set(), [], b"", None
    for chunk in stream:
        if chunk.usage is not None:
            usage = chunk.usage
        if not chunk.choices or chunk.choices[0].delta.audio is None:
            continue
        part = chunk.choices[0].delta.audio
        ids.add(part.id)
        words.append(part.transcript or "")
        pcm += base64.b64decode(part.data or "")
    assert len(ids) == 1, ids  # every delta names the same reply
    return ids.pop(), "".join(words).strip(), pcm, usage


def test_three_turns_where_later_turns_refer_to_earlier_replies_by_id(client, question_wav):
    # turn 1: the user speaks; the reply is one whole spoken message
    user1 = {
        "role": "user",
        "content": [
            {"type": "text", "text": "Answer in one short sentence."},
            {"type": "input_audio", "input_audio": {"data": base64.b64encode(question_wav).decode(), "format": "wav"}},
        ],
    }
    first = client.chat.completions.create(model=MODEL, messages=[user1], max_completion_tokens=40, **SPOKEN)
    reply1 = first.choices[0].message.audio
    assert reply1.id.startswith("audio_") and reply1.transcript.strip()
    assert first.usage.prompt_tokens_details.audio_tokens >= 50  # ~6 s of user audio at ~10 tokens/s
    assert first.usage.completion_tokens_details.audio_tokens > 0

    # turn 2: typed, streamed, with turn 1's reply given only by its id
    history = [user1, {"role": "assistant", "audio": {"id": reply1.id}}]
    user2 = {"role": "user", "content": "Say that again, more slowly."}
    id2, transcript2, pcm2, usage2 = _streamed(client, [*history, user2])
    assert id2.startswith("audio_") and id2 != reply1.id and transcript2
    assert audio.decode(pcm2, "pcm").duration > 0.3
    seconds1 = audio.decode(base64.b64decode(reply1.data), "pcm").duration
    # the prompt held the user's clip and the first reply's audio (~20 tokens/s)
    assert usage2.prompt_tokens_details.audio_tokens >= first.usage.prompt_tokens_details.audio_tokens + 15 * seconds1

    # turn 3 refers to turn 2's reply by id: the model reads exactly that reply's words
    turn3 = [*history, user2, {"role": "assistant", "audio": {"id": id2}}, {"role": "user", "content": "Thanks!"}]
    by_id = client.chat.completions.create(model=MODEL, messages=turn3, max_completion_tokens=16, **SPOKEN)
    assert by_id.choices[0].message.audio.transcript.strip()
    as_text = [*history, user2, {"role": "assistant", "content": transcript2}, {"role": "user", "content": "Thanks!"}]
    typed = client.chat.completions.create(model=MODEL, messages=as_text, max_completion_tokens=1)
    assert by_id.usage.prompt_tokens_details.text_tokens == typed.usage.prompt_tokens_details.text_tokens
    # ... and its audio counts as audio input, which the typed version does not have
    extra = by_id.usage.prompt_tokens_details.audio_tokens - typed.usage.prompt_tokens_details.audio_tokens
    assert extra == pytest.approx(20 * audio.decode(pcm2, "pcm").duration, abs=2)
    u = by_id.usage
    assert u.prompt_tokens == u.prompt_tokens_details.text_tokens + u.prompt_tokens_details.audio_tokens
    assert u.completion_tokens == u.completion_tokens_details.text_tokens + u.completion_tokens_details.audio_tokens


def test_streamed_audio_deltas_are_speech_that_transcribes_back(client):
    ask = [{"role": "user", "content": "Say exactly: the quick brown fox jumps over the lazy dog."}]
    _, transcript, pcm, usage = _streamed(client, ask)
    samples = audio.decode(pcm, "pcm")
    assert samples.duration > 1.0 and samples.sample_rate == 24000
    # speech, not noise or silence: Whisper hears the transcript the deltas carried
    heard = client.audio.transcriptions.create(
        file=("reply.wav", audio.encode_wav(samples.samples, 24000) if hasattr(audio, "encode_wav") else _wav(pcm)),
        model="whisper-1",
        language="en",
    ).text
    assert wer(transcript, heard) <= 0.35, (transcript, heard)
    assert usage.completion_tokens_details.audio_tokens == pytest.approx(20 * samples.duration, abs=2)


def _wav(pcm: bytes) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, np.frombuffer(pcm, "<i2"), 24000, format="WAV", subtype="PCM_16")
    return buf.getvalue()


@pytest.mark.parametrize(
    ("message", "param"),
    [
        ({"role": "assistant", "audio": {"id": "audio_never_made_here"}}, "messages[1].audio.id"),
        ({"role": "assistant", "audio": {"id": 7}}, "messages[1].audio.id"),
        ({"role": "assistant", "audio": "audio_123"}, "messages[1].audio.id"),
        ({"role": "user", "audio": {"id": "audio_123"}}, "messages[1].audio"),
    ],
)
def test_a_bad_audio_reference_is_an_error_naming_it(client, message, param):
    messages = [{"role": "user", "content": "Hi"}, message, {"role": "user", "content": "And?"}]
    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(model=MODEL, messages=messages, **SPOKEN)
    assert e.value.body["param"] == param and e.value.body["type"] == "invalid_request_error"
    # the server keeps serving
    assert client.chat.completions.create(model=MODEL, messages=messages[:1], max_completion_tokens=4).choices


def test_the_reply_store_is_bounded_and_forgets_expired_replies():
    store = SpokenReplies(limit=2, ttl_s=60)
    store.remember("audio_a", "one", 1.0, expires_at=1_000)
    store.remember("audio_b", "two", 2.0, expires_at=2_000)
    store.remember("audio_c", "three", 3.0, expires_at=3_000)
    assert len(store) == 2 and store.recall("audio_a", now=0) is None  # the oldest went first
    assert store.recall("audio_b", now=1_999).transcript == "two"
    assert store.recall("audio_b", now=2_000) is None  # expired at its expires_at
    assert store.recall("audio_c", now=2_000).seconds == 3.0


def test_resent_user_audio_is_heard_once_and_the_store_is_bounded():
    heard = HeardParts(limit=2)
    for key in ("a", "b", "c"):
        heard.put(key, (key.upper(), 1.0))
    assert heard.get("a") is None and heard.get("b") == ("B", 1.0)  # the oldest went first
    heard.put("d", ("D", 1.0))  # "b" was just used: "c" goes
    assert heard.get("c") is None and heard.get("b") is not None
