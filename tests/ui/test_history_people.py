"""The History tab on a shared instance: each signed-in person's runs are theirs alone.

Requests are made as the app makes them: a sign-in through the real ``PasswordGate`` sets
a cookie, the gate stamps the person on the ASGI scope, and the handlers get a
``gr.Request`` over a Starlette request on that scope (what Gradio passes them).
"""

from __future__ import annotations

import asyncio

import gradio as gr
import pytest
from starlette.requests import Request as StarletteRequest

from playground.core.specs import SpeechSpec
from playground.gate import COOKIE, LOCAL_PERSON, PasswordGate
from playground.ui import history, share

PASSWORD = "history people test phrase"
CURRENT = ("Hi.", "alloy", "tts-1", "", 1.0, "mp3", "speech")


def _scopes_through_the_gate(people: int) -> list[dict]:
    """Sign in ``people`` times, then send one request with each cookie; the scopes the app got."""
    seen: list[dict] = []

    async def app(scope, receive, send):
        seen.append(scope)
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    gate = PasswordGate(app, password=PASSWORD, failure_delay_s=0)

    async def call(path: str, method: str, headers: list, body: bytes = b"") -> list[dict]:
        sent: list[dict] = []
        messages = iter([{"type": "http.request", "body": body, "more_body": False}])

        async def receive():
            return next(messages)

        async def send(message):
            sent.append(message)

        scope = {"type": "http", "path": path, "method": method, "scheme": "http", "query_string": b"",
                 "headers": headers}  # fmt: skip
        await gate(scope, receive, send)
        return sent

    async def run() -> None:
        for _ in range(people):
            form = f"password={PASSWORD.replace(' ', '+')}".encode()
            login = await call("/login", "POST", [(b"content-type", b"application/x-www-form-urlencoded")], form)
            cookie = dict(login[0]["headers"])[b"set-cookie"].split(b";")[0]
            assert cookie.startswith(COOKIE.encode() + b"=")
            await call("/gradio_api/queue/join", "POST", [(b"cookie", cookie)])

    asyncio.run(run())
    assert len(seen) == people
    return seen


def _requests(people: int) -> list[gr.Request]:
    return [
        gr.Request(request=StarletteRequest(scope), session_hash=f"tab-{i}")
        for i, scope in enumerate(_scopes_through_the_gate(people))
    ]


def _rows(result: tuple) -> list[list]:
    return result[0]["value"]


def test_a_persons_runs_are_invisible_and_undeletable_to_another(offline_ctx):
    alice, bob = _requests(2)
    assert offline_ctx.person_for(alice) != offline_ctx.person_for(bob)
    assert LOCAL_PERSON not in (offline_ctx.person_for(alice), offline_ctx.person_for(bob))
    offline_ctx.record("speech", SpeechSpec(input="Alice speaks."), model="tts-1", voice="alloy",
                       text="Alice speaks.", audio=b"ID3alice", audio_ext="mp3", request=alice)  # fmt: skip
    offline_ctx.record("speech", SpeechSpec(input="Bob speaks."), model="tts-1", voice="echo", text="Bob speaks.",
                       request=bob)  # fmt: skip
    [mine] = _rows(history.list_runs("", "", "", "", alice))
    run_id = mine[-1]
    assert mine[4] == "Alice speaks."
    assert [r[4] for r in _rows(history.list_runs("", "", "", "", bob))] == ["Bob speaks."]
    assert _rows(history.list_runs("", "", "", "Alice", bob)) == []
    facets = history.list_runs("", "", "", "", bob)[3]  # the voice filter: only Bob's voices
    assert [v for _, v in facets["choices"]] == ["", "echo"]
    assert _rows(history.list_runs("", "", "", "")) == []  # the loopback user is nobody here

    assert history.run_details(run_id, bob)[0] == "Pick a run in the table."
    with pytest.warns(UserWarning, match="Pick a run first"):
        assert history.export_run(run_id, bob)["visible"] is False
    with pytest.warns(UserWarning, match="Pick a Studio or transcription run"):
        assert share.reopen_run(run_id, bob, *CURRENT)[1:8] == list(CURRENT)  # nothing of Alice's came back
    assert history.delete_run(run_id, bob).startswith("Nothing to delete")

    summary, audio, _trace, _code = history.run_details(run_id, alice)
    assert "tts-1" in summary and audio is not None
    assert history.export_run(run_id, alice)["visible"] is True
    assert history.delete_run(run_id, alice).startswith("Deleted")
    assert _rows(history.list_runs("", "", "", "", alice)) == []


def test_without_a_password_everyone_shares_the_local_history(offline_ctx):
    offline_ctx.record("speech", SpeechSpec(input="Local."), model="tts-1", text="Local.")
    old = offline_ctx.history.add("speech", {"input": "added directly"}, text="added directly")
    assert offline_ctx.person_for(None) == LOCAL_PERSON == old.owner
    assert {r[4] for r in _rows(history.list_runs("", "", "", ""))} == {"Local.", "added directly"}
    assert "tts-1" in history.run_details(old.id)[0] or "speech" in history.run_details(old.id)[0]
    assert history.delete_run(old.id).startswith("Deleted")
