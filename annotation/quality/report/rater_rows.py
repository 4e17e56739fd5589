"""One row of figures per rater: their tests with p-values and flags, gold accuracy, speed and
self-consistency."""

from __future__ import annotations

import numpy as np

from annotation.quality.estimate import Estimate, finite_or_none, wilson_estimate
from annotation.quality.report.figures import (
    GoldAccuracy,
    LengthTest,
    RaterRow,
    SelfConsistency,
    TestedEstimate,
)
from annotation.quality.report.indexes import CampaignIndex
from annotation.quality.report.inputs import CampaignData
from annotation.quality.report.rater_tests import RaterTest, RaterTests


def rater_rows(c: CampaignIndex, data: CampaignData, tests: RaterTests) -> list[RaterRow]:
    """A row per rater who judged, in rater id order."""
    return [
        _row(c, data, tests, index, rater_id) for index, rater_id in enumerate(c.rater_ids.tolist())
    ]


def _row(
    c: CampaignIndex, data: CampaignData, tests: RaterTests, index: int, rater_id: int
) -> RaterRow:
    gold_accuracy = wilson_estimate(tests.gold_k[index], tests.gold_n[index])
    repeats, same, compared = data.repeats.get(rater_id, (0, 0, 0))
    return RaterRow(
        rater_id=rater_id,
        username=data.raters.names.get(rater_id, str(rater_id)),
        status=data.raters.statuses.get(rater_id, ""),
        pools=tuple(data.raters.pools.get(rater_id, [])),
        judgments=int(c.judgments_r[index]),
        tested=bool(tests.tested[index]),
        loo_agreement=_tested(tests.outlier, index),
        gold_accuracy=GoldAccuracy(**vars(gold_accuracy), items=int(tests.gold_items[index])),
        median_time_ms=finite_or_none(tests.median_time_ms[index]),
        fast_share=_tested(tests.speed, index),
        straight_lining=_tested(tests.straight_lining, index),
        self_consistency=SelfConsistency(**vars(wilson_estimate(same, compared)), repeats=repeats),
        position_bias=_tested(tests.position, index),
        length_bias=LengthTest(
            **vars(_tested(tests.length, index)),
            slope=finite_or_none(tests.slope[index]),
            slope_se=finite_or_none(tests.slope_se[index]),
        ),
        flags=_flags(data, tests, index, gold_accuracy),
    )


def _tested(test: RaterTest, index: int) -> TestedEstimate:
    return TestedEstimate(
        **vars(wilson_estimate(test.k[index], test.n[index])),
        p_value=finite_or_none(test.p_value[index]),
        p_adjusted=finite_or_none(test.p_adjusted[index]),
        flagged=bool(test.flagged[index]),
    )


def _flags(
    data: CampaignData, tests: RaterTests, index: int, gold_accuracy: Estimate
) -> tuple[str, ...]:
    """The tests that flagged the rater; and gold, when the campaign's pause rule would."""
    flags = [
        name
        for name, test in (
            ("position_bias", tests.position),
            ("length_bias", tests.length),
            ("speed", tests.speed),
            ("straight_lining", tests.straight_lining),
            ("outlier", tests.outlier),
        )
        if test.flagged[index]
    ]
    if (
        data.gold_threshold is not None
        and tests.gold_items[index] >= data.gold_min_items
        and gold_accuracy.value is not None
        and gold_accuracy.value < data.gold_threshold
    ):
        flags.append("gold")
    return tuple(flags)


def flagged_mask(rows: list[RaterRow]) -> np.ndarray:
    """Per rater (in row order), whether anything flagged them."""
    return np.array([bool(row.flags) for row in rows], dtype=bool)
