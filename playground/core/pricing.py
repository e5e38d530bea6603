"""Cost estimates from the catalog's price table.

Estimates, not invoices: when the API returns token usage we price the tokens;
otherwise we fall back to the per-minute or per-character figures. ``None`` means the
catalog has no price for that model (shown as "n/a"), never zero.
"""

from __future__ import annotations

from typing import Any

from playground.core.catalog import Catalog, get_catalog

__all__ = [
    "chat_token_split",
    "estimate_chat_audio_cost",
    "estimate_realtime_cost",
    "estimate_speech_cost",
    "estimate_transcription_cost",
    "format_cost",
]

_M = 1_000_000


def estimate_speech_cost(
    model: str,
    *,
    input_chars: int,
    duration_s: float,
    usage: dict[str, Any] | None = None,
    catalog: Catalog | None = None,
) -> float | None:
    price = (catalog or get_catalog()).price(model)
    if "per_1m_chars" in price:
        return input_chars * price["per_1m_chars"] / _M
    if usage and "audio_output_per_1m_tokens" in price:
        return (
            usage.get("input_tokens", 0) * price.get("text_input_per_1m_tokens", 0) / _M
            + usage.get("output_tokens", 0) * price["audio_output_per_1m_tokens"] / _M
        )
    if "per_minute_estimate" in price:
        text_in = (input_chars / 4) * price.get("text_input_per_1m_tokens", 0) / _M
        return text_in + duration_s / 60 * price["per_minute_estimate"]
    return None


def estimate_transcription_cost(
    model: str,
    *,
    duration_s: float,
    usage: dict[str, Any] | None = None,
    catalog: Catalog | None = None,
) -> float | None:
    price = (catalog or get_catalog()).price(model)
    if usage and usage.get("type") == "tokens" and "audio_input_per_1m_tokens" in price:
        return (
            usage.get("input_tokens", 0) * price["audio_input_per_1m_tokens"] / _M
            + usage.get("output_tokens", 0) * price.get("text_output_per_1m_tokens", 0) / _M
        )
    if "per_minute_estimate" in price:
        return duration_s / 60 * price["per_minute_estimate"]
    return None


def estimate_realtime_cost(model: str, usage: dict[str, Any], *, catalog: Catalog | None = None) -> float | None:
    """A realtime ``response.done`` usage priced per token kind, as the Voice chat page
    prices it (cached audio input at its own rate); None when a kind it used has no price."""
    cat = catalog or get_catalog()
    price = cat.price(cat.canonical_realtime_model(model) or model)
    details_in = usage.get("input_token_details") or {}
    details_out = usage.get("output_token_details") or {}
    cached = (details_in.get("cached_tokens_details") or {}).get("audio_tokens", 0) or 0
    parts = [
        (details_in.get("text_tokens", 0), "text_input_per_1m_tokens"),
        (max(0, details_in.get("audio_tokens", 0) - cached), "audio_input_per_1m_tokens"),
        (cached, "audio_cached_input_per_1m_tokens"),
        (details_out.get("text_tokens", 0), "text_output_per_1m_tokens"),
        (details_out.get("audio_tokens", 0), "audio_output_per_1m_tokens"),
    ]
    total = 0.0
    for tokens, key in parts:
        if not tokens:
            continue
        rate = price.get(key, price.get("audio_input_per_1m_tokens") if key.startswith("audio_cached") else None)
        if rate is None:
            return None
        total += tokens * rate / _M
    return total


def chat_token_split(usage: dict[str, Any]) -> dict[str, int]:
    """A Chat Completions usage as text/audio tokens in and out (details absent: all text)."""
    d_in = usage.get("prompt_tokens_details") or {}
    d_out = usage.get("completion_tokens_details") or {}
    audio_in = int(d_in.get("audio_tokens") or 0)
    audio_out = int(d_out.get("audio_tokens") or 0)
    return {
        "text_in": max(0, int(usage.get("prompt_tokens") or 0) - audio_in),
        "audio_in": audio_in,
        "text_out": max(0, int(usage.get("completion_tokens") or 0) - audio_out),
        "audio_out": audio_out,
    }


def estimate_chat_audio_cost(model: str, usage: dict[str, Any], *, catalog: Catalog | None = None) -> float | None:
    """A chat completion's usage priced per token kind (text and audio, in and out);
    None when the model or a kind it used has no price."""
    price = (catalog or get_catalog()).price(model)
    split = chat_token_split(usage)
    total = 0.0
    for kind, key in (
        ("text_in", "text_input_per_1m_tokens"),
        ("audio_in", "audio_input_per_1m_tokens"),
        ("text_out", "text_output_per_1m_tokens"),
        ("audio_out", "audio_output_per_1m_tokens"),
    ):
        if not split[kind]:
            continue
        if key not in price:
            return None
        total += split[kind] * price[key] / _M
    return total


def format_cost(cost: float | None) -> str:
    if cost is None:
        return "n/a"
    if cost == 0:
        return "$0"
    if cost < 0.0001:
        return "<$0.0001"
    return f"${cost:.4f}"
