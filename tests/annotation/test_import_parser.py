"""Pure tests of the import parser (annotation/import_parser.py): the rows it accepts, as
records; the HH transcript splitter; the real HH sample. No database."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from annotation.import_parser import (
    ParsedImport,
    PreferenceRecord,
    PromptRecord,
    ResponseRecord,
    RowError,
    RowInvalid,
    parse_import,
    split_hh_transcript,
)
from tests.annotation.import_rows import assistant, jsonl, user

HH_FILE = Path(__file__).resolve().parents[3] / "shared" / "data" / "hh-harmless-dev.jsonl.gz"

# --- accepted prompt rows ------------------------------------------------------------------


def test_plain_prompt_without_responses_becomes_a_single_user_turn() -> None:
    # given / when
    parsed = parse_import(jsonl({"prompt": "Why is the sky blue?"}), "jsonl")

    # then
    assert parsed == ParsedImport(
        prompts=[PromptRecord(1, [user("Why is the sky blue?")], [], {}, "")]
    )


def test_prompt_with_text_responses_metadata_and_id() -> None:
    # given
    row = {
        "prompt": "Name a colour.",
        "responses": ["Red.", "Blue."],
        "metadata": {"topic": "colours"},
        "id": 42,
    }

    # when
    parsed = parse_import(jsonl(row), "jsonl")

    # then
    assert parsed == ParsedImport(
        prompts=[
            PromptRecord(
                1,
                [user("Name a colour.")],
                [ResponseRecord("Red."), ResponseRecord("Blue.")],
                {"topic": "colours"},
                "42",
            )
        ]
    )


def test_responses_may_name_their_generator() -> None:
    # given
    row = {
        "prompt": "Hi",
        "responses": [
            {"text": "Hello!", "generator": "model-a"},
            {"text": "Hey.", "generator": 7},
            {"text": "Yo."},
        ],
    }

    # when
    parsed = parse_import(jsonl(row), "jsonl")

    # then
    assert parsed.errors == []
    assert parsed.prompts[0].responses == [
        ResponseRecord("Hello!", "model-a"),
        ResponseRecord("Hey.", "7"),
        ResponseRecord("Yo.", ""),
    ]


@pytest.mark.parametrize("key", ["conversation", "messages"])
def test_conversation_form_keeps_every_turn(key: str) -> None:
    # given
    turns = [
        {"role": "system", "content": "Be brief."},
        user("Hi"),
        assistant("Hello."),
        user("Tell me a joke."),
    ]

    # when
    parsed = parse_import(jsonl({key: turns, "responses": ["A joke.", "Another joke."]}), "jsonl")

    # then
    assert parsed == ParsedImport(
        prompts=[
            PromptRecord(
                1, turns, [ResponseRecord("A joke."), ResponseRecord("Another joke.")], {}, ""
            )
        ]
    )


def test_a_text_prompt_that_looks_like_json_stays_text_in_jsonl() -> None:
    # given: JSONL fields are typed, so a string prompt is text even when it starts with "["
    rows = [
        {"prompt": "[1, 2] Sort this list.", "responses": ["[1, 2]", "[2, 1]"]},
        {"prompt": "[]"},
    ]

    # when
    parsed = parse_import(jsonl(*rows), "jsonl")

    # then
    assert parsed.errors == []
    assert [p.conversation for p in parsed.prompts] == [
        [user("[1, 2] Sort this list.")],
        [user("[]")],
    ]


def test_line_separator_characters_inside_a_json_string_do_not_split_the_row() -> None:
    # given: U+2028 and U+0085 are legal raw inside JSON strings (json.dumps with
    # ensure_ascii=False writes them as is; so does our own export)
    text = "first\u2028second\x85third"
    data = (
        json.dumps({"prompt": text, "responses": ["a", "b"]}, ensure_ascii=False)
        + "\n"
        + json.dumps({"prompt": "next"})
        + "\n"
    ).encode()

    # when
    parsed = parse_import(data, "jsonl")

    # then
    assert parsed.errors == []
    assert [(p.line, p.conversation) for p in parsed.prompts] == [
        (1, [user(text)]),
        (2, [user("next")]),
    ]


def test_blank_lines_are_skipped_and_line_numbers_count_them() -> None:
    # given: CRLF endings, a byte-order mark and blank lines
    data = "\ufeff" + '{"prompt": "one"}\r\n\r\n   \r\n{"prompt": "four"}\r\n'

    # when
    parsed = parse_import(data.encode(), "jsonl")

    # then
    assert [(p.line, p.conversation) for p in parsed.prompts] == [
        (1, [user("one")]),
        (4, [user("four")]),
    ]
    assert parsed.errors == []


# --- accepted CSV rows ---------------------------------------------------------------------


def test_csv_response_columns_are_ordered_by_number_and_empty_cells_skipped() -> None:
    # given: columns out of order, response_10 after response_9, one empty cell
    data = (
        b"id,response_10,prompt,response_9,response_2,response_1,metadata\n"
        b'p1,tenth,What is 2+2?,ninth,,first,"{""level"": 1}"\n'
    )

    # when
    parsed = parse_import(data, "csv")

    # then
    assert parsed == ParsedImport(
        prompts=[
            PromptRecord(
                2,
                [user("What is 2+2?")],
                [ResponseRecord("first"), ResponseRecord("ninth"), ResponseRecord("tenth")],
                {"level": 1},
                "p1",
            )
        ]
    )


def test_csv_conversation_cell_holds_json_messages() -> None:
    # given
    turns = [user("Hi"), assistant("Hello."), user("Bye?")]
    data = (
        "conversation,response_1,response_2\n"
        f'"{json.dumps(turns).replace(chr(34), chr(34) * 2)}",Bye.,See you.\n'
    ).encode()

    # when
    parsed = parse_import(data, "csv")

    # then
    assert parsed.errors == []
    assert parsed.prompts == [
        PromptRecord(2, turns, [ResponseRecord("Bye."), ResponseRecord("See you.")], {}, "")
    ]


def test_csv_preference_rows() -> None:
    # given
    data = b"prompt,chosen,rejected\nIs water wet?,It makes things wet.,No.\n"

    # when
    parsed = parse_import(data, "csv")

    # then
    assert parsed == ParsedImport(
        preferences=[
            PreferenceRecord(2, [user("Is water wet?")], "It makes things wet.", "No.", {}, "")
        ]
    )


# --- accepted preference rows --------------------------------------------------------------


def test_prompt_chosen_rejected_texts() -> None:
    # given / when
    parsed = parse_import(
        jsonl(
            {"prompt": "Capital of France?", "chosen": "Paris.", "rejected": "Lyon.", "id": "x1"}
        ),
        "jsonl",
    )

    # then
    assert parsed == ParsedImport(
        preferences=[PreferenceRecord(1, [user("Capital of France?")], "Paris.", "Lyon.", {}, "x1")]
    )


def test_trl_conversational_preference_row() -> None:
    # given
    row = {
        "prompt": [{"role": "system", "content": "Be kind."}, user("Rate my poem.")],
        "chosen": [assistant("It has lovely imagery.")],
        "rejected": [assistant("It is bad.")],
    }

    # when
    parsed = parse_import(jsonl(row), "jsonl")

    # then
    assert parsed == ParsedImport(
        preferences=[
            PreferenceRecord(1, row["prompt"], "It has lovely imagery.", "It is bad.", {}, "")
        ]
    )


def test_hh_transcript_pair_shares_the_prompt_and_keeps_the_last_replies() -> None:
    # given
    prefix = "\n\nHuman: How do I boil an egg?\n\nAssistant: In water.\n\nHuman: How long?"
    row = {
        "chosen": prefix + "\n\nAssistant: About nine minutes.",
        "rejected": prefix + "\n\nAssistant: Forever.",
    }

    # when
    parsed = parse_import(jsonl(row), "jsonl")

    # then
    assert parsed == ParsedImport(
        preferences=[
            PreferenceRecord(
                1,
                [user("How do I boil an egg?"), assistant("In water."), user("How long?")],
                "About nine minutes.",
                "Forever.",
                {},
                "",
            )
        ]
    )


# --- split_hh_transcript -------------------------------------------------------------------


def test_split_hh_transcript_multi_turn() -> None:
    # given
    transcript = (
        "\n\nHuman: Hi there\n\nAssistant: Hello! \n\nHuman: What is 2+2?"
        "\n\nAssistant: 4\n\nHuman: And 3+3?\n\nAssistant:  6, of course."
    )

    # when
    conversation, reply = split_hh_transcript(transcript)

    # then
    assert conversation == [
        user("Hi there"),
        assistant("Hello!"),
        user("What is 2+2?"),
        assistant("4"),
        user("And 3+3?"),
    ]
    assert reply == "6, of course."


def test_split_hh_transcript_single_turn() -> None:
    assert split_hh_transcript("\n\nHuman: Hi\n\nAssistant: Hello.") == ([user("Hi")], "Hello.")


def test_split_hh_transcript_keeps_an_empty_final_reply_for_the_caller_to_judge() -> None:
    assert split_hh_transcript("\n\nHuman: Hi\n\nAssistant: ") == ([user("Hi")], "")


@pytest.mark.parametrize(
    ("transcript", "reason"),
    [
        ("Human: Hi\n\nAssistant: Hello.", "HH transcript must start with '\\n\\nHuman: '"),
        (
            "intro\n\nHuman: Hi\n\nAssistant: Hello.",
            "HH transcript must start with '\\n\\nHuman: '",
        ),
        ("\n\nHuman: Hi", "HH transcript must end with an Assistant turn"),
        ("", "HH transcript must start with '\\n\\nHuman: '"),
        (
            "\n\nHuman: Hi\n\nAssistant: Hello.\n\nHuman: Bye",
            "HH transcript must end with an Assistant turn",
        ),
        ("\n\nHuman:  \n\nAssistant: Hello.", "HH transcript has an empty turn"),
    ],
)
def test_split_hh_transcript_rejects(transcript: str, reason: str) -> None:
    with pytest.raises(RowInvalid) as raised:
        split_hh_transcript(transcript)
    assert str(raised.value) == reason


# --- the real HH sample --------------------------------------------------------------------


@pytest.mark.skipif(not HH_FILE.is_file(), reason=f"real HH sample not found at {HH_FILE}")
def test_real_hh_harmless_sample_parses() -> None:
    # given: 1,500 real HH-RLHF harmless pairs, read at test time (never copied into the repo)
    data = gzip.decompress(HH_FILE.read_bytes())

    # when
    parsed = parse_import(data, "jsonl")

    # then
    for error in parsed.errors:
        print(f"line {error.line}: {error.reason}")
    assert len(parsed.preferences) + len(parsed.errors) == 1500
    assert parsed.prompts == []
    assert len(parsed.preferences) == 1495
    # Four chosen replies are empty ("...\n\nAssistant: " and nothing after); one pair has a
    # "Human:" turn glued into a reply without the blank line, so the two prompts differ.
    assert Counter(e.reason for e in parsed.errors) == Counter(
        {
            "chosen must be non-empty text": 4,
            "chosen and rejected transcripts do not share the same prompt": 1,
        }
    )
    assert all(0 < e.line <= 1500 for e in parsed.errors)
    first: Any = parsed.preferences[0]
    assert first.conversation[0]["role"] == "user"
    assert first.conversation[-1]["role"] == "user"
    assert first.chosen != first.rejected


def test_trl_implicit_prompt_rows_take_the_shared_conversation_as_prompt() -> None:
    row = {
        "chosen": [
            {"role": "user", "content": "Capital of France?"},
            {"role": "assistant", "content": "Paris."},
        ],
        "rejected": [
            {"role": "user", "content": "Capital of France?"},
            {"role": "assistant", "content": "Lyon."},
        ],
    }
    parsed = parse_import((json.dumps(row) + "\n").encode(), "jsonl")

    assert parsed.errors == []
    [record] = parsed.preferences
    assert record.conversation == [{"role": "user", "content": "Capital of France?"}]
    assert (record.chosen, record.rejected) == ("Paris.", "Lyon.")


def test_trl_implicit_prompt_rows_must_share_their_prompt() -> None:
    row = {
        "chosen": [{"role": "user", "content": "A?"}, {"role": "assistant", "content": "a"}],
        "rejected": [{"role": "user", "content": "B?"}, {"role": "assistant", "content": "b"}],
    }
    parsed = parse_import((json.dumps(row) + "\n").encode(), "jsonl")

    assert parsed.errors == [
        RowError(1, "chosen and rejected conversations do not share the same prompt")
    ]
