"""The tutorial notebooks: committed without outputs, and each one runs top to bottom
against the embedded backend (no key, no network) with a time limit per cell. Their
widgets are exercised by setting values and clicking, as a reader would."""

from __future__ import annotations

import html
import os
from pathlib import Path

import nbformat
import pytest

from tests.conftest import REPO

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
CELL_SECONDS = 180


def test_there_are_notebooks():
    assert NOTEBOOKS, "notebooks/ holds no .ipynb"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_notebooks_carry_no_outputs(path: Path):
    nb = nbformat.read(path, as_version=4)
    dirty = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and (c.outputs or c.execution_count)]
    assert not dirty, f"{path.name}: cells {dirty} carry outputs; clear them before committing"


@pytest.mark.models
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_top_to_bottom(path: Path, tmp_path, monkeypatch):
    from nbclient import NotebookClient

    for name in list(os.environ):
        if name.startswith("OPENAI_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("PLAYGROUND_DATA_DIR", str(tmp_path / "data"))
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=CELL_SECONDS,
        kernel_name="python3",
        resources={"metadata": {"path": str(REPO / "notebooks")}},
        raise_on_iopub_timeout=True,  # a cell whose output never settles fails, never waits out the limit
    )
    client.execute()  # raises CellExecutionError naming the cell that failed
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "talking to: Embedded local backend" in printed


@pytest.mark.models
def test_the_mini_studio_plays_what_its_widgets_say(backend_url, monkeypatch):
    from playground import lab
    from playground.client.providers import embedded_provider
    from playground.core import audio

    monkeypatch.setattr(lab, "_PROVIDER", embedded_provider(backend_url))
    studio = lab.MiniStudio(script="Widgets, meet speech.")
    studio.voice.value = "ash"
    studio.vibe.value = studio.vibe.options[1]
    assert studio.instructions.value  # a vibe chip fills the instructions
    studio.speed.value = 1.25
    code = html.unescape(studio.code.value)
    assert 'voice="ash"' in code and "speed=1.25" in code
    studio.button.click()
    assert studio.last is not None and audio.decode(studio.last.audio).duration > 0.5
    assert "first byte" in studio.status.value
    studio.speed.value = studio.speed.max
    studio.script.value = ""
    assert studio.play() is None and studio.status.value.startswith("⚠️")


@pytest.mark.models
def test_the_voice_grid_generates_every_chosen_voice_and_scores_it(backend_url, monkeypatch):
    from playground import lab
    from playground.client.providers import embedded_provider
    from playground.core import audio

    monkeypatch.setattr(lab, "_PROVIDER", embedded_provider(backend_url))
    grid = lab.VoiceGrid(script="The ferry leaves at noon from the north pier.")
    grid.voices.value = ("ash", "nova", "fable")
    grid.vibe.value = grid.vibe.options[1]
    grid.button.click()
    voices = [o.variant.spec.voice for o in grid.outcomes]
    assert voices == ["ash", "nova", "fable"] and all(o.result is not None for o in grid.outcomes)
    assert all(o.variant.spec.instructions for o in grid.outcomes)  # the vibe reached every spec
    players = [card.children[1] for card in grid.players.children]
    assert len(players) == 3 and all(audio.decode(p.value, "wav").duration > 1.0 for p in players)
    assert set(grid.wers) == set(voices) and all(w <= 0.25 for w in grid.wers.values()), grid.wers
    assert "3 voices in" in grid.status.value
    grid.voices.value = ()
    assert grid.run() == [] and grid.status.value.startswith("⚠️")


def test_sample_clips_carry_their_reference_transcripts():
    from playground import lab

    clips = {c.name: c for c in lab.sample_clips()}
    assert clips["jfk.flac"].text.startswith("And so my fellow Americans")
    assert all(c.path.is_file() for c in clips.values())
