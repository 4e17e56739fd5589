"""Where human judgments buy the most: a reward-model ensemble retrained as labels arrive, with
the next pairs for people chosen either at random or where the ensemble is least sure.

The ensemble here is the reward model's linear probe (probe.py) over frozen features: K
Bradley-Terry heads, each on its own bootstrap resample (ensemble.py). A pair's confidence is
how many head standard deviations its mean margin lies from zero, |mean| / std over the heads
(the campaign's routing threshold, annotation/routing.py): small when the heads disagree, and
small when they agree that the pair is a coin toss. The least-confident route gives people the
least confident pairs first. The informative route gives them the pairs whose
label would tell the heads most (BALD, `label_information`), which passes over coin tosses:
the order the campaign's routing uses (annotation/routing.py), chosen by this measure.
`make bench-active` (tests/benchmarks/bench_active.py) measures the routes on real pairs with
simulated raters."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import torch

from training.pipeline.ensemble import bootstrap_counts
from training.pipeline.probe import fit_linear_head

Route = Literal["random", "least_confident", "informative"]
ROUTES: tuple[Route, ...] = ("random", "least_confident", "informative")


def margin_confidence(margins: torch.Tensor) -> torch.Tensor:
    """(N, K) margins of N pairs under K heads -> (N,) |mean| / std: how many head standard
    deviations the mean margin lies from zero (infinite when the heads agree exactly on a
    non-zero margin; zero for a zero mean)."""
    mean = margins.mean(dim=1)
    spread = margins.std(dim=1) if margins.shape[1] > 1 else torch.zeros(len(margins))
    ratio = mean.abs() / spread.clamp(min=1e-12)
    return torch.where(mean == 0, torch.zeros_like(ratio), ratio)


def _entropy(p: torch.Tensor) -> torch.Tensor:
    q = p.clamp(1e-12, 1 - 1e-12)
    return -(q * q.log() + (1 - q) * (1 - q).log())


def label_information(margins: torch.Tensor) -> torch.Tensor:
    """(N, K) margins -> (N,) how much a person's label would tell the ensemble (BALD: the
    mutual information between the label and the heads, in nats): the entropy of the heads'
    mean P(first wins) minus their mean entropy. Large when the heads disagree; zero when
    they all agree, even on a coin toss, whose label would teach nothing."""
    p = torch.sigmoid(margins)
    return _entropy(p.mean(dim=1)) - _entropy(p).mean(dim=1)


PENALTIES = (1e-2, 0.1, 1.0)  # the L2 penalties cross-validation chooses among


def fit_ensemble(
    differences: torch.Tensor,
    chosen_first: torch.Tensor,
    heads: int,
    seed: int,
    penalties: Sequence[float] = PENALTIES,
) -> torch.Tensor:
    """(heads, D) weights of K Bradley-Terry heads on feature differences (first - second),
    `chosen_first` saying which side each label preferred. The L2 penalty is chosen once by
    3-fold cross-validation on all the labels, then each head is fitted with it on its own
    Poisson bootstrap resample."""
    signed = torch.where(chosen_first[:, None], differences, -differences)
    shared, figures = fit_linear_head(signed, penalties=penalties, folds=3)
    if heads == 1:
        return shared[None, :]
    penalty = (figures["probe_penalty"],)
    counts = bootstrap_counts(len(signed), heads, seed)
    weights = [
        fit_linear_head(signed, penalties=penalty, folds=2, counts=counts[:, k])[0]
        for k in range(heads)
    ]
    return torch.stack(weights)


@dataclass(frozen=True)
class CurvePoint:
    judgments: int  # human judgments spent so far
    accuracy: float  # the ensemble mean's held-out accuracy against the gold order
    human_accuracy: float  # ... against the held-out pairs' own (human) labels


@dataclass(frozen=True)
class ActiveSetup:
    """One acquisition experiment: the pool people may label, what a rater answers for each
    pool pair, and the held-out pairs with their gold and human orders."""

    pool: torch.Tensor  # (N, D) feature differences, first - second
    rater_first: torch.Tensor  # (N,) bool: the simulated rater preferred the first
    held_out: torch.Tensor  # (M, D)
    gold_first: torch.Tensor  # (M,) bool: the gold order of each held-out pair
    human_first: torch.Tensor  # (M,) bool


def _accuracy(weights: torch.Tensor, held_out: torch.Tensor, truth: torch.Tensor) -> float:
    margin = held_out @ weights.mean(dim=0)
    right = ((margin > 0) == truth).double() + 0.5 * (margin == 0).double()
    return float(right.mean())


def _next_pairs(
    route: Route, margins: torch.Tensor, unlabelled: list[int], count: int, rng: torch.Generator
) -> list[int]:
    if route == "random":
        picked = torch.randperm(len(unlabelled), generator=rng)[:count]
    elif route == "informative":
        information = label_information(margins[unlabelled])
        picked = torch.argsort(information, descending=True, stable=True)[:count]
    else:
        confidence = margin_confidence(margins[unlabelled])
        picked = torch.argsort(confidence, stable=True)[:count]
    return [unlabelled[int(i)] for i in picked]


def acquisition_curve(
    setup: ActiveSetup,
    route: Route,
    budgets: Sequence[int],
    heads: int,
    seed: int,
    penalties: Sequence[float] = PENALTIES,
    on_point: Callable[[CurvePoint], None] | None = None,
) -> list[CurvePoint]:
    """Held-out accuracy after each budget of human judgments. The first budget is a random
    start (both routes share it for one seed); each later one adds pairs by `route`, and the
    ensemble is refitted on every label so far."""
    rng = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(setup.pool), generator=rng).tolist()
    labelled = order[: budgets[0]]
    points = []
    weights = torch.empty(0)
    for step, budget in enumerate(budgets):
        if step > 0:
            taken = set(labelled)
            unlabelled = [i for i in range(len(setup.pool)) if i not in taken]
            margins = setup.pool @ weights.T
            labelled += _next_pairs(route, margins, unlabelled, budget - len(labelled), rng)
        rows = torch.tensor(labelled)
        weights = fit_ensemble(
            setup.pool[rows], setup.rater_first[rows], heads, seed + step, penalties
        )
        point = CurvePoint(
            judgments=len(labelled),
            accuracy=_accuracy(weights, setup.held_out, setup.gold_first),
            human_accuracy=_accuracy(weights, setup.held_out, setup.human_first),
        )
        points.append(point)
        if on_point is not None:
            on_point(point)
    return points


def judgments_to_reach(judgments: Sequence[int], accuracy: Sequence[float], target: float) -> float:
    """The judgments at which a curve first reaches `target`, interpolated linearly between
    its points (infinite when it never does)."""
    for index, value in enumerate(accuracy):
        if value >= target:
            if index == 0:
                return float(judgments[0])
            before, after = accuracy[index - 1], value
            share = (target - before) / (after - before)
            return judgments[index - 1] + share * (judgments[index] - judgments[index - 1])
    return math.inf


def judgments_saved(
    judgments: Sequence[int], random_route: Sequence[float], routed: Sequence[float]
) -> float:
    """The fraction of human judgments routing saves at equal accuracy. The target is the
    accuracy the random route reaches with its whole budget; the saving is 1 - (judgments the
    routed curve needs to reach it) / budget. When routing never reaches it, the saving is
    negative on the same basis: 1 - budget / (judgments the random route needed to reach
    routing's final accuracy), so needing twice as many judgments is -1."""
    budget = judgments[-1]
    needed = judgments_to_reach(judgments, routed, random_route[-1])
    if math.isfinite(needed):
        return 1.0 - needed / budget
    # Routing never reaches the random route's end: the random route reached routing's end
    # with fewer judgments, so routing spent budget / that many times as much.
    random_needed = judgments_to_reach(judgments, random_route, routed[-1])
    return 1.0 - budget / random_needed
