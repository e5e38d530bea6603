"""Reading text as written through the Realtime API: the rule (which responses are a reading,
which text, which style) over many phrasings, and the embedded backend speaking it through
the real SDK: exact transcripts, plausible audio that is speech of the text, speed, style,
G.711, in-conversation reads, and a normal question still answered by the chat model."""

from __future__ import annotations

import asyncio
import base64
import io
import warnings

import numpy as np
import pytest
import soundfile as sf
from openai import OpenAI

from playground.backend.realtime.conversation import Entry
from playground.backend.realtime.protocol import message_item
from playground.backend.realtime.verbatim import estimate_tokens, pieces, reading
from playground.backend.style import parse_instructions
from playground.core.audio import resample
from playground.core.catalog import get_catalog
from playground.core.textmetrics import word_error_rate
from tests.backend.realtime_support import RATE, audio_of, client_for, collect, one, types

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop

READ = get_catalog().realtime.read_aloud
TEXT = "Today is a wonderful day to build something people love."
MODEL = get_catalog().realtime.default_model


def app_prompt(style: str = "") -> str:
    """The instructions the app sends: the catalog's, then the user's style if any."""
    return READ.instructions + (f"\n\n{READ.style_prefix}{style}" if style else "")


# -- the rule -------------------------------------------------------------------------------

#: instructions that ask for the user's text as written
READS_USER_TEXT = [
    app_prompt(),
    app_prompt("in a cheerful tone"),
    app_prompt("Speak slowly, like a bedtime story; answer nothing."),
    "Read the user's text aloud exactly as written, word for word, in a cheerful tone",
    "Repeat the following verbatim",
    "Say this word-for-word",
    "Say this word for word.",
    "Read this out as is",
    "Speak the text exactly",
    "Narrate the following text without changing anything",
    "Just read it back, no changes",
    "Recite exactly what the user wrote",
    "READ THE USER'S MESSAGE ALOUD EXACTLY AS WRITTEN.",
    "read the user's message aloud exactly as written.",
    "Voice the following text verbatim.",
    "You will be reading the user’s text verbatim, in a calm voice.",
    "Do not paraphrase; read it exactly as written.",
    "Read the text verbatim without commenting on it.",
    "Please read the user's text literally, do not change any word.",
    "Pronounce the text exactly as given.",
    "Echo the user's message verbatim.",
    "When the user sends text, read it exactly as written.",
    "Read the text exactly, but do not translate it.",
    "Dictate the passage word for word",
    "say it precisely as written",
    "Read the user's words unchanged.",
    "You are a narrator. Read the user's text aloud exactly as it is written. Use a warm, deep voice.",
    "Read the message out loud, character for character.",
    "Speak the user's text without any changes, quickly.",
]


@pytest.mark.parametrize("instructions", READS_USER_TEXT)
def test_instructions_asking_for_the_text_as_written_read_the_users_text(instructions):
    found = reading(instructions, TEXT)
    assert found is not None, instructions
    assert found.text == TEXT and found.source == "user"
    assert found.style == instructions.strip()


#: the text is carried in the instructions themselves: (instructions, text, what is left as style)
CARRIED = [
    ('Say exactly: "Hello there."', "Hello there.", "Say exactly:"),
    (
        "Say exactly: “Hello there. How are you?” in a whisper",
        "Hello there. How are you?",
        "Say exactly:  in a whisper",
    ),
    ("Repeat after me: the quick brown fox", "the quick brown fox", "Repeat after me:"),
    ("Repeat after me the quick brown fox", "the quick brown fox", "Repeat after me"),
    ("Say 'good morning' word for word, slowly.", "good morning", "Say  word for word, slowly."),
    ("Read the following word for word:\nThe rain in Spain.\n\nStyle: slow", "The rain in Spain.", None),
    ('Repeat exactly the words "answer the phone", nothing else.', "answer the phone", None),
    ("Repeat after me: say exactly what you mean.", "say exactly what you mean.", "Repeat after me:"),
]


@pytest.mark.parametrize(("instructions", "text", "style"), CARRIED)
def test_text_quoted_or_after_a_colon_in_the_instructions_comes_first(instructions, text, style):
    for user in (None, "Something else the user said."):
        found = reading(instructions, user)
        assert found is not None and found.source == "instructions", instructions
        assert found.text == text
        if style is not None:
            assert found.style == style


#: a user message that is itself such a command, with any (non-transforming) instructions
USER_COMMANDS = [
    ("You are a helpful assistant.", "Repeat after me: the quick brown fox", "the quick brown fox"),
    ("", 'Say exactly: "I love pizza."', "I love pizza."),
    (get_catalog().local.realtime.default_instructions, "Repeat after me, the sky is green", "the sky is green"),
    ("Answer briefly.", "Please say 'see you tomorrow' word for word.", "see you tomorrow"),
]


@pytest.mark.parametrize(("instructions", "user", "text"), USER_COMMANDS)
def test_a_users_own_repeat_after_me_is_read(instructions, user, text):
    found = reading(instructions, user)
    assert found is not None and found.source == "user_command"
    assert found.text == text and found.style == instructions.strip()


#: (instructions, user message): the chat model must answer these
GOES_TO_THE_CHAT_MODEL = [
    ("Say hello to the user", TEXT),
    ("Answer the user's question exactly", TEXT),
    ("Read the user's question and answer it", TEXT),
    ("Explain exactly how a vector database works", TEXT),
    ("Summarise the text word for word", TEXT),
    ("Translate the text exactly into French", TEXT),
    ("Respond exactly in JSON", TEXT),
    ("You are a helpful assistant. Keep answers short.", TEXT),
    ("Say exactly three words about the weather", TEXT),
    ("Say exactly how it works", TEXT),
    ("Don't read it verbatim, summarise it", TEXT),
    ("If the user asks you to repeat something, repeat it exactly.", TEXT),
    ("Repeat the question exactly, then answer it.", TEXT),
    ("Read the text word for word and continue the story.", TEXT),
    ("Translate everything into French.", "Repeat after me: hello"),
    ("You are a helpful assistant.", "What is the capital of France?"),
    ("Speak slowly and clearly.", TEXT),
    ("Say it exactly like a pirate would.", TEXT),
    ("Don't just read it, explain it.", TEXT),
    ("Read the user's text exactly as written.", None),  # the rule matches, but there is no text
    ("Read the user's text exactly as written.", "   "),
    ('Say "hello" to the user and ask how they are.', TEXT),
    ("Tell the user exactly what time it is.", TEXT),
    ("Reply to the user exactly as a pirate would.", TEXT),
    ("Read the user's text exactly as written, then describe its mood.", TEXT),
]


@pytest.mark.parametrize(("instructions", "user"), GOES_TO_THE_CHAT_MODEL)
def test_other_requests_go_to_the_chat_model(instructions, user):
    assert reading(instructions, user) is None


def _user(text: str | None = None, transcript: str | None = None) -> Entry:
    if transcript is not None:
        return Entry(item=message_item("user", [{"type": "input_audio", "transcript": transcript}]))
    return Entry(item=message_item("user", [{"type": "input_text", "text": text}]))


def _assistant(text: str) -> Entry:
    return Entry(item=message_item("assistant", [{"type": "output_audio", "transcript": text}]))


def test_the_text_is_the_last_user_message_of_the_context():
    ctx = [_user("First text."), _assistant("First text."), _user("Second text.")]
    assert reading(app_prompt(), ctx).text == "Second text."  # type: ignore[union-attr]
    # an audio message is read from its transcript
    assert reading(app_prompt(), [_user(transcript="Spoken words here.")]).text == "Spoken words here."  # type: ignore[union-attr]
    # already answered: the instructions still ask for the last user text
    assert reading(app_prompt(), ctx[:2]).text == "First text."  # type: ignore[union-attr]
    # the user's own command counts only while it is the last item (not answered yet)
    said = [_user("Repeat after me: hello world"), _assistant("hello world")]
    assert reading("You are helpful.", said[:1]).text == "hello world"  # type: ignore[union-attr]
    assert reading("You are helpful.", said) is None


def test_tool_results_and_system_notes_are_never_read():
    out = Entry(item={"id": "x", "type": "function_call_output", "call_id": "c", "output": "{}"})
    assert reading(app_prompt(), [_user(TEXT), out]) is None
    assert reading(app_prompt(), [_user(TEXT)], note="The user has been quiet.") is None


def test_style_is_read_like_the_speech_endpoints_instructions():
    found = reading(app_prompt("whisper slowly"), TEXT)
    assert found is not None
    assert parse_instructions(found.style) == parse_instructions("whisper slowly")
    assert parse_instructions(app_prompt()).describe() == "none"  # the prompt itself styles nothing
    # quoted text is not style: "quick" in the text must not speed the voice up
    quoted = reading('Repeat after me: "the quick brown fox"', None)
    assert quoted is not None and parse_instructions(quoted.style).cues == ()


@pytest.mark.parametrize(
    "text",
    [
        TEXT,
        "The playground turns text into speech on your own computer, sentence by sentence. It splits it.",
        "  Leading and trailing spaces.  ",
        "Line one.\nLine two,  with two spaces.\n\nA new paragraph! Dr. Smith met Mr. Jones at 3 p.m. today.",
        "Hi.",
        "…",
    ],
)
def test_pieces_join_back_into_the_exact_text(text):
    got = pieces(text)
    assert "".join(delta for delta, _ in got) == text
    assert all(chunk.strip() for _, chunk in got)
    assert " ".join(chunk for _, chunk in got).split() == text.split()


def test_the_first_piece_is_a_short_clause_for_fast_first_audio():
    text = "When the long first sentence finally begins, the listener should hear it at once, not wait."
    first = pieces(text)[0][1]
    assert first == "When the long first sentence finally begins,"
    assert estimate_tokens("abcd", "abcde") == 3


# -- end to end, the official SDK against the embedded backend ------------------------------

OOB = {"conversation": "none", "output_modalities": ["audio"]}


def _input(text: str) -> list[dict]:
    return [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}]


async def _reads(backend_url: str, requests: list[tuple[dict, dict]]) -> list[list]:
    """One session; for each (session.update audio.output, response.create response): its events."""
    out = []
    async with client_for(backend_url).realtime.connect(model=MODEL) as conn:
        await collect(conn, "session.created")
        for output, response in requests:
            await conn.session.update(session={"type": "realtime", "audio": {"output": {"voice": "marin", **output}}})
            await collect(conn, "session.updated")
            await conn.response.create(response=response)
            out.append(await collect(conn, "response.done", timeout=120))
    return out


def _transcribe(client: OpenAI, samples: np.ndarray, rate: int = RATE) -> str:
    buf = io.BytesIO()
    sf.write(buf, samples, rate, format="WAV", subtype="PCM_16")
    return client.audio.transcriptions.create(
        model="gpt-4o-mini-transcribe", file=("read.wav", buf.getvalue(), "audio/wav"), language="en"
    ).text


def _assert_transcript(events: list, text: str) -> None:
    deltas = [e.delta for e in events if e.type == "response.output_audio_transcript.delta"]
    assert "".join(deltas) == text
    assert one(events, "response.output_audio_transcript.done").transcript == text
    assert one(events, "response.content_part.done").part.transcript == text
    item = one(events, "response.output_item.done").item
    assert item.role == "assistant" and item.content[0].transcript == text


@pytest.mark.models
def test_the_apps_read_aloud_speaks_the_text_as_written(backend_url, client):
    text = TEXT
    plain, styled = asyncio.run(
        _reads(
            backend_url,
            [
                ({}, {**OOB, "instructions": app_prompt(), "input": _input(text)}),
                ({}, {**OOB, "instructions": app_prompt("in a cheerful tone"), "input": _input(text)}),
            ],
        )
    )
    for events, instructions in ((plain, app_prompt()), (styled, app_prompt("in a cheerful tone"))):
        _assert_transcript(events, text)
        assert "conversation.item.added" not in types(events)  # out of band
        done = one(events, "response.done").response
        assert done.status == "completed" and done.conversation_id is None
        seconds = len(audio_of(events)) / RATE
        assert 2.0 < seconds < 8.0, seconds
        usage = done.usage
        assert usage.output_token_details.audio_tokens > 0
        # no LLM ran: text tokens are estimated from the instructions and the text
        assert usage.input_token_details.text_tokens == estimate_tokens(instructions, text)
        assert usage.output_token_details.text_tokens == estimate_tokens(text)
    assert len(audio_of(styled)) != len(audio_of(plain))  # "cheerful" sets a (slightly faster) pace
    heard = _transcribe(client, audio_of(styled))
    assert word_error_rate(text, heard) <= 0.2, heard


@pytest.mark.models
def test_speed_and_style_change_the_reading(backend_url):
    text = "Every voice you hear in the playground is made on this machine."
    fast, slow, plain, whisper = asyncio.run(
        _reads(
            backend_url,
            [
                ({"speed": 1.5}, {**OOB, "instructions": app_prompt(), "input": _input(text)}),
                ({"speed": 0.75}, {**OOB, "instructions": app_prompt(), "input": _input(text)}),
                ({"speed": 1.0}, {**OOB, "instructions": app_prompt(), "input": _input(text)}),
                ({"speed": 1.0}, {**OOB, "instructions": app_prompt("whisper slowly"), "input": _input(text)}),
            ],
        )
    )
    for events in (fast, slow, plain, whisper):
        _assert_transcript(events, text)
    lengths = {name: len(audio_of(e)) for name, e in (("fast", fast), ("slow", slow), ("plain", plain))}
    assert lengths["fast"] < 0.7 * lengths["slow"], lengths
    quiet = audio_of(whisper)
    assert len(quiet) > 1.1 * lengths["plain"]  # "slowly" (and the whisper's pace)

    def rms(x: np.ndarray) -> float:
        return float(np.sqrt(np.mean(x**2)))

    assert 20 * np.log10(rms(quiet) / rms(audio_of(plain))) < -5  # the whisper's -10 dB


@pytest.mark.models
def test_in_conversation_text_quoted_text_and_text_output(backend_url):
    text = "The library opens at nine and closes at six."

    async def run() -> tuple[list, list, list, list]:
        async with client_for(backend_url).realtime.connect(model=MODEL) as conn:
            await collect(conn, "session.created")
            await conn.conversation.item.create(
                item={"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}
            )
            await collect(conn, "conversation.item.done")
            await conn.response.create(response={"instructions": app_prompt("calm")})
            in_conv = await collect(conn, "response.done")
            await conn.response.create(
                response={"conversation": "none", "instructions": 'Say exactly: "Hello there, friend."', "input": []}
            )
            quoted = await collect(conn, "response.done")
            await conn.response.create(
                response={**OOB, "output_modalities": ["text"], "instructions": app_prompt(), "input": _input(text)}
            )
            as_text = await collect(conn, "response.done")
            await conn.response.create(
                response={"conversation": "none", "input": _input("Repeat after me: the quick brown fox")}
            )
            theirs = await collect(conn, "response.done")
            return in_conv, quoted, as_text, theirs

    in_conv, quoted, as_text, theirs = asyncio.run(run())
    _assert_transcript(in_conv, text)
    added = [e for e in in_conv if e.type == "conversation.item.done"]
    assert added and added[-1].item.role == "assistant" and added[-1].item.content[0].transcript == text
    assert one(in_conv, "response.done").response.conversation_id is not None

    _assert_transcript(quoted, "Hello there, friend.")
    assert len(audio_of(quoted)) > RATE // 2

    deltas = [e.delta for e in as_text if e.type == "response.output_text.delta"]
    assert "".join(deltas) == text and one(as_text, "response.output_text.done").text == text
    assert "response.output_audio.delta" not in types(as_text)
    assert one(as_text, "response.content_part.done").part.text == text

    _assert_transcript(theirs, "the quick brown fox")


@pytest.mark.models
def test_g711_reading_is_speech_of_the_text(backend_url, client):
    (events,) = asyncio.run(
        _reads(
            backend_url,
            [({"format": {"type": "audio/pcmu"}}, {**OOB, "instructions": app_prompt(), "input": _input(TEXT)})],
        )
    )
    _assert_transcript(events, TEXT)
    ulaw = b"".join(base64.b64decode(e.delta) for e in events if e.type == "response.output_audio.delta")
    assert 2.0 < len(ulaw) / 8000 < 8.0  # one byte a sample at 8 kHz
    x8 = np.frombuffer(audioop.ulaw2lin(ulaw, 2), "<i2").astype(np.float32) / 32768
    heard = _transcribe(client, resample(x8, 8000, RATE))
    assert word_error_rate(TEXT, heard) <= 0.3, heard


@pytest.mark.models
def test_a_normal_question_still_gets_the_chat_models_answer(backend_url):
    question = "What is the capital of France?"
    (events,) = asyncio.run(
        _reads(
            backend_url,
            [
                (
                    {},
                    {
                        "conversation": "none",
                        "output_modalities": ["text"],
                        "max_output_tokens": 24,
                        "instructions": "You are a helpful assistant. Answer in one short sentence.",
                        "input": _input(question),
                    },
                )
            ],
        )
    )
    answer = one(events, "response.output_text.done").text
    assert answer.strip() and answer.strip() != question
    assert one(events, "response.done").response.usage.output_token_details.text_tokens > 0
