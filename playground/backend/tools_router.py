"""Which function tool a user's turn needs, its arguments, and the answer from its result.

The embedded LLM (SmolLM2-135M) is too small to pick tools by itself: asked in JSON held
to a grammar, it made no call for "What's the weather like in Berlin right now?" and
called get_weather for "What time is it?". So the decision is made here, from the tool
definitions alone (nothing is hard-coded per tool, so custom tools work the same way):

* **Routing** (this module) is lexical. Each tool gets a profile of word stems from its
  name (strongest), its description, and its parameters' names and descriptions (weakest),
  widened by small groups of everyday synonyms (a tool that mentions *weather* also
  answers *raining*, *umbrella*, *degrees*). A turn scores each tool by the stems it
  shares with the profile, plus a bonus when the turn supplies the tool's required
  arguments and when its mood fits the tool's verb (a question about the past for
  ``recall``/``list``/``get`` tools, an order for ``remember``/``book``/``convert``);
  creative or explanatory requests ("write a poem about rain", "explain how rain forms")
  are marked down. Below a threshold: no call.
* **Arguments** (``tools_arguments``) come from rules chosen by each parameter's name,
  description and type: places (capitalised names after *in/for/at*), times (*7pm*,
  *half past seven*), counts (*for four people*), amounts and currencies (*100 dollars to
  euros*), enums, and free text (*remember that ...* keeps what follows). What the rules
  cannot fill is left to the LLM under a grammar built from that one tool's schema
  (``llm_arguments``). The result is checked against the schema (``schema_errors``, in
  ``tools_schema``).
* **Answers** (``tools_answers``) after a tool result are a sentence built from the
  result's fields (``answer_from_result``); a reply the LLM phrases is used only if it
  states every fact and adds no number of its own (``states_facts``).

Every public name of those modules is importable from here.
``python -m bench tools`` measures it on ``presets/tool_utterances.yaml``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from playground.backend.tools_answers import (
    PHRASE_MAX_TOKENS,
    PHRASE_WITH_LLM,
    answer_from_result,
    facts_of,
    pick_answer,
    relay_answer,
    states_facts,
)
from playground.backend.tools_arguments import CURRENCIES, fill_arguments, llm_arguments
from playground.backend.tools_schema import _properties, _required, schema_errors
from playground.backend.tools_words import STOPWORDS, _split_name, _words

__all__ = [
    "CURRENCIES",
    "PHRASE_MAX_TOKENS",
    "PHRASE_WITH_LLM",
    "STOPWORDS",
    "Decision",
    "answer_from_result",
    "decide",
    "decide_all",
    "facts_of",
    "fill_arguments",
    "llm_arguments",
    "pick_answer",
    "relay_answer",
    "schema_errors",
    "states_facts",
]

#: a turn must score at least this much for a tool to be called (tool_choice "auto")
THRESHOLD = 2.0
W_NAME, W_DESC, W_SYNONYM, W_PARAM = 3.0, 2.0, 1.5, 0.5


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


def _content(words: Iterable[str]) -> set[str]:
    return {_stem(w) for w in words if w not in STOPWORDS and len(w) > 1}


def _stem(word: str) -> str:
    w = word.lower().replace("’", "'")
    if w.endswith("'s"):
        w = w[:-2]
    for suffix in ("ing", "ed", "es", "s", "e"):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3 and not w.endswith("ss"):
            return w[: -len(suffix)]
    return w


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


#: where one turn asks for several things: "... and ...", "...; ...", "..., then ...", "... also ..."
_CLAUSES = re.compile(r"\s*(?:;|,?\s+and\s+(?:also\s+)?|,?\s+then\s+|,?\s+also\s+|,?\s+plus\s+)\s*", re.I)


def decide_all(text: str, tools: list[dict[str, Any]], *, allow_none: bool = True) -> list[Decision]:
    """Every call the turn asks for, in the order it asks: what ``parallel_tool_calls`` allows.

    The turn is cut into clauses at *and*, *then*, *also*, *plus* and semicolons; each clause
    is routed on its own, and a clause that names no tool but supplies the previous call's
    arguments anew ("the weather in Paris and in Oslo") is that tool again. Calls that repeat
    (same tool, same arguments) count once. A turn with one call, or none, gives what
    ``decide`` gives for the whole turn.
    """
    clauses = [c for c in _CLAUSES.split(text) if c and c.strip()]
    calls: list[Decision] = []
    for clause in clauses if len(clauses) > 1 else []:
        found = decide(clause, tools, allow_none=True)
        if found.name is None and calls:
            previous = next(t for t in tools if t["name"] == calls[-1].name)
            args, missing = fill_arguments(clause, previous)
            if _required(previous) and not missing:
                found = Decision(previous["name"], args, missing, calls[-1].score)
        if found.name is not None and all((c.name, c.arguments) != (found.name, found.arguments) for c in calls):
            calls.append(found)
    if len(calls) > 1:
        return calls
    whole = decide(text, tools, allow_none=allow_none)
    return [whole] if whole.name is not None else []
