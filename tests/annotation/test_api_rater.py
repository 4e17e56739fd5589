"""The rater's loop through the HTTP API: next, submit, skip, stats, and every way it can go
wrong. Given / when / then, exact assertions."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from rest_framework.test import APIClient

from annotation.models import (
    Assignment,
    AssignmentStatus,
    CampaignStatus,
    Judgment,
    JudgmentMode,
    Preference,
    RankingTask,
    TaskStatus,
)
from annotation.services.assignments import claim_next_assignment, skip_assignment
from common.roles import Role
from tests.factories import make_campaign, make_pool, make_task, make_user, setup_campaign

pytestmark = pytest.mark.django_db
NEXT = "/api/v1/assignments/next/"


def submit(
    client: Any, assignment_id: int, ranking: list[list[str]], key: str, **extra: Any
) -> Any:
    body = {"ranking": ranking, "idempotency_key": key, **extra}
    return client.post(f"/api/v1/assignments/{assignment_id}/submit/", body, format="json")


@pytest.fixture
def rater(client_for: Any) -> Any:
    return client_for(Role.ANNOTATOR)


def test_next_returns_a_task_labelled_in_a_stored_shuffled_order(rater: Any) -> None:
    _, [task] = setup_campaign([rater.user], tasks=1)

    reply = rater.post(NEXT)

    assert reply.status_code == 200
    body = reply.json()
    assignment = Assignment.objects.get(pk=body["id"])
    assert sorted(assignment.display_order) == sorted(task.response_ids)
    assert [r["label"] for r in body["responses"]] == ["A", "B", "C", "D"]
    shown = [r["text"] for r in body["responses"]]
    texts = dict(task.prompt.responses.values_list("pk", "text"))
    assert shown == [texts[pk] for pk in assignment.display_order]
    assert body["conversation"] == [
        {"role": "user", "content": task.prompt.conversation[0]["content"]}
    ]


def test_display_order_is_shuffled_per_assignment(client_for: Any) -> None:
    raters = [client_for() for _ in range(12)]
    _, [task] = setup_campaign([r.user for r in raters], tasks=1, overlap=12)

    for client in raters:
        assert client.post(NEXT).status_code == 200

    orders = {tuple(a.display_order) for a in Assignment.objects.filter(task=task)}
    assert len(orders) > 1  # 12 raters all seeing one order of 4: probability (1/24)^11


def test_reload_returns_the_same_live_lease_without_burning_a_slot(rater: Any) -> None:
    setup_campaign([rater.user], tasks=2)

    first, again = rater.post(NEXT).json(), rater.post(NEXT).json()

    assert again["id"] == first["id"]
    assert Assignment.objects.filter(rater=rater.user).count() == 1


def test_submit_stores_tiers_and_the_pairs_they_imply(rater: Any) -> None:
    setup_campaign([rater.user], tasks=1)
    assignment = rater.post(NEXT).json()

    reply = submit(
        rater,
        assignment["id"],
        [["B"], ["A", "C"], ["D"]],
        "key-tiers-1",
        flags=["factually_wrong"],
        rationale="B is right",
        client_time_ms=4200,
    )

    assert reply.status_code == 201
    assert reply.json()["replayed"] is False
    order = Assignment.objects.get(pk=assignment["id"]).display_order
    judgment = Judgment.objects.get(pk=reply.json()["judgment_id"])
    assert judgment.ranking == [[order[1]], [order[0], order[2]], [order[3]]]
    assert (judgment.flags, judgment.rationale, judgment.client_time_ms) == (
        ["factually_wrong"],
        "B is right",
        4200,
    )
    assert judgment.server_time_ms is not None
    pairs = {
        (p.chosen_id, p.rejected_id, p.is_tie, p.margin, p.chosen_shown_first)
        for p in Preference.objects.filter(judgment=judgment)
    }
    a, b, c, d = order
    assert pairs == {
        (b, a, False, 1.0, False),
        (b, c, False, 1.0, True),
        (b, d, False, 2.0, True),
        (a, c, True, 0.0, True),
        (a, d, False, 1.0, True),
        (c, d, False, 1.0, True),
    }


def test_replayed_submit_returns_the_first_result_and_writes_nothing(rater: Any) -> None:
    setup_campaign([rater.user], tasks=1)
    assignment = rater.post(NEXT).json()
    first = submit(rater, assignment["id"], [["A"], ["B"], ["C"], ["D"]], "key-replay-1")

    again = submit(rater, assignment["id"], [["D"], ["C"], ["B"], ["A"]], "key-replay-1")

    assert again.status_code == 200
    assert again.json() == {**first.json(), "replayed": True}
    assert Judgment.objects.count() == 1
    assert Preference.objects.count() == 6


def test_resubmitting_with_a_new_key_is_a_conflict(rater: Any) -> None:
    setup_campaign([rater.user], tasks=1)
    assignment = rater.post(NEXT).json()
    submit(rater, assignment["id"], [["A"], ["B"], ["C"], ["D"]], "key-first-1")

    again = submit(rater, assignment["id"], [["A"], ["B"], ["C"], ["D"]], "key-second-2")

    assert (again.status_code, again.json()["code"]) == (409, "already_submitted")
    assert Judgment.objects.count() == 1


def test_reusing_a_key_for_another_task_is_a_conflict(rater: Any) -> None:
    setup_campaign([rater.user], tasks=2)
    first = rater.post(NEXT).json()
    submit(rater, first["id"], [["A"], ["B"], ["C"], ["D"]], "key-reused-1")
    second = rater.post(NEXT).json()

    reply = submit(rater, second["id"], [["A"], ["B"], ["C"], ["D"]], "key-reused-1")

    assert (reply.status_code, reply.json()["code"]) == (409, "idempotency_key_reused")
    assert Assignment.objects.get(pk=second["id"]).status == AssignmentStatus.LEASED


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (
            {"ranking": [["A"], ["B"], ["C"]], "idempotency_key": "key-bad-01"},
            400,
            "ranking_incomplete",
        ),
        (
            {"ranking": [["A"], ["B"], ["C"], ["D"], ["E"]], "idempotency_key": "key-bad-02"},
            400,
            "ranking_unknown_label",
        ),
        (
            {"ranking": [["A", "B"], ["B"], ["C"], ["D"]], "idempotency_key": "key-bad-03"},
            400,
            "ranking_duplicate_label",
        ),
        ({"ranking": "A>B>C>D", "idempotency_key": "key-bad-04"}, 400, "ranking_not_tiers"),
        ({"ranking": [["A"], ["B"], ["C"], ["D"]]}, 400, "required"),
        ({"ranking": [["A"], ["B"], ["C"], ["D"]], "idempotency_key": "short"}, 400, "invalid"),
        (
            {
                "ranking": [["A"], ["B"], ["C"], ["D"]],
                "idempotency_key": "key-bad-05",
                "flags": ["boring"],
            },
            400,
            "invalid_choice",
        ),
        (
            {
                "ranking": [["A"], ["B"], ["C"], ["D"]],
                "idempotency_key": "key-bad-06",
                "strength": "better",
            },
            400,
            "strength_unexpected",
        ),
        (
            {
                "ranking": [["A"], ["B"], ["C"], ["D"]],
                "idempotency_key": "key-bad-07",
                "client_time_ms": -5,
            },
            400,
            "min_value",
        ),
    ],
)
def test_bad_submissions_are_refused_and_write_nothing(
    rater: Any, body: dict, status: int, code: str
) -> None:
    setup_campaign([rater.user], tasks=1)
    assignment = rater.post(NEXT).json()

    reply = rater.post(f"/api/v1/assignments/{assignment['id']}/submit/", body, format="json")

    assert (reply.status_code, reply.json()["code"]) == (status, code)
    assert Judgment.objects.count() == 0
    assert Assignment.objects.get(pk=assignment["id"]).status == AssignmentStatus.LEASED


def test_malformed_json_is_a_400_not_a_500(rater: Any) -> None:
    setup_campaign([rater.user], tasks=1)
    assignment = rater.post(NEXT).json()

    reply = rater.post(
        f"/api/v1/assignments/{assignment['id']}/submit/",
        "{not json",
        content_type="application/json",
    )

    assert (reply.status_code, reply.json()["code"]) == (400, "parse_error")


def test_pairwise_needs_a_strength_consistent_with_the_tie(rater: Any) -> None:
    setup_campaign([rater.user], tasks=1, responses_per_task=2, judgment_mode=JudgmentMode.PAIRWISE)
    assignment = rater.post(NEXT).json()
    assert assignment["strengths"] == ["much_better", "better", "slightly_better", "about_same"]
    url = assignment["id"]

    missing = submit(rater, url, [["B"], ["A"]], "key-pair-01")
    mismatch = submit(rater, url, [["A", "B"]], "key-pair-02", strength="better")
    stored = submit(rater, url, [["B"], ["A"]], "key-pair-03", strength="much_better")

    assert (missing.status_code, missing.json()["code"]) == (400, "strength_required")
    assert (mismatch.status_code, mismatch.json()["code"]) == (400, "strength_mismatch")
    assert stored.status_code == 201
    preference = Preference.objects.get()
    assert (preference.margin, preference.is_tie) == (3.0, False)


def test_pairwise_tie_is_about_the_same(rater: Any) -> None:
    setup_campaign([rater.user], tasks=1, responses_per_task=2, judgment_mode=JudgmentMode.PAIRWISE)
    assignment = rater.post(NEXT).json()

    reply = submit(rater, assignment["id"], [["A", "B"]], "key-pair-tie", strength="about_same")

    assert reply.status_code == 201
    assert Preference.objects.get().is_tie is True


def test_skip_releases_the_lease_and_the_task_never_comes_back(rater: Any) -> None:
    setup_campaign([rater.user], tasks=2)
    first = rater.post(NEXT).json()

    skipped = rater.post(f"/api/v1/assignments/{first['id']}/skip/", {"reason": "not my field"})
    second = rater.post(NEXT).json()

    assert skipped.json() == {"assignment_id": first["id"], "status": "skipped"}
    assert Assignment.objects.get(pk=first["id"]).skip_reason == "not my field"
    assert second["id"] != first["id"]
    submit(rater, second["id"], [["A"], ["B"], ["C"], ["D"]], "key-after-skip")
    assert rater.post(NEXT).status_code == 204


def test_skipping_a_submitted_task_is_a_conflict(rater: Any) -> None:
    setup_campaign([rater.user], tasks=1)
    assignment = rater.post(NEXT).json()
    submit(rater, assignment["id"], [["A"], ["B"], ["C"], ["D"]], "key-then-skip")

    reply = rater.post(f"/api/v1/assignments/{assignment['id']}/skip/")

    assert (reply.status_code, reply.json()["code"]) == (409, "already_submitted")


def test_no_work_left_is_a_204(rater: Any) -> None:
    setup_campaign([rater.user], tasks=0)
    assert rater.post(NEXT).status_code == 204


def test_over_several_campaigns_the_oldest_task_comes_first(rater: Any) -> None:
    """One index walk per campaign, the oldest candidate over them wins; a withdrawn (paused)
    campaign is not offered."""
    first, second, withdrawn = make_campaign(), make_campaign(), make_campaign()
    tasks = [make_task(campaign) for _ in range(2) for campaign in (first, second, withdrawn)]
    make_pool(members=[rater.user], campaigns=[first, second, withdrawn])
    withdrawn.status = CampaignStatus.PAUSED
    withdrawn.save(update_fields=["status"])
    offered = []
    for _ in range(4):
        assignment = claim_next_assignment(rater=rater.user)
        assert assignment is not None
        offered.append(assignment.task_id)
        skip_assignment(rater=rater.user, assignment_id=assignment.pk)
    assert offered == [t.pk for t in tasks if t.campaign_id != withdrawn.pk]
    assert claim_next_assignment(rater=rater.user) is None


def test_rater_outside_every_pool_gets_no_work(rater: Any) -> None:
    setup_campaign([make_user()], tasks=3)
    assert rater.post(NEXT).status_code == 204


def test_full_tasks_are_not_offered_and_expired_leases_free_their_slot(client_for: Any) -> None:
    first, second = client_for(), client_for()
    _, [task] = setup_campaign([first.user, second.user], tasks=1, overlap=1)
    lease = first.post(NEXT).json()

    assert second.post(NEXT).status_code == 204
    Assignment.objects.filter(pk=lease["id"]).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    taken = second.post(NEXT)

    assert taken.status_code == 200
    assert Assignment.objects.get(pk=taken.json()["id"]).task_id == task.pk


def test_late_submission_is_kept_and_marked_surplus_when_the_task_filled(client_for: Any) -> None:
    slow, fast = client_for(), client_for()
    _, [task] = setup_campaign([slow.user, fast.user], tasks=1, overlap=1)
    slow_lease = slow.post(NEXT).json()
    Assignment.objects.filter(pk=slow_lease["id"]).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    fast_lease = fast.post(NEXT).json()
    submit(fast, fast_lease["id"], [["A"], ["B"], ["C"], ["D"]], "key-fast-01")

    late = submit(slow, slow_lease["id"], [["D"], ["C"], ["B"], ["A"]], "key-slow-01")

    assert late.status_code == 201
    assert (late.json()["was_late"], late.json()["is_surplus"]) == (True, True)
    task.refresh_from_db()
    assert (task.submitted_count, task.status) == (1, TaskStatus.COMPLETE)
    assert Judgment.objects.filter(task=task).count() == 2


def test_late_submission_counts_when_the_slot_is_still_free(rater: Any) -> None:
    _, [task] = setup_campaign([rater.user], tasks=1, overlap=2)
    lease = rater.post(NEXT).json()
    Assignment.objects.filter(pk=lease["id"]).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    late = submit(rater, lease["id"], [["A"], ["B"], ["C"], ["D"]], "key-late-free")

    assert (late.json()["was_late"], late.json()["is_surplus"]) == (True, False)
    assert RankingTask.objects.get(pk=task.pk).submitted_count == 1


def test_unknown_and_foreign_assignments_are_404(client_for: Any) -> None:
    owner, other = client_for(), client_for()
    setup_campaign([owner.user, other.user], tasks=1)
    lease = owner.post(NEXT).json()

    for path in (f"/api/v1/assignments/{lease['id']}/", "/api/v1/assignments/999999/"):
        assert other.get(path).status_code == 404
    foreign = submit(other, lease["id"], [["A"], ["B"], ["C"], ["D"]], "key-foreign")
    assert (foreign.status_code, foreign.json()["code"]) == (404, "assignment_not_found")
    assert other.post(f"/api/v1/assignments/{lease['id']}/skip/").status_code == 404
    assert Assignment.objects.get(pk=lease["id"]).status == AssignmentStatus.LEASED


def test_assignment_detail_returns_the_same_view_for_a_reload(rater: Any) -> None:
    setup_campaign([rater.user], tasks=1)
    lease = rater.post(NEXT).json()

    assert rater.get(f"/api/v1/assignments/{lease['id']}/").json() == lease


def test_paused_rater_gets_no_work_and_cannot_submit(client_for: Any) -> None:
    admin, rater = client_for(Role.ADMIN), client_for()
    setup_campaign([rater.user], tasks=2)
    lease = rater.post(NEXT).json()

    admin.post(f"/api/v1/raters/{rater.user.pk}/pause/", {"reason": "spam"})

    assert Assignment.objects.get(pk=lease["id"]).status == AssignmentStatus.RELEASED
    reply = rater.post(NEXT)
    assert (reply.status_code, reply.json()["code"]) == (403, "rater_paused")
    blocked = submit(rater, lease["id"], [["A"], ["B"], ["C"], ["D"]], "key-paused-1")
    assert (blocked.status_code, blocked.json()["code"]) == (403, "rater_paused")
    admin.post(f"/api/v1/raters/{rater.user.pk}/resume/")
    assert rater.post(NEXT).status_code == 200


def test_my_stats_count_my_work(rater: Any) -> None:
    setup_campaign([rater.user], tasks=3)
    first = rater.post(NEXT).json()
    submit(rater, first["id"], [["A"], ["B"], ["C"], ["D"]], "key-stats-1")
    second = rater.post(NEXT).json()
    rater.post(f"/api/v1/assignments/{second['id']}/skip/")

    stats = rater.get("/api/v1/me/stats/").json()

    assert stats == {
        "submitted_total": 1,
        "submitted_today": 1,
        "skipped_total": 1,
        "tasks_available": 1,
        "has_live_lease": False,
    }


def test_me_names_my_role(client_for: Any) -> None:
    engineer = client_for(Role.ML_ENGINEER, username="mlperson")
    me = engineer.get("/api/v1/me/").json()
    assert (me["username"], me["role"], me["status"]) == ("mlperson", "ml_engineer", "active")


def test_login_logout_and_token_flow() -> None:
    api = APIClient(enforce_csrf_checks=True)
    make_user(username="alice", password="correct-horse-battery")
    csrf = api.get("/api/v1/auth/csrf/").json()["csrf_token"]

    wrong = api.post(
        "/api/v1/auth/login/", {"username": "alice", "password": "nope"}, HTTP_X_CSRFTOKEN=csrf
    )
    right = api.post(
        "/api/v1/auth/login/",
        {"username": "alice", "password": "correct-horse-battery"},
        HTTP_X_CSRFTOKEN=csrf,
    )
    me = api.get("/api/v1/me/")
    api.post("/api/v1/auth/logout/", HTTP_X_CSRFTOKEN=api.cookies["csrftoken"].value)
    after = api.get("/api/v1/me/")
    token = api.post(
        "/api/v1/auth/token/", {"username": "alice", "password": "correct-horse-battery"}
    )

    assert (wrong.status_code, wrong.json()["code"]) == (403, "bad_credentials")
    assert right.status_code == 200
    assert me.json()["username"] == "alice"
    assert after.status_code == 401
    assert (
        api.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {token.json()['token']}").status_code
        == 200
    )


def test_session_writes_need_the_csrf_token() -> None:
    api = APIClient(enforce_csrf_checks=True)
    make_user(username="bob", password="correct-horse-battery")
    csrf = api.get("/api/v1/auth/csrf/").json()["csrf_token"]
    api.post(
        "/api/v1/auth/login/",
        {"username": "bob", "password": "correct-horse-battery"},
        HTTP_X_CSRFTOKEN=csrf,
    )

    reply = api.post(NEXT)

    assert reply.status_code == 403
    assert "CSRF" in reply.json()["detail"]


def test_task_with_more_responses_than_labels_is_refused_cleanly(rater: Any) -> None:
    campaign, _ = setup_campaign([rater.user], tasks=0, responses_per_task=16)
    make_task(campaign, k=16)
    body = rater.post(NEXT).json()
    assert [r["label"] for r in body["responses"]][-1] == "P"


def test_a_superuser_made_outside_the_app_keeps_admin_rights_after_annotating() -> None:
    boss = User.objects.create_superuser("boss", password="correct-horse-battery")
    client = APIClient()
    client.force_authenticate(user=boss)
    setup_campaign([boss], tasks=1)

    assert client.post(NEXT).status_code == 200

    assert client.get("/api/v1/me/").json()["role"] == "admin"
    assert client.get("/api/v1/raters/").status_code == 200
