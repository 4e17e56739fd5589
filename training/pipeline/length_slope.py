"""A reward model's length slope, in the units of the raters' length-bias slope in the quality
report (docs/quality.md), so the two can sit on one axis.

The report fits, per rater, a logistic regression of the rater's choice on the other raters'
verdict on the same pair and on "this response is the longer one" (+1 / -1); the slope of the
latter is the log-odds shift towards the longer response beyond what the others prefer. Here
the reward model is that rater: on each validation pair it picks the chosen answer with its own
Bradley-Terry probability σ(r_chosen - r_rejected), the raters' verdict is the pair's label,
and the same two-covariate fit gives the slope (with the chosen answer first the verdict is
the same for every pair, so it plays the part of the report's intercept-and-verdict terms).
With one ±1 covariate the fit is saturated, so its maximum-likelihood slope has a closed form:
½ [logit(mean p where the chosen is longer) - logit(mean p where it is shorter)]. Pairs of equal
length are left out, as the report leaves them out. Its standard error is the sandwich one,
clustered by prompt (the pairs of one ranking move together). Pure Python: no model here.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence


def _sigmoid(value: float) -> float:
    if value >= 0:
        return 1.0 / (1.0 + math.exp(-value))
    exp = math.exp(value)
    return exp / (1.0 + exp)


def _logit(p: float) -> float:
    return math.log(p / (1.0 - p))


def reward_length_slope(
    chosen: Sequence[float],
    rejected: Sequence[float],
    chosen_lengths: Sequence[int],
    rejected_lengths: Sequence[int],
    groups: Sequence[Hashable],
) -> dict[str, float]:
    """`length_slope` (> 0: the model leans to the longer answer beyond the raters' verdict),
    its clustered standard error `length_slope_se`, and `length_slope_pairs` (the pairs of
    unequal length it rests on). The slope is left out when the pairs are all on one side
    (the chosen always the longer, or always the shorter); its error with fewer than two
    prompts."""
    rows = [
        (_sigmoid(c - r), 1 if lc > lr else -1, group)
        for c, r, lc, lr, group in zip(
            chosen, rejected, chosen_lengths, rejected_lengths, groups, strict=True
        )
        if lc != lr
    ]
    figures = {"length_slope_pairs": float(len(rows))}
    sides = {side: [p for p, s, _ in rows if s == side] for side in (1, -1)}
    if not sides[1] or not sides[-1]:
        return figures
    share = {side: sum(ps) / len(ps) for side, ps in sides.items()}
    if any(not 0.0 < p < 1.0 for p in share.values()):
        return figures
    figures["length_slope"] = 0.5 * (_logit(share[1]) - _logit(share[-1]))
    influence: dict[Hashable, float] = {}
    for p, side, group in rows:
        curvature = len(sides[side]) * share[side] * (1.0 - share[side])
        influence[group] = influence.get(group, 0.0) + side * (p - share[side]) / (2 * curvature)
    clusters = len(influence)
    if clusters >= 2:
        spread = sum(value * value for value in influence.values())
        figures["length_slope_se"] = math.sqrt(clusters / (clusters - 1) * spread)
    return figures
