"""Share links: settings round-trip through the URL; damaged or oversized links are refused."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from playground.ui import share

#: the Studio's seven values as a page has them before a link fills them
CURRENT = ("old", "alloy", "tts-1", "", 1.0, "mp3", "speech")


def _value(v):
    return v["value"] if isinstance(v, dict) else v


def test_studio_settings_round_trip_through_a_link():
    query = share.share_query(
        "studio", "Hello, world — ça va?", "coral", "gpt-realtime-2.1-mini", "Calm.", 1.25, "audio/pcmu", "realtime"
    )
    assert query.startswith("?share=") and "Hello" not in query
    data = share.decode_share(query.removeprefix("?share="))
    assert data == {"tab": "studio", "script": "Hello, world — ça va?", "voice": "coral",
                    "model": "gpt-realtime-2.1-mini", "instructions": "Calm.", "speed": 1.25, "format": "audio/pcmu",
                    "workflow": "realtime"}  # fmt: skip
    filled = share.apply_shared(
        *CURRENT, request=SimpleNamespace(query_params={"share": query.removeprefix("?share=")})
    )
    assert filled[0]["selected"] == "studio"
    assert [_value(v) for v in filled[1:8]] == ["Hello, world — ça va?", "coral", "gpt-realtime-2.1-mini", "Calm.",
                                                1.25, "audio/pcmu", "realtime"]  # fmt: skip
    # the pickers get the shared workflow's choices with the value
    model, fmt = filled[3], filled[6]
    assert (
        "gpt-4o-mini-tts" not in str(model["choices"])
        and ("G.711 µ-law, 8 kHz (telephony)", "audio/pcmu") in fmt["choices"]
    )


def test_a_link_from_before_workflows_opens_on_the_speech_endpoint():
    """Links made before the Realtime workflow carry six values and a speech model."""
    query = share.share_query("studio", "Hello.", "fable", "gpt-4o-mini-tts", "Calm.", 2.0, "wav")
    filled = share.apply_shared(
        *CURRENT, request=SimpleNamespace(query_params={"share": query.removeprefix("?share=")})
    )
    assert [_value(v) for v in filled[1:8]] == ["Hello.", "fable", "gpt-4o-mini-tts", "Calm.", 2.0, "wav", "speech"]
    assert "endpoint only" not in str(filled[2]["choices"])  # every voice is on the endpoint


@pytest.mark.parametrize("token", ["%%%", "e30", "x" * (share.SHARE_MAX + 1), share.encode_share("nope", {})])
def test_damaged_links_are_refused(token):
    assert share.decode_share(token) is None


def test_a_shared_transcription_fills_the_settings_but_not_the_audio():
    values = ("transcribe", "whisper-1", "en", "ComfyUI", None, "verbose_json", ["word"], False, False)
    token = share.share_query("transcribe", *values).removeprefix("?share=")
    current = CURRENT
    filled = share.apply_shared(*current, request=SimpleNamespace(query_params={"share": token}))
    assert filled[0]["selected"] == "transcribe" and tuple(filled[1:8]) == current  # plain values: unchanged
    audio, task, model, language, prompt, temperature, fmt, *_ = filled[8:]
    assert audio == {"__type__": "update"} and (task, model, language, prompt) == values[:4]
    assert temperature == -0.05 and fmt["value"] == "verbose_json"


def test_a_shared_comparison_fills_the_script_and_its_columns():
    col = ["coral", "(none)", "Warm.", 1.1, "gpt-realtime-2.1-mini", "audio/pcm", "realtime", "Embedded local backend"]
    other = ["ash", "(none)", "", 0.9, "tts-1", "wav", "speech", "OpenAI"]
    query = share.share_compare_query("One line, two voices.", 2, True, *col, *other, *col)
    data = share.decode_share(query.removeprefix("?share="))
    assert data["columns"] == [col[:7], other[:7]] and data["n"] == 2  # providers stay the opener's own
    current = CURRENT
    size = 3 + 7 * 3
    filled = share.apply_shared(
        *current, compare_size=size, request=SimpleNamespace(query_params={"share": data and query[7:]})
    )
    assert filled[0]["selected"] == "compare" and tuple(filled[1:8]) == current
    compare = filled[8 + 1 + len(share.TRANSCRIBE) :]
    assert compare[:3] == ["One line, two voices.", 2, True] and compare[3:10] == col[:7]
    assert compare[10:17] == other[:7]
    assert len(compare) == size and compare[17:] == [{"__type__": "update"}] * 7  # the third column is left alone


def test_a_comparison_link_from_before_workflows_runs_on_the_speech_endpoint():
    old = share.encode_share(
        "compare",
        {"script": "Hi.", "n": 1, "roundtrip": False, "columns": [["ash", "(none)", "", 1.0, "tts-1", "mp3"]]},
    )
    filled = share.apply_shared(*CURRENT, compare_size=3 + 7, request=SimpleNamespace(query_params={"share": old}))
    compare = filled[8 + 1 + len(share.TRANSCRIBE) :]
    assert compare[3:] == ["ash", "(none)", "", 1.0, "tts-1", "mp3", "speech"]


def test_a_shared_transcription_carries_every_setting():
    """Timestamps, keywords and possible languages travel too, and the code for them matches."""
    values = ("transcribe", "whisper-1", "en", "Acme", 0.2, "verbose_json", ["segment"], False, False, "", [])
    token = share.share_query("transcribe", *values).removeprefix("?share=")
    filled = share.apply_shared(*CURRENT, request=SimpleNamespace(
        query_params={"share": token}))  # fmt: skip
    _audio, *rest = filled[8:]
    assert len(rest) == len(values) == len(share.TRANSCRIBE)
    assert rest[5]["value"] == "verbose_json" and rest[4] == 0.2
    assert rest[5]["choices"] == ["json", "text", "srt", "verbose_json", "vtt"]  # the shared model's formats
    assert rest[6]["value"] == ["segment"] and rest[6]["visible"] is True  # ticked and shown
    hints = ("transcribe", "gpt-transcribe", "", "", None, "json", [], False, True, "Acme, Zyx", ["en", "de"])
    data = share.decode_share(share.share_query("transcribe", *hints).removeprefix("?share="))
    assert data["keywords"] == "Acme, Zyx" and data["languages"] == ["en", "de"]
    filled = share.apply_shared(*CURRENT, request=SimpleNamespace(
        query_params={"share": share.encode_share("transcribe", data)}))  # fmt: skip
    assert filled[-2:] == ["Acme, Zyx", ["en", "de"]]


def test_a_history_run_reopens_with_its_timestamps_keywords_and_languages():
    from playground.core.history import Run

    run = SimpleNamespace(kind="transcription", spec={
        "model": "gpt-transcribe", "response_format": "json", "keywords": ["Acme"], "languages": ["en"],
        "timestamp_granularities": [], "temperature": None,
    })  # fmt: skip
    tab, values = share._from_run(run)  # type: ignore[arg-type]
    assert tab == "transcribe" and values["keywords"] == "Acme" and values["languages"] == ["en"]
    assert set(values) == set(share.TRANSCRIBE) and Run is not None
