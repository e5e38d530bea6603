"""Cost estimates follow the catalog's prices per token kind."""

from __future__ import annotations

import pytest

from playground.core.catalog import get_catalog
from playground.core.pricing import estimate_realtime_cost


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
