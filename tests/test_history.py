"""The run history store: runs in and out, filters, export, concurrent writers, a damaged
database, and the size cap."""

from __future__ import annotations

import json
import logging
import threading
import zipfile

import pytest

from playground.core.history import HistoryStore

BIG = 10**9


def _store(tmp_path, **limits) -> HistoryStore:
    return HistoryStore(
        tmp_path / "history", max_bytes=limits.get("max_bytes", BIG), max_runs=limits.get("max_runs", BIG)
    )


def test_a_run_goes_in_and_comes_back(tmp_path):
    store = _store(tmp_path)
    spec = {"model": "tts-1", "voice": "coral", "input": "Hello there."}
    run = store.add(
        "speech", spec, model="tts-1", voice="coral", provider="Embedded local backend", timings={"ttfb_ms": 42.0},
        cost=0.0002, text="Hello there.", audio=b"RIFF....", audio_ext="wav",
    )  # fmt: skip
    again = store.get(run.id)
    assert again == run and again.spec == spec and again.timings == {"ttfb_ms": 42.0}
    assert again.audio is not None and again.audio.read_bytes() == b"RIFF...."
    store.add("transcription", {"model": "whisper-1", "file": "a.wav"}, model="whisper-1", text="ask not what")
    assert [r.kind for r in store.list()] == ["transcription", "speech"]  # newest first
    assert [r.kind for r in store.list(kind="speech")] == ["speech"]
    assert [r.model for r in store.list(search="ASK NOT")] == ["whisper-1"]
    assert store.list(search="100%_") == []  # LIKE wildcards are literal
    assert store.facets() == {"kind": ["speech", "transcription"], "model": ["tts-1", "whisper-1"], "voice": ["coral"]}
    zipped = store.export(run.id, tmp_path / "run.zip")
    with zipfile.ZipFile(zipped) as z:
        assert json.loads(z.read("run.json"))["spec"] == spec and z.read(run.audio.name) == b"RIFF...."
    assert store.delete(run.id) and not run.audio.exists() and store.get(run.id) is None
    assert not store.delete(run.id)


def test_concurrent_writers_lose_nothing(tmp_path):
    stores = [_store(tmp_path), _store(tmp_path)]  # two stores on one folder: two app processes
    errors: list[BaseException] = []

    def write(k: int) -> None:
        try:
            for i in range(25):
                stores[k % 2].add("speech", {"n": i, "writer": k}, text=f"run {k}-{i}", audio=b"x" * 100)
        except BaseException as e:  # noqa: BLE001 - the test reports any failure of any writer
            errors.append(e)

    threads = [threading.Thread(target=write, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert stores[0].count() == 200 and len(list((tmp_path / "history" / "audio").iterdir())) == 200


def test_a_damaged_database_is_moved_aside_and_a_new_one_started(tmp_path, caplog):
    folder = tmp_path / "history"
    folder.mkdir()
    (folder / "history.sqlite3").write_bytes(b"this is not a database, it is a shopping list\n" * 100)
    with caplog.at_level(logging.WARNING):
        store = _store(tmp_path)
    assert store.moved_aside is not None and store.moved_aside.read_bytes().startswith(b"this is not")
    assert "damaged" in caplog.text and str(store.moved_aside) in caplog.text
    store.add("speech", {"input": "still works"})
    assert store.count() == 1


def test_pruning_keeps_the_caps_oldest_first(tmp_path):
    store = _store(tmp_path, max_runs=5)
    runs = [store.add("speech", {"n": i}, audio=b"a" * 10) for i in range(8)]
    assert store.count() == 5
    kept = {r.id for r in store.list()}
    assert kept == {r.id for r in runs[3:]}
    assert all(not r.audio.exists() for r in runs[:3]) and all(r.audio.exists() for r in runs[3:])
    by_size = _store(tmp_path / "b", max_bytes=5000)
    for _ in range(10):
        by_size.add("speech", {"n": 1}, audio=b"z" * 1000)
    assert by_size.total_bytes() <= 5000 and by_size.count() == 4


@pytest.mark.parametrize("kind", ["", None])
def test_empty_filters_mean_all(tmp_path, kind):
    store = _store(tmp_path)
    store.add("speech", {})
    assert len(store.list(kind=kind, model=kind, voice=kind, search=kind)) == 1


def test_every_kind_of_run_comes_back_as_its_spec_with_its_code(tmp_path):
    from playground.core.snippets import render
    from playground.core.specs import RealtimeTranscriptionSpec, RealtimeTranslationSpec, SpeechSpec
    from playground.ui.history import run_spec

    store = _store(tmp_path)
    saved = {
        "live_translation": RealtimeTranslationSpec(output_language="de", transcription_model=""),
        "live_transcription": RealtimeTranscriptionSpec(model="gpt-realtime-whisper", delay="xhigh"),
        "speech": SpeechSpec(input="Hello."),
    }
    for kind, spec in saved.items():
        run = store.add(kind, spec.to_dict(), model=spec.model)
        back = run_spec(store.get(run.id))
        assert back == spec
        assert "import" in render(back, "python")
    old = store.add("speech", {"model": "tts-1", "voice": "alloy", "input": "Hi."})  # saved before specs had a kind
    assert run_spec(store.get(old.id)) == SpeechSpec(model="tts-1", voice="alloy", input="Hi.")
    odd = store.add("live_translation", {"kind": "realtime_translation", "no_such_field": 1})
    assert run_spec(store.get(odd.id)) is None


def test_each_owner_sees_exports_and_deletes_only_their_own_runs(tmp_path):
    store = _store(tmp_path)
    mine = store.add("speech", {"input": "Alice's line."}, model="tts-1", voice="coral", text="alice", owner="alice",
                     audio=b"RIFFalice")  # fmt: skip
    store.add("transcription", {"file": "b.wav"}, model="whisper-1", text="bob's words", owner="bob")
    assert mine.owner == "alice" and [r.text for r in store.list(owner="alice")] == ["alice"]
    assert [r.text for r in store.list(owner="bob")] == ["bob's words"]
    assert store.list(owner="bob", search="alice") == [] and store.list() == []  # nor the loopback user
    assert store.get(mine.id, owner="bob") is None and store.get(mine.id) is None
    assert store.facets(owner="bob") == {"kind": ["transcription"], "model": ["whisper-1"], "voice": []}
    assert store.count("alice") == 1 and store.count("bob") == 1 and store.count() == 2
    assert store.total_bytes("alice") == mine.bytes < store.total_bytes()
    with pytest.raises(KeyError):
        store.export(mine.id, tmp_path / "stolen.zip", owner="bob")
    assert not (tmp_path / "stolen.zip").exists()
    assert not store.delete(mine.id, owner="bob")
    assert store.get(mine.id, owner="alice") == mine and mine.audio is not None and mine.audio.exists()
    assert store.delete(mine.id, owner="alice") and not mine.audio.exists()


def test_a_database_from_before_owners_keeps_its_runs_for_the_loopback_user(tmp_path):
    import sqlite3

    folder = tmp_path / "history"
    folder.mkdir()
    old_schema = """CREATE TABLE runs (id TEXT PRIMARY KEY, created REAL NOT NULL, kind TEXT NOT NULL,
        model TEXT NOT NULL DEFAULT '', voice TEXT NOT NULL DEFAULT '', provider TEXT NOT NULL DEFAULT '',
        spec TEXT NOT NULL, timings TEXT NOT NULL DEFAULT '{}', usage TEXT, cost REAL,
        text TEXT NOT NULL DEFAULT '', audio TEXT, bytes INTEGER NOT NULL DEFAULT 0)"""
    with sqlite3.connect(folder / "history.sqlite3") as db:
        db.execute(old_schema)
        db.execute("INSERT INTO runs (id, created, kind, spec) VALUES ('old-1', 1.0, 'speech', '{}')")
    db.close()
    store = _store(tmp_path)
    assert store.moved_aside is None
    assert [r.id for r in store.list()] == ["old-1"] and store.get("old-1").owner == "local"
    assert store.list(owner="someone") == []
    _store(tmp_path)  # opening it again (or a second process) migrates nothing twice
    store.add("speech", {}, owner="someone")
    assert store.count("local") == 1 and store.count("someone") == 1
