"""How the tool router and its argument rules read text: word tokens, a tool name split
into words, and the stop words neither counts. Shared by ``tools_router`` (routing) and
``tools_arguments`` (argument rules), so neither imports the other's internals."""

from __future__ import annotations

import re

STOPWORDS = frozenset(
    """a an the and or but if of to in on at for from by with about into over under is are was were be been being
    am do does did done have has had having i me my mine you your yours we us our it its this that these those there
    here what whats which who whom whose when where why how can could would should will shall may might must please
    just so some any all also very really right now then than too not no yes ok okay hey hi hello thanks thank
    tell give let like get current short up out s t ll re ve d m much many one get set make see want need
    know""".split()
)

_WORD = re.compile(r"[a-zA-Z][a-zA-Z'’]*")


def _words(text: str) -> list[str]:
    return [w.lower().replace("’", "'") for w in _WORD.findall(text.replace("_", " "))]


def _split_name(name: str) -> list[str]:
    return _words(re.sub(r"([a-z])([A-Z])", r"\1 \2", name))
