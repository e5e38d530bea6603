"""The blind A/B test: two random combinations read one script, labelled only A and B.

A combination is a workflow, a voice and a vibe, so the same voice through the Realtime API
and through the speech endpoint it replaces can meet without the listener knowing which is
which: the check people need before the endpoint shuts down. Votes are stored with keys
that name the workflow (``core.leaderboard.combo_key``); votes from before workflows load
as speech endpoint ones. Voting opens only once both sides were played.
"""

from __future__ import annotations

import asyncio
import html
import json
import random
import time
from functools import partial
from typing import Any

import gradio as gr

from playground.client.batch import Variant, run_variants
from playground.core import jsonsafe, workflows
from playground.core.catalog import get_catalog
from playground.core.leaderboard import SEP, Vote, combo_key, rank_combos, split_combo
from playground.ui.compare_columns import playable, short_name, workflow_choices
from playground.ui.context import get_context
from playground.ui.studio import DEFAULT_SCRIPT
from playground.ui.widgets import model_choices, model_picker

__all__ = [
    "blind_new_round",
    "blind_vote",
    "combo_pool",
    "create_blind_tab",
    "display_label",
    "leaderboard_rows",
    "mark_played",
]

Combo = tuple[str, str, str]  # workflow, voice, vibe name


def combo_pool(mix: list[str] | None = None) -> list[Combo]:
    """Every saved vibe with its own voice, and each built-in vibe with two random voices, on
    each workflow in ``mix`` whose voices include that voice."""
    ctx = get_context()
    mix = [w for w in (mix or workflows.WORKFLOWS) if w in workflows.WORKFLOWS] or list(workflows.WORKFLOWS)
    pool: list[Combo] = []
    for w in mix:
        voices = workflows.get(w).voices
        pool += [(w, v.voice, v.name) for v in ctx.all_vibes() if v.voice in voices]
        pool += [(w, voice, v.name) for v in ctx.builtin_vibes for voice in random.sample(voices, 2)]
    return list(dict.fromkeys(pool))


def display_label(key: str) -> str:
    """A stored key as people read it: the workflow's short name first."""
    workflow, rest = split_combo(key)
    return f"{short_name(workflow)}{SEP}{rest}"


def _vibe_instructions(name: str) -> str:
    vibe = get_context().vibe(name)
    return vibe.instructions_text if vibe else ""


async def blind_new_round(
    script: str,
    model: str | None = None,
    realtime_model: str | None = None,
    mix: list[str] | None = None,
    request: gr.Request | None = None,
) -> tuple[Any, ...]:
    """Two random combinations from the pool speak the same script, labelled only A and B.
    ``model`` is the speech endpoint's model, ``realtime_model`` the Realtime one."""
    ctx = get_context()
    provider = ctx.provider_for(request)
    pool = combo_pool(mix)
    if len(pool) < 2:
        raise gr.Error("The blind test needs at least two combinations; save a vibe or pick both workflows.")
    first = random.choice(pool)
    second = random.choice([c for c in pool if c != first])
    cat = get_catalog()
    models = {
        workflows.SPEECH: model or model_choices(cat.speech_models, cat.speech_defaults["model"])[1],
        workflows.REALTIME: realtime_model or workflows.get(workflows.REALTIME).default_model,
    }
    variants = []
    for workflow, voice, vibe in (first, second):
        spec = workflows.tts_spec(
            workflow, input=script or DEFAULT_SCRIPT, voice=voice, model=models[workflow],
            instructions=_vibe_instructions(vibe),
        )  # fmt: skip
        variants.append(Variant(spec, provider, combo_key(workflow, voice, vibe)))
    paths: list[str | None] = [None, None]
    errors = []
    async for outcome in run_variants(variants):
        if outcome.error:
            errors.append(outcome.error)
            continue
        path = await asyncio.to_thread(playable, outcome, None, "blind")
        paths[outcome.index] = str(path)
    if errors:
        raise gr.Error("Blind round failed: " + "; ".join(errors))
    state = {
        "a": variants[0].label,
        "b": variants[1].label,
        "models": [v.spec.model for v in variants],
        "played": [],
        "voted": False,
    }
    note = "Listen to **both**, then vote. Settings are hidden until you vote."
    disabled = gr.update(interactive=False)
    return paths[0], paths[1], json.dumps(state), note, disabled, disabled, disabled


def _round(state_json: str | None) -> dict[str, Any]:
    """The round the page holds, or {} when there is none (or the page sent something else)."""
    try:
        state = jsonsafe.loads(state_json or "{}")
    except ValueError:
        return {}
    if not isinstance(state, dict) or not isinstance(state.get("played"), list):
        return {}
    if not all(k in state for k in ("voted", "a", "b")):
        return {}
    return state


def mark_played(side: str, state_json: str) -> tuple[str, Any, Any, Any]:
    """Record that a side was played; voting opens once both were."""
    state = _round(state_json)
    if not state:
        return state_json, gr.update(), gr.update(), gr.update()
    if side not in state["played"]:
        state["played"].append(side)
    ready = {"a", "b"} <= set(state["played"]) and not state["voted"]
    update = gr.update(interactive=ready)
    return json.dumps(state), update, update, update


def leaderboard_rows() -> list[list[Any]]:
    """Ranked combinations, each label naming its workflow (old votes: the speech endpoint)."""
    standings = rank_combos(get_context().votes.all())
    return [
        [i + 1, display_label(s.label), round(s.score), s.wins, s.losses, s.ties, s.votes]
        for i, s in enumerate(standings)
    ]


def blind_vote(choice: str, state_json: str) -> tuple[str, str, list[list[Any]], Any, Any, Any]:
    """Store the vote (only after both sides were played), then reveal the combinations."""
    state = _round(state_json)
    if not state:
        raise gr.Error("Start a round first.")
    if state["voted"]:
        raise gr.Error("You already voted in this round; start a new one.")
    if not {"a", "b"} <= set(state["played"]):
        raise gr.Error("Listen to both A and B before voting.")
    if choice not in ("a", "b", "tie"):
        raise gr.Error("Vote A, B or tie.")
    get_context().votes.add(Vote(state["a"], state["b"], choice, time.time()))  # type: ignore[arg-type]
    state["voted"] = True
    verdict = {"a": "You preferred **A**", "b": "You preferred **B**", "tie": "You called it a **tie**"}[choice]
    a, b = (html.escape(display_label(state[k]), quote=False) for k in ("a", "b"))
    reveal = f"{verdict}. A was **{a}**, B was **{b}**."
    models = state.get("models") or []
    if len(models) == 2:
        reveal += f" <small>Models: A {html.escape(models[0])}; B {html.escape(models[1])}.</small>"
    off = gr.update(interactive=False)
    return json.dumps(state), reveal, leaderboard_rows(), off, off, off


def create_blind_tab() -> None:
    """The blind test's widgets and events (inside the Compare tab's "Blind test" tab)."""
    cat = get_catalog()
    gr.Markdown(
        "Two random combinations (workflow + voice + vibe) read the same script. Listen to both, "
        "vote, then see who they were: does the Realtime API sound as good as the speech endpoint? "
        "Votes stay on this machine and feed the leaderboard."
    )
    with gr.Row(equal_height=True):
        script = gr.Textbox(value=DEFAULT_SCRIPT, label="Script", lines=2, scale=4, elem_id="pg-blind-script")
        mix = gr.CheckboxGroup(
            workflow_choices(), value=list(workflows.WORKFLOWS), label="Workflows", scale=2, elem_id="pg-blind-mix"
        )
    with gr.Row(equal_height=True):
        model = model_picker(
            cat.speech_models, cat.speech_defaults["model"], label="Speech endpoint model", elem_id="pg-blind-model"
        )
        rt = workflows.get(workflows.REALTIME)
        realtime_model = model_picker(rt.models, rt.default_model, label="Realtime model", elem_id="pg-blind-rt-model")
    new_round = gr.Button("New round", variant="primary", elem_id="pg-blind-new")
    state = gr.Textbox(visible=False)
    with gr.Row():
        audio_a = gr.Audio(label="A", interactive=False, elem_id="pg-blind-a", buttons=["download"])
        audio_b = gr.Audio(label="B", interactive=False, elem_id="pg-blind-b", buttons=["download"])
    note = gr.Markdown(elem_id="pg-blind-note")
    with gr.Row():
        vote_a = gr.Button("A is better", interactive=False, elem_id="pg-vote-a")
        vote_tie = gr.Button("Tie", interactive=False, elem_id="pg-vote-tie")
        vote_b = gr.Button("B is better", interactive=False, elem_id="pg-vote-b")
    board = gr.Dataframe(
        value=leaderboard_rows(),
        headers=["#", "workflow · voice · vibe", "score", "wins", "losses", "ties", "votes"],
        interactive=False,
        label="Leaderboard (Bradley–Terry, Elo-like scale)",
        elem_id="pg-leaderboard",
    )
    buttons = [vote_a, vote_tie, vote_b]
    new_round.click(
        blind_new_round,
        [script, model, realtime_model, mix],
        [audio_a, audio_b, state, note, *buttons],
        api_name="blind_new_round",
    )
    for audio, side in ((audio_a, "a"), (audio_b, "b")):
        audio.play(partial(mark_played, side), state, [state, *buttons], api_name=f"played_{side}", queue=False)
    for button, choice in ((vote_a, "a"), (vote_tie, "tie"), (vote_b, "b")):
        button.click(partial(blind_vote, choice), state, [state, note, board, *buttons], api_name=f"vote_{choice}")
