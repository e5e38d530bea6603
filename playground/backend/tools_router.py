"""Which function tool a user's turn needs, its arguments, and the answer from its result.

The embedded LLM (SmolLM2-135M) is too small to pick tools by itself: asked in JSON held
to a grammar, it made no call for "What's the weather like in Berlin right now?" and
called get_weather for "What time is it?". So the decision is made here, from the tool
definitions alone (nothing is hard-coded per tool, so custom tools work the same way):

* **Routing** is lexical. Each tool gets a profile of word stems from its name (strongest),
  its description, and its parameters' names and descriptions (weakest), widened by small
  groups of everyday synonyms (a tool that mentions *weather* also answers *raining*,
  *umbrella*, *degrees*). A turn scores each tool by the stems it shares with the profile,
  plus a bonus when the turn supplies the tool's required arguments and when its mood
  fits the tool's verb (a question about the past for ``recall``/``list``/``get`` tools, an
  order for ``remember``/``book``/``convert``); creative or explanatory requests ("write a
  poem about rain", "explain how rain forms") are marked down. Below a threshold: no call.
* **Arguments** come from rules chosen by each parameter's name, description and type:
  places (capitalised names after *in/for/at*), times (*7pm*, *half past seven*),
  counts (*for four people*), amounts and currencies (*100 dollars to euros*), enums, and
  free text (*remember that ...* keeps what follows). What the rules cannot fill is left
  to the LLM under a grammar built from that one tool's schema (``llm_arguments``).
  The result is checked against the schema (``schema_errors``).
* **Answers** after a tool result are a sentence built from the result's fields
  (``answer_from_result``); a reply the LLM phrases is used only if it states every fact
  and adds no number of its own (``states_facts``).

``python -m bench tools`` measures it on ``presets/tool_utterances.yaml``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Decision",
    "answer_from_result",
    "decide",
    "facts_of",
    "fill_arguments",
    "llm_arguments",
    "schema_errors",
    "states_facts",
]

#: a turn must score at least this much for a tool to be called (tool_choice "auto")
THRESHOLD = 2.0
W_NAME, W_DESC, W_SYNONYM, W_PARAM = 3.0, 2.0, 1.5, 0.5

STOPWORDS = frozenset(
    """a an the and or but if of to in on at for from by with about into over under is are was were be been being
    am do does did done have has had having i me my mine you your yours we us our it its this that these those there
    here what whats which who whom whose when where why how can could would should will shall may might must please
    just so some any all also very really right now then than too not no yes ok okay hey hi hello thanks thank
    tell give let like get current short up out s t ll re ve d m much many one get set make see want need
    know""".split()
)

#: everyday words that mean the same thing: a tool whose name or description uses one of
#: them also answers to the others (groups are about concepts, not about our demo tools)
SYNONYMS: tuple[frozenset[str], ...] = tuple(
    frozenset(g.split())
    for g in (
        "weather forecast temperature rain raining rainy sunny sun snow snowing cold hot warm wind windy degrees "
        "umbrella cloudy humid outside freezing storm jacket celsius fahrenheit",
        "time clock hour hours o'clock late date day today's what's-the-time",
        "remember note notes memo remind forget jot write save store keep memorize",
        "recall list notes saved remembered memory",
        "book reserve reservation booking table",
        "restaurant dinner lunch breakfast table eat",
        "convert conversion exchange currency money dollars dollar euros euro pounds pound yen francs franc "
        "rupees yuan bucks",
        "email mail send message",
        "translate translation",
        "search find look lookup",
        "timer alarm countdown",
        "light lights lamp",
        "music song play playlist",
        "stock price share shares",
        "flight flights fly airport plane",
    )
)

#: verbs that name a tool's mood: reading something, or doing/storing something
READ_VERBS = frozenset("get list recall read fetch show find search lookup check query look retrieve".split())
ACT_VERBS = frozenset(
    "remember save add create set book send store note convert reserve make schedule play turn start cancel".split()
)
#: a turn that asks about what was said or saved before
_PAST_QUESTION = re.compile(
    r"\b(what|which)\b.*\b(did i|have i|i (told|asked|said|saved)|you (remember|saved|noted)|my notes?)\b"
    r"|\b(do you remember|read (me )?(back|my)|list my|show me my|remind me what|my notes|what notes)\b",
    re.I,
)
_ORDER = re.compile(
    r"^\s*(please\s+|can you\s+|could you\s+)?(remember|note|save|don'?t forget|make a note|jot|write down|"
    r"book|reserve|convert|add|set|send|schedule|keep in mind)\b",
    re.I,
)
#: requests for talk about a topic, not for live data about it
_TOPIC = re.compile(
    r"^\s*(please\s+)?(write|compose|tell me a (joke|story)|explain|why|define|describe how|"
    r"how (do|does|did)|what is a|what are|who (was|is|wrote)|sing)\b"
    r"|\bwhat (does|do)\b.*\bmean\b|\d+\s*(times|plus|minus|divided by|multiplied by)\s*\d+",
    re.I,
)

_WORD = re.compile(r"[a-zA-Z][a-zA-Z'’]*")


def _stem(word: str) -> str:
    w = word.lower().replace("’", "'")
    if w.endswith("'s"):
        w = w[:-2]
    for suffix in ("ing", "ed", "es", "s", "e"):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3 and not w.endswith("ss"):
            return w[: -len(suffix)]
    return w


def _words(text: str) -> list[str]:
    return [w.lower().replace("’", "'") for w in _WORD.findall(text.replace("_", " "))]


def _split_name(name: str) -> list[str]:
    return _words(re.sub(r"([a-z])([A-Z])", r"\1 \2", name))


def _content(words: Iterable[str]) -> set[str]:
    return {_stem(w) for w in words if w not in STOPWORDS and len(w) > 1}


_SYN_STEMS = [frozenset(_stem(w) for w in g) for g in SYNONYMS]


def _widen(stems: set[str]) -> set[str]:
    out: set[str] = set()
    for group in _SYN_STEMS:
        if stems & group:
            out |= group
    return out - stems


@dataclass
class _Profile:
    tool: dict[str, Any]
    name: set[str]
    desc: set[str]
    synonyms: set[str]
    params: set[str]
    verb: str

    @classmethod
    def of(cls, tool: dict[str, Any]) -> _Profile:
        name_words = _split_name(str(tool.get("name", "")))
        name = _content(name_words)
        desc = _content(_words(str(tool.get("description") or ""))) - name
        props = _properties(tool)
        pwords: list[str] = []
        for pname, pschema in props.items():
            pwords += _split_name(pname)
            pwords += _words(str(pschema.get("description") or "")) if isinstance(pschema, dict) else []
        params = _content(pwords) - name - desc
        synonyms = _widen(name | desc) - name - desc
        verb = name_words[0] if name_words else ""
        return cls(tool, name, desc, synonyms, params, verb)

    def score(self, stems: set[str]) -> float:
        s = W_NAME * len(stems & self.name) + W_DESC * len(stems & self.desc)
        s += W_SYNONYM * len(stems & self.synonyms) + W_PARAM * len(stems & self.params)
        return s


@dataclass
class Decision:
    """A tool to call (``name`` None: none), its arguments, and what the rules could not fill."""

    name: str | None
    arguments: dict[str, Any] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    score: float = 0.0
    scores: dict[str, float] = field(default_factory=dict)

    def json_arguments(self) -> str:
        return json.dumps(self.arguments, ensure_ascii=False)


def _properties(tool: dict[str, Any]) -> dict[str, Any]:
    params = tool.get("parameters") or {}
    props = params.get("properties") if isinstance(params, dict) else None
    return props if isinstance(props, dict) else {}


def _required(tool: dict[str, Any]) -> list[str]:
    params = tool.get("parameters") or {}
    req = params.get("required") if isinstance(params, dict) else None
    return [r for r in req if isinstance(r, str)] if isinstance(req, list) else []


def decide(text: str, tools: list[dict[str, Any]], *, allow_none: bool = True) -> Decision:
    """The tool ``text`` (the user's turn) needs, with arguments filled by rules.

    With ``allow_none`` False (tool_choice ``required`` or a named function) the best tool
    is chosen whatever its score."""
    if not tools:
        return Decision(None)
    stems = _content(_words(text))
    past = bool(_PAST_QUESTION.search(text))
    order = bool(_ORDER.search(text)) and not past
    topic = bool(_TOPIC.search(text))
    best: tuple[float, int] | None = None
    scores: dict[str, float] = {}
    filled: dict[str, tuple[dict[str, Any], list[str]]] = {}
    for i, tool in enumerate(tools):
        prof = _Profile.of(tool)
        s = prof.score(stems)
        args, missing = fill_arguments(text, tool)
        filled[tool["name"]] = (args, missing)
        if s > 0:
            req = _required(tool)
            if req and not missing:
                s += 1.0  # the turn supplies everything the tool needs
            elif req and len(missing) == len(req):
                s -= 1.5  # nor any of it: likely a word in passing ("recommend a good book")
            if prof.verb in READ_VERBS:
                s += 2.5 if past else 0.0
                s -= 2.5 if order else 0.0
            elif prof.verb in ACT_VERBS:
                s += 1.5 if order else 0.0
                s -= 2.5 if past else 0.0
            if topic:
                s -= 2.5
        scores[tool["name"]] = round(s, 2)
        if best is None or s > best[0]:
            best = (s, i)
    assert best is not None
    score, i = best
    if allow_none and score < THRESHOLD:
        return Decision(None, score=score, scores=scores)
    name = tools[i]["name"]
    args, missing = filled[name]
    return Decision(name, args, missing, score, scores)


# -- arguments ----------------------------------------------------------------------

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


# -- schema check --------------------------------------------------------------------

_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
    "null": (type(None),),
}


def schema_errors(value: Any, schema: Any, where: str = "$") -> list[str]:
    """Problems of ``value`` against the JSON-schema subset tools use (types, required,
    properties, additionalProperties, enum, const, items, numeric and length bounds)."""
    if not isinstance(schema, dict):
        return []
    errors: list[str] = []
    typ = schema.get("type")
    if typ is not None:
        kinds = typ if isinstance(typ, list) else [typ]
        ok = any(
            isinstance(value, _TYPES.get(k, (object,))) and not (k in ("integer", "number") and isinstance(value, bool))
            for k in kinds
        )
        if not ok and "integer" in kinds and isinstance(value, float) and value.is_integer():
            ok = True
        if not ok:
            return [f"{where}: expected {typ}, got {type(value).__name__}"]
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{where}: not one of {schema['enum']}")
    if "const" in schema and value != schema["const"]:
        errors.append(f"{where}: must be {schema['const']!r}")
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0) or len(value) > schema.get("maxLength", 1 << 30):
            errors.append(f"{where}: length out of bounds")
        if "pattern" in schema and not re.search(schema["pattern"], value):
            errors.append(f"{where}: does not match {schema['pattern']}")
    if isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append(f"{where}: below {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            errors.append(f"{where}: above {schema['maximum']}")
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        for r in schema.get("required") or []:
            if r not in value:
                errors.append(f"{where}: missing {r!r}")
        for k, v in value.items():
            if k in props:
                errors += schema_errors(v, props[k], f"{where}.{k}")
            elif schema.get("additionalProperties") is False:
                errors.append(f"{where}: unexpected {k!r}")
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, v in enumerate(value):
            errors += schema_errors(v, schema["items"], f"{where}[{i}]")
    return errors


# -- answers from a result ---------------------------------------------------------------

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
