"""The quality report end to end on small campaigns: loading pairs from the database (the
aggregated path on Postgres, the plain one on SQLite) matches the ORM, degenerate campaigns
give defined figures, and gold, repeats and pools show up where they should."""

from __future__ import annotations

import json
from dataclasses import fields
from typing import Any

import numpy as np
import pytest

from annotation.api import quality_serializers as qs
from annotation.models import Assignment, Judgment, Preference, RaterProfile
from annotation.quality.estimate import Estimate
from annotation.quality.report import figures as f
from annotation.selectors.quality_arrays import load_pairs
from annotation.services.assignments import claim_next_assignment
from annotation.services.judgments import Submission, submit_judgment
from common.roles import Role
from tests.factories import make_user, setup_campaign

pytestmark = pytest.mark.django_db


def _judge(rater: Any, ranking: list[list[str]], key: str, client_ms: int | None = None) -> Any:
    assignment = claim_next_assignment(rater=rater)
    assert assignment is not None
    return submit_judgment(
        rater=rater,
        assignment_id=assignment.pk,
        submission=Submission(ranking=ranking, idempotency_key=key, client_time_ms=client_ms),
    ).judgment


def _no_nan(report: dict[str, Any]) -> None:
    json.dumps(report, allow_nan=False)  # raises on NaN or infinity anywhere


def test_loaded_pairs_match_the_stored_preferences() -> None:
    raters = [make_user() for _ in range(3)]
    campaign, tasks = setup_campaign(raters, tasks=2, responses_per_task=3, overlap=3)
    for i, rater in enumerate(raters):
        _judge(rater, [["A"], ["B", "C"]], f"key-{i}-0000", client_ms=1000 * (i + 1))
    tasks[1].is_gold = True
    tasks[1].save()
    pairs = load_pairs(campaign.pk)
    stored = Preference.objects.filter(task__campaign=campaign).select_related("judgment")
    assert pairs.judgment.size == stored.count() == 9
    by_key = {
        (int(j), int(c), int(r)): (bool(t), int(f), int(ms), bool(g))
        for j, c, r, t, f, ms, g in zip(
            pairs.judgment,
            pairs.chosen,
            pairs.rejected,
            pairs.is_tie,
            pairs.chosen_first,
            pairs.time_ms,
            pairs.is_gold,
            strict=True,
        )
    }
    for p in stored:
        tie, first, ms, gold = by_key[(p.judgment_id, p.chosen_id, p.rejected_id)]
        assert tie == p.is_tie
        assert first == (1 if p.chosen_shown_first else 0)
        assert ms == p.judgment.client_time_ms
        assert gold == (p.task_id == tasks[1].pk)
    texts = {r.pk: len(r.text) for t in tasks for r in t.prompt.responses.all()}
    assert [texts[int(c)] for c in pairs.chosen] == pairs.chosen_length.tolist()
    assert np.all(pairs.submitted_at > 1.7e9)


def test_an_empty_campaign_and_a_single_judgment_give_defined_figures(client_for: Any) -> None:
    admin = client_for(Role.ADMIN)
    rater = make_user()
    campaign, _ = setup_campaign([rater], tasks=1, responses_per_task=2, overlap=1)
    empty = admin.get(f"/api/v1/campaigns/{campaign.pk}/quality/").json()
    assert empty["judgments"] == 0
    assert empty["rater_rows"] == []
    assert empty["agreement"]["percent_agreement"]["value"] is None
    _no_nan(empty)

    _judge(rater, [["A"], ["B"]], "only-one-key")
    one = admin.get(f"/api/v1/campaigns/{campaign.pk}/quality/").json()
    assert one["judgments"] == 1
    assert one["agreement"]["alpha_pairwise"]["value"] is None  # nothing to agree with
    assert one["rater_rows"][0]["tested"] is False
    assert one["rater_rows"][0]["flags"] == []
    _no_nan(one)
    csv_body = admin.get(f"/api/v1/campaigns/{campaign.pk}/quality/?format=csv")
    assert csv_body["Content-Type"].startswith("text/csv")
    assert b"rater," in csv_body.content


def test_gold_accuracy_self_consistency_and_groups_are_reported(client_for: Any) -> None:
    admin = client_for(Role.ADMIN)
    raters = [make_user() for _ in range(2)]
    for rater in raters:
        RaterProfile.objects.filter(user=rater).update(
            demographics={"region": "north"}, demographics_consent=True
        )
    campaign, tasks = setup_campaign(raters, tasks=3, responses_per_task=2, overlap=2)
    gold = tasks[0]
    gold.is_gold, gold.gold_ranking = True, [[gold.response_ids[0]], [gold.response_ids[1]]]
    gold.save()
    campaign.gold_rate = 1.0
    campaign.save()
    for i, rater in enumerate(raters):
        first = _judge(rater, [["A"], ["B"]], f"gold-{i}-00000")
        assert first.task_id == gold.pk
        _judge(rater, [["A"], ["B"]], f"regular-{i}-00000")
    # a repeat of the regular task in swapped order, answered the same way by position
    regular = Assignment.objects.filter(rater=raters[0], task__is_gold=False).get()
    repeat = Assignment.objects.create(
        task=regular.task,
        rater=raters[0],
        display_order=list(reversed(regular.display_order)),
        expires_at=regular.expires_at,
        is_repeat=True,
    )
    submit_judgment(
        rater=raters[0],
        assignment_id=repeat.pk,
        submission=Submission(ranking=[["A"], ["B"]], idempotency_key="repeat-key-0"),
    )
    report = admin.get(f"/api/v1/campaigns/{campaign.pk}/quality/").json()
    _no_nan(report)
    rows = {row["rater_id"]: row for row in report["rater_rows"]}
    for rater in raters:
        judged = Judgment.objects.get(rater=rater, task=gold)
        expected = 1.0 if judged.ranking[0] == [gold.response_ids[0]] else 0.0
        assert rows[rater.pk]["gold_accuracy"] == {
            **rows[rater.pk]["gold_accuracy"],
            "value": expected,
            "n": 1,
            "items": 1,
        }
    consistency = rows[raters[0].pk]["self_consistency"]
    assert consistency["repeats"] == 1
    assert consistency["value"] == 0.0  # the same positions, so the opposite content
    assert report["judgments"] == 4  # repeats are not counted as judgments
    assert report["demographics"]["region"]["left_out"] == ["north"]  # 2 raters < minimum 5


def test_export_can_ask_for_consensus_pairs(client_for: Any) -> None:
    admin = client_for(Role.ADMIN)
    raters = [make_user() for _ in range(3)]
    campaign, _ = setup_campaign(raters, tasks=1, responses_per_task=3, overlap=3)
    for i, (rater, ranking) in enumerate(
        zip(
            raters, ([["A"], ["B"], ["C"]], [["A"], ["B"], ["C"]], [["A", "B"], ["C"]]), strict=True
        )
    ):
        _judge(rater, ranking, f"consensus-{i}-000")
    by_rater = {j.rater_id: j.ranking for j in Judgment.objects.filter(task__campaign=campaign)}
    assert len(by_rater) == 3
    body = b"".join(
        admin.get(
            f"/api/v1/export/?format=trl&pairs=consensus&campaign={campaign.pk}"
        ).streaming_content
    ).decode()
    rows = [json.loads(line) for line in body.splitlines()]
    all_pairs = b"".join(
        admin.get(f"/api/v1/export/?format=trl&campaign={campaign.pk}").streaming_content
    )
    # 3 responses -> at most 3 consensus pairs, each once, whatever the 8 non-tie judgment pairs
    assert 1 <= len(rows) <= 3
    assert len(all_pairs.decode().splitlines()) == 8
    assert len({(r["chosen"], r["rejected"]) for r in rows}) == len(rows)
    assert all(r["margin"] > 0 for r in rows)
    assert admin.get("/api/v1/export/?pairs=majority").status_code == 400


@pytest.mark.parametrize(
    ("figures", "serializer"),
    [
        (Estimate, qs.QualityEstimateSerializer),
        (f.TestedEstimate, qs.QualityTestedEstimateSerializer),
        (f.LengthTest, qs.QualityLengthTestSerializer),
        (f.GoldAccuracy, qs.QualityGoldAccuracySerializer),
        (f.SelfConsistency, qs.QualitySelfConsistencySerializer),
        (f.PooledPositionBias, qs.QualityPooledPositionBiasSerializer),
        (f.SlopedEstimate, qs.QualitySlopedEstimateSerializer),
        (f.AppliedSettings, qs.QualitySettingsSerializer),
        (f.Agreement, qs.QualityAgreementSerializer),
        (f.Consensus, qs.QualityConsensusSerializer),
        (f.OverTimePoint, qs.QualityOverTimePointSerializer),
        (f.PooledFigures, qs.QualityPooledFiguresSerializer),
        (f.CampaignFigures, qs.QualityCampaignFiguresSerializer),
        (f.GroupFigures, qs.QualityGroupFiguresSerializer),
        (f.Comparison, qs.QualityComparisonSerializer),
        (f.RaterRow, qs.QualityRaterRowSerializer),
        (f.QualityReport, qs.QualityReportSerializer),
    ],
)
def test_every_figure_of_the_report_is_rendered(figures: type, serializer: type) -> None:
    # A field added to the typed report but not to its serializer would vanish from the API.
    assert {field.name for field in fields(figures)} == set(serializer().fields)
