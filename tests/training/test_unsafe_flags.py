"""A response flagged unsafe, from the rater API to the exact pairs a reward run trains on
(and to the exports, whose `unsafe` option gives the helpfulness and the safety sets)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from rest_framework.test import APIClient

from annotation.models import Judgment, Preference
from common.roles import Role
from tests.annotation.admin_api.helpers import export_rows
from tests.factories import make_campaign, make_pool, make_task
from training.models import TrainingRun
from training.worker.inputs import prepare_inputs

pytestmark = pytest.mark.django_db
API = "/api/v1"
RUNS = f"{API}/training/runs/"

Pair = tuple[str, str, float]


def rate(rater: APIClient, key: str, tiers: list[list[int]], unsafe: int) -> dict[str, Any]:
    """Rank the task's answers by their place in text order (0 = the first text) and flag
    the answer at `unsafe` unsafe; the labels are the rater's own display order."""
    task = rater.post(f"{API}/assignments/next/").json()
    labels = [r["label"] for r in sorted(task["responses"], key=lambda r: r["text"])]
    body = {
        "ranking": [[labels[i] for i in tier] for tier in tiers],
        "response_flags": {labels[unsafe]: ["unsafe"]},
        "idempotency_key": key,
    }
    answer = rater.post(f"{API}/assignments/{task['id']}/submit/", body, format="json")
    assert answer.status_code == 201, answer.json()
    return task


@pytest.fixture
def flagged(client_for: Any) -> list[str]:
    """One 3-answer task, texts t0 < t1 < t2. Rater one ranks t0 > t1 > t2 and flags t1
    unsafe; rater two ties t1 and t2 below t0 and flags t2 unsafe."""
    campaign = make_campaign(responses_per_task=3, overlap=2)
    make_task(campaign)
    raters = [client_for(Role.ANNOTATOR), client_for(Role.ANNOTATOR)]
    make_pool(members=[r.user for r in raters], campaigns=[campaign])
    rate(raters[0], "unsafe-flag-1", [[0], [1], [2]], unsafe=1)
    task = rate(raters[1], "unsafe-flag-2", [[0], [1, 2]], unsafe=2)
    return sorted(r["text"] for r in task["responses"])


def export_pairs(client: APIClient, **params: str) -> list[Pair]:
    rows = export_rows(client, format="trl", **params)
    return [(row["chosen"], row["rejected"], row["margin"]) for row in rows]


def trained_pairs(ml: APIClient, tmp_path: Path, **dataset: Any) -> list[Pair]:
    """The pairs in the data.jsonl the worker writes for a reward run created via the API."""
    campaign_ids = list(Preference.objects.values_list("task__campaign_id", flat=True).distinct())
    created = ml.post(
        RUNS, {"kind": "reward", "dataset": {"campaign_ids": campaign_ids, **dataset}}
    )
    assert created.status_code == 201, created.json()
    folder = tmp_path / f"run-{created.json()['id']}"
    prepare_inputs(TrainingRun.objects.get(pk=created.json()["id"]), folder)
    rows = [json.loads(line) for line in (folder / "data.jsonl").read_text().splitlines()]
    return [(row["chosen"], row["rejected"], row["margin"]) for row in rows]


def test_an_unsafe_answer_goes_below_every_safe_one_by_default(
    flagged: list[str], ml: APIClient, tmp_path: Path
) -> None:
    t0, t1, t2 = flagged
    # the stored pairs are the rankings as given: (t0 > t1, t0 > t2, t1 > t2) and (t0 > t1,
    # t0 > t2, t1 = t2)
    assert Preference.objects.filter(is_tie=True).count() == 1

    pairs = trained_pairs(ml, tmp_path, mode="all")

    # rater one: t1 (unsafe) was above t2, now below it with margin 1; rater two: the tie
    # between t1 and t2 (unsafe) became t1 > t2
    assert sorted(pairs) == sorted(
        [(t0, t1, 1.0), (t0, t2, 2.0), (t2, t1, 1.0), (t0, t1, 1.0), (t0, t2, 1.0), (t1, t2, 1.0)]
    )
    run = TrainingRun.objects.get()
    assert run.dataset["unsafe"] == "below"
    written = (tmp_path / f"run-{run.pk}" / "data.jsonl").read_text().splitlines()
    flags = {
        (r["chosen"], r["rejected"], tuple(r["rejected_flags"])) for r in map(json.loads, written)
    }
    assert (t2, t1, ("unsafe",)) in flags  # the rows keep what was flagged


def test_drop_ignore_and_safety_give_exactly_their_pairs(
    flagged: list[str], ml: APIClient, tmp_path: Path
) -> None:
    t0, t1, t2 = flagged

    dropped = trained_pairs(ml, tmp_path, mode="all", unsafe="drop")
    ignored = trained_pairs(ml, tmp_path, mode="all", unsafe="ignore")
    safety = trained_pairs(ml, tmp_path, mode="all", unsafe="safety")

    assert dropped == [(t0, t2, 2.0), (t0, t1, 1.0)]  # the pairs without an unsafe side
    assert sorted(ignored) == sorted(
        [(t0, t1, 1.0), (t0, t2, 2.0), (t1, t2, 1.0), (t0, t1, 1.0), (t0, t2, 1.0)]
    )
    assert sorted(safety) == sorted([(t0, t1, 1.0), (t2, t1, 1.0), (t0, t2, 1.0), (t1, t2, 1.0)])


def test_the_exports_give_the_helpfulness_and_the_safety_sets(
    flagged: list[str], ml: APIClient
) -> None:
    t0, t1, t2 = flagged

    assert sorted(export_pairs(ml, unsafe="drop")) == sorted([(t0, t2, 2.0), (t0, t1, 1.0)])
    assert sorted(export_pairs(ml, unsafe="safety")) == sorted(
        [(t0, t1, 1.0), (t2, t1, 1.0), (t0, t2, 1.0), (t1, t2, 1.0)]
    )
    assert len(export_pairs(ml)) == 5  # by default as ranked, ties left out
    assert ml.get(f"{API}/export/", {"unsafe": "worst"}).status_code == 400


def test_consensus_pairs_are_fitted_after_the_treatment(
    flagged: list[str], ml: APIClient, tmp_path: Path
) -> None:
    t0, t1, t2 = flagged

    below = trained_pairs(ml, tmp_path, mode="consensus")
    ignored = trained_pairs(ml, tmp_path, mode="consensus", unsafe="ignore")

    # both raters put t0 first; as ranked t1 leads t2 (one win, one tie), after the
    # treatment t1 and t2 split one each and stay tied
    assert sorted((c, r) for c, r, _ in ignored) == [(t0, t1), (t0, t2), (t1, t2)]
    assert sorted((c, r) for c, r, _ in below) == [(t0, t1), (t0, t2)]


@pytest.mark.parametrize(
    ("response_flags", "code"),
    [({"Z": ["unsafe"]}, "unknown_response_label"), ({"A": ["all_bad"]}, None)],
)
def test_bad_response_flags_are_refused_and_nothing_is_stored(
    client_for: Any, response_flags: dict[str, list[str]], code: str | None
) -> None:
    campaign = make_campaign(responses_per_task=2, overlap=1)
    make_task(campaign)
    rater = client_for(Role.ANNOTATOR)
    make_pool(members=[rater.user], campaigns=[campaign])
    task = rater.post(f"{API}/assignments/next/").json()
    assert task["response_flags"] == ["unsafe", "factually_wrong"]
    assert task["flags"] == ["all_bad", "other"]

    body = {
        "ranking": [["A"], ["B"]],
        "response_flags": response_flags,
        "idempotency_key": "bad-flag-1",
    }
    answer = rater.post(f"{API}/assignments/{task['id']}/submit/", body, format="json")

    assert answer.status_code == 400
    if code:
        assert answer.json()["code"] == code
        assert "A, B" in answer.json()["detail"]
    assert not Judgment.objects.exists()
    assert not Preference.objects.exists()


def test_a_safety_set_of_consensus_pairs_is_refused(flagged: list[str], ml: APIClient) -> None:
    campaign_id = Preference.objects.values_list("task__campaign_id", flat=True).first()
    dataset = {"campaign_ids": [campaign_id], "mode": "consensus", "unsafe": "safety"}

    run = ml.post(RUNS, {"kind": "reward", "dataset": dataset})
    export = ml.get(f"{API}/export/", {"pairs": "consensus", "unsafe": "safety"})

    assert run.status_code == 400
    assert "use mode all" in run.json()["errors"]["dataset"]["unsafe"][0]
    assert export.status_code == 400
    assert not TrainingRun.objects.exists()


def test_a_dataset_the_treatment_empties_is_refused_before_it_reaches_a_worker(
    client_for: Any, ml: APIClient
) -> None:
    # given one judgment of two answers, the second flagged unsafe: its one pair has an
    # unsafe side
    campaign = make_campaign(responses_per_task=2, overlap=1)
    make_task(campaign)
    rater = client_for(Role.ANNOTATOR)
    make_pool(members=[rater.user], campaigns=[campaign])
    rate(rater, "empty-after-drop", [[0], [1]], unsafe=1)

    dropped = ml.post(
        RUNS, {"kind": "reward", "dataset": {"campaign_ids": [campaign.pk], "unsafe": "drop"}}
    )
    kept = ml.post(RUNS, {"kind": "reward", "dataset": {"campaign_ids": [campaign.pk]}})

    assert dropped.status_code == 400
    assert dropped.json()["code"] == "empty_dataset"
    assert kept.status_code == 201  # below: the safe answer chosen, one pair
