"""Vibe presets: the shipped YAML files, the instructions text format, and the user store."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import yaml

from playground.core.catalog import get_catalog
from playground.core.errors import PlaygroundError
from playground.core.vibes import (
    SECTIONS,
    Vibe,
    VibeError,
    VibeExistsError,
    VibeStore,
    builtin_vibes_dir,
    load_vibe,
    load_vibes,
    parse_instructions_text,
    slugify,
    user_data_dir,
)

VOICES = get_catalog().voice_ids


@pytest.fixture
def store(tmp_path: Path) -> VibeStore:
    return VibeStore(tmp_path / "vibes", voices=VOICES)


def write(path: Path, data: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data) if not isinstance(data, str) else data, encoding="utf-8")
    return path


def good_data(**changes: object) -> dict:
    data = {
        "name": "Test Vibe",
        "voice": VOICES[0],
        "script": "Hello there.",
        "instructions": {"affect": "Calm.", "tone": "Warm."},
    }
    data.update(changes)
    return data


# -- built-in vibes ----------------------------------------------------------------


def test_builtin_vibes_all_load_with_every_section_and_a_valid_voice() -> None:
    folder = builtin_vibes_dir()
    assert folder.is_dir()
    vibes = load_vibes(folder, voices=VOICES)
    assert len(vibes) >= 20
    assert len(vibes) == len(list(folder.glob("*.yaml")))
    for vibe in vibes:
        assert vibe.voice in VOICES, vibe.slug
        assert set(vibe.instructions) == set(SECTIONS), vibe.slug
        assert all(vibe.instructions[s] for s in SECTIONS), vibe.slug
        assert vibe.name and vibe.script.strip() and vibe.description, vibe.slug
        assert vibe.user is False
        assert vibe.slug == slugify(vibe.slug)  # file names are already slugs
    names = [v.name.casefold() for v in vibes]
    assert names == sorted(names)
    assert len({v.slug for v in vibes}) == len(vibes)


def test_builtin_instructions_text_round_trips() -> None:
    for vibe in load_vibes(builtin_vibes_dir(), voices=VOICES):
        text = vibe.instructions_text
        assert text.startswith("Affect: ")
        assert "\n\nPauses: " in text
        assert parse_instructions_text(text) == vibe.instructions


def test_malformed_builtin_folder_raises(tmp_path: Path) -> None:
    write(tmp_path / "ok.yaml", good_data())
    write(tmp_path / "bad.yaml", good_data(voice="nobody"))
    with pytest.raises(VibeError, match=r"bad\.yaml"):
        load_vibes(tmp_path, voices=VOICES)


def test_missing_folder_is_empty(tmp_path: Path) -> None:
    assert load_vibes(tmp_path / "nope", voices=VOICES) == []
    assert load_vibes(tmp_path / "nope", user=True, voices=VOICES) == []


# -- load_vibe validation --------------------------------------------------------------


def test_load_vibe_defaults_and_slug(tmp_path: Path) -> None:
    vibe = load_vibe(write(tmp_path / "my-vibe.yaml", good_data()), user=True, voices=VOICES)
    assert vibe == Vibe(
        slug="my-vibe",
        name="Test Vibe",
        description="",
        voice=VOICES[0],
        tags=(),
        script="Hello there.",
        instructions={"affect": "Calm.", "tone": "Warm."},
        user=True,
    )
    assert vibe.instructions_text == "Affect: Calm.\n\nTone: Warm."


@pytest.mark.parametrize(
    ("data", "field", "why"),
    [
        (good_data(name=""), "name", "empty"),
        (good_data(name=3), "name", "expected text"),
        ({k: v for k, v in good_data().items() if k != "name"}, "name", "missing"),
        (good_data(voice="nobody"), "voice", "valid voices: alloy"),
        (good_data(script=None), "script", "expected text"),
        (good_data(instructions="be nice"), "instructions", "mapping"),
        (good_data(instructions={"mood": "x"}), "instructions.mood", "valid sections: affect, tone"),
        (good_data(instructions={"tone": 5}), "instructions.tone", "expected text"),
        (good_data(tags="calm"), "tags", "list"),
        (good_data(tags=["ok", 1]), "tags", "list"),
        (good_data(description=["x"]), "description", "expected text"),
        (["a", "list"], "top level", "mapping"),
        ("name: [unclosed", "not valid YAML", ""),
    ],
)
def test_load_vibe_errors_name_file_and_field(tmp_path: Path, data: object, field: str, why: str) -> None:
    path = write(tmp_path / "broken.yaml", data)
    with pytest.raises(VibeError) as info:
        load_vibe(path, voices=VOICES)
    message = str(info.value)
    assert str(path) in message
    assert field in message
    assert why in message
    assert isinstance(info.value, PlaygroundError) and isinstance(info.value, ValueError)


def test_free_instructions_key_is_allowed(tmp_path: Path) -> None:
    vibe = load_vibe(write(tmp_path / "f.yaml", good_data(instructions={"free": "Just be nice."})), voices=VOICES)
    assert vibe.instructions == {"free": "Just be nice."}
    assert vibe.instructions_text == "Just be nice."


# -- instructions text ---------------------------------------------------------------


def test_parse_multiline_and_case_insensitive_sections() -> None:
    text = "AFFECT: calm\nand steady\n\n  tone:warm\nPacing:   slow  \n\nemotion: \n"
    assert parse_instructions_text(text) == {"affect": "calm\nand steady", "tone": "warm", "pacing": "slow"}


def test_parse_free_text_and_preamble() -> None:
    assert parse_instructions_text("  Speak like a pirate.\nArr.  ") == {"free": "Speak like a pirate.\nArr."}
    assert parse_instructions_text("Overall: friendly.\nTone: warm") == {"free": "Overall: friendly.", "tone": "warm"}
    assert parse_instructions_text("   \n ") == {}


def test_instructions_text_orders_sections_and_skips_empty() -> None:
    vibe = Vibe("s", "S", "", VOICES[0], (), "", {"pauses": "short", "affect": "calm", "tone": "", "free": "Intro."})
    assert vibe.instructions_text == "Intro.\n\nAffect: calm\n\nPauses: short"
    assert parse_instructions_text(vibe.instructions_text) == {"affect": "calm", "pauses": "short", "free": "Intro."}


# -- slugify ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("../../etc/passwd", "etc-passwd"),
        ("  Hello World!! ", "hello-world"),
        ("Ünïcödé", "unicode"),
        ("Help Desk Ally", "help-desk-ally"),
        ("a__b--c", "a-b-c"),
        ("x" * 100, "x" * 60),
        ("a" * 59 + " b", "a" * 59),  # no trailing hyphen after truncation
    ],
)
def test_slugify(name: str, slug: str) -> None:
    assert slugify(name) == slug


@pytest.mark.parametrize("name", ["", "***", "   ", "日本語"])
def test_slugify_rejects_names_without_letters_or_digits(name: str) -> None:
    with pytest.raises(VibeError, match="letters or digits"):
        slugify(name)


# -- user store --------------------------------------------------------------------------


def test_store_save_list_exists_delete(store: VibeStore) -> None:
    assert store.list() == []
    assert not store.exists("Night Owl")
    text = "Affect: sleepy\n\nTone: hushed"
    vibe = store.save("  Night Owl ", instructions=text, script="It is late.", voice="sage", description="Late.")
    assert vibe.slug == "night-owl" and vibe.name == "Night Owl" and vibe.user
    assert (store.folder / "night-owl.yaml").is_file()
    assert store.exists("night owl") and store.exists("NIGHT-OWL")
    [listed] = store.list()
    assert listed == vibe
    assert listed.instructions == {"affect": "sleepy", "tone": "hushed"}
    assert listed.instructions_text == text
    assert store.delete("Night Owl") is True
    assert store.delete("Night Owl") is False
    assert store.list() == [] and not store.exists("Night Owl")


def test_store_free_text_and_multiline_script_round_trip(store: VibeStore) -> None:
    script = "Line one.\nLine two: with a colon.\n"
    store.save("Pirate", instructions="Talk like a pirate.", script=script, voice="ash")
    [vibe] = store.list()
    assert vibe.instructions == {"free": "Talk like a pirate."}
    assert vibe.script == script
    assert "script: |" in (store.folder / "pirate.yaml").read_text()  # stays hand-editable


def test_store_refuses_overwrite_unless_confirmed(store: VibeStore) -> None:
    store.save("Night Owl", instructions="Tone: hushed", script="a", voice="sage")
    with pytest.raises(VibeExistsError, match=r"'Night Owl' already exists.*overwrit") as info:
        store.save("night  owl", instructions="Tone: loud", script="b", voice="sage")
    assert isinstance(info.value, VibeError)
    assert store.list()[0].script == "a"
    vibe = store.save("night  owl", instructions="Tone: loud", script="b", voice="ash", overwrite=True)
    [listed] = store.list()
    assert listed == vibe and listed.script == "b" and listed.voice == "ash" and listed.name == "night  owl"
    assert [p.name for p in store.folder.iterdir()] == ["night-owl.yaml"]  # no temp files left


def test_store_validates_voice_and_name(store: VibeStore) -> None:
    with pytest.raises(VibeError, match="valid voices: alloy"):
        store.save("X", instructions="", script="", voice="nobody")
    with pytest.raises(VibeError, match="letters or digits"):
        store.save("***", instructions="", script="", voice="sage")
    assert not store.folder.exists()
    assert store.exists("***") is False and store.delete("") is False


def test_store_skips_malformed_user_files(store: VibeStore, caplog: pytest.LogCaptureFixture) -> None:
    store.save("Good One", instructions="Tone: fine", script="ok", voice="sage")
    write(store.folder / "bad-voice.yaml", good_data(voice="nobody"))
    write(store.folder / "bad-yaml.yaml", "name: [unclosed")
    write(store.folder / "empty.yaml", "")
    write(store.folder / ".partial.tmp", "junk")
    with caplog.at_level(logging.WARNING, logger="playground.core.vibes"):
        vibes = store.list()
    assert [v.slug for v in vibes] == ["good-one"]
    assert sum("skipping user vibe" in r.getMessage() for r in caplog.records) == 3


def test_store_path_traversal_stays_inside_folder(store: VibeStore, tmp_path: Path) -> None:
    for name in ("../../etc/passwd", "/abs/path", "..\\..\\win", "a/../../b"):
        vibe = store.save(name, instructions="", script="", voice="sage")
        path = store.folder / f"{vibe.slug}.yaml"
        assert path.is_file()
        assert path.resolve().parent == store.folder.resolve()
    assert sorted(p.name for p in tmp_path.rglob("*.yaml")) == sorted(
        ["etc-passwd.yaml", "abs-path.yaml", "win.yaml", "a-b.yaml"]
    )


def test_user_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PLAYGROUND_DATA_DIR", str(tmp_path / "p"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "x"))
    assert user_data_dir() == tmp_path / "p"
    monkeypatch.delenv("PLAYGROUND_DATA_DIR")
    assert user_data_dir() == tmp_path / "x" / "audio-playground"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert user_data_dir() == tmp_path / "home" / ".local" / "share" / "audio-playground"
    assert not (tmp_path / "home").exists()
