"""Pure: a private arena's leaderboard and which comparison to ask for next. No ORM.

Models answer the same prompts; people compare two answers blind and say which is better (a
tie counts half). The leaderboard is a Bradley-Terry fit over the models: P(a beats b) =
σ(s_a − s_b), scores centred on their mean, with 95 % bootstrap intervals (the comparisons
resampled with replacement, every resample fitted at once by the quality report's batched
Newton solver). When several raters judged one task, the task is what is resampled (its
judgments share its two answers, so they are not independent evidence about the models; counted
one by one, three raters per task would make every interval about √3 too narrow). The
length-controlled variant adds the answers' log length ratio as a
covariate, so a model cannot climb by writing more: its scores are what is left once length
is accounted for, and the length coefficient says how much length itself won.

The next comparison is chosen actively: among the pairs of models, the one whose outcome is
most uncertain under the current fit, weighted by how uncertain its score difference still
is (the width of its models' bootstrap intervals); but while the leader's lead over some model
is not sure, the leader against the rival it is least sure to lead. Uniform choice is the baseline
(tests/annotation/test_arena.py measures both).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from itertools import combinations
from statistics import NormalDist

import numpy as np

from annotation.quality.logistic import ridge_logistic_grouped
from annotation.quality.stats import FloatArray, IntArray

N_BOOT = 200
# A weak prior on the scores (a normal of standard deviation about 3 log-odds): a model that
# won (or lost) every comparison of a resample stays finite.
SCORE_RIDGE = 0.1
# The narrowest 95 % interval a score measured on n comparisons can honestly have is about
# 2 x 1.96 x 2 / sqrt(n) (a comparison carries at most 1/4 of Fisher information); half that
# is the floor next_pair uses.
SPREAD_FLOOR = 4.0


@dataclass(frozen=True)
class Comparisons:
    """One row per comparison: models `first` and `second` (indices 0..n-1), the outcome for
    `first` (1 won, 0 lost, 0.5 tie), and the log of the answers' length ratio (first over
    second) for the length-controlled fit. `cluster` groups the comparisons that share their
    answers (one task's raters), which the bootstrap resamples together; none: each its own."""

    first: IntArray
    second: IntArray
    outcome: FloatArray
    log_length_ratio: FloatArray
    cluster: IntArray | None = None

    @property
    def size(self) -> int:
        return int(self.first.size)

    @cached_property
    def task_index(self) -> IntArray:
        """Each comparison's cluster numbered 0..tasks-1 (each its own without clusters)."""
        if self.cluster is None:
            return np.arange(self.size)
        return np.unique(self.cluster, return_inverse=True)[1].ravel()

    @property
    def tasks(self) -> int:
        return int(self.task_index.max()) + 1 if self.size else 0


@dataclass(frozen=True)
class Standing:
    model: int
    score: float  # Bradley-Terry log-strength, centred on the models' mean
    low: float  # 95 % bootstrap interval
    high: float
    comparisons: int
    # The leader's lead over this model: 95 % bootstrap interval of the score difference
    # (0, 0 for the leader itself). Differences do not depend on the centring.
    lead_low: float = 0.0
    lead_high: float = 0.0


@dataclass(frozen=True)
class Leaderboard:
    standings: tuple[Standing, ...]  # best first
    comparisons: int
    length_controlled: bool
    length_coefficient: float | None  # log-odds per unit log length ratio (controlled only)
    top_separated: bool  # in 97.5 % of the resamples the leader beats every other model
    # Bootstrap resamples behind the intervals; 0: the fit's (task-clustered) Wald intervals.
    resamples: int = 0
    tasks: int = 0  # pairs of answers compared (clusters), however many raters judged each


class ArenaError(ValueError):
    """An arena that cannot be ranked (fewer than two models, unknown models)."""


def _design(c: Comparisons, models: int, length_controlled: bool) -> FloatArray:
    """+1 for `first`, −1 for `second`; the last model is the reference (score 0 before
    centring), so the columns are the other models (and the length covariate)."""
    design = np.zeros((c.size, models - 1 + int(length_controlled)))
    rows = np.arange(c.size)
    first_in = c.first < models - 1
    second_in = c.second < models - 1
    design[rows[first_in], c.first[first_in]] += 1.0
    design[rows[second_in], c.second[second_in]] -= 1.0
    if length_controlled:
        design[:, -1] = c.log_length_ratio
    return design


def _scores(coef: FloatArray, models: int) -> FloatArray:
    """(G, p) coefficients -> (G, models) centred scores."""
    scores = np.concatenate([coef[:, : models - 1], np.zeros((coef.shape[0], 1))], axis=1)
    return scores - scores.mean(axis=1, keepdims=True)


def _fits(
    c: Comparisons, models: int, length_controlled: bool, n_boot: int, seed: int
) -> FloatArray:
    """(1 + n_boot, p) coefficients: the fit on the data, then on each bootstrap resample (as
    many tasks as there are, drawn with replacement, each with all its comparisons)."""
    rng = np.random.default_rng(seed)
    order = np.argsort(c.task_index, kind="stable")  # the comparisons, task by task
    sizes = np.bincount(c.task_index)
    starts = np.cumsum(sizes) - sizes
    picks = [np.arange(c.size)]
    for _ in range(n_boot):
        drawn = rng.integers(0, sizes.size, sizes.size)
        lengths = sizes[drawn]
        # Row j of the resample is row (j - where its task begins in the resample) of its task.
        shift = np.repeat(starts[drawn] - (np.cumsum(lengths) - lengths), lengths)
        picks.append(order[shift + np.arange(lengths.sum())])
    rows = np.concatenate(picks)
    group = np.repeat(np.arange(len(picks)), [pick.size for pick in picks])
    design = _design(c, models, length_controlled)
    return ridge_logistic_grouped(
        group, design[rows], c.outcome[rows], l2=SCORE_RIDGE, n_groups=len(picks)
    )


def _clustered(
    c: Comparisons, design: FloatArray, p: FloatArray, covariance: FloatArray
) -> FloatArray:
    """The covariance widened for tasks judged by several raters: in every direction of the
    scores, the larger of the model-based variance and the task-clustered sandwich's (so a
    model with few comparisons, whose variance the prior sets, keeps it, and the contrasts
    people measured twice over one pair of answers are not taken for independent). None
    narrower than the model-based; unchanged without clusters."""
    if c.cluster is None:
        return covariance
    per_task = np.zeros((c.tasks, design.shape[1]))
    np.add.at(per_task, c.task_index, design * (c.outcome - p)[:, None])
    sandwich = covariance @ (per_task.T @ per_task) @ covariance
    # In the coordinates where the model-based covariance is the identity, raise every
    # eigenvalue of the sandwich below 1 to 1: the result is at least both matrices.
    values, vectors = np.linalg.eigh(covariance)
    root = vectors * np.sqrt(np.clip(values, 0.0, None))
    inverse_root = vectors / np.sqrt(np.clip(values, 1e-300, None))
    relative = inverse_root.T @ sandwich @ inverse_root
    r_values, r_vectors = np.linalg.eigh((relative + relative.T) / 2)
    widened = (r_vectors * np.clip(r_values, 1.0, None)) @ r_vectors.T
    return np.asarray(root @ widened @ root.T, dtype=np.float64)


def _wald_covariance(
    c: Comparisons, coef: FloatArray, models: int, length_controlled: bool
) -> FloatArray:
    """Covariance of the centred scores from the penalised fit's curvature, widened for tasks
    several raters judged: what the data can honestly say, which a bootstrap cannot when a
    model won (or lost) every comparison (every resample then says the same, and its interval
    shrinks to nothing). Alone (a fit with n_boot=0) it is fast enough to choose every next
    task from."""
    design = _design(c, models, length_controlled)
    p = 1.0 / (1.0 + np.exp(-(design @ coef)))
    columns = design.shape[1]
    information = (design * (p * (1 - p))[:, None]).T @ design + SCORE_RIDGE * np.eye(columns)
    covariance = _clustered(c, design, p, np.asarray(np.linalg.inv(information), np.float64))
    # scores = centring @ [coef, 0]: the reference model's score is 0 before centring (the
    # length coefficient, if any, is the last column and left out).
    centring = (np.eye(models) - 1.0 / models)[:, : models - 1]
    scores = covariance[: models - 1, : models - 1]
    return np.asarray(centring @ scores @ centring.T, dtype=np.float64)


def _widen_leads(
    low: FloatArray, high: FloatArray, scores: FloatArray, wald: FloatArray, leader: int
) -> tuple[FloatArray, FloatArray]:
    """The leader's lead intervals, at least as wide as their Wald intervals."""
    lead = scores[leader] - scores
    variance = wald[leader, leader] + np.diag(wald) - 2 * wald[leader]
    half = 1.96 * np.sqrt(np.clip(variance, 0.0, None))
    return np.minimum(low, lead - half), np.maximum(high, lead + half)


def fit_leaderboard(
    c: Comparisons,
    models: int,
    *,
    length_controlled: bool = False,
    n_boot: int = N_BOOT,
    seed: int = 0,
    min_tasks: int = 0,
) -> Leaderboard:
    """The Bradley-Terry leaderboard with bootstrap intervals. The top counts as separated
    only from `min_tasks` tasks on (a task's raters count once): a percentile bootstrap, or
    a sandwich, over a handful of tasks can look sure when it is not."""
    if models < 2:
        raise ArenaError("An arena needs at least two models to compare.")
    if c.size and (
        min(c.first.min(), c.second.min()) < 0 or max(c.first.max(), c.second.max()) >= models
    ):
        raise ArenaError("A comparison names a model outside the arena.")
    if c.size == 0:
        standings = tuple(Standing(m, 0.0, -math.inf, math.inf, 0) for m in range(models))
        return Leaderboard(standings, 0, length_controlled, None, False, resamples=0)
    coef = _fits(c, models, length_controlled, n_boot, seed)
    scores = _scores(coef, models)
    resamples = scores[1:] if n_boot else scores[:1]
    low, high = np.percentile(resamples, [2.5, 97.5], axis=0)
    # Each interval is the wider of the bootstrap's and the Wald interval.
    wald = _wald_covariance(c, coef[0], models, length_controlled)
    half = 1.96 * np.sqrt(np.clip(np.diag(wald), 0.0, None))
    low, high = np.minimum(low, scores[0] - half), np.maximum(high, scores[0] + half)
    counts = np.bincount(c.first, minlength=models) + np.bincount(c.second, minlength=models)
    order = np.argsort(-scores[0], kind="stable")
    leader = int(order[0])
    leads = resamples[:, [leader]] - resamples  # (B, models)
    lead_low, lead_high = np.percentile(leads, [2.5, 97.5], axis=0)
    lead_low, lead_high = _widen_leads(lead_low, lead_high, scores[0], wald, leader)
    standings = tuple(
        Standing(
            int(m),
            float(scores[0, m]),
            float(low[m]),
            float(high[m]),
            int(counts[m]),
            float(lead_low[m]),
            float(lead_high[m]),
        )
        for m in order
    )
    others = np.delete(leads, leader, axis=1)
    separated = (
        bool(np.percentile(others.min(axis=1), 2.5) > 0)
        and bool(np.delete(lead_low, leader).min() > 0)
        and c.tasks >= min_tasks
    )
    length = float(coef[0, -1]) if length_controlled else None
    return Leaderboard(standings, c.size, length_controlled, length, separated, n_boot, c.tasks)


def win_probability(board: Leaderboard, a: int, b: int) -> float:
    """P(model a's answer beats model b's) under the fit."""
    scores = {s.model: s.score for s in board.standings}
    return 1.0 / (1.0 + math.exp(scores[b] - scores[a]))


def next_pair(board: Leaderboard, allowed: set[frozenset[int]] | None = None) -> tuple[int, int]:
    """The comparison that most narrows the leaderboard's uncertainty: while the leader's
    lead over another model is not sure (its interval reaches 0), the leader against the
    rival it is least sure to lead; otherwise the pair whose outcome is least predictable,
    weighted by how wide its models' intervals still are. Before any data, the first two.
    `allowed`: the pairs that can be compared at all (None: every pair)."""
    standings = board.standings

    def askable(a: Standing, b: Standing) -> bool:
        return allowed is None or frozenset((a.model, b.model)) in allowed

    candidates = [pair for pair in combinations(standings, 2) if askable(*pair)]
    if board.comparisons == 0 or len(standings) < 2 or not candidates:
        first, second = candidates[0] if candidates else (standings[0], standings[1])
        return first.model, second.model
    top = standings[0]
    rivals = [s for s in standings[1:] if s.lead_low <= 0 and askable(top, s)]
    if rivals:  # the top is not separated yet: its most threatening rival
        return top.model, min(rivals, key=lambda s: s.lead_low).model

    def spread(s: Standing) -> float:
        # A model that won or lost every one of few comparisons has a bootstrap interval of
        # almost no width (every resample says the same): at least the width its count allows.
        return max(s.high - s.low, SPREAD_FLOOR / math.sqrt(1 + s.comparisons))

    def value(pair: tuple[Standing, Standing]) -> float:
        a, b = pair
        p = 1.0 / (1.0 + math.exp(b.score - a.score))
        return p * (1 - p) * (spread(a) + spread(b))

    a, b = max(candidates, key=value)
    return a.model, b.model


@dataclass(frozen=True)
class HeadToHead:
    """Model a against model b on their direct comparisons only."""

    comparisons: int
    wins: float  # a's wins, a tie counting half
    win_probability: float  # a's share of the wins: P(a's answer beats b's) with two models
    low: float  # Wilson score interval at the confidence asked for
    high: float


def head_to_head(outcome: FloatArray, *, confidence: float = 0.95) -> HeadToHead:
    """P(a beats b) from the outcomes of their comparisons (1 a won, 0 lost, 0.5 tie; or a
    task's mean over its raters, so that several raters of one pair count once), with a
    two-sided Wilson score interval: what a promotion gate reads. With two models the
    Bradley-Terry fit is just this share; unlike a bootstrap, the interval keeps its width
    when a won every comparison."""
    n = int(outcome.size)
    if n == 0:
        return HeadToHead(0, 0.0, 0.5, 0.0, 1.0)
    wins = float(outcome.sum())
    share = wins / n
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    centre = (share + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(share * (1 - share) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return HeadToHead(n, wins, share, max(centre - half, 0.0), min(centre + half, 1.0))
