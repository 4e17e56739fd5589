"""LLM judges scored like raters: each judge's verdicts against the raters' decided majority on
the same pairs, with how often its two orders agree and its position and length biases."""

from __future__ import annotations

import numpy as np

from annotation.quality.estimate import wilson_estimate
from annotation.quality.report.figures import JudgeRow
from annotation.quality.report.inputs import PairArrays, VerdictArrays


def human_majority(pairs: PairArrays) -> dict[tuple[int, int], int]:
    """Per unordered pair (lower id first) that people decided: +1 when most raters chose the
    lower id, -1 when most chose the other. Ties and even splits are left out."""
    decided = ~pairs.is_tie.astype(bool)
    chosen, rejected = pairs.chosen[decided], pairs.rejected[decided]
    low, high = np.minimum(chosen, rejected), np.maximum(chosen, rejected)
    votes: dict[tuple[int, int], int] = {}
    for a, b, won in zip(low.tolist(), high.tolist(), (chosen == low).tolist(), strict=True):
        votes[(a, b)] = votes.get((a, b), 0) + (1 if won else -1)
    return {pair: 1 if total > 0 else -1 for pair, total in votes.items() if total != 0}


def _row(
    name: str, v: VerdictArrays, mask: np.ndarray, majority: dict[tuple[int, int], int]
) -> JudgeRow:
    shown_first, shown_second = v.first_shown_first[mask], v.first_shown_second[mask]
    n = int(mask.sum())
    consistent = shown_first * shown_second > 0
    mean = (shown_first + shown_second) / 2
    human = np.array(
        [
            majority.get(pair, 0)
            for pair in zip(v.first[mask].tolist(), v.second[mask].tolist(), strict=True)
        ],
        dtype=np.int64,
    )
    compared = (human != 0) & (mean != 0)
    agrees = np.sign(mean) == human
    # Picking the answer shown first: `first` when shown first, `second` when it was.
    picks_first = int((shown_first > 0).sum() + (shown_second < 0).sum())
    longer_first = v.first_length[mask] > v.second_length[mask]
    unequal = (v.first_length[mask] != v.second_length[mask]) & consistent
    chose_longer = (mean > 0) == longer_first
    return JudgeRow(
        judge=name,
        verdicts=n,
        order_consistency=wilson_estimate(int(consistent.sum()), n),
        consensus_agreement=wilson_estimate(
            int((agrees & compared & consistent).sum()), int((compared & consistent).sum())
        ),
        debiased_agreement=wilson_estimate(int((agrees & compared).sum()), int(compared.sum())),
        position_bias=wilson_estimate(picks_first, 2 * n),
        length_bias=wilson_estimate(int((chose_longer & unequal).sum()), int(unequal.sum())),
    )


def judge_rows(pairs: PairArrays, verdicts: VerdictArrays | None) -> tuple[JudgeRow, ...]:
    """One row per judge, by name."""
    if verdicts is None or verdicts.judge.size == 0:
        return ()
    majority = human_majority(pairs)
    names = sorted(set(verdicts.judge.tolist()))
    return tuple(_row(name, verdicts, verdicts.judge == name, majority) for name in names)
