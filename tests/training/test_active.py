"""Routing human judgments by the ensemble's uncertainty (training/pipeline/active.py), on a
synthetic linear problem whose gold is known."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

from training.pipeline.active import (  # noqa: E402
    ROUTES,
    ActiveSetup,
    Route,
    acquisition_curve,
    fit_ensemble,
    judgments_saved,
    judgments_to_reach,
    label_information,
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


def test_routing_reaches_the_random_routes_accuracy_with_fewer_judgments() -> None:
    """Both orders (least confident first, most informative first) beat random here."""
    budgets = [20, 40, 60, 80, 100, 120]
    saved: dict[Route, list[float]] = {"least_confident": [], "informative": []}
    for seed in range(3):
        setup = linear_setup(seed)
        curves = {
            route: [
                p.accuracy
                for p in acquisition_curve(setup, route, budgets, 4, seed, penalties=(0.01, 1.0))
            ]
            for route in ROUTES
        }
        assert curves["random"][0] == curves["least_confident"][0]  # the same random start
        for route, figures in saved.items():
            figures.append(judgments_saved(budgets, curves["random"], curves[route]))
    for route, figures in saved.items():
        assert sum(figures) / len(figures) > 0.2, (route, figures)


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


def test_label_information_is_high_where_the_heads_disagree_and_zero_on_agreed_coin_tosses() -> (
    None
):
    margins = torch.tensor(
        [
            [0.0, 0.0, 0.0, 0.0],  # every head calls it a coin toss: nothing to learn
            [3.0, 3.0, 3.0, 3.0],  # every head is sure: nothing to learn either
            [3.0, -3.0, 3.0, -3.0],  # the heads disagree: a label settles it
            [0.5, -0.5, 0.5, -0.5],  # they disagree mildly
        ]
    )
    information = label_information(margins)
    assert information[0] == pytest.approx(0.0, abs=1e-6)
    assert information[1] == pytest.approx(0.0, abs=1e-6)
    assert information[2] > information[3] > 0
    # Pure uncertainty ranks the agreed coin toss first; disagreement ranks it last.
    assert int(margin_confidence(margins).argmin()) == 0
    assert int(information.argmax()) == 2
