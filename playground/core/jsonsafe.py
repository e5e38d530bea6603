"""JSON from outside (client events, share links, tool arguments, pasted boxes), parsed safely.

``json.loads`` raises ``RecursionError``, not ``ValueError``, for input nested deeply enough
(``[[[[…]]]]`` a few thousand levels deep fits in a 6 KB share link), and a caller that
catches only ``ValueError`` then fails in a way the user never sees explained. ``loads``
turns it into a ``ValueError`` that says so, so every parser of client input keeps its one
``except ValueError``.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["loads"]


def loads(text: str | bytes | bytearray) -> Any:
    """``json.loads``, with nesting too deep to parse reported as a ``ValueError``."""
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("it is nested too deeply") from None
