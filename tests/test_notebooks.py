"""The tutorial notebooks: committed without outputs, and each one runs top to bottom
against the embedded backend (no key, no network) with a time limit per cell. Their
widgets are exercised by setting values and clicking, as a reader would."""

from __future__ import annotations

import html
import json
import os
from pathlib import Path

import nbformat
import pytest

from tests.conftest import REPO

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
CELL_SECONDS = 180
TTS = REPO / "notebooks" / "01_text_to_speech.ipynb"
#: appended to notebook 1 when it runs: its migration table's rows, read back from the kernel
MIGRATION_PROBE = "import json as _json\nprint('MIGRATION ROWS', _json.dumps([run.row() for run in runs]))"


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
    if path == TTS:
        nb.cells.append(nbformat.v4.new_code_cell(MIGRATION_PROBE))
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
    if path == TTS:
        _check_migration(nb, printed)


def _check_migration(nb: nbformat.NotebookNode, printed: str) -> None:
    """Notebook 1's migration section: both workflows spoke the text, with real numbers."""
    from playground.core import workflows

    labels = {workflows.label(w): w for w in workflows.WORKFLOWS}
    line = next(ln for ln in printed.splitlines() if ln.startswith("MIGRATION ROWS "))
    rows = {row["workflow"]: row for row in json.loads(line.removeprefix("MIGRATION ROWS "))}
    assert set(rows) == set(labels), rows
    for label, row in rows.items():
        assert 0 < row["first audio (ms)"] <= row["total (ms)"], row
        assert row["audio (s)"] > 2.0 and row["est. cost ($)"] > 0 and row["$ / min of audio"] > 0, row
        assert 0 <= row["round-trip WER"] <= 0.25, row  # what a transcriber hears is the text
        if labels[label] == "realtime":
            assert row["transcript vs text WER"] is not None and row["transcript vs text WER"] <= 0.25, row
        else:
            assert row["transcript vs text WER"] is None, row
    # the reader sees the same: a table naming both workflows, two players, a bar chart, a diff
    shown = [o.get("data", {}) for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    tables = [d["text/html"] for d in shown if "dataframe" in d.get("text/html", "")]
    assert tables and all(label in tables[-1] for label in labels), "no table with both workflows"
    assert any("application/vnd.plotly.v1+json" in d for d in shown), "no bar chart"
    players = next(c for c in nb.cells if c.source.rstrip().endswith("lab.workflow_players(runs)"))
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in players.outputs)
    diff = next(c for c in nb.cells if "lab.diff_view(migration_text" in c.source)
    assert any("WER" in o.get("data", {}).get("text/html", "") for o in diff.outputs), "no word diff"


def test_the_tts_notebook_teaches_realtime_first_and_ends_with_the_migration():
    """Sections in order, the endpoint's heading carrying the catalog's shutdown date, and a
    checklist that names what changes."""
    from playground.core import workflows

    nb = nbformat.read(TTS, as_version=4)
    headings = [
        ln for c in nb.cells if c.cell_type == "markdown" for ln in c.source.splitlines() if ln.startswith("## ")
    ]
    assert [h.split("·")[0].strip("# ") for h in headings] == ["1", "2", "3"], headings
    assert "Realtime" in headings[0] and "migration" in headings[2].lower()
    assert f"shuts down {workflows.speech_shutdown().isoformat()}" in headings[1]
    checklist = nb.cells[-1].source
    for word in ("fable", "nova", "onyx", "0.25–1.5", "mp3", "response.output_audio.delta", "per token", "transcript"):
        assert word in checklist, word
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    for call in (
        "RealtimeSpeechSpec(",
        ".to_session()",
        ".to_response()",
        "runner.realtime_speech(",
        "SpeechSpec(",
        "render(rt_spec",
        "lab.compare_workflows(",
    ):
        assert call in code, call


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
    # Piper samples its noise on every call, so a nine-word round trip moves by a word or two
    # between runs (ash: 1 of 9 words usually, 3 of 9 once in a full run); garbage scores far higher
    assert set(grid.wers) == set(voices) and all(w <= 0.34 for w in grid.wers.values()), grid.wers
    assert "3 voices in" in grid.status.value
    grid.voices.value = ()
    assert grid.run() == [] and grid.status.value.startswith("⚠️")


def test_sample_clips_carry_their_reference_transcripts():
    from playground import lab

    clips = {c.name: c for c in lab.sample_clips()}
    assert clips["jfk.flac"].text.startswith("And so my fellow Americans")
    assert all(c.path.is_file() for c in clips.values())
