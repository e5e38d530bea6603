"""The answer after a tool result: a sentence built from the result's fields, or the
LLM's wording when it states every fact and adds no number of its own.

Apart from routing and arguments because it runs on the other side of the call (the
result); import these names from ``tools_router``.
"""

from __future__ import annotations

import json
import re
from typing import Any

#: result fields that are about the data, not part of it
_META_KEYS = frozenset({"note", "notes_saved", "source", "disclaimer", "id", "status", "ok", "success"})
_UNITS = (
    ("_c", "degrees Celsius"),
    ("_f", "degrees Fahrenheit"),
    ("_kph", "km/h"),
    ("_kmh", "km/h"),
    ("_mph", "mph"),
    ("_pct", "percent"),
    ("_percent", "percent"),
    ("_mm", "mm"),
    ("_km", "km"),
    ("_min", "minutes"),
)
_SUBJECT_KEYS = ("city", "location", "place", "name", "restaurant", "country")


def _label(key: str) -> tuple[str, str]:
    low = key.lower()
    for suffix, unit in _UNITS:
        if low.endswith(suffix):
            return low[: -len(suffix)].replace("_", " "), unit
    return low.replace("_", " "), ""


def _value_text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list):
        items = [_value_text(v) for v in value]
        return "none" if not items else "; ".join(items)
    if isinstance(value, dict):
        return ", ".join(f"{k.replace('_', ' ')} {_value_text(v)}" for k, v in value.items())
    return str(value)


def _parse(output: str) -> Any:
    try:
        return json.loads(output)
    except (ValueError, TypeError):
        return output


def facts_of(output: str) -> list[str]:
    """The values an answer must state: each scalar (or list item) of the result that is
    data rather than metadata; the whole text when the result is not JSON."""
    data = _parse(output)
    if isinstance(data, str):
        return [data.strip()] if data.strip() and len(data) <= 120 else []
    if not isinstance(data, dict):
        return [_value_text(data)]
    out: list[str] = []
    for key, value in data.items():
        if key.lower() in _META_KEYS or key.lower() in _SUBJECT_KEYS:
            continue
        if isinstance(value, list):
            out += [_value_text(v) for v in value]
        elif isinstance(value, dict):
            out += [_value_text(v) for v in value.values()]
        elif value is not None and value != "":
            out.append(_value_text(value))
    return out


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.lower().replace("’", "'")).strip()


def states_facts(reply: str, output: str) -> bool:
    """True when ``reply`` states every fact of the result and no number it lacks."""
    said = _norm(reply)
    facts = facts_of(output)
    if not all(_norm(f).rstrip(".") in said for f in facts):
        return False
    allowed = set(re.findall(r"\d+(?:[.:]\d+)?", " ".join(facts) + " " + output))
    return all(n in allowed for n in re.findall(r"\d+(?:[.:]\d+)?", reply))


def answer_from_result(name: str, output: str) -> str:
    """A sentence stating a tool's result: every data field, with units read from the
    field names (``temperature_c`` -> degrees Celsius)."""
    data = _parse(output)
    if isinstance(data, str):
        return data.strip() or f"{name} returned nothing."
    if not isinstance(data, dict):
        return f"{name.replace('_', ' ')}: {_value_text(data)}."
    if "error" in data:
        return f"Sorry, {name.replace('_', ' ')} did not work: {_value_text(data['error'])}."
    subject = next((str(data[k]) for k in _SUBJECT_KEYS if isinstance(data.get(k), str) and data[k]), None)
    parts = []
    for key, value in data.items():
        low = key.lower()
        if low in _META_KEYS or (subject is not None and value == subject) or value is None:
            continue
        label, unit = _label(key)
        text = _value_text(value)
        parts.append(f"{label} {text} {unit}".strip() if unit else f"{label}: {text}")
    if not parts:
        return f"Done: {name.replace('_', ' ')}." if subject is None else f"{subject}: done."
    body = ", ".join(parts)
    return f"In {subject}: {body}." if subject else f"{body[0].upper()}{body[1:]}."


#: let the LLM phrase the answer after a tool result (kept only if it states the facts); off:
#: SmolLM2-135M stated them in 6 of 41 answers, for ~1 s before the first word (docs/performance.md)
PHRASE_WITH_LLM = False
#: tokens the LLM may spend phrasing it
PHRASE_MAX_TOKENS = 64


def pick_answer(llm_text: str | None, name: str, output: str) -> tuple[str, bool]:
    """The answer to give after a tool result: the LLM's wording when it states every fact
    (and no number of its own), else the template; and whether the LLM's was kept."""
    text = (llm_text or "").strip()
    if text and states_facts(text, output):
        return text, True
    return answer_from_result(name, output), False


def relay_answer(llm: Any, messages: list[dict[str, str]], name: str, output: str) -> tuple[str, bool]:
    """``pick_answer`` over a greedy LLM reply to ``messages`` (which carry the result)."""
    if not PHRASE_WITH_LLM:
        return answer_from_result(name, output), False
    deltas = llm.chat(messages, max_tokens=PHRASE_MAX_TOKENS, temperature=0.0)
    return pick_answer("".join(d.text for d in deltas), name, output)
