"""A judge's pre-labels as stored: one per pair whichever judge came first, replaced when the
same judge judges the pair again, never a second, opposite one from another judge."""

from __future__ import annotations

import pytest

from annotation.models import JudgeVerdict, LabelSource, ModelLabel
from annotation.services.judging import Judge, VerdictRow, record_judge_verdicts
from tests.factories import make_campaign, make_task

pytestmark = pytest.mark.django_db


def test_two_judges_never_both_pre_label_one_pair() -> None:
    campaign = make_campaign(judgment_mode="pairwise", responses_per_task=2)
    low, high = sorted(make_task(campaign).response_ids)

    def judge(name: str, log_odds: float) -> int:
        row = VerdictRow(low, high, log_odds, log_odds)  # sure, in both orders
        batch = record_judge_verdicts(
            campaign=campaign, judge=Judge(name, None, None), rows=[row], prelabel_margin=1.0
        )
        return batch.prelabels

    assert judge("judge-one", 3.0) == 1  # prefers `low`
    assert judge("judge-two", -3.0) == 0  # prefers `high`: its verdict kept, no second label
    assert judge("judge-one", -2.0) == 1  # judge one changes its mind: its label turns round

    labels = ModelLabel.objects.filter(campaign=campaign, source=LabelSource.JUDGE)
    assert list(labels.values_list("labeller", "chosen_id", "rejected_id")) == [
        ("judge-one", high, low)
    ]
    assert JudgeVerdict.objects.filter(campaign=campaign).count() == 2
