"""Simulated raters with Bradley-Terry noise (the gold stand-in for people): pairs come out
with probability σ(s (q_a - q_b)), rankings are Plackett-Luce draws."""

from __future__ import annotations

import math
import random
from collections import Counter

import pytest

from annotation.simulation.traits import (
    RaterTraits,
    ShownResponse,
    TraitsInvalid,
    decide,
    plackett_luce,
)

DRAWS = 20_000
# Three standard errors of a proportion near 0.5 over DRAWS draws.
TOLERANCE = 3 * math.sqrt(0.25 / DRAWS)


def sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


@pytest.mark.parametrize(("scale", "gap"), [(1.0, 0.5), (2.0, 1.0), (4.0, -0.3)])
def test_a_pair_follows_the_quality_with_bradley_terry_odds(scale: float, gap: float) -> None:
    traits = RaterTraits(bt_scale=scale, tie_rate=0.0)
    first, second = ShownResponse("A", "one", gap), ShownResponse("B", "two", 0.0)
    rng = random.Random(7)

    firsts = sum(
        decide(traits, [first, second], pairwise=True, prompt_words=3, rng=rng).ranking[0] == ["A"]
        for _ in range(DRAWS)
    )

    assert abs(firsts / DRAWS - sigmoid(scale * gap)) < TOLERANCE


def test_a_ranking_is_a_plackett_luce_draw() -> None:
    # given three answers with qualities 0, 1, 2 at scale 1: P(order) = Π e^q / Σ_left e^q
    shown = [ShownResponse(label, label, q) for label, q in (("A", 0.0), ("B", 1.0), ("C", 2.0))]
    rng = random.Random(3)

    orders = Counter("".join(r.label for r in plackett_luce(shown, 1.0, rng)) for _ in range(DRAWS))

    weights = {r.label: math.exp(r.quality) for r in shown}
    for order, count in orders.items():
        left, probability = sum(weights.values()), 1.0
        for label in order:
            probability *= weights[label] / left
            left -= weights[label]
        assert abs(count / DRAWS - probability) < TOLERANCE, order
    assert len(orders) == 6


def test_a_large_scale_is_the_gold_order_and_bad_scales_are_refused() -> None:
    shown = [ShownResponse(label, label, q) for label, q in (("A", 0.1), ("B", 0.9), ("C", 0.5))]
    traits = RaterTraits(bt_scale=1000.0)
    ranked = decide(traits, shown, pairwise=False, prompt_words=1, rng=random.Random(0)).ranking
    assert ranked == [["B"], ["C"], ["A"]]
    for bad in (-1.0, math.inf, True, "2"):
        with pytest.raises(TraitsInvalid, match="bt_scale"):
            RaterTraits(bt_scale=bad)  # type: ignore[arg-type]
