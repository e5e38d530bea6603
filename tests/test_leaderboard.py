"""Bradley–Terry ranking of blind A/B votes, and the JSON-lines vote file."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from playground.core.leaderboard import (
    Standing,
    Vote,
    VoteError,
    VoteStore,
    bradley_terry,
    combo_key,
    rank_combos,
    split_combo,
    with_workflow,
)

A, B, C, D = "coral · Help Desk Ally", "ash · Comedy Warm-Up", "sage · Incident Update", "nova · Weather Desk"


def votes(*triples: tuple[str, str, str]) -> list[Vote]:
    return [Vote(a, b, winner, ts=float(i)) for i, (a, b, winner) in enumerate(triples)]


def by_label(standings: list[Standing]) -> dict[str, Standing]:
    return {s.label: s for s in standings}


def test_empty() -> None:
    assert bradley_terry([]) == []


def test_clearly_stronger_item_ranks_first() -> None:
    vs = votes(
        *[(A, B, "a")] * 8,
        (A, B, "b"),
        *[(C, A, "b")] * 6,
        *[(B, C, "a")] * 5,
        (B, C, "b"),
        (C, D, "tie"),
        (D, A, "b"),
    )
    ranked = bradley_terry(vs)
    assert ranked[0].label == A
    assert ranked == sorted(ranked, key=lambda s: -s.score)
    assert ranked[0].score > 1000 > ranked[-1].score
    # scores are centred: the mean log-strength maps to 1000
    assert sum(s.score for s in ranked) / len(ranked) == pytest.approx(1000)


def test_symmetric_votes_give_equal_scores() -> None:
    cycle = votes((A, B, "a"), (B, C, "a"), (C, A, "a"), (B, A, "a"), (C, B, "a"), (A, C, "a"))
    for s in bradley_terry(cycle):
        assert s.score == pytest.approx(1000, abs=1e-6)
        assert (s.wins, s.losses, s.ties, s.votes) == (2, 2, 0, 4)


def test_ties_count_half_each_way() -> None:
    only_ties = bradley_terry(votes(*[(A, B, "tie")] * 5))
    assert [s.score for s in only_ties] == pytest.approx([1000, 1000])
    assert all((s.wins, s.losses, s.ties, s.votes) == (0, 0, 5, 5) for s in only_ties)
    # one win and two ties is better than one loss and two ties
    mixed = by_label(bradley_terry(votes((A, B, "a"), (A, B, "tie"), (B, A, "tie"))))
    assert mixed[A].score > mixed[B].score
    assert (mixed[A].wins, mixed[A].losses, mixed[A].ties) == (1, 0, 2)
    assert (mixed[B].wins, mixed[B].losses, mixed[B].ties) == (0, 1, 2)


def test_undefeated_and_winless_items_stay_finite() -> None:
    ranked = bradley_terry(votes(*[(A, B, "a")] * 50, *[(C, A, "b")] * 50))
    assert all(math.isfinite(s.score) for s in ranked)
    assert ranked[0].label == A and ranked[0].losses == 0
    # a stronger prior pulls scores towards 1000
    wide = bradley_terry(votes(*[(A, B, "a")] * 10), prior=0.1)
    narrow = bradley_terry(votes(*[(A, B, "a")] * 10), prior=10)
    assert wide[0].score > narrow[0].score > 1000


def test_vote_counts() -> None:
    vs = votes((A, B, "a"), (A, B, "b"), (B, A, "a"), (A, C, "tie"), (C, B, "a"))
    standings = by_label(bradley_terry(vs))
    assert (standings[A].wins, standings[A].losses, standings[A].ties, standings[A].votes) == (1, 2, 1, 4)
    assert (standings[B].wins, standings[B].losses, standings[B].ties, standings[B].votes) == (2, 2, 0, 4)
    assert (standings[C].wins, standings[C].losses, standings[C].ties, standings[C].votes) == (1, 0, 1, 2)
    assert sum(s.votes for s in standings.values()) == 2 * len(vs)


def test_fit_satisfies_the_maximum_likelihood_equations() -> None:
    """At the MAP fixed point each item's expected wins equal its observed wins (prior included)."""
    vs = votes(
        *[(A, B, "a")] * 3, (B, A, "a"), *[(B, C, "a")] * 2, (C, B, "tie"), (C, A, "a"), (A, D, "a"), (D, C, "b")
    )
    prior = 1.0
    standings = bradley_terry(vs, iterations=10_000, prior=prior)
    # strengths relative to the fixed virtual opponent are identified only up to the geometric-mean shift,
    # so recover it: find the shift c where the anchor equations hold, then check all of them
    rel = {s.label: 10 ** ((s.score - 1000) / 400) for s in standings}

    def residuals(c: float) -> dict[str, float]:
        p = {k: v * c for k, v in rel.items()}
        out = {}
        for label in p:
            observed = prior / 2
            expected = prior * p[label] / (p[label] + 1)
            for v in vs:
                if label not in (v.a, v.b):
                    continue
                other = v.b if label == v.a else v.a
                if v.winner == "tie":
                    observed += 0.5
                elif (v.winner == "a") == (label == v.a):
                    observed += 1
                expected += p[label] / (p[label] + p[other])
            out[label] = observed - expected
        return out

    lo, hi = 1e-6, 1e6  # total residual is monotone decreasing in c: bisect for zero
    for _ in range(200):
        mid = math.sqrt(lo * hi)
        lo, hi = (mid, hi) if sum(residuals(mid).values()) > 0 else (lo, mid)
    assert all(abs(r) < 1e-6 for r in residuals(lo).values())


def test_deterministic_regardless_of_vote_order() -> None:
    vs = votes((A, B, "a"), (B, C, "a"), (C, D, "tie"), (D, A, "b"), (B, D, "a"))
    assert bradley_terry(vs) == bradley_terry(list(reversed(vs)))


def test_bad_arguments_and_votes() -> None:
    with pytest.raises(ValueError, match="prior"):
        bradley_terry(votes((A, B, "a")), prior=0)
    with pytest.raises(ValueError, match="iterations"):
        bradley_terry(votes((A, B, "a")), iterations=0)
    with pytest.raises(VoteError, match="one of a, b, tie"):
        Vote(A, B, "c", 1.0)  # type: ignore[arg-type]
    with pytest.raises(VoteError, match="different"):
        Vote(A, A, "a", 1.0)
    with pytest.raises(VoteError, match="non-empty"):
        Vote("", A, "a", 1.0)


def test_vote_store_round_trip_skips_malformed_lines(tmp_path: Path) -> None:
    store = VoteStore(tmp_path / "deep" / "dir" / "votes.jsonl")
    assert store.all() == []
    first = Vote(A, B, "a", 1700000000.5)
    store.add(first)
    assert store.path.is_file()
    with store.path.open("a", encoding="utf-8") as f:
        f.write("not json\n")
        f.write(json.dumps({"a": A, "b": B}) + "\n")  # missing fields
        f.write(json.dumps({"a": A, "b": B, "winner": "maybe", "ts": 1}) + "\n")
        f.write("[1, 2]\n\n")
        f.write('{"a": "cut sh')  # a write interrupted mid-line
    second = Vote(C, A, "tie", 1700000001.0)
    store.add(second)
    assert store.all() == [first, second]
    assert VoteStore(store.path).all() == [first, second]
    assert bradley_terry(store.all())[0].votes == 2


def test_default_iterations_converge_on_lopsided_votes() -> None:
    lopsided = votes(*[(A, B, "a")] * 50, *[(B, C, "a")] * 50)
    default = by_label(bradley_terry(lopsided))
    exact = by_label(bradley_terry(lopsided, iterations=1_000_000))
    assert all(default[k].score == pytest.approx(exact[k].score, abs=0.01) for k in exact)
    assert [s.label for s in bradley_terry(lopsided)] == [A, B, C]


def test_combination_keys_name_the_workflow_and_old_keys_are_the_speech_endpoint() -> None:
    key = combo_key("realtime", "marin", "Help Desk Ally")
    assert key == "realtime · marin · Help Desk Ally"
    assert split_combo(key) == ("realtime", "marin · Help Desk Ally")
    assert split_combo(A) == ("speech", A)  # stored before there were two workflows
    with pytest.raises(VoteError, match="workflow"):
        combo_key("chat", "marin")
    old, new = Vote(A, B, "a", 1.0), Vote(combo_key("speech", *A.split(" · ")), key, "b", 2.0)
    assert with_workflow(old) == Vote("speech · " + A, "speech · " + B, "a", 1.0)
    assert with_workflow(new) is new
    ranked = by_label(rank_combos([old, new]))
    assert set(ranked) == {"speech · " + A, "speech · " + B, key}
    assert ranked["speech · " + A].votes == 2  # old and new votes on one combination count together
