"""Routing human judgments by the ensemble's uncertainty (training/pipeline/active.py), on a
synthetic linear problem whose gold is known."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

from training.pipeline.active import (  # noqa: E402
    ROUTES,
    ActiveSetup,
    acquisition_curve,
    fit_ensemble,
    judgments_saved,
    judgments_to_reach,
    margin_confidence,
)


def linear_setup(seed: int, pool: int = 600, held: int = 400, dim: int = 12) -> ActiveSetup:
    """Feature differences of pairs, a gold direction, and raters who follow it with
    Bradley-Terry noise (log-odds = 3 x the gold margin)."""
    rng = torch.Generator().manual_seed(seed)
    gold = torch.randn(dim, generator=rng)
    gold /= gold.norm()
    pool_x = torch.randn(pool, dim, generator=rng)
    held_x = torch.randn(held, dim, generator=rng)
    rater_first = torch.rand(pool, generator=rng) < torch.sigmoid(3 * (pool_x @ gold))
    gold_first = held_x @ gold > 0
    return ActiveSetup(pool_x, rater_first, held_x, gold_first, gold_first)


def test_confidence_is_small_where_heads_disagree_or_sit_on_zero() -> None:
    margins = torch.tensor(
        [
            [2.0, 2.1, 1.9],  # agree, far from zero
            [2.0, -2.0, 0.5],  # disagree
            [0.01, -0.01, 0.0],  # agree on a coin toss
        ]
    )
    confidence = margin_confidence(margins)
    assert confidence[0] > 10
    assert confidence[1] < 0.5
    assert confidence[2] == 0
    assert margin_confidence(torch.tensor([[1.0, 1.0]]))[0] > 1e9  # exact agreement


def test_fit_ensemble_learns_the_gold_with_distinct_heads() -> None:
    setup = linear_setup(0)
    weights = fit_ensemble(setup.pool, setup.rater_first, heads=4, seed=0)
    assert weights.shape == (4, setup.pool.shape[1])
    assert not torch.allclose(weights[0], weights[1])  # each head its own resample
    accuracy = float(
        ((setup.held_out @ weights.mean(dim=0) > 0) == setup.gold_first).float().mean()
    )
    assert accuracy > 0.9


def test_uncertainty_routing_reaches_the_random_routes_accuracy_with_fewer_judgments() -> None:
    budgets = [20, 40, 60, 80, 100, 120]
    saved = []
    for seed in range(3):
        setup = linear_setup(seed)
        curves = {
            route: [
                p.accuracy
                for p in acquisition_curve(setup, route, budgets, 4, seed, penalties=(0.01, 1.0))
            ]
            for route in ROUTES
        }
        assert curves["random"][0] == curves["uncertainty"][0]  # the same random start
        saved.append(judgments_saved(budgets, curves["random"], curves["uncertainty"]))
    assert sum(saved) / len(saved) > 0.2, saved


def test_judgments_to_reach_interpolates_and_saved_is_signed() -> None:
    judgments = [100, 200, 300, 400]
    assert judgments_to_reach(judgments, [0.6, 0.7, 0.8, 0.9], 0.75) == pytest.approx(250)
    assert judgments_to_reach(judgments, [0.6, 0.7, 0.8, 0.9], 0.5) == 100
    assert math.isinf(judgments_to_reach(judgments, [0.6, 0.7, 0.8, 0.9], 0.95))
    # Routing reaches random's final 0.8 at 250 of 400: 37.5 % saved.
    assert judgments_saved(judgments, [0.6, 0.7, 0.75, 0.8], [0.6, 0.75, 0.85, 0.9]) == (
        pytest.approx(0.375)
    )
    # Routing ends at 0.7, which random reached at 200 of 400: routing needs twice as many.
    assert judgments_saved(judgments, [0.6, 0.7, 0.8, 0.9], [0.6, 0.65, 0.68, 0.7]) == (
        pytest.approx(-1.0)
    )
