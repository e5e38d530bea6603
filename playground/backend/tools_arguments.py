"""A tool call's arguments, read from the user's turn by rules chosen per parameter.

Each parameter's name, description and type pick a rule: places, times of day, counts,
amounts and currencies, enums, dates, free text; what they cannot fill goes to the LLM held
by a grammar to that tool's schema (``llm_arguments``). The rules are the bulk of the tool
router, so they live here; import them from ``tools_router``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from playground.backend.tools_schema import _properties, _required, schema_errors
from playground.backend.tools_words import STOPWORDS, _split_name, _words

_NUMBER_WORDS = {
    w: n
    for n, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
        "seventeen eighteen nineteen twenty".split()
    )
}
_NUMBER_WORDS.update({"a couple": 2, "couple": 2, "a dozen": 12, "dozen": 12, "half a dozen": 6})
_NUM = r"(\d+(?:[.,]\d+)?|" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + r")"

CURRENCIES = {
    "usd": "USD", "us dollars": "USD", "american dollars": "USD", "dollars": "USD", "dollar": "USD",
    "bucks": "USD", "$": "USD", "eur": "EUR", "euros": "EUR", "euro": "EUR", "€": "EUR",
    "gbp": "GBP", "british pounds": "GBP", "pounds": "GBP", "pound": "GBP", "sterling": "GBP", "£": "GBP",
    "jpy": "JPY", "yen": "JPY", "¥": "JPY", "chf": "CHF", "swiss francs": "CHF", "francs": "CHF", "franc": "CHF",
    "cny": "CNY", "yuan": "CNY", "renminbi": "CNY", "inr": "INR", "rupees": "INR", "rupee": "INR",
    "cad": "CAD", "canadian dollars": "CAD", "aud": "AUD", "australian dollars": "AUD",
    "sek": "SEK", "kronor": "SEK", "krona": "SEK", "mxn": "MXN", "pesos": "MXN", "peso": "MXN",
    "krw": "KRW", "won": "KRW",
}  # fmt: skip
_CUR = "|".join(re.escape(k) for k in sorted(CURRENCIES, key=len, reverse=True))
_CUR_RE = re.compile(rf"(?<![a-z])({_CUR})(?![a-z])", re.I)

#: words that start a sentence or ask, never a place or a name
_NOT_NAMES = frozenset(
    """what what's whats how how's is are will would could can should do does did please tell give check
    any the weather it it's i i'm i'd i'll i've let's we we'd you hey hi hello remember note save book
    reserve convert make set find
    show list read recall don't dont a an and but so my our this that today tomorrow tonight now
    monday tuesday wednesday thursday friday saturday sunday january february march april may june july
    august september october november december celsius fahrenheit""".split()
)
_CONNECT = frozenset("de da del la le los las upon on am sur of van von der".split())
_NAME_TOKEN = r"[A-ZÀ-Ý][\w'’.-]*"
_PROPER = re.compile(rf"{_NAME_TOKEN}(?:\s+(?:(?:{'|'.join(_CONNECT)})\s+)?{_NAME_TOKEN})*")


def _proper_nouns(text: str) -> list[tuple[int, str]]:
    """(start, phrase) of capitalised phrases that are not sentence starters or common words."""
    out = []
    for m in _PROPER.finditer(text):
        words = m.group(0).split()
        while words and words[0].lower().strip("'’") in _NOT_NAMES:
            words.pop(0)
        while words and words[-1].lower() in _NOT_NAMES | _CONNECT:
            words.pop()
        if words:
            phrase = " ".join(words).rstrip(".'’")
            phrase = re.sub(r"['’]s$", "", phrase) if not phrase.endswith(("'s", "’s")) else phrase
            out.append((m.start() + m.group(0).find(words[0]), phrase))
    return out


_PLACE_PREP = re.compile(r"\b(in|for|at|of|near|around|to)\s+$", re.I)
_LOWER_PLACE = re.compile(
    r"\b(?:in|for)\s+([a-z][a-z'-]+(?:\s+(?!today|tomorrow|tonight|now|right|this|at|please|the)[a-z][a-z'-]+)?)",
)
_TIME_WORDS = frozenset(
    "today tomorrow tonight now right this the morning evening afternoon general "
    "spring summer autumn fall winter".split()
)


def _place(text: str, used: set[str], *, lowercase: bool = True) -> str | None:
    """A place (or any name): the capitalised phrase after a preposition, else the first one."""
    nouns = [(s, p) for s, p in _proper_nouns(text) if p not in used and not _CUR_RE.fullmatch(p)]
    with_prep = [p for s, p in nouns if _PLACE_PREP.search(text[:s])]
    if with_prep:
        return with_prep[0]
    if nouns:
        return nouns[0][1]
    if not lowercase:
        return None
    m = _LOWER_PLACE.search(text)
    if m and m.group(1).split()[0] not in _TIME_WORDS | STOPWORDS:
        return " ".join(w.capitalize() for w in m.group(1).split())
    return None


def _number(text: str) -> float | None:
    t = text.lower().strip()
    if t in _NUMBER_WORDS:
        return float(_NUMBER_WORDS[t])
    try:
        return float(t.replace(",", "."))
    except ValueError:
        return None


_HOUR_WORDS = "|".join(sorted((k for k, v in _NUMBER_WORDS.items() if 1 <= v <= 12), key=len, reverse=True))
_CLOCK = re.compile(
    rf"\b(?:(half past|quarter past|quarter to)\s+)?(\d{{1,2}}|{_HOUR_WORDS})(?::(\d{{2}}))?\s*"
    r"(a\.?m\.?|p\.?m\.?|o'clock|o’clock)?(?=\W|$)",
    re.I,
)


def _clock(text: str) -> str | None:
    """A time of day as HH:MM (24 h), from "7pm", "7:30 p.m.", "half past seven tonight", "at 8"."""
    low = text.lower()
    if "noon" in low or "midday" in low:
        return "12:00"
    if "midnight" in low:
        return "00:00"
    for m in _CLOCK.finditer(text):
        pre, hour, minute, suffix = m.group(1), m.group(2), m.group(3), (m.group(4) or "").lower()
        before = text[: m.start()].lower()
        if not (suffix or minute or pre or re.search(r"\b(at|by|around)\s+$", before)):
            continue
        h = int(_number(hour) or 0)
        if h > 23:
            continue
        mins = int(minute) if minute else 0
        if pre == "half past":
            mins = 30
        elif pre == "quarter past":
            mins = 15
        elif pre == "quarter to":
            h, mins = h - 1, 45
        after = text[m.end() :].lower()
        if re.search(r"\b(people|persons|guests|of us|person)\b", after[:12]):
            continue  # "for four people": a count, not a time
        if suffix.startswith("p") and h < 12:
            h += 12
        elif suffix.startswith("a") and h == 12:
            h = 0
        elif not suffix.startswith("a") and h < 12 and re.search(r"tonight|evening|dinner|pm\b", low):
            h += 12
        elif not suffix and 1 <= h <= 6:
            h += 12  # "at 5": the afternoon
        return f"{h % 24:02d}:{mins:02d}"
    return None


_COUNT_AFTER = re.compile(rf"\b{_NUM}\s+(?:people|persons|person|guests|adults|of us|diners|seats)\b", re.I)
_COUNT_BEFORE = re.compile(rf"\b(?:party of|table for|for)\s+{_NUM}\b(?!\s*(?:[ap]\.?m|o'clock|:))", re.I)


def _count(text: str) -> float | None:
    for rx in (_COUNT_AFTER, _COUNT_BEFORE):
        m = rx.search(text)
        if m:
            return _number(m.group(1))
    return None


def _amount(text: str) -> float | None:
    m = re.search(rf"(?:[$€£¥]\s*)?{_NUM}\s*(?:{_CUR})", text, re.I) or re.search(rf"[$€£¥]\s*{_NUM}", text)
    if m:
        return _number(m.group(1))
    m = re.search(r"\b(\d+(?:[.,]\d+)?)\b", text)
    return _number(m.group(1)) if m else None


def _currencies(text: str) -> tuple[str | None, str | None]:
    """(from, to): the currency after "to/into/in" is the target; the other the source."""
    found = [(m.start(), CURRENCIES[m.group(1).lower()]) for m in _CUR_RE.finditer(text)]
    if not found:
        return None, None
    target = None
    for start, code in found:
        if re.search(r"\b(to|into|in)\s+(?:[a-z]+\s+)?$", text[:start], re.I):
            target = code
    many = re.search(rf"\bhow many\s+(?:[a-z]+\s+)?({_CUR})\b", text, re.I)
    if many:
        target = CURRENCIES[many.group(1).lower()]
    if target is None and len(found) > 1:
        target = found[-1][1]
    source = next((c for _, c in found if c != target), None)
    return source, target


_TRIGGERS = re.compile(
    r"^\s*(?:(?:please|hey|ok|okay)[, ]+)?(?:(?:can|could|would) you\s+)?(?:please\s+)?"
    r"(?:remember|note down|note|make a note|jot down|write down|save a note|save|keep in mind|don'?t forget|"
    r"remind me|add a note|add|store)(?:\s+(?:that|to|this|of|saying|down))?[:,]?\s+",
    re.I,
)


def _free_text(text: str) -> str:
    """What a "remember that ..." turn wants kept: the turn without its request words."""
    body = _TRIGGERS.sub("", text, count=1).strip()
    body = re.sub(r"\s*,?\s*(please|thanks|thank you)[.!]?$", "", body, flags=re.I)
    return body.rstrip(" .!?") or text.strip()


def _kind(name: str, pschema: dict[str, Any]) -> str:
    words = set(_split_name(name)) | set(_words(str(pschema.get("description") or "")))
    typ = pschema.get("type")
    if "enum" in pschema:
        return "enum"
    if typ in ("integer", "number"):
        if words & {"people", "guests", "persons", "party", "size", "seats", "count", "adults", "diners"}:
            return "count"
        return "amount"
    if typ == "boolean":
        return "boolean"
    if words & {"currency", "currencies"}:
        if name.lower().startswith(("to", "target", "into")) or words & {"target", "into"}:
            return "currency_to"
        return "currency_from"
    if words & {"city", "location", "place", "town", "country", "region", "where", "destination"}:
        return "place"
    if words & {"time", "when", "hour", "datetime"}:
        return "time"
    if words & {"date", "day"}:
        return "date"
    if words & {"note", "text", "message", "content", "body", "reminder", "task", "memo", "query", "question"}:
        return "text"
    if words & {"restaurant", "name", "person", "contact", "title", "venue", "hotel", "company", "who"}:
        return "name"
    return "unknown"


def fill_arguments(text: str, tool: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Arguments for ``tool`` read from ``text`` by rules; plus the required ones not found."""
    args: dict[str, Any] = {}
    used: set[str] = set()
    props = _properties(tool)
    low = text.lower()
    source, target = _currencies(text)
    for name, pschema in props.items():
        if not isinstance(pschema, dict):
            continue
        kind = _kind(name, pschema)
        value: Any = None
        if kind == "enum":
            for option in pschema["enum"]:
                if isinstance(option, str) and re.search(rf"\b{re.escape(option.lower())}\b", low):
                    value = option
                    break
        elif kind in ("count", "amount"):
            num = _count(text) if kind == "count" else _amount(text)
            if num is not None:
                value = int(num) if pschema.get("type") == "integer" or num.is_integer() else num
        elif kind == "currency_from":
            value = source
        elif kind == "currency_to":
            value = target
        elif kind == "place":
            value = _place(text, used)
        elif kind == "time":
            value = _clock(text)
        elif kind == "date":
            m = re.search(r"\b(today|tomorrow|tonight|monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b", low)
            value = m.group(1) if m else None
        elif kind == "text":
            value = _free_text(text)
        elif kind == "name":
            value = _place(text, used, lowercase=False)
        if value is not None and not schema_errors(value, pschema):
            args[name] = value
            if isinstance(value, str):
                used.add(value)
    missing = [r for r in _required(tool) if r not in args]
    return args, missing


def llm_arguments(
    llm: Any, text: str, tool: dict[str, Any], known: dict[str, Any], missing: list[str]
) -> dict[str, Any]:
    """Ask the LLM, held by a grammar to the schema of the ``missing`` parameters, for their
    values; merged over ``known``. Raises ``ValueError`` for a schema the grammar cannot take."""
    props = _properties(tool)
    schema = {
        "type": "object",
        "properties": {k: props[k] for k in missing if k in props},
        "required": [k for k in missing if k in props],
        "additionalProperties": False,
    }
    prompt = [
        {
            "role": "system",
            "content": f"Fill the arguments of the tool {tool['name']}: {tool.get('description') or ''} "
            "Answer with JSON only, values taken from the user's words.",
        },
        {"role": "user", "content": text},
    ]
    out = "".join(d.text for d in llm.chat(prompt, max_tokens=96, temperature=0.0, schema=schema))
    try:
        got = json.loads(out)
    except ValueError:
        return dict(known)
    return {**known, **got} if isinstance(got, dict) else dict(known)
