"""Compare tab: 2–6 variants side by side, run concurrently, plus a blind A/B arena.

Every column is a full speech spec (voice, vibe/instructions, speed, model, format,
provider). "Run all" starts every variant at once and fills each column as its audio
arrives; an optional round trip transcribes each result back and scores it (WER).
"""

from __future__ import annotations

import asyncio
import csv
import html
import io
import json
import random
import time
import zipfile
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import gradio as gr
import soundfile as sf

from playground.client.batch import Variant, VariantOutcome, run_variants
from playground.client.providers import Provider
from playground.client.runner import Runner
from playground.core.audio import AudioDecodeError, DecodedAudio, decode, to_mono
from playground.core.catalog import get_catalog
from playground.core.errors import PlaygroundError
from playground.core.leaderboard import Vote, bradley_terry
from playground.core.plots import spectrogram_figure, waveform_figure
from playground.core.pricing import format_cost
from playground.core.snippets import render
from playground.core.specs import TranscriptionSpec
from playground.core.textmetrics import word_error_rate
from playground.core.vibes import slugify
from playground.ui import standin
from playground.ui.compare_stt import create_compare_stt_tab
from playground.ui.context import get_context
from playground.ui.share import SHARE_JS, share_compare_query
from playground.ui.studio import DEFAULT_SCRIPT, speech_spec
from playground.ui.widgets import model_choices, model_picker

__all__ = [
    "COLUMN_FIELDS",
    "MAX_VARIANTS",
    "blind_new_round",
    "blind_vote",
    "build_same_text",
    "build_same_voice",
    "create_compare_tab",
    "leaderboard_rows",
    "mark_played",
    "provider_choices",
    "run_compare",
]

MAX_VARIANTS = 6
NO_VIBE = "(none)"
#: per column, in order: voice, vibe, instructions, speed, model, format, provider
COLUMN_FIELDS = ("voice", "vibe", "instructions", "speed", "model", "format", "provider")
#: per column outputs, in order: audio, metrics, waveform, spectrogram, code
OUTPUTS_PER_COLUMN = 5


@dataclass(frozen=True)
class ColumnSettings:
    voice: str
    vibe: str
    instructions: str
    speed: float
    model: str
    fmt: str
    provider: str


def _columns(values: tuple[Any, ...]) -> list[ColumnSettings]:
    n = len(COLUMN_FIELDS)
    return [ColumnSettings(*values[i : i + n]) for i in range(0, len(values), n)]


# ------------------------------------------------------------------- builders


def build_same_text(voices: list[str]) -> list[Any]:
    """Fill columns with the chosen voices (2–6), same everything else."""
    voices = list(voices or [])[:MAX_VARIANTS]
    if len(voices) < 2:
        raise gr.Error("Pick at least two voices.")
    updates: list[Any] = [gr.update(value=len(voices))]
    for i in range(MAX_VARIANTS):
        updates.append(gr.update(value=voices[i]) if i < len(voices) else gr.update())
        updates.append(gr.update(value=NO_VIBE) if i < len(voices) else gr.update())
        updates.append(gr.update(value="") if i < len(voices) else gr.update())
    return updates


def build_same_voice(voice: str, vibes: list[str]) -> list[Any]:
    """Fill columns with one voice reading the chosen vibes (2–6)."""
    ctx = get_context()
    vibes = list(vibes or [])[:MAX_VARIANTS]
    if len(vibes) < 2:
        raise gr.Error("Pick at least two vibes.")
    updates: list[Any] = [gr.update(value=len(vibes))]
    for i in range(MAX_VARIANTS):
        if i < len(vibes):
            vibe = ctx.vibe(vibes[i])
            updates += [
                gr.update(value=voice),
                gr.update(value=vibes[i]),
                gr.update(value=vibe.instructions_text if vibe else ""),
            ]
        else:
            updates += [gr.update(), gr.update(), gr.update()]
    return updates


def vibe_to_instructions(vibe_name: str) -> str:
    vibe = get_context().vibe(vibe_name) if vibe_name and vibe_name != NO_VIBE else None
    return vibe.instructions_text if vibe else ""


# ------------------------------------------------------------------------ run


def _variant(script: str, col: ColumnSettings, providers: dict[str, Provider], fallback: Provider) -> Variant:
    provider = providers.get(col.provider, fallback)
    spec = speech_spec(script, col.voice, col.model, col.instructions, col.speed, col.fmt)
    label = col.voice + (f" · {col.vibe}" if col.vibe and col.vibe != NO_VIBE else "")
    return Variant(spec, provider, label)


def _playable(outcome: VariantOutcome, sound: DecodedAudio | None) -> Path:
    """Save the audio for the column's player; raw PCM is written as WAV so browsers play it."""
    result = outcome.result
    assert result is not None
    spec = result.spec
    stamp = time.strftime("%Y%m%d-%H%M%S")
    vibe = slugify(outcome.variant.label.split(" · ", 1)[1]) if " · " in outcome.variant.label else "plain"
    stem = f"v{outcome.index + 1}_{spec.voice}_{vibe}_{stamp}"
    if spec.response_format == "pcm" and sound is not None:
        path = get_context().output_path(f"{stem}.wav")
        sf.write(path, sound.samples, sound.sample_rate, subtype="PCM_16")
    else:
        path = get_context().output_path(f"{stem}.{get_catalog().speech_formats[spec.response_format].ext}")
        path.write_bytes(result.audio)
    return path


def _round_trip(outcome: VariantOutcome, sound: DecodedAudio, script: str) -> str:
    """Transcribe the variant back with the same provider; WER against the script."""
    path = get_context().output_path(f"roundtrip-{time.monotonic_ns()}.wav")
    sf.write(path, to_mono(sound.samples), sound.sample_rate, subtype="PCM_16")
    try:
        spec = TranscriptionSpec(file=str(path), model=get_catalog().round_trip_model, language="en")
        text = Runner(outcome.variant.provider).transcribe(spec).text
    finally:
        path.unlink(missing_ok=True)
    wer = word_error_rate(script, text)
    return f"**Round trip WER** {wer:.0%} <small>“{html.escape(text[:160])}”</small>"


def _column_outputs(outcome: VariantOutcome, script: str, roundtrip: bool) -> list[Any]:
    code = render(outcome.variant.spec, "python", base_url=outcome.variant.provider.snippet_base_url)
    if outcome.error is not None:
        return [None, f"⚠️ **{html.escape(outcome.variant.label)}**: {html.escape(outcome.error)}", None, None, code]
    result = outcome.result
    assert result is not None
    try:
        sound: DecodedAudio | None = decode(result.audio, result.spec.response_format)
    except AudioDecodeError:
        sound = None
    path = _playable(outcome, sound)
    spec, ctx = result.spec, get_context()
    ctx.record(
        "speech", spec, model=spec.model, voice=spec.voice, provider=outcome.variant.provider.label,
        timings={"ttfb_ms": result.ttfb_ms, "total_ms": result.total_ms}, usage=result.usage, cost=result.est_cost,
        text=spec.input, audio=result.audio, audio_ext=spec.response_format,
    )  # fmt: skip
    wave = spectro = None
    if sound is not None:
        mono = to_mono(sound.samples)
        wave = waveform_figure(mono, sound.sample_rate, title="Waveform")
        spectro = spectrogram_figure(mono, sound.sample_rate, title="Spectrogram")
    lines = [
        f"**{html.escape(outcome.variant.label)}** <small>({html.escape(outcome.variant.provider.label)})</small>",
        f"Duration {result.duration_s or 0:.2f} s · first audio {result.ttfb_ms:,.0f} ms · "
        f"total {result.total_ms / 1000:.2f} s · est. {format_cost(result.est_cost)}",
    ]
    if roundtrip and sound is not None:
        try:
            lines.append(_round_trip(outcome, sound, script))
        except PlaygroundError as e:
            lines.append(f"Round trip failed: {html.escape(str(e))}")
    return [str(path), "\n\n".join(lines), wave, spectro, code]


async def run_compare(request: gr.Request | None, script: str, n_variants: int, roundtrip: bool, *column_values: Any):
    """Run the first ``n_variants`` columns concurrently; yield all outputs as each finishes.

    Each column's provider is looked up among the browser session's choices (its own
    provider, the app's, the embedded backend), so local and hosted voices compare side by side.
    """
    ctx = get_context()
    providers, fallback = ctx.providers_for(request), ctx.provider_for(request)
    columns = _columns(column_values)[: int(n_variants)]
    variants = [_variant(script, col, providers, fallback) for col in columns]
    outputs: list[Any] = [gr.update()] * (MAX_VARIANTS * OUTPUTS_PER_COLUMN)
    waiting = [None, "Running…", None, None, gr.update()]
    runnable: list[tuple[int, Variant]] = []
    for i, variant in enumerate(variants):
        outputs[i * OUTPUTS_PER_COLUMN : (i + 1) * OUTPUTS_PER_COLUMN] = waiting
        problems = variant.spec.problems()
        if problems:
            msg = "; ".join(str(p) for p in problems)
            outputs[i * OUTPUTS_PER_COLUMN + 1] = f"⚠️ Check this variant: {html.escape(msg)}"
        else:
            runnable.append((i, variant))
    yield outputs
    finished: list[VariantOutcome] = []
    async for outcome in run_variants([v for _, v in runnable]):
        index = runnable[outcome.index][0]
        outcome = VariantOutcome(index, outcome.variant, outcome.result, outcome.error)
        finished.append(outcome)
        ctx.remember_comparison(getattr(request, "session_hash", None), sorted(finished, key=lambda o: o.index))
        column = await asyncio.to_thread(_column_outputs, outcome, script, bool(roundtrip))
        outputs = list(outputs)
        outputs[index * OUTPUTS_PER_COLUMN : (index + 1) * OUTPUTS_PER_COLUMN] = column
        yield outputs


def export_comparison(request: gr.Request | None = None) -> Any:
    """The last comparison as a zip: each variant's audio, spec JSON and snippets, and a summary table."""
    ctx = get_context()
    outcomes = ctx.last_comparison(getattr(request, "session_hash", None))
    if not outcomes:
        gr.Warning("Run a comparison first.")
        return gr.update(value=None, visible=False)
    path = ctx.output_path(f"comparison-{time.strftime('%Y%m%d-%H%M%S')}.zip")
    rows = [["variant", "label", "provider", "voice", "model", "format", "duration_s", "first_audio_ms", "total_ms",
             "est_cost_usd", "error"]]  # fmt: skip
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for o in outcomes:
            n, spec = o.index + 1, o.variant.spec
            base_url = o.variant.provider.snippet_base_url
            for lang, ext in (("python", "py"), ("js", "mjs"), ("curl", "sh")):
                z.writestr(f"variant-{n}/code.{ext}", render(spec, lang, base_url=base_url))
            meta: dict[str, Any] = {
                "label": o.variant.label,
                "provider": o.variant.provider.label,
                "spec": spec.to_dict(),
            }
            r = o.result
            if r is not None:
                ext = get_catalog().speech_formats[spec.response_format].ext
                z.writestr(f"variant-{n}/{spec.voice}.{ext}", r.audio)
                meta |= {"duration_s": r.duration_s, "ttfb_ms": r.ttfb_ms, "total_ms": r.total_ms,
                         "usage": r.usage, "est_cost_usd": r.est_cost}  # fmt: skip
            z.writestr(f"variant-{n}/spec.json", json.dumps(meta, indent=2))
            rows.append([
                n, o.variant.label, o.variant.provider.label, spec.voice, spec.model, spec.response_format,
                f"{r.duration_s:.2f}" if r and r.duration_s else "", f"{r.ttfb_ms:.0f}" if r else "",
                f"{r.total_ms:.0f}" if r else "", r.est_cost if r and r.est_cost is not None else "", o.error or "",
            ])  # fmt: skip
        table = io.StringIO()
        csv.writer(table).writerows(rows)
        z.writestr("summary.csv", table.getvalue())
    return gr.update(value=str(path), visible=True)


def show_columns(n: int) -> list[Any]:
    return [gr.update(visible=i < int(n)) for i in range(MAX_VARIANTS)]


# ---------------------------------------------------------------------- blind


def _combo_pool() -> list[tuple[str, str]]:
    ctx = get_context()
    pairs = [(v.voice, v.name) for v in ctx.all_vibes()]
    pairs += [(voice, v.name) for v in ctx.builtin_vibes for voice in random.sample(get_catalog().voice_ids, 2)]
    return pairs


async def blind_new_round(script: str, model: str | None = None, request: gr.Request | None = None) -> tuple[Any, ...]:
    """Two random voice+vibe combinations speak the same script, labelled only A and B."""
    ctx = get_context()
    provider = ctx.provider_for(request)
    pool = _combo_pool()
    first = random.choice(pool)
    second = random.choice([p for p in pool if p != first])
    model = model or model_choices(get_catalog().speech_models, get_catalog().speech_defaults["model"])[1]
    variants = []
    for voice, vibe in (first, second):
        fmt = get_catalog().speech_defaults["format"]
        spec = speech_spec(script or DEFAULT_SCRIPT, voice, model, vibe_to_instructions(vibe), 1.0, fmt)
        variants.append(Variant(spec, provider, f"{voice} · {vibe}"))
    paths: list[str | None] = [None, None]
    errors = []
    async for outcome in run_variants(variants):
        if outcome.error:
            errors.append(outcome.error)
            continue
        paths[outcome.index] = str(await asyncio.to_thread(_playable, outcome, None))
    if errors:
        raise gr.Error("Blind round failed: " + "; ".join(errors))
    state = {"a": variants[0].label, "b": variants[1].label, "played": [], "voted": False}
    note = "Listen to **both**, then vote. Settings are hidden until you vote."
    disabled = gr.update(interactive=False)
    return paths[0], paths[1], json.dumps(state), note, disabled, disabled, disabled


def mark_played(side: str, state_json: str) -> tuple[str, Any, Any, Any]:
    """Record that a side was played; voting opens once both were."""
    state = json.loads(state_json or "{}")
    if not state:
        return state_json, gr.update(), gr.update(), gr.update()
    if side not in state["played"]:
        state["played"].append(side)
    ready = {"a", "b"} <= set(state["played"]) and not state["voted"]
    update = gr.update(interactive=ready)
    return json.dumps(state), update, update, update


def leaderboard_rows() -> list[list[Any]]:
    standings = bradley_terry(get_context().votes.all())
    return [[i + 1, s.label, round(s.score), s.wins, s.losses, s.ties, s.votes] for i, s in enumerate(standings)]


def blind_vote(choice: str, state_json: str) -> tuple[str, str, list[list[Any]], Any, Any, Any]:
    """Store the vote (only after both sides were played), then reveal the settings."""
    state = json.loads(state_json or "{}")
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
    reveal = f"{verdict}. A was **{html.escape(state['a'])}**, B was **{html.escape(state['b'])}**."
    off = gr.update(interactive=False)
    return json.dumps(state), reveal, leaderboard_rows(), off, off, off


# --------------------------------------------------------------------- layout


def provider_choices(request: gr.Request | None = None) -> list[Any]:
    """Every column's provider list for this browser session (its own provider first)."""
    labels = list(get_context().providers_for(request))
    return [gr.update(choices=labels, value=labels[0]) for _ in range(MAX_VARIANTS)]


def create_compare_tab() -> tuple[list[Any], list[Any]]:
    """Builds the tab: voices (side by side, blind test) and transcription models, each an
    inner tab; returns what ``_create_voice_tabs`` returns."""
    with gr.Tabs(elem_id="pg-compare-kind"):
        with gr.Tab("Voices", id="compare-voices", elem_id="pg-compare-voices"):
            with gr.Tabs():
                voices = _create_voice_tabs()
        with gr.Tab("Transcription models", id="compare-stt", elem_id="pg-compare-stt"):
            create_compare_stt_tab()
    return voices


def _create_voice_tabs() -> tuple[list[Any], list[Any]]:
    """Builds the voice comparison; returns the columns' provider dropdowns (the settings panel
    refreshes them) and what a share link fills: script, variants, round trip, six settings per column."""
    ctx = get_context()
    cat = get_catalog()
    vibe_names = [NO_VIBE, *[v.name for v in ctx.all_vibes()]]
    providers = list(ctx.providers_for(None))
    provider_pickers: list[Any] = []
    defaults = cat.voice_ids

    with gr.Tab("Side by side"):
        script = gr.Textbox(
            value=DEFAULT_SCRIPT, label="Script (shared by every variant)", lines=3, elem_id="pg-compare-script"
        )
        with gr.Row():
            n_variants = gr.Slider(2, MAX_VARIANTS, value=3, step=1, label="Variants", elem_id="pg-n-variants")
            roundtrip = gr.Checkbox(label="Round-trip check (transcribe back, show WER)", value=False)
            run = gr.Button("▶  Run all", variant="primary", elem_id="pg-run-all")
            export = gr.Button("Export comparison (zip)", size="sm", scale=0, min_width=170, elem_id="pg-export-cmp")
            share = gr.Button("Share link", size="sm", scale=0, min_width=110, elem_id="pg-share-cmp")
        share_link = gr.Textbox(show_label=False, visible=False, elem_id="pg-share-cmp-link")
        standin.note("compare")  # offline: which local engine speaks each voice, hidden otherwise
        exported = gr.File(label="Comparison", visible=False, elem_id="pg-exported-cmp")
        with gr.Accordion("Quick builders", open=False):
            with gr.Row():
                voices_pick = gr.Dropdown(
                    defaults, multiselect=True, label="Same text, N voices", max_choices=MAX_VARIANTS
                )
                same_text = gr.Button("Build", size="sm")
            with gr.Row():
                one_voice = gr.Dropdown(defaults, value=cat.speech_defaults["voice"], label="Voice")
                vibes_pick = gr.Dropdown(
                    vibe_names[1:], multiselect=True, label="Same voice, N vibes", max_choices=MAX_VARIANTS
                )
                same_voice = gr.Button("Build", size="sm")
        columns: list[gr.Column] = []
        inputs: list[Any] = []
        outputs: list[Any] = []
        builder_targets: list[Any] = []
        share_targets: list[Any] = [script, n_variants, roundtrip]
        with gr.Row(equal_height=False):
            for i in range(MAX_VARIANTS):
                with gr.Column(visible=i < 3, min_width=240, elem_classes="pg-variant") as col:
                    gr.Markdown(f"#### Variant {i + 1}")
                    voice = gr.Dropdown(defaults, value=defaults[(i * 3) % len(defaults)], label="Voice")
                    vibe = gr.Dropdown(vibe_names, value=NO_VIBE, label="Vibe")
                    instructions = gr.Textbox(label="Instructions", lines=3, max_lines=8)
                    speed = gr.Slider(cat.limits.speed.min, cat.limits.speed.max, value=1.0, step=0.05, label="Speed")
                    model = model_picker(cat.speech_models, cat.speech_defaults["model"], label="Model")
                    fmt = gr.Dropdown(list(cat.speech_formats), value=cat.speech_defaults["format"], label="Format")
                    provider = gr.Dropdown(providers, value=providers[0], label="Provider")
                    provider_pickers.append(provider)
                    audio = gr.Audio(
                        label=f"Variant {i + 1}",
                        interactive=False,
                        elem_id=f"pg-variant-audio-{i}",
                        buttons=["download"],
                    )
                    metrics = gr.Markdown()
                    wave = gr.Plot(show_label=False)
                    spectro = gr.Plot(show_label=False)
                    code = gr.Code(language="python", label="Python", lines=6)
                vibe.input(vibe_to_instructions, vibe, instructions, queue=False)
                columns.append(col)
                inputs += [voice, vibe, instructions, speed, model, fmt, provider]
                outputs += [audio, metrics, wave, spectro, code]
                builder_targets += [voice, vibe, instructions]
                share_targets += [voice, vibe, instructions, speed, model, fmt]
        n_variants.change(show_columns, n_variants, columns, queue=False)
        run.click(run_compare, [script, n_variants, roundtrip, *inputs], outputs, api_name="compare")
        export.click(export_comparison, None, exported, api_name="export_comparison", queue=False)
        share.click(
            share_compare_query,
            [script, n_variants, roundtrip, *inputs],
            share_link,
            api_name="share_comparison",
            queue=False,
        ).then(None, share_link, share_link, js=SHARE_JS).then(lambda: gr.update(visible=True), None, share_link)
        same_text.click(build_same_text, voices_pick, [n_variants, *builder_targets], api_name="build_same_text")
        same_voice.click(
            build_same_voice, [one_voice, vibes_pick], [n_variants, *builder_targets], api_name="build_same_voice"
        )

    with gr.Tab("Blind test"):
        gr.Markdown(
            "Two random voice + vibe combinations read the same script. Listen to both, vote, "
            "then see who they were. Votes stay on this machine and feed the leaderboard."
        )
        with gr.Row(equal_height=True):
            blind_script = gr.Textbox(value=DEFAULT_SCRIPT, label="Script", lines=2, scale=4, elem_id="pg-blind-script")
            blind_model = model_picker(
                cat.speech_models, cat.speech_defaults["model"], label="Model", scale=1, elem_id="pg-blind-model"
            )
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
            headers=["#", "voice · vibe", "score", "wins", "losses", "ties", "votes"],
            interactive=False,
            label="Leaderboard (Bradley–Terry, Elo-like scale)",
            elem_id="pg-leaderboard",
        )
        buttons = [vote_a, vote_tie, vote_b]
        new_round.click(
            blind_new_round,
            [blind_script, blind_model],
            [audio_a, audio_b, state, note, *buttons],
            api_name="blind_new_round",
        )
        for audio, side in ((audio_a, "a"), (audio_b, "b")):
            audio.play(partial(mark_played, side), state, [state, *buttons], api_name=f"played_{side}", queue=False)
        for button, choice in ((vote_a, "a"), (vote_tie, "tie"), (vote_b, "b")):
            button.click(partial(blind_vote, choice), state, [state, note, board, *buttons], api_name=f"vote_{choice}")
    return provider_pickers, share_targets
