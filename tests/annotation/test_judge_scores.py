"""LLM judges scored like raters (annotation/quality/report/judges.py), on hand-made verdicts
against hand-made human votes: order consistency, agreement with the raters' majority, and the
judge's position and length biases."""

from __future__ import annotations

from typing import Any

import numpy as np

from annotation.quality.report.inputs import PairArrays, VerdictArrays
from annotation.quality.report.judges import human_majority, judge_rows


def _pairs(votes: list[tuple[int, int, bool]]) -> PairArrays:
    """(chosen, rejected, tie) rows; the other columns do not matter here."""
    n = len(votes)
    column = np.zeros(n, dtype=np.int64)
    return PairArrays(
        judgment=np.arange(n),
        rater=column,
        task=column,
        chosen=np.array([v[0] for v in votes], dtype=np.int64),
        rejected=np.array([v[1] for v in votes], dtype=np.int64),
        is_tie=np.array([v[2] for v in votes], dtype=bool),
        chosen_first=column - 1,
        is_gold=np.zeros(n, dtype=bool),
        time_ms=column - 1,
        submitted_at=column,
        chosen_length=column,
        rejected_length=column,
    )


def _verdicts(rows: list[tuple[Any, ...]]) -> VerdictArrays:
    """(judge, first, second, shown first, shown second, first length, second length)."""
    judge, first, second, a, b, la, lb = zip(*rows, strict=True)
    return VerdictArrays(
        np.array(judge, dtype=object),
        np.array(first),
        np.array(second),
        np.array(a, dtype=float),
        np.array(b, dtype=float),
        np.array(la),
        np.array(lb),
    )


def test_the_human_majority_leaves_out_ties_and_even_splits() -> None:
    pairs = _pairs(
        [
            *[(1, 2, False), (1, 2, False), (2, 1, False)],  # 1 over 2, two to one
            *[(4, 3, False)],  # 4 over 3
            *[(5, 6, False), (6, 5, False)],  # split evenly
            *[(7, 8, True)],  # a tie
        ]
    )
    assert human_majority(pairs) == {(1, 2): 1, (3, 4): -1}


def test_a_judge_that_always_picks_the_first_shown_answer_is_never_order_consistent() -> None:
    # Humans prefer the lower id on pairs (1,2), (3,4), (5,6), (7,8).
    pairs = _pairs([(1, 2, False), (3, 4, False), (5, 6, False), (7, 8, False)])
    # Shown first it says "first is better" (+2); shown second it says "second is better",
    # which is the log-odds for `first` being negative.
    verdicts = _verdicts([("first-picker", a, a + 1, 2.0, -2.0, 10, 20) for a in (1, 3, 5, 7)])
    (row,) = judge_rows(pairs, verdicts)
    assert row.judge == "first-picker"
    assert row.verdicts == 4
    assert (row.order_consistency.value, row.order_consistency.n) == (0.0, 4)
    assert (row.position_bias.value, row.position_bias.n) == (1.0, 8)
    assert row.consensus_agreement.n == 0  # no consistent verdict to compare
    assert row.debiased_agreement.n == 0  # the orders cancel exactly: no verdict at all
    assert row.length_bias.n == 0


def test_a_consistent_judge_is_scored_against_the_majority_and_for_length() -> None:
    pairs = _pairs([(1, 2, False), (3, 4, False), (6, 5, False), (7, 8, False)])
    verdicts = _verdicts(
        [
            ("fair", 1, 2, 3.0, 1.0, 50, 10),  # picks 1 (longer): agrees
            ("fair", 3, 4, 2.0, 0.5, 50, 10),  # picks 3 (longer): agrees
            ("fair", 5, 6, 1.0, 2.0, 50, 10),  # picks 5 (longer): humans chose 6
            ("fair", 7, 8, 1.0, -3.0, 10, 10),  # inconsistent; averaged it picks 8
            ("other", 1, 2, -1.0, -1.0, 50, 10),  # a second judge, listed apart
        ]
    )
    fair, other = judge_rows(pairs, verdicts)
    assert (fair.judge, other.judge) == ("fair", "other")
    assert (fair.order_consistency.value, fair.order_consistency.n) == (0.75, 4)
    assert (fair.consensus_agreement.value, fair.consensus_agreement.n) == (2 / 3, 3)
    assert (fair.debiased_agreement.value, fair.debiased_agreement.n) == (0.5, 4)
    # Calls picking the answer shown first: 1, 3, 5 and 7 when each is shown first, and 8
    # when it is (7's verdict, shown second, is negative).
    assert (fair.position_bias.value, fair.position_bias.n) == (5 / 8, 8)
    assert (fair.length_bias.value, fair.length_bias.n) == (1.0, 3)
    assert fair.consensus_agreement.ci_low is not None
    assert fair.consensus_agreement.ci_low < 2 / 3
    assert (other.consensus_agreement.value, other.consensus_agreement.n) == (0.0, 1)


def test_no_verdicts_no_rows() -> None:
    pairs = _pairs([(1, 2, False)])
    assert judge_rows(pairs, None) == ()
    assert judge_rows(pairs, VerdictArrays.empty()) == ()
