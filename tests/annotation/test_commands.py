"""Management commands: seed_demo, import_data, export_data, create_user, create_api_token."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from annotation.models import Campaign, Judgment, Prompt, RankingTask, RaterPool, RaterProfile

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_seed_demo_builds_the_demo_once_and_prints_logins(tmp_path: Path) -> None:
    logins = tmp_path / "logins.json"
    first = run("seed_demo", "--logins-file", str(logins))
    second = run("seed_demo", "--logins-file", str(logins))

    passwords = json.loads(logins.read_text())
    assert sorted(passwords) == ["admin", "annotator1", "annotator2", "annotator3", "mlengineer"]
    for username, password in passwords.items():
        assert f"{username:<12} {password}" in first
        assert f"{username:<12} {password}" in second
    roles = dict(RaterProfile.objects.values_list("user__username", "role"))
    assert roles == {
        "admin": "admin",
        "annotator1": "annotator",
        "annotator2": "annotator",
        "annotator3": "annotator",
        "mlengineer": "ml_engineer",
    }
    rank, pair = Campaign.objects.order_by("id")
    assert (rank.tasks.count(), pair.tasks.count()) == (30, 30)
    assert {len(t.response_ids) for t in RankingTask.objects.filter(campaign=rank)} == {4}
    assert {len(t.response_ids) for t in RankingTask.objects.filter(campaign=pair)} == {2}
    assert Prompt.objects.count() == 60
    assert RaterPool.objects.get().members.count() == 5
    assert logins.stat().st_mode & 0o077 == 0


def test_import_then_export_round_trip(tmp_path: Path) -> None:
    campaign = Campaign.objects.create(name="cmd", responses_per_task=2, overlap=1)
    source = tmp_path / "pairs.jsonl"
    source.write_text(json.dumps({"prompt": "Say hi", "chosen": "Hi!", "rejected": "No."}) + "\n")

    out = run("import_data", str(source), "--campaign", "cmd")
    exported = tmp_path / "out.jsonl"
    call_command(
        "export_data", "--campaign", str(campaign.pk), "--out", str(exported), stderr=StringIO()
    )

    assert "Imported 1 prompts, 2 responses, 1 tasks, 1 judgments" in out
    assert [json.loads(line) for line in exported.read_text().splitlines()] == [
        {
            "prompt": "Say hi",
            "chosen": "Hi!",
            "rejected": "No.",
            "margin": 1.0,
            "flags": [],
            "chosen_flags": [],
            "rejected_flags": [],
            "rationale": "",
        }
    ]


def test_import_with_a_bad_row_writes_nothing_and_names_the_line(tmp_path: Path) -> None:
    Campaign.objects.create(name="cmd", responses_per_task=2, overlap=1)
    source = tmp_path / "bad.jsonl"
    source.write_text('{"prompt": "ok", "responses": ["a", "b"]}\n{"prompt": ""}\n')
    err = StringIO()

    with pytest.raises(CommandError, match="1 bad rows; nothing was imported"):
        call_command("import_data", str(source), "--campaign", "cmd", stderr=err)

    assert "line 2: prompt must be non-empty text" in err.getvalue()
    assert Prompt.objects.count() == 0


def test_import_refuses_unknown_campaign_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="No such file"):
        call_command("import_data", str(tmp_path / "nope.jsonl"), "--campaign", "x")
    (tmp_path / "a.jsonl").write_text("{}\n")
    with pytest.raises(CommandError, match="No campaign 'x'"):
        call_command("import_data", str(tmp_path / "a.jsonl"), "--campaign", "x")


def test_create_user_and_token() -> None:
    out = run("create_user", "carol", "--role", "ml_engineer")
    token = run("create_api_token", "carol").strip()
    second = run("create_api_token", "carol", "--name", "nightly export").strip()

    assert "Created carol (ml_engineer), password: " in out
    assert RaterProfile.objects.get(user__username="carol").role == "ml_engineer"
    assert token != second
    for key in (token, second):
        reply = APIClient().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {key}")
        assert reply.status_code == 200
        assert reply.json()["username"] == "carol"
    with pytest.raises(CommandError, match="already exists"):
        call_command("create_user", "carol", stdout=StringIO())
    with pytest.raises(CommandError, match="No user"):
        call_command("create_api_token", "nobody")
    assert Judgment.objects.count() == 0
