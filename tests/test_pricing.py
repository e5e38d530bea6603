"""Cost estimates follow the catalog's prices per token kind."""

from __future__ import annotations

import pytest

from playground.core.catalog import get_catalog
from playground.core.pricing import chat_token_split, estimate_chat_audio_cost, estimate_realtime_cost


def test_a_realtime_response_is_priced_per_token_kind_with_cached_audio_cheaper():
    price = get_catalog().price("gpt-realtime")
    usage = {
        "input_token_details": {
            "text_tokens": 1000,
            "audio_tokens": 3000,
            "cached_tokens_details": {"audio_tokens": 1000},
        },
        "output_token_details": {"text_tokens": 200, "audio_tokens": 4000},
    }
    expected = (
        1000 * price["text_input_per_1m_tokens"]
        + 2000 * price["audio_input_per_1m_tokens"]
        + 1000 * price["audio_cached_input_per_1m_tokens"]
        + 200 * price["text_output_per_1m_tokens"]
        + 4000 * price["audio_output_per_1m_tokens"]
    ) / 1e6
    assert estimate_realtime_cost("gpt-realtime", usage) == pytest.approx(expected)
    uncached = dict(usage, input_token_details={"text_tokens": 1000, "audio_tokens": 3000})
    assert estimate_realtime_cost("gpt-realtime", uncached) > estimate_realtime_cost("gpt-realtime", usage)


def test_a_token_kind_without_a_price_gives_no_estimate():
    # the catalog prices gpt-realtime-mini's audio only: text tokens leave the total unknown
    assert "text_input_per_1m_tokens" not in get_catalog().price("gpt-realtime-mini")
    assert estimate_realtime_cost("gpt-realtime-mini", {"input_token_details": {"text_tokens": 10}}) is None
    assert estimate_realtime_cost("gpt-realtime-mini", {"output_token_details": {"audio_tokens": 10}}) > 0


def test_a_chat_completion_is_priced_per_text_and_audio_tokens():
    price = get_catalog().price("gpt-audio-mini")
    usage = {
        "prompt_tokens": 300,
        "completion_tokens": 500,
        "prompt_tokens_details": {"audio_tokens": 200, "text_tokens": 100},
        "completion_tokens_details": {"audio_tokens": 450, "text_tokens": 50},
    }
    assert chat_token_split(usage) == {"text_in": 100, "audio_in": 200, "text_out": 50, "audio_out": 450}
    expected = (
        100 * price["text_input_per_1m_tokens"]
        + 200 * price["audio_input_per_1m_tokens"]
        + 50 * price["text_output_per_1m_tokens"]
        + 450 * price["audio_output_per_1m_tokens"]
    ) / 1e6
    assert estimate_chat_audio_cost("gpt-audio-mini", usage) == pytest.approx(expected)
    # a usage without details is all text; an unknown model has no price
    assert chat_token_split({"prompt_tokens": 7, "completion_tokens": 3})["text_in"] == 7
    assert estimate_chat_audio_cost("no-such-model", usage) is None


def test_the_2026_models_are_priced_from_the_catalog_or_shown_as_n_a():
    from playground.core.pricing import estimate_transcription_cost, format_cost

    usage = {"input_token_details": {"text_tokens": 1000, "audio_tokens": 0}, "output_token_details": {}}
    cat = get_catalog()
    for model in ("gpt-realtime-2.1-mini", "gpt-realtime-2.1"):
        expected = 1000 * cat.price(model)["text_input_per_1m_tokens"] / 1e6
        assert estimate_realtime_cost(model, usage) == pytest.approx(expected)
    # a dated snapshot is priced as its model
    assert estimate_realtime_cost("gpt-realtime-2025-08-28", usage) == estimate_realtime_cost("gpt-realtime", usage)
    per_minute = cat.price("gpt-transcribe").get("per_minute_estimate")
    got = estimate_transcription_cost("gpt-transcribe", duration_s=60)
    assert got == (pytest.approx(per_minute) if per_minute is not None else None)
    # a model the catalog has no price for: no estimate, shown as n/a (never an error)
    chat = estimate_chat_audio_cost("gpt-audio-1.5", {"prompt_tokens": 10, "completion_tokens": 5})
    assert chat is None or chat > 0
    unpriced = estimate_transcription_cost("gpt-live-transcribe", duration_s=60)
    assert unpriced is None or unpriced > 0
    assert format_cost(None) == "n/a"
