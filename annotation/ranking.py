"""Rankings as raters send them, and the preference pairs they imply. Pure functions.

A rater sees responses labelled A, B, C... in the order stored on their assignment, and sends
a ranking as tiers of labels, best first; labels in one tier are tied. Labels (not ids) keep
database ids and generator order out of the rater's view.
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from dataclasses import dataclass

LABELS = string.ascii_uppercase


class RankingError(ValueError):
    """A ranking that does not name every shown response exactly once."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def labels_for(count: int) -> list[str]:
    if not 1 <= count <= len(LABELS):
        raise ValueError(f"cannot label {count} responses")
    return list(LABELS[:count])


def parse_tiers(tiers: object, labels: Sequence[str]) -> list[list[int]]:
    """Turn tiers of labels into tiers of display positions, checking every label once."""
    if not isinstance(tiers, list) or not tiers:
        raise RankingError("ranking_not_tiers", "Ranking must be a non-empty list of tiers.")
    position = {label: index for index, label in enumerate(labels)}
    seen: set[str] = set()
    result: list[list[int]] = []
    for tier in tiers:
        if not isinstance(tier, list) or not tier:
            raise RankingError(
                "ranking_empty_tier", "Each tier must be a non-empty list of labels."
            )
        positions = []
        for label in tier:
            if not isinstance(label, str) or label not in position:
                raise RankingError("ranking_unknown_label", f"Unknown response label: {label!r}.")
            if label in seen:
                raise RankingError("ranking_duplicate_label", f"Response {label} is ranked twice.")
            seen.add(label)
            positions.append(position[label])
        result.append(sorted(positions))
    missing = [label for label in labels if label not in seen]
    if missing:
        raise RankingError("ranking_incomplete", f"Responses not ranked: {', '.join(missing)}.")
    return result


@dataclass(frozen=True)
class ImpliedPair:
    """A pair implied by a ranking, by display position. For ties, `better` is the one shown
    first and `is_tie` is set."""

    better: int
    worse: int
    is_tie: bool
    tier_gap: int


def implied_pairs(position_tiers: Sequence[Sequence[int]]) -> list[ImpliedPair]:
    """Every unordered pair of responses once: across tiers as better/worse, within as a tie."""
    pairs: list[ImpliedPair] = []
    for upper_index, upper in enumerate(position_tiers):
        ordered = sorted(upper)
        for i, first in enumerate(ordered):
            for second in ordered[i + 1 :]:
                pairs.append(ImpliedPair(first, second, is_tie=True, tier_gap=0))
        for lower_index in range(upper_index + 1, len(position_tiers)):
            for better in upper:
                for worse in position_tiers[lower_index]:
                    gap = lower_index - upper_index
                    pairs.append(ImpliedPair(better, worse, is_tie=False, tier_gap=gap))
    return pairs


def pair_relations(tiers: Sequence[Sequence[int]]) -> dict[tuple[int, int], int]:
    """For tiers of item ids, each unordered pair (low id, high id) -> +1 when the low id is
    ranked better, -1 when worse, 0 when tied."""
    tier_of = {item: index for index, tier in enumerate(tiers) for item in tier}
    items = sorted(tier_of)
    relations: dict[tuple[int, int], int] = {}
    for i, low in enumerate(items):
        for high in items[i + 1 :]:
            gap = tier_of[high] - tier_of[low]
            relations[(low, high)] = (gap > 0) - (gap < 0)
    return relations


def ranking_agreement(
    expected: Sequence[Sequence[int]], given: Sequence[Sequence[int]]
) -> tuple[int, int]:
    """(pairs on which `given` says what `expected` says, pairs compared); ties must match
    ties. Pairs missing from either side are not compared."""
    want, got = pair_relations(expected), pair_relations(given)
    shared = want.keys() & got.keys()
    return sum(want[pair] == got[pair] for pair in shared), len(shared)
