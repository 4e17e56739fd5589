"""A reward model's accuracy as an honest figure: ties counted as half, with n and a 95 %
interval, beside chance and what trivial rules get on the same pairs ("the longer answer wins",
"the shorter answer wins"), and the accuracy on pairs whose two answers have similar length
(where a length preference cannot carry it). Pure arithmetic: no model is loaded here."""

from __future__ import annotations

import math
from collections.abc import Sequence

Z_95 = 1.959964  # the normal quantile of a two-sided 95 % interval
LENGTH_MATCH = 0.8  # "similar length": the shorter answer is at least 80 % of the longer


def wilson_interval(successes: float, n: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval of a proportion (ties counted as half a success); (0, 1)
    when there is nothing to count. The same formula as annotation.quality.stats's, which the
    pipeline may not import (it imports neither Django nor the apps: tests/test_layout.py)."""
    if n <= 0:
        return 0.0, 1.0
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def clustered_interval(
    outcomes: Sequence[float], groups: Sequence[object], z: float = Z_95
) -> tuple[float, float] | None:
    """A normal interval of the mean outcome whose standard error is clustered by group (the
    pairs of one prompt are not independent); None with fewer than two groups."""
    totals: dict[object, list[float]] = {}
    for outcome, group in zip(outcomes, groups, strict=True):
        total = totals.setdefault(group, [0.0, 0.0])
        total[0] += outcome
        total[1] += 1
    k, n = len(totals), len(outcomes)
    if k < 2:
        return None
    p = sum(outcomes) / n
    spread = sum((a - p * m) ** 2 for a, m in totals.values())
    se = math.sqrt(k / (k - 1) * spread) / n
    return max(0.0, p - z * se), min(1.0, p + z * se)


def pair_outcome(chosen: float, rejected: float) -> float:
    """1 when the chosen answer scores higher, 0.5 for a tie, 0 otherwise."""
    return 1.0 if chosen > rejected else 0.5 if chosen == rejected else 0.0


def _rate(outcomes: Sequence[float]) -> float:
    return sum(outcomes) / len(outcomes) if outcomes else 0.5


# The keys honest_figures gives (length_matched_accuracy only where such pairs exist).
HONEST = (
    "accuracy",
    "accuracy_ci_low",
    "accuracy_ci_high",
    "longer_wins_accuracy",
    "shorter_wins_accuracy",
    "length_matched_accuracy",
    "length_matched_pairs",
)


def honest_figures(
    chosen: Sequence[float],
    rejected: Sequence[float],
    chosen_lengths: Sequence[int],
    rejected_lengths: Sequence[int],
    groups: Sequence[object] | None = None,
) -> dict[str, float]:
    """Scores and answer lengths (characters) of the same pairs, chosen side first, and
    optionally each pair's group (its prompt).

    accuracy (ties half), its 95 % interval (Wilson; with groups, widened to a standard error
    clustered by group where that is wider), chance; longer_wins_accuracy is how often "the longer
    answer wins" agrees with the people (equal lengths: half), shorter_wins the opposite rule;
    length_matched_accuracy is the model's accuracy on pairs of similar length (left out, with
    length_matched_pairs 0, when there are none)."""
    n = len(chosen)
    outcomes = [pair_outcome(c, r) for c, r in zip(chosen, rejected, strict=True)]
    longer = [pair_outcome(c, r) for c, r in zip(chosen_lengths, rejected_lengths, strict=True)]
    matched = [
        outcome
        for outcome, c, r in zip(outcomes, chosen_lengths, rejected_lengths, strict=True)
        if min(c, r) >= LENGTH_MATCH * max(c, r)
    ]
    low, high = wilson_interval(sum(outcomes), n)
    clustered = clustered_interval(outcomes, groups) if groups is not None else None
    if clustered is not None:  # the wider of the two: pairs of one prompt move together
        low, high = min(low, clustered[0]), max(high, clustered[1])
    figures = {
        "accuracy": _rate(outcomes),
        "accuracy_ci_low": low,
        "accuracy_ci_high": high,
        "chance_accuracy": 0.5,
        "longer_wins_accuracy": _rate(longer),
        "shorter_wins_accuracy": 1.0 - _rate(longer) if longer else 0.5,
        "length_matched_pairs": float(len(matched)),
    }
    if matched:
        figures["length_matched_accuracy"] = _rate(matched)
    return figures
