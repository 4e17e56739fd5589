"""Every change leaves an audit event with readable names: training runs (create, cancel),
schedules (create, update, delete), model version registration, exports (who, which filters,
how many rows), users made on the command line and permission denials. The audit log itself
is read-only through the API."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from annotation.models import AuditEvent, RaterProfile, RaterStatus
from annotation.services.tokens import issue_token, revoke_token
from common.roles import Role
from tests.annotation.admin_api.helpers import API, Client, ClientFor, export, rate
from tests.factories import make_campaign, make_user, setup_campaign
from training.models import TrainingRun, VersionKind
from training.registry import register_run_version
from training.services import register_base_version

pytestmark = pytest.mark.django_db
TRAINING = "/api/v1/training"


@pytest.fixture
def engineer(client_for: ClientFor) -> Client:
    return client_for(Role.ML_ENGINEER, username="eng-ed")


def events(admin: Client, action: str) -> list[dict[str, Any]]:
    """The audit API's events of one action, oldest first, without ids and times."""
    response = admin.get(f"{API}/audit-events/", {"limit": 500})
    assert response.status_code == 200
    keys = ("actor_name", "action", "target_type", "target_id", "target_name", "details")
    rows = [{k: e[k] for k in keys} for e in response.json()["results"] if e["action"] == action]
    return rows[::-1]


def test_training_runs_are_audited_when_started_and_cancelled(
    admin: Client, engineer: Client
) -> None:
    # given
    campaign = make_campaign(name="Helpfulness")

    # when
    started = engineer.post(f"{TRAINING}/runs/", {"kind": "generate", "campaign_id": campaign.pk})
    run_id = started.json()["id"]
    cancelled = engineer.post(f"{TRAINING}/runs/{run_id}/cancel/")

    # then
    assert (started.status_code, cancelled.status_code) == (201, 200)
    run = TrainingRun.objects.get()
    [created] = events(admin, "training_run.create")
    assert created == {
        "actor_name": "eng-ed",
        "action": "training_run.create",
        "target_type": "TrainingRun",
        "target_id": str(run_id),
        "target_name": f"Generation run {run_id} (queued)",
        "details": {
            "kind": "generate",
            "idempotency_key": "",
            "base": "smollm2",
            "campaign": "Helpfulness",
            "schedule_id": None,
            "snapshot_size": 0,
            "hyperparameters": run.config,
        },
    }
    assert events(admin, "training_run.cancel") == [
        {
            "actor_name": "eng-ed",
            "action": "training_run.cancel",
            "target_type": "TrainingRun",
            "target_id": str(run_id),
            "target_name": f"Generation run {run_id} (cancelled)",
            "details": {"was": "queued"},
        }
    ]


def test_a_replayed_run_request_is_audited_once(admin: Client, engineer: Client) -> None:
    campaign = make_campaign()
    body = {"kind": "generate", "campaign_id": campaign.pk, "idempotency_key": "replay-key-1"}
    assert engineer.post(f"{TRAINING}/runs/", body).status_code == 201
    assert engineer.post(f"{TRAINING}/runs/", body).status_code == 200
    assert len(events(admin, "training_run.create")) == 1


def test_schedules_are_audited_when_created_changed_and_deleted(
    admin: Client, engineer: Client
) -> None:
    # given
    campaign = make_campaign(name="Harmlessness")

    # when
    created = engineer.post(
        f"{TRAINING}/schedules/", {"campaign_id": campaign.pk, "every_n_judgments": 50}
    )
    path = f"{TRAINING}/schedules/{created.json()['id']}/"
    changed = engineer.patch(path, {"enabled": False, "cron": "0 3 * * *"})
    deleted = engineer.delete(path)

    # then
    assert (created.status_code, changed.status_code, deleted.status_code) == (201, 200, 204)
    logged = [
        (e["actor_name"], e["action"], e["target_name"], e["details"])
        for action in ("create", "update", "delete")
        for e in events(admin, f"training_schedule.{action}")
    ]
    name = f"Schedule for campaign {campaign.pk}"
    assert logged == [
        (
            "eng-ed",
            "training_schedule.create",
            name,
            {"campaign": "Harmlessness", "fields": ["every_n_judgments"]},
        ),
        (
            "eng-ed",
            "training_schedule.update",
            name,
            {"campaign": "Harmlessness", "fields": ["cron", "enabled"]},
        ),
        ("eng-ed", "training_schedule.delete", name, {"campaign": "Harmlessness", "fields": []}),
    ]


def test_model_versions_are_audited_when_registered_once(admin: Client) -> None:
    # given: a finished reward run
    campaign = make_campaign()
    run = TrainingRun.objects.create(kind="reward", campaign=campaign, status="succeeded")

    # when: the base model and the run's version registered, each twice (a retried finish)
    for _ in range(2):
        base = register_base_version(base="smollm2")
        version = register_run_version(
            run, kind=VersionKind.REWARD, path=Path("/artifacts/reward"), metrics={"acc": 0.7}
        )

    # then
    assert [(e["target_name"], e["details"]) for e in events(admin, "model_version.register")] == [
        (
            base.name,
            {
                "kind": "reference",
                "base": "smollm2",
                "produced_by": None,
                "artifact_path": "smollm2",
            },
        ),
        (
            version.name,
            {
                "kind": "reward",
                "base": "smollm2",
                "produced_by": run.pk,
                "artifact_path": "/artifacts/reward",
            },
        ),
    ]


def test_preference_exports_are_audited_with_filters_and_row_count(
    admin: Client, engineer: Client, client_for: ClientFor
) -> None:
    # given: two judgments of [[B], [A, C], [D]]: 5 pairs each without ties, 6 with
    raters = [client_for(), client_for()]
    campaign, _ = setup_campaign([r.user for r in raters], tasks=1, overlap=2)
    for n, rater in enumerate(raters):
        rate(rater, f"audit-export-{n}")

    # when
    _, body = export(engineer, format="csv", campaign=campaign.pk)
    _, with_ties = export(engineer, format="trl", include_ties="true", pairs="all")

    # then
    assert len(list(csv.reader(io.StringIO(body)))) == 1 + 10
    assert len(with_ties.splitlines()) == 12
    logged = events(admin, "export.preferences")
    assert [(e["actor_name"], e["target_name"], e["details"]) for e in logged] == [
        (
            "eng-ed",
            "preferences (csv)",
            {
                "campaign": [campaign.pk],
                "format": "csv",
                "include_ties": False,
                "unsafe": "ignore",
                "pairs": "all",
                "rows": 10,
                "complete": True,
            },
        ),
        (
            "eng-ed",
            "preferences (trl)",
            {
                "format": "trl",
                "include_ties": True,
                "pairs": "all",
                "unsafe": "ignore",
                "rows": 12,
                "complete": True,
            },
        ),
    ]


def test_the_quality_csv_export_is_audited(admin: Client) -> None:
    # given
    campaign = make_campaign(name="Quality")

    # when
    response = admin.get(f"{API}/campaigns/{campaign.pk}/quality/", {"format": "csv"})

    # then
    rows = len(list(csv.reader(io.StringIO(response.content.decode())))) - 1
    assert events(admin, "export.quality_csv") == [
        {
            "actor_name": "admin-amy",
            "action": "export.quality_csv",
            "target_type": "Campaign",
            "target_id": str(campaign.pk),
            "target_name": "Quality",
            "details": {"format": "csv", "rows": rows},
        }
    ]


def test_the_command_line_export_is_audited(admin: Client, tmp_path: Path) -> None:
    call_command("export_data", "--format", "csv", "--out", str(tmp_path / "prefs.csv"))
    [event] = events(admin, "export.preferences")
    assert (event["actor_name"], event["details"]["via"], event["details"]["rows"]) == (
        "",
        "command line",
        0,
    )


def test_users_made_on_the_command_line_are_audited(admin: Client) -> None:
    # when
    call_command("create_user", "carol", "--role", "ml_engineer", "--password", "pw-long-enough")

    # then
    [event] = events(admin, "rater.create")
    assert (event["actor_name"], event["target_name"], event["details"]) == (
        "",
        "carol",
        {"role": "ml_engineer", "via": "command line"},
    )


def test_permission_denials_are_audited_once_per_window(
    admin: Client, client_for: ClientFor, api: Client
) -> None:
    # given
    annotator = client_for(username="ann")

    # when: an annotator tries admin endpoints; the same one twice
    first = annotator.get(f"{API}/audit-events/")
    again = annotator.get(f"{API}/audit-events/")
    other = annotator.post(f"{API}/campaigns/", {"name": "mine"})
    anonymous = api.get(f"{API}/audit-events/")

    # then
    assert [first.status_code, again.status_code, other.status_code] == [403, 403, 403]
    assert first.json()["code"] == "permission_denied"
    assert anonymous.status_code == 401
    assert [
        (e["actor_name"], e["target_name"], e["details"]) for e in events(admin, "auth.denied")
    ] == [
        ("ann", "ann", {"method": "GET", "path": "/api/v1/audit-events/"}),
        ("ann", "ann", {"method": "POST", "path": "/api/v1/campaigns/"}),
    ]


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_the_audit_log_cannot_be_edited_through_the_api(admin: Client, method: str) -> None:
    # given
    make_campaign()
    event = AuditEvent.objects.create(
        action="campaign.create", target_type="Campaign", target_id="1"
    )
    before = list(AuditEvent.objects.values_list("id", "action", "details"))

    # when
    on_list = getattr(admin, method)(f"{API}/audit-events/", {"action": "forged"})
    on_one = getattr(admin, method)(f"{API}/audit-events/{event.pk}/", {"action": "forged"})

    # then
    assert (on_list.status_code, on_one.status_code) == (405, 405)
    assert list(AuditEvent.objects.values_list("id", "action", "details")) == before


def test_the_demo_seed_makes_its_users_and_pool_through_audited_services(
    admin: Client, tmp_path: Path
) -> None:
    # when: seeded twice (the second run finds everything there)
    for _ in range(2):
        call_command(
            "seed_demo", "--logins-file", str(tmp_path / "logins.json"), stdout=io.StringIO()
        )

    # then
    created = {e["target_name"]: e["details"] for e in events(admin, "rater.create")}
    assert created == {
        "admin": {"role": "admin", "via": "seed_demo"},
        "annotator1": {"role": "annotator", "via": "seed_demo"},
        "annotator2": {"role": "annotator", "via": "seed_demo"},
        "annotator3": {"role": "annotator", "via": "seed_demo"},
        "mlengineer": {"role": "ml_engineer", "via": "seed_demo"},
    }
    pool_events = [
        (e["actor_name"], e["action"], e["target_name"])
        for action in ("pool.create", "pool.members", "pool.campaigns")
        for e in events(admin, action)
    ]
    assert pool_events == [
        ("admin", "pool.create", "Demo raters"),
        ("admin", "pool.members", "Demo raters"),
        ("admin", "pool.campaigns", "Demo raters"),
    ]


def test_probing_one_url_pattern_through_its_ids_is_recorded_once(
    admin: Client, client_for: ClientFor
) -> None:
    # given: an annotator
    annotator = client_for(Role.ANNOTATOR, username="ann")

    # when: they try to change the role of raters 1 to 30, then list the audit log
    answers = {
        annotator.post(f"{API}/raters/{pk}/role/", {"role": "admin"}).status_code
        for pk in range(1, 31)
    }
    listed = annotator.get(f"{API}/audit-events/")

    # then: thirty refusals, one event for the pattern and one for the other endpoint
    assert (answers, listed.status_code) == ({403}, 403)
    assert [(e["actor_name"], e["details"]) for e in events(admin, "auth.denied")] == [
        ("ann", {"method": "POST", "path": "/api/v1/raters/1/role/"}),
        ("ann", {"method": "GET", "path": "/api/v1/audit-events/"}),
    ]


def test_refusals_by_a_service_are_audited(admin: Client, client_for: ClientFor) -> None:
    # given: an annotator paused (as the gold checks do, straight on the profile)
    annotator = client_for(Role.ANNOTATOR, username="ann")
    RaterProfile.objects.filter(user=annotator.user).update(status=RaterStatus.PAUSED)

    # when: they ask for work twice
    answers = [annotator.post(f"{API}/assignments/next/") for _ in range(2)]

    # then: refused by the service both times, recorded once with the service's code
    assert [(r.status_code, r.json()["code"]) for r in answers] == [(403, "rater_paused")] * 2
    assert [(e["actor_name"], e["details"]) for e in events(admin, "auth.denied")] == [
        ("ann", {"method": "POST", "path": "/api/v1/assignments/next/", "code": "rater_paused"})
    ]


def test_refused_tokens_are_audited_by_prefix_never_by_key(admin: Client) -> None:
    # given: a revoked token of ann's, a live token of a paused rater's, and a made-up key
    ann, pat = make_user(username="ann"), make_user(username="pat")
    revoked, revoked_key = issue_token(user=ann, name="laptop")
    revoke_token(token=revoked, actor=ann, reason="revoked")
    paused, paused_key = issue_token(user=pat, name="script")
    RaterProfile.objects.filter(user=pat).update(status=RaterStatus.PAUSED)
    made_up = "rlhf_" + "x" * 43
    keys = [revoked_key, revoked_key, paused_key, made_up]
    addresses = ["198.51.100.1", "198.51.100.1", "198.51.100.2", "198.51.100.3"]

    # when: each key is tried once (the revoked one twice) from its own address
    answers = [
        APIClient().get(f"{API}/me/", HTTP_AUTHORIZATION=f"Token {key}", REMOTE_ADDR=address)
        for key, address in zip(keys, addresses, strict=True)
    ]

    # then: four 401s, three events (the repeat within the minute is not), no key stored
    codes = ["token_invalid", "token_invalid", "rater_paused", "token_invalid"]
    assert [(r.status_code, r.json()["code"]) for r in answers] == [(401, c) for c in codes]
    refused = events(admin, "auth.token_refused")
    assert [(e["actor_name"], e["target_type"], e["target_id"], e["details"]) for e in refused] == [
        ("", "ApiToken", str(revoked.pk), token_details("token_invalid", revoked.prefix, 1)),
        ("pat", "ApiToken", str(paused.pk), token_details("rater_paused", paused.prefix, 2)),
        ("", "UnknownToken", "", token_details("token_invalid", None, 3)),
    ]
    stored = json.dumps(list(AuditEvent.objects.values_list("target_name", "details")))
    assert [key[9:] in stored for key in keys] == [False] * 4  # past the prefix: the secret


def token_details(code: str, prefix: str | None, address: int) -> dict[str, Any]:
    return {
        "code": code,
        "prefix": prefix,
        "method": "GET",
        "path": "/api/v1/me/",
        "client_address": f"198.51.100.{address}",
    }
