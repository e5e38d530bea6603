"""A word diff as HTML: what a reference text and another one disagree on, with the WER.

Pure (no Gradio), so the Transcribe tab (script vs what was heard), the Studio (script vs
what a Realtime voice said it said), Compare and the notebooks draw the same view.
"""

from __future__ import annotations

import html

from playground.core.textmetrics import word_diff

__all__ = ["diff_html"]


def diff_html(
    reference: str,
    other: str,
    *,
    missing: str = "said, not heard",
    added: str = "heard, not said",
    replaced: str = "said",
    reference_name: str = "reference",
    literal: bool = False,
) -> str:
    """WER and the word diff: substitutions, words only in ``reference`` (``missing``) and
    words only in ``other`` (``added``); both sides normalised like Whisper's evaluations,
    or only for case and punctuation with ``literal``."""
    diff = word_diff(reference, other, literal=literal)
    out = []
    for op, ref, hyp in diff.chunks:
        r, h = html.escape(" ".join(ref)), html.escape(" ".join(hyp))
        if op == "equal":
            out.append(r)
        elif op == "substitute":
            out.append(f'<span class="pg-sub" title="{html.escape(replaced)}: {r}"><s>{r}</s> {h}</span>')
        elif op == "delete":
            out.append(f'<del class="pg-del" title="{html.escape(missing)}">{r}</del>')
        else:
            out.append(f'<ins class="pg-ins" title="{html.escape(added)}">{h}</ins>')
    counts = f"{diff.substitutions} substituted · {diff.deletions} missed · {diff.insertions} added"
    how = "case and punctuation aside" if literal else "both sides normalised like Whisper's evaluations"
    return (
        f'<div class="pg-wer"><b>WER {100 * diff.wer:.1f}%</b> <span class="pg-muted">({counts}, of '
        f"{diff.reference_words} {html.escape(reference_name)} words; {how})</span>"
        f'<div class="pg-diff">{" ".join(out)}</div></div>'
    )
