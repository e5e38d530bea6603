"""The Audio chat tab's handlers, called directly against the real embedded backend: a
three-turn conversation (typed, spoken, typed) whose later requests carry the earlier
replies by audio id, the reply streamed through the Studio's PCM streams, usage and cost
per turn, the code panel, and the exported zip."""

from __future__ import annotations

import json
import shutil
import time
import zipfile
from pathlib import Path

import gradio as gr
import pytest

from playground.client.providers import embedded_provider
from playground.core import audio
from playground.core.catalog import get_catalog
from playground.core.specs import ChatAudioSpec, spec_from_dict
from playground.ui import audiochat

pytestmark = pytest.mark.models

DEFAULTS = {name: b.default for name, b in get_catalog().chat_audio.parameters.items()}
SETTINGS = dict(
    model="gpt-audio-mini", output="audio", voice="alloy", fmt="pcm16", stream=True, system="Answer in one sentence."
)


class _Session:
    def __init__(self, session_hash: str):
        self.session_hash = session_hash


def _settings(**over) -> list:
    s = SETTINGS | over
    return [
        s["model"], s["output"], s["voice"], s["fmt"], s["stream"], s["system"],
        s.get("temperature", DEFAULTS["temperature"]), DEFAULTS["top_p"], DEFAULTS["presence_penalty"],
        DEFAULTS["frequency_penalty"], s.get("max_completion_tokens", DEFAULTS["max_completion_tokens"]),
    ]  # fmt: skip


def _turn(conversation, text, clip=None, **over) -> list[tuple]:
    return list(audiochat.send_turn(conversation, text, clip, *_settings(**over), request=_Session("s1")))


def test_three_turns_refer_to_earlier_replies_by_id(ctx, speech_dir, tmp_path):
    clip = tmp_path / "question.flac"
    shutil.copy(speech_dir / "jfk.flac", clip)

    first = _turn([], "Name one colour of the rainbow.")
    assert len(first) >= 2, "the handler shows the reply growing before the final update"
    _chat, conv, rows, totals, _py, _js, _curl, status, text_box, audio_box = first[-1]
    assert len(conv) == 1 and conv[0]["audio_id"].startswith("audio_")
    assert conv[0]["reply_text"].strip() and "Turn 1" in status
    assert text_box == "" and audio_box is None  # the inputs are cleared for the next turn
    reply = Path(conv[0]["reply_audio"])
    sound = audio.decode(reply.read_bytes(), "wav")
    assert sound.sample_rate == 24000 and len(sound.samples) / 24000 > 0.5  # the streamed PCM, kept as WAV
    assert rows[0][5] > 0 and rows[0][6] > 0  # text and audio tokens out
    assert conv[0]["cost"] is not None and "est. $" in totals

    second = _turn(conv, "", str(clip))[-1]
    conv = second[1]
    assert len(conv) == 2 and Path(conv[1]["user_audio"]).name == "turn-2.wav"
    assert conv[1]["user_seconds"] == pytest.approx(11.0, abs=0.3)
    assert second[2][1][4] > 0, "the spoken turn counts audio tokens in"

    third = _turn(conv, "Say that again in other words.")[-1]
    conv = third[1]
    sent = spec_from_dict(conv[2]["request"]).to_kwargs()["messages"]
    roles = [(m["role"], "audio" in m) for m in sent]
    assert roles == [("system", False), ("user", False), ("assistant", True), ("user", False),
                     ("assistant", True), ("user", False)]  # fmt: skip
    assert [m["audio"]["id"] for m in sent if m["role"] == "assistant"] == [conv[0]["audio_id"], conv[1]["audio_id"]]
    # the code panel is the exact last request, reading the spoken turn from its file
    py = third[4]
    assert '"turn-2.wav"' in py and conv[1]["audio_id"] in py and "base64" in py
    assert "AUDIO_B64=$(base64 < turn-2.wav" in third[6]
    assert len(third[2]) == 3

    exported = audiochat.export_conversation(conv, request=_Session("s1"))
    with zipfile.ZipFile(exported["value"]) as zf:
        names = set(zf.namelist())
        assert {"turn-2.wav", "reply-1.wav", "reply-2.wav", "reply-3.wav", "conversation.json", "code.py"} <= names
        transcript = json.loads(zf.read("conversation.json"))
    assert [t["reply_text"] for t in transcript["turns"]] == [t["reply_text"] for t in conv]
    assert transcript["turns"][1]["user_audio"] == "turn-2.wav"


def test_expired_ids_go_back_as_text():
    conv = [{"user_text": "hi", "user_audio": "", "reply_text": "Hello!", "audio_id": "audio_x",
             "expires_at": int(time.time()) + 3600},
            {"user_text": "again", "user_audio": "", "reply_text": "Hi again.", "audio_id": "audio_y",
             "expires_at": int(time.time()) - 5}]  # fmt: skip
    history = audiochat.conversation_history(conv)
    assert history[1] == {"role": "assistant", "audio_id": "audio_x", "transcript": "Hello!"}
    assert history[3] == {"role": "assistant", "text": "Hi again."}


def test_settings_are_validated_before_anything_is_sent(ctx):
    with pytest.raises(gr.Error, match="pcm16"):
        _turn([], "Hello", fmt="mp3")  # a streamed spoken reply is pcm16 only
    with pytest.raises(gr.Error, match="Type a message"):
        _turn([], "   ")
    with pytest.raises(gr.Error, match="temperature"):
        _turn([], "Hello", temperature=2.5)


def test_a_whole_mp3_reply_and_text_only_replies(ctx):
    whole = _turn([], "Say hello.", fmt="mp3", stream=False)[-1]
    conv = whole[1]
    assert conv[0]["reply_audio"].endswith("reply-1.mp3")
    assert audio.duration_seconds(Path(conv[0]["reply_audio"]).read_bytes(), "mp3") > 0.3
    text_only = _turn(conv, "And goodbye.", output="text")[-1]
    conv = text_only[1]
    assert conv[1]["reply_audio"] is None and conv[1]["audio_id"] is None and conv[1]["reply_text"].strip()
    assert text_only[2][1][6] == 0  # no audio tokens out
    fourth = audiochat.chat_spec(conv, "ok", "", *_settings())
    assert fourth.history[3] == {"role": "assistant", "text": conv[1]["reply_text"]}


def test_sampling_left_at_default_is_not_sent():
    spec = audiochat.chat_spec([], "hi", "", *_settings())
    kwargs = spec.to_kwargs()
    assert not {"temperature", "top_p", "max_completion_tokens"} & set(kwargs)
    spec = audiochat.chat_spec([], "hi", "", *_settings(temperature=0.3, max_completion_tokens=200))
    assert spec.to_kwargs()["temperature"] == 0.3 and spec.to_kwargs()["max_completion_tokens"] == 200
    assert isinstance(spec, ChatAudioSpec) and not spec.problems()


def test_a_failed_turn_keeps_the_conversation(ctx, tmp_path):
    ctx.sessions.default = embedded_provider("http://127.0.0.1:9/v1")  # nothing listens there
    outs = _turn([], "Hello?")
    _chat, conv, *_rest, status = outs[-1][:2] + tuple(outs[-1][2:8])
    assert "⚠️" in status and "still in the box" in status
    assert conv == gr.update()  # the conversation state is left alone
