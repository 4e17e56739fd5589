"""Pure tests of the import parser (annotation/import_parser.py): row errors with their line
numbers, and file errors. No database."""

from __future__ import annotations

import pytest

from annotation.import_parser import RowError, parse_import
from tests.annotation.import_rows import assistant, errors_of, jsonl, user

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
        "identical responses only",
        {"prompt": "Hi", "responses": ["same", "same", "same"]},
        "all 3 responses are identical: a prompt needs 2 different ones",
    ),
    (
        "identical responses in different gold tiers",
        {"prompt": "Hi", "responses": ["a", "b", "a"], "gold_ranking": [[1], [2], [3]]},
        "gold_ranking puts identical responses in different tiers",
    ),
    (
        "NUL in a merged response's generator",
        {"prompt": "Hi", "responses": ["a", "b", {"text": "a", "generator": "g\u0000"}]},
        "row contains a NUL character, which cannot be stored",
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
