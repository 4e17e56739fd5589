"""Pure tests of the import parser (annotation/import_parser.py): bytes in, records and row errors
out. No database."""

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

HH_FILE = Path(__file__).resolve().parents[3] / "shared" / "data" / "hh-harmless-dev.jsonl.gz"


def jsonl(*rows: object) -> bytes:
    return "".join(json.dumps(row) + "\n" for row in rows).encode()


def user(text: str) -> dict[str, str]:
    return {"role": "user", "content": text}


def assistant(text: str) -> dict[str, str]:
    return {"role": "assistant", "content": text}


def errors_of(data: bytes, file_format: str = "jsonl") -> list[tuple[int, str]]:
    return [(error.line, error.reason) for error in parse_import(data, file_format).errors]


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


# --- row errors, with their line numbers ---------------------------------------------------

HH_OK = "\n\nHuman: Hi\n\nAssistant: Hello."
LONG = "x" * 100_001

ROW_ERRORS: list[tuple[str, object, str]] = [
    ("not an object", ["prompt", "x"], "each row must be a JSON object"),
    ("a number", 7, "each row must be a JSON object"),
    ("no prompt", {"responses": ["a", "b"]}, "row needs a prompt, conversation or messages field"),
    ("empty prompt", {"prompt": "  "}, "prompt must be non-empty text"),
    (
        "prompt not text",
        {"prompt": 5},
        "conversation must be a non-empty list of {role, content} messages",
    ),
    ("prompt too long", {"prompt": LONG}, "prompt is longer than 100000 characters"),
    (
        "empty conversation",
        {"conversation": []},
        "conversation must be a non-empty list of {role, content} messages",
    ),
    (
        "bad role",
        {"conversation": [user("Hi"), {"role": "bot", "content": "x"}]},
        "conversation[1] needs a role among system, user, assistant",
    ),
    (
        "message not object",
        {"messages": ["Hi"]},
        "conversation[0] needs a role among system, user, assistant",
    ),
    (
        "empty content",
        {"conversation": [{"role": "user", "content": ""}]},
        "conversation[0].content must be non-empty text",
    ),
    (
        "ends with assistant",
        {"conversation": [user("Hi"), assistant("Hello")]},
        "conversation must end with a user message",
    ),
    ("responses not list", {"prompt": "Hi", "responses": "a, b"}, "responses must be a list"),
    (
        "one response",
        {"prompt": "Hi", "responses": ["a"]},
        "a prompt needs 0 or 2..16 responses, got 1",
    ),
    (
        "17 responses",
        {"prompt": "Hi", "responses": [str(i) for i in range(17)]},
        "a prompt needs 0 or 2..16 responses, got 17",
    ),
    (
        "empty response",
        {"prompt": "Hi", "responses": ["a", ""]},
        "responses[1] must be non-empty text",
    ),
    (
        "response object without text",
        {"prompt": "Hi", "responses": [{"generator": "g"}, "b"]},
        "responses[0].text must be non-empty text",
    ),
    (
        "generator too long",
        {"prompt": "Hi", "responses": [{"text": "a", "generator": "g" * 201}, "b"]},
        "responses[0].generator is longer than 200 characters",
    ),
    (
        "identical responses",
        {"prompt": "Hi", "responses": ["same", "same"]},
        "two responses to the same prompt are identical",
    ),
    ("metadata not object", {"prompt": "Hi", "metadata": [1, 2]}, "metadata must be an object"),
    ("metadata not JSON", {"prompt": "Hi", "metadata": "{oops"}, "metadata must be a JSON object"),
    (
        "chosen only",
        {"prompt": "Hi", "chosen": "a"},
        "a preference row needs both chosen and rejected",
    ),
    ("rejected only", {"rejected": "a"}, "a preference row needs both chosen and rejected"),
    (
        "identical pair",
        {"prompt": "Hi", "chosen": "same", "rejected": "same"},
        "chosen and rejected are identical",
    ),
    (
        "empty chosen",
        {"prompt": "Hi", "chosen": "", "rejected": "b"},
        "chosen must be non-empty text",
    ),
    (
        "chosen ends with user",
        {"prompt": [user("Hi")], "chosen": [user("Hm")], "rejected": [assistant("b")]},
        "chosen must end with an assistant message",
    ),
    (
        "HH chosen not a transcript",
        {"chosen": "Hello.", "rejected": HH_OK},
        "HH transcript must start with '\\n\\nHuman: '",
    ),
    (
        "HH different prompts",
        {"chosen": HH_OK, "rejected": "\n\nHuman: Hey\n\nAssistant: Yo."},
        "chosen and rejected transcripts do not share the same prompt",
    ),
    (
        "HH empty final reply",
        {"chosen": "\n\nHuman: Hi\n\nAssistant: ", "rejected": HH_OK},
        "chosen must be non-empty text",
    ),
    (
        "NUL character",
        {"prompt": "Hi", "responses": ["a\u0000b", "c"]},
        "row contains a NUL character, which cannot be stored",
    ),
    (
        "NUL in metadata",
        {"prompt": "Hi", "metadata": {"note": "\u0000"}},
        "row contains a NUL character, which cannot be stored",
    ),
]


@pytest.mark.parametrize(
    ("row", "reason"), [case[1:] for case in ROW_ERRORS], ids=[case[0] for case in ROW_ERRORS]
)
def test_row_error_reason_and_line(row: object, reason: str) -> None:
    # given: a good row on line 1, a blank line 2, the bad row on line 3, a good row on line 4
    data = jsonl({"prompt": "fine"}) + b"\n" + jsonl(row) + jsonl({"prompt": "also fine"})

    # when
    parsed = parse_import(data, "jsonl")

    # then
    assert [(e.line, e.reason) for e in parsed.errors] == [(3, reason)]
    assert [p.line for p in parsed.prompts] == [1, 4]


def test_lone_surrogate_is_a_row_error() -> None:
    # given: valid JSON, but text that cannot be encoded as UTF-8 for the database
    data = b'{"prompt": "Hi", "responses": ["a\\ud800", "b"]}\n'

    # when / then
    assert errors_of(data) == [(1, "row contains text that is not valid Unicode")]


def test_malformed_json_lines_are_reported_each_with_its_line() -> None:
    # given
    data = b'{"prompt": "ok"}\n{"prompt": \n{prompt: "x"}\n{"prompt": "ok"} trailing\n'

    # when / then
    assert errors_of(data) == [
        (2, "invalid JSON: Expecting value"),
        (3, "invalid JSON: Expecting property name enclosed in double quotes"),
        (4, "invalid JSON: Extra data"),
    ]


def test_json_nested_too_deeply_is_a_row_error_not_a_crash() -> None:
    # given: nesting beyond the JSON decoder's recursion limit, in a JSONL line and a CSV cell
    deep = "[" * 100_000

    # when / then
    assert errors_of(f'{{"prompt": "ok"}}\n{deep}\n'.encode()) == [
        (2, "invalid JSON: nested too deeply")
    ]
    assert errors_of(f"prompt,metadata\nHi,{deep}\n".encode(), "csv") == [
        (2, "row is nested too deeply")
    ]


def test_not_utf8_is_one_file_error() -> None:
    assert errors_of(b'{"prompt": "caf\xe9"}\n') == [(0, "file is not UTF-8 (byte 15)")]
    assert errors_of(b"prompt\ncaf\xe9\n", "csv") == [(0, "file is not UTF-8 (byte 10)")]


@pytest.mark.parametrize(
    ("data", "file_format"),
    [(b"", "jsonl"), (b"\n  \n", "jsonl"), (b"", "csv"), (b"prompt\n", "csv")],
)
def test_a_file_without_rows_is_an_error(data: bytes, file_format: str) -> None:
    assert errors_of(data, file_format) == [(0, "the file has no rows")]


def test_csv_row_errors_carry_the_csv_line() -> None:
    # given
    data = (
        b"prompt,response_1,response_2\n"
        b"Good,a,b\n"
        b"Only one,a,\n"
        b"Too many,a,b,c\n"
        b",a,b\n"
        b"[not json,a,b\n"
    )

    # when / then
    assert errors_of(data, "csv") == [
        (3, "a prompt needs 0 or 2..16 responses, got 1"),
        (4, "row has more cells than the header"),
        (5, "row needs a prompt, conversation or messages field"),
        (
            6,
            "prompt looks like a JSON list but is not valid JSON: "
            "Expecting value: line 1 column 2 (char 1)",
        ),
    ]


def test_csv_cell_above_the_csv_field_limit_is_a_file_error() -> None:
    data = b'prompt\n"' + b"x" * 200_000 + b'"\n'
    assert errors_of(data, "csv") == [(0, "malformed CSV: field larger than field limit (131072)")]


def test_good_rows_are_still_parsed_next_to_bad_ones() -> None:
    # given: the parser reports everything; deciding to write nothing is the service's job
    data = jsonl({"prompt": "a"}, {"prompt": ""}, {"prompt": "b", "chosen": "c", "rejected": "d"})

    # when
    parsed = parse_import(data, "jsonl")

    # then
    assert [p.line for p in parsed.prompts] == [1]
    assert [p.line for p in parsed.preferences] == [3]
    assert parsed.errors == [RowError(2, "prompt must be non-empty text")]


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
