"""Admin and ML-engineer endpoints through the HTTP API: campaigns, imports, pools, raters,
judgments, the audit log and exports. Judgments are made through the real rater API."""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from annotation.models import (
    Assignment,
    AssignmentStatus,
    AuditEvent,
    Campaign,
    Judgment,
    JudgmentSource,
    Preference,
    Prompt,
    RankingTask,
    Response,
    TaskStatus,
)
from common.roles import Role
from tests.factories import make_campaign, make_pool, make_task, make_user, setup_campaign

API = "/api/v1"
# An APIClient; those from `client_for` also carry the logged-in `.user`.
Client = Any
ClientFor = Callable[..., Client]
RANKING = [["B"], ["A", "C"], ["D"]]


@pytest.fixture
def admin(client_for: ClientFor) -> Client:
    return client_for(Role.ADMIN, username="admin-amy")


# --- helpers ------------------------------------------------------------------------------


def jsonl(*rows: object) -> bytes:
    return "".join(json.dumps(row) + "\n" for row in rows).encode()


def upload(client: Client, campaign_id: int, name: str, content: bytes, **fields: str) -> Any:
    return client.post(
        f"{API}/campaigns/{campaign_id}/import/",
        {"file": SimpleUploadedFile(name, content), **fields},
        format="multipart",
    )


def row_counts() -> dict[str, int]:
    models = (Prompt, Response, RankingTask, Assignment, Judgment, Preference, AuditEvent)
    return {model.__name__: model.objects.count() for model in models}


def rate(client: Client, key: str, ranking: list[list[str]] | None = None) -> dict[str, str]:
    """Claim the next task as this rater and submit a ranking; returns label -> text."""
    claimed = client.post(f"{API}/assignments/next/")
    assert claimed.status_code == 200, claimed.content
    payload = claimed.json()
    submitted = client.post(
        f"{API}/assignments/{payload['id']}/submit/",
        {"ranking": ranking or RANKING, "idempotency_key": key},
    )
    assert submitted.status_code == 201, submitted.content
    return {response["label"]: response["text"] for response in payload["responses"]}


def audit_log(client: Client) -> list[dict[str, Any]]:
    """The audit log, newest first, without ids and times."""
    response = client.get(f"{API}/audit-events/", {"limit": 500})
    assert response.status_code == 200
    keys = ("actor_username", "action", "target_type", "target_id", "details")
    return [{key: event[key] for key in keys} for event in response.json()["results"]]


def export(client: Client, **params: Any) -> tuple[Any, str]:
    response = client.get(f"{API}/export/", params)
    assert response.status_code == 200, response.content
    return response, b"".join(response.streaming_content).decode()


def export_rows(client: Client, **params: Any) -> list[dict[str, Any]]:
    _, body = export(client, **params)
    return [json.loads(line) for line in body.split("\n") if line]


# --- campaigns ----------------------------------------------------------------------------

CAMPAIGN = {
    "name": "Helpfulness",
    "guidelines": "Pick the most *helpful* answer.",
    "responses_per_task": 4,
    "overlap": 3,
    "lease_ttl_s": 600,
    "gold_rate": 0.1,
    "judgment_mode": "rank",
    "status": "active",
}


def test_create_campaign(admin: Client) -> None:
    # when
    response = admin.post(f"{API}/campaigns/", CAMPAIGN)

    # then
    assert response.status_code == 201
    body = response.json()
    campaign = Campaign.objects.get()
    assert {k: v for k, v in body.items() if k != "created_at"} == {
        "id": campaign.pk,
        **CAMPAIGN,
        "onboarding_gold": 0,
        "repeat_rate": 0.0,
        "pause_gold_accuracy_below": None,
        "pause_gold_min_items": 10,
        "reading_floor_ms_per_char": 15.0,
        "task_count": 0,
        "complete_count": 0,
        "judgment_count": 0,
        "gold_count": 0,
    }
    assert campaign.created_by == admin.user
    assert audit_log(admin) == [
        {
            "actor_username": "admin-amy",
            "action": "campaign.create",
            "target_type": "Campaign",
            "target_id": str(campaign.pk),
            "details": {},
        }
    ]


@pytest.mark.parametrize(
    ("changes", "code", "errors"),
    [
        (
            {"judgment_mode": "pairwise", "responses_per_task": 3},
            "pairwise_needs_two",
            {"responses_per_task": ["A pairwise campaign has exactly 2 responses per task."]},
        ),
        (
            {"judgment_mode": "pairwise", "responses_per_task": None},
            "pairwise_needs_two",
            {"responses_per_task": ["A pairwise campaign has exactly 2 responses per task."]},
        ),
        (
            {"overlap": 0},
            "min_value",
            {"overlap": ["Ensure this value is greater than or equal to 1."]},
        ),
        (
            {"overlap": 101},
            "max_value",
            {"overlap": ["Ensure this value is less than or equal to 100."]},
        ),
        (
            {"responses_per_task": 1},
            "min_value",
            {"responses_per_task": ["Ensure this value is greater than or equal to 2."]},
        ),
        (
            {"lease_ttl_s": 29},
            "min_value",
            {"lease_ttl_s": ["Ensure this value is greater than or equal to 30."]},
        ),
        (
            {"gold_rate": 1.5},
            "max_value",
            {"gold_rate": ["Ensure this value is less than or equal to 1.0."]},
        ),
        (
            {"judgment_mode": "vote"},
            "invalid_choice",
            {"judgment_mode": ['"vote" is not a valid choice.']},
        ),
        ({"name": None}, "required", {"name": ["This field is required."]}),
    ],
)
def test_create_campaign_rejects_bad_settings(
    admin: Client, changes: dict[str, Any], code: str, errors: dict[str, Any]
) -> None:
    # given: None means "leave the field out"
    data = {k: v for k, v in {**CAMPAIGN, **changes}.items() if v is not None}

    # when
    response = admin.post(f"{API}/campaigns/", data)

    # then
    assert response.status_code == 400
    assert response.json() == {
        "code": code,
        "detail": "The request has invalid fields.",
        "errors": errors,
    }
    assert Campaign.objects.count() == 0


def test_create_campaign_with_a_taken_name(admin: Client) -> None:
    # given
    make_campaign(name="Helpfulness")

    # when
    response = admin.post(f"{API}/campaigns/", CAMPAIGN)

    # then
    assert response.status_code == 400
    assert response.json()["code"] == "unique"
    assert response.json()["errors"] == {"name": ["campaign with this name already exists."]}
    assert Campaign.objects.count() == 1


def test_update_campaign(admin: Client) -> None:
    # given
    campaign = make_campaign(responses_per_task=4, overlap=3)

    # when
    response = admin.patch(
        f"{API}/campaigns/{campaign.pk}/", {"guidelines": "New rules.", "overlap": 5}
    )

    # then
    assert response.status_code == 200
    assert (response.json()["guidelines"], response.json()["overlap"]) == ("New rules.", 5)
    campaign.refresh_from_db()
    assert (campaign.guidelines, campaign.overlap) == ("New rules.", 5)
    assert audit_log(admin)[0] == {
        "actor_username": "admin-amy",
        "action": "campaign.update",
        "target_type": "Campaign",
        "target_id": str(campaign.pk),
        "details": {"fields": ["guidelines", "overlap"]},
    }


def test_update_campaign_to_pairwise_checks_the_stored_k(admin: Client) -> None:
    # given
    campaign = make_campaign(responses_per_task=4)

    # when
    refused = admin.patch(f"{API}/campaigns/{campaign.pk}/", {"judgment_mode": "pairwise"})
    accepted = admin.patch(
        f"{API}/campaigns/{campaign.pk}/", {"judgment_mode": "pairwise", "responses_per_task": 2}
    )

    # then
    assert refused.status_code == 400
    assert refused.json()["code"] == "pairwise_needs_two"
    assert accepted.status_code == 200
    campaign.refresh_from_db()
    assert (campaign.judgment_mode, campaign.responses_per_task) == ("pairwise", 2)


def test_campaign_list_and_detail_show_progress(admin: Client, client_for: ClientFor) -> None:
    # given: three tasks needing one judgment each, two of them judged
    rater = client_for()
    busy, _ = setup_campaign([rater.user], tasks=3, overlap=1)
    rate(rater, "progress-1")
    rate(rater, "progress-2")
    quiet = make_campaign()
    imported = make_campaign(overlap=2)
    assert (
        upload(
            admin,
            imported.pk,
            "pairs.jsonl",
            jsonl({"prompt": "Hi", "chosen": "Hello!", "rejected": "Go away."}),
        ).status_code
        == 201
    )

    # when
    listing = admin.get(f"{API}/campaigns/")
    detail = admin.get(f"{API}/campaigns/{busy.pk}/")

    # then: newest first; an imported judgment counts as a judgment but completes nothing
    progress = [
        (c["id"], c["task_count"], c["complete_count"], c["judgment_count"])
        for c in listing.json()["results"]
    ]
    assert listing.json()["count"] == 3
    assert progress == [(imported.pk, 1, 0, 1), (quiet.pk, 0, 0, 0), (busy.pk, 3, 2, 2)]
    assert (
        detail.json()["task_count"],
        detail.json()["complete_count"],
        detail.json()["judgment_count"],
    ) == (3, 2, 2)


# --- imports: accepted files --------------------------------------------------------------


def test_import_jsonl_prompts_with_responses(admin: Client) -> None:
    # given
    campaign = make_campaign(overlap=2)
    turns = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello."},
        {"role": "user", "content": "Joke?"},
    ]
    data = jsonl(
        {"prompt": "What is 2+2?", "responses": ["4", "5"], "id": "q1", "metadata": {"t": 1}},
        {
            "conversation": turns,
            "responses": [
                {"text": "Knock knock.", "generator": "gen-a"},
                {"text": "No."},
                {"text": "Why not."},
            ],
        },
        {"messages": [{"role": "user", "content": "Unanswered"}]},
    )

    # when
    response = upload(admin, campaign.pk, "prompts.jsonl", data)

    # then
    assert response.status_code == 201
    assert response.json() == {
        "prompts": 3,
        "responses": 5,
        "tasks": 2,
        "judgments": 0,
        "errors": [],
    }
    prompts = list(Prompt.objects.filter(campaign=campaign).order_by("id"))
    assert [(p.conversation, p.metadata, p.external_id, p.source) for p in prompts] == [
        ([{"role": "user", "content": "What is 2+2?"}], {"t": 1}, "q1", "prompts.jsonl"),
        (turns, {}, "", "prompts.jsonl"),
        ([{"role": "user", "content": "Unanswered"}], {}, "", "prompts.jsonl"),
    ]
    tasks = list(RankingTask.objects.filter(campaign=campaign).order_by("id"))
    assert [
        [
            (r.text, r.generator)
            for r in Response.objects.filter(pk__in=t.response_ids).order_by("id")
        ]
        for t in tasks
    ] == [
        [("4", "prompts.jsonl"), ("5", "prompts.jsonl")],
        [("Knock knock.", "gen-a"), ("No.", "prompts.jsonl"), ("Why not.", "prompts.jsonl")],
    ]
    assert [t.response_ids for t in tasks] == [
        list(Response.objects.filter(prompt=p).order_by("id").values_list("id", flat=True))
        for p in prompts[:2]
    ]
    assert [(t.required_judgments, t.submitted_count, t.status) for t in tasks] == [
        (2, 0, TaskStatus.OPEN),
        (2, 0, TaskStatus.OPEN),
    ]
    assert audit_log(admin) == [
        {
            "actor_username": "admin-amy",
            "action": "campaign.import",
            "target_type": "Campaign",
            "target_id": str(campaign.pk),
            "details": {"file": "prompts.jsonl", "prompts": 3, "tasks": 2, "judgments": 0},
        }
    ]


def test_import_names_its_source(admin: Client) -> None:
    # given
    campaign = make_campaign()

    # when
    response = upload(
        admin,
        campaign.pk,
        "p.jsonl",
        jsonl({"prompt": "Hi", "responses": ["a", "b"]}),
        source="vendor-x",
    )

    # then
    assert response.status_code == 201
    assert Prompt.objects.get().source == "vendor-x"
    assert set(Response.objects.values_list("generator", flat=True)) == {"vendor-x"}


def test_import_with_a_very_long_file_name_fits_the_source_column(admin: Client) -> None:
    # given: Django keeps upload names up to 255 characters; Prompt.source holds 200
    campaign = make_campaign()
    name = "n" * 230 + ".jsonl"

    # when
    response = upload(admin, campaign.pk, name, jsonl({"prompt": "Hi", "responses": ["a", "b"]}))

    # then
    assert response.status_code == 201
    assert Prompt.objects.get().source == "n" * 200
    assert set(Response.objects.values_list("generator", flat=True)) == {"n" * 200}


def test_import_csv_with_response_columns(admin: Client) -> None:
    # given
    campaign = make_campaign()
    data = (
        b"id,prompt,response_1,response_2,response_3\n"
        b"c1,Name a fruit.,Apple.,Pear.,Plum.\n"
        b'c2,"Name a colour, please.",Red.,Blue.,\n'
    )

    # when
    response = upload(admin, campaign.pk, "prompts.csv", data)

    # then
    assert response.status_code == 201
    assert response.json() == {
        "prompts": 2,
        "responses": 5,
        "tasks": 2,
        "judgments": 0,
        "errors": [],
    }
    assert [
        (
            t.prompt.external_id,
            t.prompt.conversation[0]["content"],
            [Response.objects.get(pk=pk).text for pk in t.response_ids],
        )
        for t in RankingTask.objects.order_by("id")
    ] == [
        ("c1", "Name a fruit.", ["Apple.", "Pear.", "Plum."]),
        ("c2", "Name a colour, please.", ["Red.", "Blue."]),
    ]


def test_import_preference_pairs_as_imported_judgments(
    admin: Client, client_for: ClientFor
) -> None:
    # given
    rater = client_for()
    campaign = make_campaign(overlap=2)
    make_pool(members=[rater.user], campaigns=[campaign])
    data = jsonl(
        {"prompt": "Capital of France?", "chosen": "Paris.", "rejected": "Lyon."},
        {"prompt": "2+2?", "chosen": "4", "rejected": "22", "id": "p2"},
    )

    # when
    response = upload(admin, campaign.pk, "prefs.jsonl", data)

    # then: one open task and one imported judgment per pair, not counted toward the task
    assert response.status_code == 201
    assert response.json() == {
        "prompts": 2,
        "responses": 4,
        "tasks": 2,
        "judgments": 2,
        "errors": [],
    }
    tasks = list(RankingTask.objects.order_by("id"))
    assert [(t.submitted_count, t.status, t.required_judgments) for t in tasks] == [
        (0, TaskStatus.OPEN, 2),
        (0, TaskStatus.OPEN, 2),
    ]
    judgments = admin.get(f"{API}/judgments/", {"campaign": campaign.pk}).json()["results"]
    assert [
        (j["task_id"], j["source"], j["rater_username"], j["is_surplus"]) for j in judgments
    ] == [
        (tasks[1].pk, JudgmentSource.IMPORTED, "external-prefs.jsonl", False),
        (tasks[0].pk, JudgmentSource.IMPORTED, "external-prefs.jsonl", False),
    ]
    assert [j["ranking"] for j in judgments] == [
        [[t.response_ids[0]], [t.response_ids[1]]] for t in reversed(tasks)
    ]
    assert [(r["prompt"], r["chosen"], r["rejected"], r["margin"]) for r in export_rows(admin)] == [
        ("Capital of France?", "Paris.", "Lyon.", 1.0),
        ("2+2?", "4", "22", 1.0),
    ]
    usernames = [row["username"] for row in admin.get(f"{API}/raters/").json()]
    assert "external-prefs.jsonl" not in usernames

    # and when a rater judges an imported pair, that judgment is the first to count
    rate(rater, "after-import-1", [["A"], ["B"]])
    tasks[0].refresh_from_db()
    assert tasks[0].submitted_count == 1


def test_import_trl_conversational_preferences(admin: Client) -> None:
    # given
    campaign = make_campaign()
    prompt = [{"role": "system", "content": "Be kind."}, {"role": "user", "content": "My poem?"}]
    data = jsonl(
        {
            "prompt": prompt,
            "chosen": [{"role": "assistant", "content": "Lovely imagery."}],
            "rejected": [{"role": "assistant", "content": "Bad."}],
        }
    )

    # when
    response = upload(admin, campaign.pk, "trl.jsonl", data)

    # then
    assert response.status_code == 201
    assert response.json()["judgments"] == 1
    assert Prompt.objects.get().conversation == prompt
    assert list(Response.objects.order_by("id").values_list("text", flat=True)) == [
        "Lovely imagery.",
        "Bad.",
    ]
    assert export_rows(admin, format="trl_messages") == [
        {
            "prompt": prompt,
            "chosen": [{"role": "assistant", "content": "Lovely imagery."}],
            "rejected": [{"role": "assistant", "content": "Bad."}],
            "margin": 1.0,
        }
    ]


def test_import_hh_transcripts(admin: Client) -> None:
    # given
    campaign = make_campaign()
    prefix = "\n\nHuman: How do I boil an egg?\n\nAssistant: In water.\n\nHuman: How long?"
    data = jsonl(
        {
            "chosen": prefix + "\n\nAssistant: Nine minutes.",
            "rejected": prefix + "\n\nAssistant: Forever.",
        }
    )

    # when
    response = upload(admin, campaign.pk, "hh.jsonl", data)

    # then
    assert response.status_code == 201
    assert Prompt.objects.get().conversation == [
        {"role": "user", "content": "How do I boil an egg?"},
        {"role": "assistant", "content": "In water."},
        {"role": "user", "content": "How long?"},
    ]
    assert export_rows(admin) == [
        {
            "prompt": "User: How do I boil an egg?\n\nAssistant: In water.\n\nUser: How long?",
            "chosen": "Nine minutes.",
            "rejected": "Forever.",
            "margin": 1.0,
        }
    ]


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("prompts.jsonl.gz", gzip.compress(jsonl({"prompt": "Hi", "responses": ["a", "b"]}))),
        ("PROMPTS.CSV.GZ", gzip.compress(b"prompt,response_1,response_2\nHi,a,b\n")),
    ],
)
def test_import_gzipped_files(admin: Client, name: str, content: bytes) -> None:
    # given
    campaign = make_campaign()

    # when
    response = upload(admin, campaign.pk, name, content)

    # then
    assert response.status_code == 201
    assert response.json() == {
        "prompts": 1,
        "responses": 2,
        "tasks": 1,
        "judgments": 0,
        "errors": [],
    }
    assert list(Response.objects.order_by("id").values_list("text", flat=True)) == ["a", "b"]


# --- imports: refused files, and nothing written ------------------------------------------


def rejected_body(errors: list[tuple[int, str]]) -> dict[str, Any]:
    return {
        "code": "import_rejected",
        "detail": f"{len(errors)} bad rows; nothing was imported.",
        "prompts": 0,
        "responses": 0,
        "tasks": 0,
        "judgments": 0,
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
    settings.IMPORT_MAX_BYTES = 64
    campaign = make_campaign()
    content = jsonl({"prompt": "x" * 100})

    # when
    response = upload(admin, campaign.pk, "big.jsonl", content)

    # then
    assert response.status_code == 400
    assert response.json() == {"code": "file_too_large", "detail": "File is larger than 64 bytes."}
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
        "detail": "Unpacked file is larger than 64 bytes.",
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


# --- pools --------------------------------------------------------------------------------


def test_create_pool(admin: Client) -> None:
    # when
    response = admin.post(f"{API}/pools/", {"name": "Experts", "description": "Senior raters"})

    # then
    assert response.status_code == 201
    pool_id = response.json()["id"]
    assert {k: v for k, v in response.json().items() if k != "created_at"} == {
        "id": pool_id,
        "name": "Experts",
        "description": "Senior raters",
        "member_ids": [],
        "campaign_ids": [],
    }
    assert audit_log(admin) == [
        {
            "actor_username": "admin-amy",
            "action": "pool.create",
            "target_type": "RaterPool",
            "target_id": str(pool_id),
            "details": {},
        }
    ]
    duplicate = admin.post(f"{API}/pools/", {"name": "Experts"})
    assert duplicate.status_code == 400
    assert duplicate.json()["errors"] == {"name": ["rater pool with this name already exists."]}


def test_add_and_remove_pool_members(admin: Client) -> None:
    # given
    pool = make_pool(members=[], campaigns=[])
    first, second = make_user(), make_user()

    # when
    added = admin.post(f"{API}/pools/{pool.pk}/members/", {"add": [first.pk, second.pk]})
    removed = admin.post(f"{API}/pools/{pool.pk}/members/", {"remove": [first.pk]})

    # then
    assert added.status_code == 200
    assert sorted(added.json()["member_ids"]) == sorted([first.pk, second.pk])
    assert removed.status_code == 200
    assert removed.json()["member_ids"] == [second.pk]
    assert list(pool.members.all()) == [second]
    assert [(e["action"], e["details"]) for e in audit_log(admin)] == [
        ("pool.members", {"added": [], "removed": [first.pk]}),
        ("pool.members", {"added": sorted([first.pk, second.pk]), "removed": []}),
    ]


def test_pool_members_with_an_unknown_user_changes_nothing(admin: Client) -> None:
    # given
    pool = make_pool(members=[], campaigns=[])
    known = make_user()

    # when
    response = admin.post(f"{API}/pools/{pool.pk}/members/", {"add": [known.pk, 999_999]})

    # then
    assert response.status_code == 404
    assert response.json() == {"code": "user_not_found", "detail": "No such users: 999999."}
    assert list(pool.members.all()) == []
    assert audit_log(admin) == []


def test_pool_campaigns_decide_what_members_may_rate(admin: Client, client_for: ClientFor) -> None:
    # given
    rater = client_for()
    campaign = make_campaign()
    make_task(campaign)
    pool = make_pool(members=[rater.user], campaigns=[])
    assert rater.post(f"{API}/assignments/next/").status_code == 204

    # when
    added = admin.post(f"{API}/pools/{pool.pk}/campaigns/", {"add": [campaign.pk]})

    # then
    assert added.status_code == 200
    assert added.json()["campaign_ids"] == [campaign.pk]
    assert rater.post(f"{API}/assignments/next/").status_code == 200

    # and when withdrawn, the rater's live lease there is no longer offered
    removed = admin.post(f"{API}/pools/{pool.pk}/campaigns/", {"remove": [campaign.pk]})
    assert removed.json()["campaign_ids"] == []
    assert rater.post(f"{API}/assignments/next/").status_code == 204
    assert [(e["action"], e["details"]) for e in audit_log(admin)] == [
        ("pool.campaigns", {"added": [], "removed": [campaign.pk]}),
        ("pool.campaigns", {"added": [campaign.pk], "removed": []}),
    ]


def test_pool_campaigns_with_an_unknown_campaign(admin: Client) -> None:
    pool = make_pool(members=[], campaigns=[])
    response = admin.post(f"{API}/pools/{pool.pk}/campaigns/", {"add": [999_999]})
    assert response.status_code == 404
    assert response.json() == {"code": "campaign_not_found", "detail": "No such campaign."}


def test_pool_change_on_unknown_pool(admin: Client) -> None:
    response = admin.post(f"{API}/pools/999999/members/", {"add": []})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_list_update_and_delete_pools(admin: Client) -> None:
    # given
    member = make_user()
    campaign = make_campaign()
    pool = make_pool(members=[member], campaigns=[campaign], name="B pool")
    make_pool(members=[], campaigns=[], name="A pool")

    # when
    listing = admin.get(f"{API}/pools/")
    renamed = admin.patch(f"{API}/pools/{pool.pk}/", {"name": "Renamed"})
    deleted = admin.delete(f"{API}/pools/{pool.pk}/")

    # then
    assert [(p["name"], p["member_ids"], p["campaign_ids"]) for p in listing.json()["results"]] == [
        ("A pool", [], []),
        ("B pool", [member.pk], [campaign.pk]),
    ]
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "Renamed"
    assert deleted.status_code == 204
    assert admin.get(f"{API}/pools/{pool.pk}/").status_code == 404
    assert [(e["action"], e["target_id"], e["details"]) for e in audit_log(admin)] == [
        ("pool.delete", str(pool.pk), {"name": "Renamed"}),
        ("pool.update", str(pool.pk), {"fields": ["name"]}),
    ]


# --- raters -------------------------------------------------------------------------------


def test_list_raters(admin: Client, client_for: ClientFor) -> None:
    # given: an annotator with one judgment, a paused ML engineer, and an import's author
    rater = client_for(username="bob")
    engineer = make_user(role=Role.ML_ENGINEER, username="carol")
    campaign, _ = setup_campaign([rater.user], tasks=1, overlap=1)
    pool = campaign.pools.get()
    rate(rater, "listing-1")
    assert (
        admin.post(f"{API}/raters/{engineer.pk}/pause/", {"reason": "Holiday"}).status_code == 200
    )
    upload(
        admin, campaign.pk, "pairs.jsonl", jsonl({"prompt": "Hi", "chosen": "a", "rejected": "b"})
    )

    # when
    response = admin.get(f"{API}/raters/")

    # then
    assert response.status_code == 200
    assert response.json() == [
        {
            "id": admin.user.pk,
            "username": "admin-amy",
            "role": "admin",
            "status": "active",
            "paused_reason": "",
            "pool_ids": [],
            "judgment_count": 0,
        },
        {
            "id": rater.user.pk,
            "username": "bob",
            "role": "annotator",
            "status": "active",
            "paused_reason": "",
            "pool_ids": [pool.pk],
            "judgment_count": 1,
        },
        {
            "id": engineer.pk,
            "username": "carol",
            "role": "ml_engineer",
            "status": "paused",
            "paused_reason": "Holiday",
            "pool_ids": [],
            "judgment_count": 0,
        },
    ]


def test_list_raters_shows_a_profileless_superuser_as_admin(admin: Client) -> None:
    # given: a superuser made by `createsuperuser`, who has no rater profile
    root = get_user_model().objects.create_superuser("root", "root@example.com", "pw-12345678")

    # when
    rows = {row["username"]: row for row in admin.get(f"{API}/raters/").json()}

    # then: the same role the permissions give them
    assert rows["root"] == {
        "id": root.pk,
        "username": "root",
        "role": "admin",
        "status": "active",
        "paused_reason": "",
        "pool_ids": [],
        "judgment_count": 0,
    }


def test_create_rater_who_can_then_log_in(admin: Client, api: Client) -> None:
    # when
    response = admin.post(
        f"{API}/raters/", {"username": "dana", "password": "long-enough-pw", "role": "ml_engineer"}
    )

    # then
    assert response.status_code == 201
    assert response.json() == {
        "id": response.json()["id"],
        "username": "dana",
        "role": "ml_engineer",
        "status": "active",
        "paused_reason": "",
        "pool_ids": [],
        "judgment_count": 0,
    }
    token = api.post(f"{API}/auth/token/", {"username": "dana", "password": "long-enough-pw"})
    assert token.status_code == 200
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.json()['token']}")
    assert api.get(f"{API}/me/").json()["role"] == "ml_engineer"
    assert audit_log(admin) == [
        {
            "actor_username": "admin-amy",
            "action": "rater.create",
            "target_type": "User",
            "target_id": str(response.json()["id"]),
            "details": {"role": "ml_engineer"},
        }
    ]


@pytest.mark.parametrize(
    ("data", "code", "errors"),
    [
        (
            {"username": "taken", "password": "long-enough-pw", "role": "annotator"},
            "user_exists",
            {"username": ["This username is taken."]},
        ),
        (
            {"username": "ext", "password": "long-enough-pw", "role": "external"},
            "invalid_choice",
            {"role": ['"external" is not a valid choice.']},
        ),
        (
            {"username": "shorty", "password": "short", "role": "annotator"},
            "min_length",
            {"password": ["Ensure this field has at least 8 characters."]},
        ),
        (
            {"username": "no spaces", "password": "long-enough-pw", "role": "annotator"},
            "invalid",
            {"username": ["This value does not match the required pattern."]},
        ),
        (
            {"username": "erin", "password": "password123", "role": "annotator"},
            "weak_password",
            {"password": ["This password is too common."]},
        ),
        (
            {"username": "frederick", "password": "frederick1", "role": "annotator"},
            "weak_password",
            {"password": ["The password is too similar to the username."]},
        ),
    ],
)
def test_create_rater_refuses_bad_input(
    admin: Client, data: dict[str, str], code: str, errors: dict[str, list[str]]
) -> None:
    # given
    make_user(username="taken")
    before = list(admin.get(f"{API}/raters/").json())

    # when
    response = admin.post(f"{API}/raters/", data)

    # then
    assert response.status_code == 400
    assert response.json() == {
        "code": code,
        "detail": "The request has invalid fields.",
        "errors": errors,
    }
    assert admin.get(f"{API}/raters/").json() == before


def test_pause_releases_live_leases_and_blocks_new_work(
    admin: Client, client_for: ClientFor
) -> None:
    # given: the rater holds a lease on the only slot of a task
    rater, colleague = client_for(), client_for()
    setup_campaign([rater.user, colleague.user], tasks=2, overlap=1)
    lease = rater.post(f"{API}/assignments/next/").json()
    colleague_first = colleague.post(f"{API}/assignments/next/").json()
    colleague.post(f"{API}/assignments/{colleague_first['id']}/skip/")

    # when
    paused = admin.post(f"{API}/raters/{rater.user.pk}/pause/", {"reason": "Too fast"})

    # then
    assert paused.status_code == 200
    assert (paused.json()["status"], paused.json()["paused_reason"]) == ("paused", "Too fast")
    assert Assignment.objects.get(pk=lease["id"]).status == AssignmentStatus.RELEASED
    blocked = rater.post(f"{API}/assignments/next/")
    assert blocked.status_code == 403
    assert blocked.json() == {
        "code": "rater_paused",
        "detail": "Your account is paused; ask an admin.",
    }
    submit = rater.post(
        f"{API}/assignments/{lease['id']}/submit/",
        {"ranking": RANKING, "idempotency_key": "paused-1"},
    )
    assert submit.status_code == 403
    assert submit.json()["code"] == "rater_paused"
    # the released slot is free again for someone else
    assert (
        colleague.post(f"{API}/assignments/next/").json()["conversation"] == lease["conversation"]
    )
    assert audit_log(admin)[0] == {
        "actor_username": "admin-amy",
        "action": "rater.pause",
        "target_type": "User",
        "target_id": str(rater.user.pk),
        "details": {"reason": "Too fast", "leases_released": 1},
    }


def test_resume_lets_a_paused_rater_work_again(admin: Client, client_for: ClientFor) -> None:
    # given
    rater = client_for()
    setup_campaign([rater.user], tasks=2, overlap=1)
    first = rater.post(f"{API}/assignments/next/").json()
    admin.post(f"{API}/raters/{rater.user.pk}/pause/", {"reason": "Check"})

    # when
    resumed = admin.post(f"{API}/raters/{rater.user.pk}/resume/")

    # then: working again, on a task not yet seen (the released one is not offered again)
    assert resumed.status_code == 200
    assert (resumed.json()["status"], resumed.json()["paused_reason"]) == ("active", "")
    claimed = rater.post(f"{API}/assignments/next/")
    assert claimed.status_code == 200
    assert claimed.json()["id"] != first["id"]
    assert [(e["action"], e["target_id"]) for e in audit_log(admin)[:2]] == [
        ("rater.resume", str(rater.user.pk)),
        ("rater.pause", str(rater.user.pk)),
    ]


@pytest.mark.parametrize("action", ["pause", "resume"])
def test_pause_or_resume_someone_who_is_not_a_rater(admin: Client, action: str) -> None:
    # given: the invisible author of imported preferences, and an id nobody has
    campaign = make_campaign()
    upload(
        admin, campaign.pk, "pairs.jsonl", jsonl({"prompt": "Hi", "chosen": "a", "rejected": "b"})
    )
    external_id = Judgment.objects.get().rater_id

    # when
    responses = [admin.post(f"{API}/raters/{pk}/{action}/") for pk in (external_id, 999_999)]

    # then
    for response in responses:
        assert response.status_code == 404
        assert response.json() == {"code": "rater_not_found", "detail": "No such rater."}


# --- judgments ----------------------------------------------------------------------------


def test_judgments_list_filters_by_campaign(admin: Client, client_for: ClientFor) -> None:
    # given: one judgment in each of two campaigns
    rater = client_for(username="erin")
    first, _ = setup_campaign([rater.user], tasks=1, overlap=1)
    second, _ = setup_campaign([rater.user], tasks=1, overlap=1)
    rate(rater, "judged-1")
    rate(rater, "judged-2")
    judgment_first = Judgment.objects.get(task__campaign=first)

    # when
    everything = admin.get(f"{API}/judgments/").json()
    only_first = admin.get(f"{API}/judgments/", {"campaign": first.pk}).json()
    nonsense = admin.get(f"{API}/judgments/", {"campaign": "abc"}).json()
    detail = admin.get(f"{API}/judgments/{judgment_first.pk}/")

    # then
    assert [j["campaign_id"] for j in everything["results"]] == [second.pk, first.pk]
    assert [j["id"] for j in only_first["results"]] == [judgment_first.pk]
    assert nonsense["count"] == 0
    body = detail.json()
    assert set(body) == {
        "id",
        "task_id",
        "campaign_id",
        "assignment_id",
        "rater_id",
        "rater_username",
        "ranking",
        "strength",
        "flags",
        "rationale",
        "is_surplus",
        "was_late",
        "source",
        "server_time_ms",
        "client_time_ms",
        "submitted_at",
    }
    assert (body["campaign_id"], body["rater_username"], body["source"], body["was_late"]) == (
        first.pk,
        "erin",
        "human",
        False,
    )
    assert sorted(pk for tier in body["ranking"] for pk in tier) == sorted(
        judgment_first.task.response_ids
    )


# --- export -------------------------------------------------------------------------------


@pytest.fixture
def two_raters_one_task(client_for: ClientFor) -> list[dict[str, str]]:
    """Two raters rank the same four responses [[B], [A, C], [D]] through the rater API;
    returns each rater's label -> text, in submission order."""
    raters = [client_for(), client_for()]
    setup_campaign([r.user for r in raters], tasks=1, responses_per_task=4, overlap=2)
    return [rate(rater, f"export-key-{n}") for n, rater in enumerate(raters)]


def expected_pairs(shown: dict[str, str], with_ties: bool = False) -> list[tuple[str, str, float]]:
    """The pairs [[B], [A, C], [D]] implies, in the order they are stored."""
    pairs = [("B", "A", 1.0), ("B", "C", 1.0), ("B", "D", 2.0)]
    pairs += [("A", "C", 0.0)] if with_ties else []
    pairs += [("A", "D", 1.0), ("C", "D", 1.0)]
    return [(shown[better], shown[worse], margin) for better, worse, margin in pairs]


def test_export_trl(client_for: ClientFor, two_raters_one_task: list[dict[str, str]]) -> None:
    # given
    engineer = client_for(Role.ML_ENGINEER)
    prompt = Prompt.objects.get().conversation[0]["content"]

    # when
    response, body = export(engineer, format="trl")

    # then
    assert response["Content-Type"] == "application/x-ndjson"
    assert response["Content-Disposition"] == 'attachment; filename="preferences-trl.jsonl"'
    rows = [json.loads(line) for line in body.split("\n") if line]
    assert all(list(row) == ["prompt", "chosen", "rejected", "margin"] for row in rows)
    assert [(r["chosen"], r["rejected"], r["margin"]) for r in rows] == [
        pair for shown in two_raters_one_task for pair in expected_pairs(shown)
    ]
    assert {r["prompt"] for r in rows} == {prompt}


def test_export_includes_ties_only_when_asked(
    admin: Client, two_raters_one_task: list[dict[str, str]]
) -> None:
    # when
    default = export_rows(admin)
    with_ties = export_rows(admin, include_ties="true")

    # then
    assert len(default) == 10
    assert [(r["chosen"], r["rejected"], r["margin"]) for r in with_ties] == [
        pair for shown in two_raters_one_task for pair in expected_pairs(shown, with_ties=True)
    ]


def test_export_trl_messages(admin: Client, two_raters_one_task: list[dict[str, str]]) -> None:
    # when
    response, body = export(admin, format="trl_messages")

    # then
    assert response["Content-Disposition"] == (
        'attachment; filename="preferences-trl_messages.jsonl"'
    )
    rows = [json.loads(line) for line in body.split("\n") if line]
    conversation = Prompt.objects.get().conversation
    assert rows == [
        {
            "prompt": conversation,
            "chosen": [{"role": "assistant", "content": chosen}],
            "rejected": [{"role": "assistant", "content": rejected}],
            "margin": margin,
        }
        for shown in two_raters_one_task
        for chosen, rejected, margin in expected_pairs(shown)
    ]


def test_export_csv(admin: Client, two_raters_one_task: list[dict[str, str]]) -> None:
    # when
    response, body = export(admin, format="csv")

    # then
    assert response["Content-Type"] == "text/csv"
    assert response["Content-Disposition"] == 'attachment; filename="preferences-csv.csv"'
    header, *rows = list(csv.reader(io.StringIO(body)))
    assert header == [
        "preference_id",
        "judgment_id",
        "task_id",
        "campaign_id",
        "rater_id",
        "prompt",
        "chosen",
        "rejected",
        "margin",
        "is_tie",
        "source",
        "submitted_at",
    ]
    judgments = list(Judgment.objects.order_by("id"))
    task = RankingTask.objects.get()
    assert [
        (r[1], r[2], r[3], r[4], json.loads(r[5]), r[6], r[7], r[8], r[9], r[10]) for r in rows
    ] == [
        (
            str(j.pk),
            str(task.pk),
            str(task.campaign_id),
            str(j.rater_id),
            task.prompt.conversation,
            chosen,
            rejected,
            str(margin),
            "False",
            "human",
        )
        for j, shown in zip(judgments, two_raters_one_task, strict=True)
        for chosen, rejected, margin in expected_pairs(shown)
    ]


def test_exported_trl_file_imports_back(admin: Client, client_for: ClientFor) -> None:
    # given: a judged pair whose text holds U+2028, which the export writes raw (not escaped)
    rater = client_for()
    source = make_campaign(responses_per_task=2, overlap=1)
    make_task(source, texts=["Line one\u2028line two.", "Other."])
    make_pool(members=[rater.user], campaigns=[source])
    shown = rate(rater, "roundtrip-1", [["A"], ["B"]])
    _, body = export(admin, format="trl", campaign=source.pk)
    assert "\u2028" in body
    target = make_campaign()

    # when
    response = upload(admin, target.pk, "export.jsonl", body.encode())

    # then
    assert response.status_code == 201, response.json()
    assert response.json()["judgments"] == 1
    assert export_rows(admin, campaign=target.pk) == export_rows(admin, campaign=source.pk)
    assert export_rows(admin, campaign=target.pk)[0]["chosen"] == shown["A"]


@pytest.fixture
def filter_world(client_for: ClientFor) -> dict[str, Any]:
    """Two raters in two pools, each judging one pair in campaigns X and Y; r1 judges before
    `mark`, r2 after."""
    r1, r2 = client_for(), client_for()
    x, y = (
        make_campaign(responses_per_task=2, overlap=2),
        make_campaign(responses_per_task=2, overlap=2),
    )
    make_task(x)
    make_task(y)
    p1 = make_pool(members=[r1.user], campaigns=[x, y])
    p2 = make_pool(members=[r2.user], campaigns=[x, y])
    rate(r1, "filter-1", [["A"], ["B"]])
    rate(r1, "filter-2", [["A"], ["B"]])
    mark = timezone.now()
    rate(r2, "filter-3", [["A"], ["B"]])
    rate(r2, "filter-4", [["A"], ["B"]])
    return {
        "x": x.pk,
        "y": y.pk,
        "r1": r1.user.pk,
        "r2": r2.user.pk,
        "p1": p1.pk,
        "p2": p2.pk,
        "mark": mark.isoformat(),
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, {("x", "r1"), ("y", "r1"), ("x", "r2"), ("y", "r2")}),
        ({"campaign": ["x"]}, {("x", "r1"), ("x", "r2")}),
        ({"campaign": ["x", "y"]}, {("x", "r1"), ("y", "r1"), ("x", "r2"), ("y", "r2")}),
        ({"rater": ["r2"]}, {("x", "r2"), ("y", "r2")}),
        ({"pool": ["p1"]}, {("x", "r1"), ("y", "r1")}),
        ({"since": "mark"}, {("x", "r2"), ("y", "r2")}),
        ({"until": "mark"}, {("x", "r1"), ("y", "r1")}),
        ({"campaign": ["y"], "rater": ["r1", "r2"], "pool": ["p2"]}, {("y", "r2")}),
        ({"campaign": ["x"], "since": "mark", "until": "mark"}, set()),
    ],
    ids=[
        "none",
        "campaign",
        "two campaigns",
        "rater",
        "pool",
        "since",
        "until",
        "combined",
        "empty window",
    ],
)
def test_export_filters(
    admin: Client,
    filter_world: dict[str, Any],
    params: dict[str, Any],
    expected: set[tuple[str, str]],
) -> None:
    # given: names in the table stand for the world's ids
    query = {
        key: [filter_world[v] for v in value] if isinstance(value, list) else filter_world[value]
        for key, value in params.items()
    }
    campaigns = {str(filter_world[name]): name for name in ("x", "y")}
    raters = {str(filter_world[name]): name for name in ("r1", "r2")}

    # when
    _, body = export(admin, format="csv", **query)

    # then
    rows = list(csv.DictReader(io.StringIO(body)))
    found = [(campaigns[r["campaign_id"]], raters[r["rater_id"]]) for r in rows]
    assert len(found) == len(set(found))
    assert set(found) == expected


@pytest.mark.parametrize(
    ("params", "code", "errors"),
    [
        ({"format": "xml"}, "invalid_choice", {"format": ['"xml" is not a valid choice.']}),
        ({"campaign": "abc"}, "invalid", {"campaign": {"0": ["A valid integer is required."]}}),
        (
            {"since": "yesterday"},
            "invalid",
            {
                "since": [
                    "Datetime has wrong format. Use one of these formats instead: "
                    "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."
                ]
            },
        ),
        ({"include_ties": "maybe"}, "invalid", {"include_ties": ["Must be a valid boolean."]}),
    ],
)
def test_export_refuses_bad_parameters(
    admin: Client, params: dict[str, str], code: str, errors: dict[str, Any]
) -> None:
    # when
    response = admin.get(f"{API}/export/", params)

    # then
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "code": code,
        "detail": "The request has invalid fields.",
        "errors": errors,
    }


@pytest.mark.postgres
def test_a_bulk_import_refreshes_the_planner_statistics(
    admin: Client, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: a campaign and an import at the bulk threshold (lowered for the test)
    from django.db import connection

    from annotation.services import importing

    monkeypatch.setattr(importing, "BULK_IMPORT_TASKS", 3)
    campaign = make_campaign(responses_per_task=2)
    rows = "\n".join(
        json.dumps({"prompt": f"q{i}", "responses": [f"a{i}", f"b{i}"]}) for i in range(3)
    )

    # when
    response = admin.post(
        f"{API}/campaigns/{campaign.pk}/import/",
        {"file": SimpleUploadedFile("bulk.jsonl", rows.encode())},
        format="multipart",
    )

    # then: Postgres now has statistics for the task table (reltuples is -1 before ANALYZE)
    assert response.status_code == 201
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples FROM pg_class WHERE relname = %s",
            [RankingTask._meta.db_table],
        )
        (reltuples,) = cursor.fetchone()
    assert reltuples == 3  # only our own ANALYZE can count rows this transaction has not committed
