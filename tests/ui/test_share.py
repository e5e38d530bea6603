"""Share links: settings round-trip through the URL; damaged or oversized links are refused."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from playground.ui import share


def test_studio_settings_round_trip_through_a_link():
    query = share.share_query("studio", "Hello, world — ça va?", "coral", "gpt-4o-mini-tts", "Calm.", 1.25, "wav")
    assert query.startswith("?share=") and "Hello" not in query
    data = share.decode_share(query.removeprefix("?share="))
    assert data == {"tab": "studio", "script": "Hello, world — ça va?", "voice": "coral", "model": "gpt-4o-mini-tts",
                    "instructions": "Calm.", "speed": 1.25, "format": "wav"}  # fmt: skip
    current = ("old", "alloy", "tts-1", "", 1.0, "mp3")
    filled = share.apply_shared(
        *current, request=SimpleNamespace(query_params={"share": query.removeprefix("?share=")})
    )
    assert filled[0]["selected"] == "studio" and filled[1:7] == ["Hello, world — ça va?", "coral", "gpt-4o-mini-tts",
                                                                 "Calm.", 1.25, "wav"]  # fmt: skip


@pytest.mark.parametrize("token", ["%%%", "e30", "x" * (share.SHARE_MAX + 1), share.encode_share("nope", {})])
def test_damaged_links_are_refused(token):
    assert share.decode_share(token) is None


def test_a_shared_transcription_fills_the_settings_but_not_the_audio():
    values = ("transcribe", "whisper-1", "en", "ComfyUI", None, "verbose_json", ["word"], False, False)
    token = share.share_query("transcribe", *values).removeprefix("?share=")
    current = ("old", "alloy", "tts-1", "", 1.0, "mp3")
    filled = share.apply_shared(*current, request=SimpleNamespace(query_params={"share": token}))
    assert filled[0]["selected"] == "transcribe" and tuple(filled[1:7]) == current  # plain values: unchanged
    audio, task, model, language, prompt, temperature, fmt, *_ = filled[7:]
    assert audio == {"__type__": "update"} and (task, model, language, prompt) == values[:4]
    assert temperature == -0.05 and fmt["value"] == "verbose_json"


def test_a_shared_comparison_fills_the_script_and_its_columns():
    col = ["coral", "(none)", "Warm.", 1.1, "gpt-4o-mini-tts", "mp3", "Embedded local backend"]
    other = ["ash", "(none)", "", 0.9, "tts-1", "wav", "OpenAI"]
    query = share.share_compare_query("One line, two voices.", 2, True, *col, *other, *col)
    data = share.decode_share(query.removeprefix("?share="))
    assert data["columns"] == [col[:6], other[:6]] and data["n"] == 2  # providers stay the opener's own
    current = ("old", "alloy", "tts-1", "", 1.0, "mp3")
    size = 3 + 6 * 3
    filled = share.apply_shared(
        *current, compare_size=size, request=SimpleNamespace(query_params={"share": data and query[7:]})
    )
    assert filled[0]["selected"] == "compare" and tuple(filled[1:7]) == current
    compare = filled[17:]
    assert compare[:3] == ["One line, two voices.", 2, True] and compare[3:9] == col[:6] and compare[9:15] == other[:6]
    assert len(compare) == size and compare[15:] == [{"__type__": "update"}] * 6  # the third column is left alone
