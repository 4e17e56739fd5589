"""Imports through the admin API that are refused, with nothing written."""

from __future__ import annotations

import gzip
from typing import Any

import pytest

from annotation.models import (
    Prompt,
)
from tests.annotation.admin_api.helpers import (
    API,
    Client,
    jsonl,
    row_counts,
    upload,
)
from tests.factories import make_campaign, make_task


def rejected_body(errors: list[tuple[int, str]]) -> dict[str, Any]:
    return {
        "code": "import_rejected",
        "detail": f"{len(errors)} bad rows; nothing was imported.",
        "prompts": 0,
        "responses": 0,
        "tasks": 0,
        "judgments": 0,
        "merged_responses": 0,
        "errors": [{"line": line, "reason": reason} for line, reason in errors],
    }


@pytest.mark.parametrize(
    ("name", "content", "errors"),
    [
        pytest.param(
            "mixed.jsonl",
            jsonl(
                {"prompt": "Good", "responses": ["a", "b"]},
                {"prompt": ""},
                {"prompt": "Pair", "chosen": "x", "rejected": "y"},
                {"prompt": "One", "responses": ["only"]},
                {"chosen": "\n\nHuman: Hi\n\nAssistant: A", "rejected": "no transcript"},
            ),
            [
                (2, "prompt must be non-empty text"),
                (4, "a prompt needs 0 or 2..16 responses, got 1"),
                (5, "HH transcript must start with '\\n\\nHuman: '"),
            ],
            id="bad rows",
        ),
        pytest.param(
            "broken.jsonl",
            b'{"prompt": "Good"}\n{"prompt": \n[1, 2]\n',
            [(2, "invalid JSON: Expecting value"), (3, "each row must be a JSON object")],
            id="malformed JSON",
        ),
        pytest.param(
            "latin1.jsonl",
            '{"prompt": "café"}\n'.encode("latin-1"),
            [(0, "file is not UTF-8 (byte 15)")],
            id="not UTF-8",
        ),
        pytest.param("blank.jsonl", b"\n \n", [(0, "the file has no rows")], id="no rows"),
        pytest.param(
            "bad.csv",
            b"prompt,response_1\nHi,a\nHey,b,c\n",
            [
                (2, "a prompt needs 0 or 2..16 responses, got 1"),
                (3, "row has more cells than the header"),
            ],
            id="bad CSV rows",
        ),
        pytest.param(
            "nul.jsonl",
            jsonl({"prompt": "Hi", "responses": ["a\u0000", "b"]}),
            [(1, "row contains a NUL character, which cannot be stored")],
            id="NUL",
        ),
    ],
)
def test_import_with_bad_rows_writes_nothing(
    admin: Client, name: str, content: bytes, errors: list[tuple[int, str]]
) -> None:
    # given
    campaign = make_campaign()
    make_task(campaign)
    before = row_counts()

    # when
    response = upload(admin, campaign.pk, name, content)

    # then
    assert response.status_code == 400
    assert response.json() == rejected_body(errors)
    assert row_counts() == before


def test_pairwise_campaign_refuses_prompts_with_three_responses(admin: Client) -> None:
    # given
    campaign = make_campaign(judgment_mode="pairwise", responses_per_task=2)
    before = row_counts()
    data = jsonl(
        {"prompt": "Two", "responses": ["a", "b"]},
        {"prompt": "Three", "responses": ["a", "b", "c"]},
        {"prompt": "None"},
    )

    # when
    refused = upload(admin, campaign.pk, "pairs.jsonl", data)

    # then
    assert refused.status_code == 400
    assert refused.json() == rejected_body([(2, "a pairwise campaign needs exactly 2 responses")])
    assert row_counts() == before

    # and the same file without that row is accepted
    fixed = upload(
        admin,
        campaign.pk,
        "pairs.jsonl",
        jsonl({"prompt": "Two", "responses": ["a", "b"]}, {"prompt": "None"}),
    )
    assert fixed.status_code == 201


@pytest.mark.parametrize(
    ("name", "content", "code", "detail"),
    [
        (
            "data.txt",
            jsonl({"prompt": "Hi"}),
            "unknown_format",
            "Cannot tell the file format: name it .jsonl or .csv (optionally .gz).",
        ),
        (
            "data.jsonl.gz",
            b"not gzip at all",
            "bad_gzip",
            "File is not valid gzip: Not a gzipped file (b'no')",
        ),
        (
            "data.jsonl.gz",
            gzip.compress(jsonl({"prompt": "Hi"}))[:-12],
            "bad_gzip",
            "File is not valid gzip: Compressed file ended before the end-of-stream marker "
            "was reached",
        ),
    ],
)
def test_import_refuses_files_it_cannot_read(
    admin: Client, name: str, content: bytes, code: str, detail: str
) -> None:
    # given
    campaign = make_campaign()
    before = row_counts()

    # when
    response = upload(admin, campaign.pk, name, content)

    # then
    assert response.status_code == 400
    assert response.json() == {"code": code, "detail": detail}
    assert row_counts() == before


def test_import_refuses_an_empty_file(admin: Client) -> None:
    # given
    campaign = make_campaign()

    # when
    response = upload(admin, campaign.pk, "empty.jsonl", b"")

    # then
    assert response.status_code == 400
    assert response.json() == {
        "code": "empty",
        "detail": "The request has invalid fields.",
        "errors": {"file": ["The submitted file is empty."]},
    }
    assert Prompt.objects.count() == 0


def test_import_refuses_a_file_above_the_size_limit(admin: Client, settings: Any) -> None:
    # given
    settings.IMPORT_MAX_BYTES = 50 * 1024 * 1024
    campaign = make_campaign()
    content = jsonl({"prompt": "x" * (settings.IMPORT_MAX_BYTES + 1024 * 1024)})

    # when
    response = upload(admin, campaign.pk, "big.jsonl", content)

    # then: sizes as people read them, not 52428800 bytes
    assert response.status_code == 400
    assert response.json() == {
        "code": "file_too_large",
        "detail": "The file is over 50 MiB, the most an import takes.",
    }
    assert Prompt.objects.count() == 0


def test_import_refuses_gzip_that_unpacks_above_the_size_limit(
    admin: Client, settings: Any
) -> None:
    # given: small when packed, too big when unpacked
    settings.IMPORT_MAX_BYTES = 64
    campaign = make_campaign()
    content = gzip.compress(jsonl({"prompt": "x" * 1000}))
    assert len(content) <= 64

    # when
    response = upload(admin, campaign.pk, "bomb.jsonl.gz", content)

    # then
    assert response.status_code == 400
    assert response.json() == {
        "code": "file_too_large",
        "detail": "Unpacked, the file is over 64 bytes, the most an import takes.",
    }
    assert Prompt.objects.count() == 0


def test_import_needs_a_multipart_file(admin: Client) -> None:
    # given
    campaign = make_campaign()

    # when
    as_json = admin.post(f"{API}/campaigns/{campaign.pk}/import/", {"rows": []})
    no_file = admin.post(
        f"{API}/campaigns/{campaign.pk}/import/", {"source": "x"}, format="multipart"
    )

    # then
    assert as_json.status_code == 415
    assert as_json.json() == {
        "code": "unsupported_media_type",
        "detail": 'Unsupported media type "application/json" in request.',
    }
    assert no_file.status_code == 400
    assert no_file.json()["errors"] == {"file": ["No file was submitted."]}


def test_import_into_unknown_campaign(admin: Client) -> None:
    response = upload(admin, 999_999, "p.jsonl", jsonl({"prompt": "Hi"}))
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "detail": "Not found."}
