"""Blind A/B votes between voice+vibe combos, ranked with a Bradley–Terry model.

Bradley–Terry rather than running Elo: the ranking depends only on the set of votes, not on
the order they were cast, and every vote counts equally however late it came. Scores are put
on an Elo-like scale (mean 1000, +400 = ten times the odds) because people already read it.
Votes are appended to a JSON-lines file, so a crash loses at most the line being written.

A vote's labels are combination keys, ``"<workflow> · <voice> · <vibe>"``, so the board can
set the Realtime API against the speech endpoint it replaces. Votes cast before there were
two workflows have no workflow in their keys; they were all speech endpoint runs, and
``with_workflow`` reads them as such (the file itself is never rewritten).
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from playground.core.errors import PlaygroundError

__all__ = [
    "LEGACY_WORKFLOW",
    "WINNERS",
    "Standing",
    "Vote",
    "VoteError",
    "VoteStore",
    "bradley_terry",
    "combo_key",
    "rank_combos",
    "split_combo",
    "with_workflow",
]

log = logging.getLogger(__name__)

WINNERS = ("a", "b", "tie")
_TOLERANCE = 1e-9
#: joins the parts of a combination key (and of the labels people read)
SEP = " · "
#: the workflows a key can start with (``core.workflows.WORKFLOWS``, kept here so this stays pure)
_WORKFLOWS = ("realtime", "speech")
#: what a key without a workflow was: every vote before the Realtime workflow was a speech endpoint run
LEGACY_WORKFLOW = "speech"


class VoteError(PlaygroundError, ValueError):
    """A vote is malformed (unknown winner, empty or identical labels)."""


@dataclass(frozen=True, slots=True)
class Vote:
    """One blind comparison: ``a`` and ``b`` are labels such as "coral · Help Desk Ally"."""

    a: str
    b: str
    winner: Literal["a", "b", "tie"]
    ts: float

    def __post_init__(self) -> None:
        if not isinstance(self.a, str) or not isinstance(self.b, str) or not self.a or not self.b:
            raise VoteError(f"vote labels must be non-empty text, got a={self.a!r}, b={self.b!r}")
        if self.a == self.b:
            raise VoteError(f"a vote compares two different combos, got {self.a!r} twice")
        if self.winner not in WINNERS:
            raise VoteError(f"winner must be one of {', '.join(WINNERS)}, got {self.winner!r}")
        if isinstance(self.ts, bool) or not isinstance(self.ts, int | float) or not math.isfinite(self.ts):
            raise VoteError(f"ts must be a finite number of seconds, got {self.ts!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> Vote:
        if not isinstance(data, dict):
            raise VoteError(f"expected a mapping, got {type(data).__name__}")
        try:
            return cls(a=data["a"], b=data["b"], winner=data["winner"], ts=data["ts"])
        except KeyError as e:
            raise VoteError(f"vote is missing {e.args[0]!r}") from e


@dataclass(frozen=True, slots=True)
class Standing:
    """One row of the leaderboard; ``votes`` counts every comparison the combo took part in."""

    label: str
    score: float
    wins: int
    losses: int
    ties: int
    votes: int


def bradley_terry(votes: Sequence[Vote], *, iterations: int = 10_000, prior: float = 1.0) -> list[Standing]:
    """Rank combos best first by Bradley–Terry strength, fitted with Hunter's MM algorithm.

    A tie is half a win for each side. Each combo also gets ``prior`` virtual ties against a
    fixed average opponent (strength 1): this anchors the scale and keeps the strength of an
    undefeated or never-winning combo finite. Scores are ``1000 + 400*log10(p / geomean(p))``.
    MM crawls when one combo dominates (200 steps can be ~30 points off), hence the generous
    ``iterations`` cap; it stops once no log-strength moves by more than 1e-9.
    """
    if iterations < 1:
        raise ValueError(f"iterations must be at least 1, got {iterations}")
    if not prior > 0:
        raise ValueError(f"prior must be positive so every score stays finite, got {prior}")
    if not votes:
        return []

    labels = sorted({v.a for v in votes} | {v.b for v in votes})
    index = {label: i for i, label in enumerate(labels)}
    k = len(labels)
    games = np.zeros((k, k))  # games[i, j]: comparisons between i and j (symmetric)
    wins = np.zeros(k)  # wins plus half of ties
    record = {label: [0, 0, 0] for label in labels}  # wins, losses, ties
    for v in votes:
        i, j = index[v.a], index[v.b]
        games[i, j] += 1
        games[j, i] += 1
        if v.winner == "tie":
            wins[i] += 0.5
            wins[j] += 0.5
            record[v.a][2] += 1
            record[v.b][2] += 1
        else:
            winner, loser = (v.a, v.b) if v.winner == "a" else (v.b, v.a)
            wins[index[winner]] += 1
            record[winner][0] += 1
            record[loser][1] += 1

    # MM update: p_i <- W_i / sum_j n_ij / (p_i + p_j), the virtual opponent included
    numerator = wins + prior / 2
    p = np.ones(k)
    for _ in range(iterations):
        denominator = (games / (p[:, None] + p[None, :])).sum(axis=1) + prior / (p + 1)
        new = numerator / denominator
        done = np.max(np.abs(np.log(new) - np.log(p))) < _TOLERANCE
        p = new
        if done:
            break

    log_p = np.log10(p)
    scores = 1000 + 400 * (log_p - log_p.mean())
    standings = [
        Standing(label, float(scores[index[label]]), w, lo, t, w + lo + t) for label, (w, lo, t) in record.items()
    ]
    return sorted(standings, key=lambda s: (-s.score, s.label))


def combo_key(workflow: str, *parts: str) -> str:
    """The key a vote stores for one combination: the workflow first, e.g.
    ``"realtime · marin · Help Desk Ally"``."""
    if workflow not in _WORKFLOWS:
        raise VoteError(f"unknown workflow {workflow!r}; use one of: {', '.join(_WORKFLOWS)}")
    return SEP.join([workflow, *parts])


def split_combo(key: str) -> tuple[str, str]:
    """(workflow, the rest) of a key; a key stored before workflows is the speech endpoint's."""
    head, sep, rest = key.partition(SEP)
    if sep and head in _WORKFLOWS:
        return head, rest
    return LEGACY_WORKFLOW, key


def with_workflow(vote: Vote) -> Vote:
    """The vote with both keys naming their workflow, so old and new votes on the same
    speech endpoint combination count as one."""
    a, b = (combo_key(*split_combo(k)) for k in (vote.a, vote.b))
    return vote if (a, b) == (vote.a, vote.b) else Vote(a, b, vote.winner, vote.ts)


def rank_combos(votes: Sequence[Vote]) -> list[Standing]:
    """``bradley_terry`` over the votes with every key carrying its workflow (a vote that
    would then compare a combination with itself is left out, never fatal)."""
    keyed = []
    for vote in votes:
        try:
            keyed.append(with_workflow(vote))
        except VoteError as e:
            log.warning("left out a vote: %s", e)
    return bradley_terry(keyed)


class VoteStore:
    """Append-only JSON-lines file of votes; unreadable lines are skipped, never fatal."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def add(self, vote: Vote) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(vote.to_dict(), ensure_ascii=False) + "\n"
        with self.path.open("a+b") as f:
            # a line cut short by a crash must not swallow the next vote
            if f.tell() > 0:
                f.seek(-1, 2)
                if f.read(1) != b"\n":
                    line = "\n" + line
            f.write(line.encode("utf-8"))

    def all(self) -> list[Vote]:
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return []
        votes = []
        skipped = 0
        for line in text.splitlines():
            if not line.strip():
                continue
            try:
                votes.append(Vote.from_dict(json.loads(line)))
            except ValueError:  # JSONDecodeError and VoteError are both ValueErrors
                skipped += 1
        if skipped:
            log.warning("%s: skipped %d malformed vote line(s)", self.path, skipped)
        return votes
