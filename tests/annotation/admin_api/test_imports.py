"""Imports through the admin API that are accepted: prompts with responses, preference pairs
in several formats, gzip; a bulk import refreshes the planner statistics."""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from annotation.models import (
    JudgmentSource,
    Prompt,
    RankingTask,
    Response,
    TaskStatus,
)
from tests.annotation.admin_api.helpers import (
    API,
    Client,
    ClientFor,
    audit_log,
    export_rows,
    jsonl,
    rate,
    upload,
)
from tests.factories import make_campaign, make_pool

TURNS = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Hi"},
    {"role": "assistant", "content": "Hello."},
    {"role": "user", "content": "Joke?"},
]
# A plain prompt with two answers, a conversation with three, and a prompt with none.
MIXED_PROMPTS = jsonl(
    {"prompt": "What is 2+2?", "responses": ["4", "5"], "id": "q1", "metadata": {"t": 1}},
    {
        "conversation": TURNS,
        "responses": [
            {"text": "Knock knock.", "generator": "gen-a"},
            {"text": "No."},
            {"text": "Why not."},
        ],
    },
    {"messages": [{"role": "user", "content": "Unanswered"}]},
)


def test_import_jsonl_prompts_with_responses(admin: Client) -> None:
    # given
    campaign = make_campaign(overlap=2)
    turns = TURNS

    # when
    response = upload(admin, campaign.pk, "prompts.jsonl", MIXED_PROMPTS)

    # then
    assert response.status_code == 201
    assert response.json() == {
        "prompts": 3,
        "responses": 5,
        "tasks": 2,
        "judgments": 0,
        "merged_responses": 0,
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
        "merged_responses": 0,
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
        "merged_responses": 0,
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
            "flags": [],
            "chosen_flags": [],
            "rejected_flags": [],
            "rationale": "",
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
            "flags": [],
            "chosen_flags": [],
            "rejected_flags": [],
            "rationale": "",
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
        "merged_responses": 0,
        "errors": [],
    }
    assert list(Response.objects.order_by("id").values_list("text", flat=True)) == ["a", "b"]


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
