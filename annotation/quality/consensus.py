"""Consensus per task: a Bradley–Terry fit of every task's comparisons, all tasks at once.

Bradley & Terry (1952): item i beats item j with probability σ(s_i − s_j), σ the logistic
function. Per group (a task) the scores maximise the penalised log-likelihood

    Σ_r w_r [y_r log σ(s_a − s_b) + (1 − y_r) log σ(s_b − s_a)] − prior/2 · Σ_i s_i²

over its comparisons r (y_r = 1 when a won, 0 when b won, ½ for a tie). The Gaussian prior
(variance 1/prior) keeps scores finite when one item wins everything, and it centres them:
at the optimum the likelihood's gradient sums to zero over items, so Σ_i s_i = 0.

Ties count as half a win for each side. Davidson (1970) and Rao & Kupper (1967) instead add
a tie parameter per model; a task has far too few judgments to estimate one, and half-wins
keep the fit a plain logistic regression on score differences, pulling tied items together
exactly as the ties say.

Groups are fitted together by Newton's method: comparisons are first summed per unordered
item pair (the likelihood depends only on each pair's total weight and wins), then groups of
equal size K are one dense (G_K, K(K−1)/2) array each, their gradients and K×K Hessians
come from two matrix products, and `np.linalg.solve` runs on the stack of Hessians.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import expit  # type: ignore[import-untyped, unused-ignore]

from annotation.quality.stats import BoolArray, FloatArray, IntArray, sum_by

# Scores closer than this are one tier.
TIER_TOLERANCE = 1e-9
# Newton steps are capped at this many units of score per iteration (a trust region that
# only matters far from the optimum).
_MAX_STEP = 5.0


@dataclass(frozen=True)
class BTResult:
    """Bradley–Terry scores for G groups, flat over (group, item): group g's items 0..K_g−1
    are rows `offsets[g]:offsets[g + 1]`.

    `score` is centred to mean 0 per group; `se` is the square root of the diagonal of the
    inverse penalised Hessian; `tier` numbers the consensus ranking's tiers from 0 (best),
    items with scores closer than 1e-9 sharing one. `top_gap` is the best item's score
    minus the runner-up's and `top_gap_se` its standard error (both 0 below 2 items).
    """

    offsets: IntArray
    score: FloatArray
    se: FloatArray
    tier: IntArray
    converged: BoolArray
    top_gap: FloatArray
    top_gap_se: FloatArray

    @property
    def n_groups(self) -> int:
        return int(self.offsets.size - 1)

    @property
    def sizes(self) -> IntArray:
        return np.diff(self.offsets)

    @property
    def group(self) -> IntArray:
        """The group of each flat row."""
        return np.repeat(np.arange(self.n_groups), self.sizes)

    @property
    def item(self) -> IntArray:
        """The local item index of each flat row."""
        return np.arange(self.score.size) - np.repeat(self.offsets[:-1], self.sizes)

    def scores_of(self, group: int) -> FloatArray:
        return self.score[self.offsets[group] : self.offsets[group + 1]]

    def ranking(self, group: int) -> list[list[int]]:
        """Group's items as tiers, best first; items within a tier in index order."""
        tiers = self.tier[self.offsets[group] : self.offsets[group + 1]]
        return [np.flatnonzero(tiers == t).tolist() for t in range(int(tiers.max(initial=-1)) + 1)]

    def win_probability(self, group: ArrayLike, i: ArrayLike, j: ArrayLike) -> FloatArray:
        """σ(s_i − s_j): the fitted probability that item i beats item j, elementwise."""
        base = self.offsets[np.asarray(group, dtype=np.int64)]
        gap = (
            self.score[base + np.asarray(i, dtype=np.int64)]
            - self.score[base + np.asarray(j, dtype=np.int64)]
        )
        return np.asarray(expit(gap), dtype=np.float64)

    def top_gap_z(self) -> FloatArray:
        """Per group, (best score − runner-up's) / its standard error; 0 below 2 items."""
        z = np.zeros(self.n_groups)
        np.divide(self.top_gap, self.top_gap_se, out=z, where=self.top_gap_se > 0)
        return z


@dataclass(frozen=True)
class ConsensusPairs:
    """One row per within-group item pair whose consensus is not a tie, ordered by group."""

    group: IntArray
    better: IntArray
    worse: IntArray
    probability: FloatArray


@dataclass(frozen=True)
class _ClassFit:
    score: FloatArray  # (G_K, K)
    se: FloatArray  # (G_K, K)
    converged: BoolArray  # (G_K,)
    top_gap: FloatArray  # (G_K,)
    top_gap_se: FloatArray  # (G_K,)
    tier: IntArray  # (G_K, K)


def _pair_items(size: int) -> tuple[IntArray, IntArray]:
    """The K(K−1)/2 unordered pairs (low < high) in flat order high(high − 1)/2 + low."""
    high = np.repeat(np.arange(size), np.arange(size))
    low = np.arange(high.size) - high * (high - 1) // 2
    return low.astype(np.int64), high.astype(np.int64)


def _information(
    weight: FloatArray, probability: FloatArray, outer: FloatArray, size: int, prior: float
) -> FloatArray:
    """The penalised negative Hessian per group: Σ_pairs w·p(1 − p)·(e_a − e_b)(e_a − e_b)ᵀ
    + prior·I, (G_K, K, K)."""
    curvature = weight * probability * (1 - probability)
    return (curvature @ outer).reshape(-1, size, size) + prior * np.eye(size)


def _fit_class(
    size: int,
    total: FloatArray,
    wins: FloatArray,
    *,
    prior: float,
    max_iter: int,
    tol: float,
) -> _ClassFit:
    """Newton's method for G_K groups of K items from their (G_K, pairs) weights and the
    low item's (weighted) wins."""
    low, high = _pair_items(size)
    incidence = np.zeros((low.size, size))
    incidence[np.arange(low.size), low] = 1.0
    incidence[np.arange(low.size), high] = -1.0
    outer = np.einsum("pi,pj->pij", incidence, incidence).reshape(low.size, size * size)
    score = np.zeros((total.shape[0], size))
    converged = np.zeros(total.shape[0], dtype=bool)
    # the groups still iterating, and their data (shrunk only when some group finishes)
    active, current, weight, won = np.arange(total.shape[0]), score.copy(), total, wins
    for _ in range(max_iter):
        probability = expit(current @ incidence.T)
        gradient = (won - weight * probability) @ incidence - prior * current
        info = _information(weight, probability, outer, size, prior)
        step = np.linalg.solve(info, gradient[..., None])[..., 0]
        largest = np.abs(step).max(axis=1, initial=0.0)
        current += step * (_MAX_STEP / np.maximum(largest, _MAX_STEP))[:, None]
        score[active] = current
        done = largest < tol
        if done.any():
            converged[active[done]] = True
            going = ~done
            active, current, weight, won = active[going], current[going], weight[going], won[going]
        if active.size == 0:
            break
    score -= score.mean(axis=1, keepdims=True)
    probability = expit(score @ incidence.T)
    information = _information(total, probability, outer, size, prior)
    covariance = np.asarray(np.linalg.inv(information), dtype=np.float64)
    se = np.sqrt(np.diagonal(covariance, axis1=1, axis2=2))
    gap, gap_se = _top_gap(score, covariance)
    return _ClassFit(score, se, converged, gap, gap_se, _tiers(score))


def _top_gap(score: FloatArray, covariance: FloatArray) -> tuple[FloatArray, FloatArray]:
    """s_best − s_second per group and its standard error sqrt(Var(s_best − s_second))."""
    if score.shape[1] < 2:
        return np.zeros(score.shape[0]), np.zeros(score.shape[0])
    order = np.argsort(-score, axis=1, kind="stable")
    rows = np.arange(score.shape[0])
    best, second = order[:, 0], order[:, 1]
    variance = (
        covariance[rows, best, best]
        + covariance[rows, second, second]
        - 2 * covariance[rows, best, second]
    )
    return score[rows, best] - score[rows, second], np.sqrt(np.maximum(variance, 0.0))


def _tiers(score: FloatArray) -> IntArray:
    """Tier of each item of a (G_K, K) score array: sorted by score descending, a new tier
    starts wherever the next score is at least 1e-9 lower."""
    order = np.argsort(-score, axis=1, kind="stable")
    ordered = np.take_along_axis(score, order, axis=1)
    drops = ordered[:, :-1] - ordered[:, 1:] >= TIER_TOLERANCE
    running = np.concatenate(
        [np.zeros((score.shape[0], 1), dtype=np.int64), np.cumsum(drops, axis=1)], axis=1
    )
    tier = np.empty_like(running)
    np.put_along_axis(tier, order, running, axis=1)
    return tier


def _validate(
    group: IntArray,
    low: IntArray,
    high: IntArray,
    outcome: FloatArray,
    weight: FloatArray | None,
    sizes: IntArray,
    prior: float,
) -> None:
    """Reject malformed input: these are programming errors of the caller, not data."""
    if prior <= 0:
        raise ValueError("prior must be positive: it is what keeps the scores identified")
    if (sizes < 0).any():
        raise ValueError("n_items_per_group must be non-negative")
    if weight is not None and (weight.size != outcome.size or (weight < 0).any()):
        raise ValueError("weight must have one non-negative entry per comparison")
    if group.size == 0:
        return
    if group.min() < 0 or group.max() >= sizes.size:
        raise ValueError("group ids must lie in 0..len(n_items_per_group) − 1")
    if low.min() < 0 or (high >= sizes[group]).any():
        raise ValueError("item indices must lie in 0..K_g − 1 for their group")
    if (low == high).any():
        raise ValueError("an item cannot be compared with itself")
    if outcome.min() < 0 or outcome.max() > 1:
        raise ValueError("outcomes must lie in [0, 1]")


def bradley_terry(
    group: ArrayLike,
    item_a: ArrayLike,
    item_b: ArrayLike,
    outcome: ArrayLike,
    *,
    n_items_per_group: ArrayLike,
    weight: ArrayLike | None = None,
    prior: float = 0.1,
    max_iter: int = 50,
    tol: float = 1e-10,
) -> BTResult:
    """Bradley–Terry scores for every group at once (see the module docstring).

    `group` holds ids 0..G−1 with G = len(n_items_per_group); `item_a`/`item_b` are local
    item indices 0..K_g−1; `outcome` is 1.0 when a won, 0.0 when b won, 0.5 for a tie;
    `weight` scales each comparison (default 1). Items never compared get score 0. Raises
    ValueError on malformed input (ids out of range, a == b, prior ≤ 0).
    """
    sizes = np.asarray(n_items_per_group, dtype=np.int64).ravel()
    g = np.asarray(group, dtype=np.int64).ravel()
    a = np.asarray(item_a, dtype=np.int64).ravel()
    b = np.asarray(item_b, dtype=np.int64).ravel()
    y = np.asarray(outcome, dtype=np.float64).ravel()
    w = None if weight is None else np.asarray(weight, dtype=np.float64).ravel()
    if not g.size == a.size == b.size == y.size:
        raise ValueError("group, item_a, item_b and outcome must have the same length")
    low, high = np.minimum(a, b), np.maximum(a, b)
    _validate(g, low, high, y, w, sizes, prior)

    pair_base = np.concatenate([[0], np.cumsum(sizes * (sizes - 1) // 2)])
    n_pairs = int(pair_base[-1])
    flat = pair_base[g] + ((high * (high - 1)) >> 1) + low
    low_won = np.where(a < b, y, 1 - y)
    total = sum_by(flat, w, n_pairs)
    wins = sum_by(flat, low_won if w is None else w * low_won, n_pairs)

    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    score, se = np.zeros(int(offsets[-1])), np.zeros(int(offsets[-1]))
    converged = np.ones(sizes.size, dtype=bool)
    top_gap, top_gap_se = np.zeros(sizes.size), np.zeros(sizes.size)
    tier = np.zeros(int(offsets[-1]), dtype=np.int64)
    for size in np.unique(sizes[sizes > 0]).tolist():
        members = np.flatnonzero(sizes == size)
        cells = pair_base[members][:, None] + np.arange(size * (size - 1) // 2)
        fit = _fit_class(size, total[cells], wins[cells], prior=prior, max_iter=max_iter, tol=tol)
        rows = offsets[members][:, None] + np.arange(size)
        score[rows], se[rows] = fit.score, fit.se
        converged[members] = fit.converged
        top_gap[members], top_gap_se[members] = fit.top_gap, fit.top_gap_se
        tier[rows] = fit.tier
    return BTResult(
        offsets=offsets,
        score=score,
        se=se,
        tier=tier,
        converged=converged,
        top_gap=top_gap,
        top_gap_se=top_gap_se,
    )


def consensus_pairs(result: BTResult, *, min_probability: float = 0.5) -> ConsensusPairs:
    """Every within-group item pair in different tiers whose fitted probability
    σ(s_better − s_worse) is at least `min_probability`, as flat arrays ordered by group:
    what exports and training use instead of all judgments when asked for consensus."""
    sizes = result.sizes
    parts: list[tuple[IntArray, IntArray, IntArray, FloatArray]] = []
    for size in np.unique(sizes[sizes >= 2]).tolist():
        members = np.flatnonzero(sizes == size)
        low, high = _pair_items(size)
        base = result.offsets[members][:, None]
        gap = result.score[base + low] - result.score[base + high]
        distinct = result.tier[base + low] != result.tier[base + high]
        probability = expit(np.abs(gap))
        keep = distinct & (probability >= min_probability)
        better = np.where(gap > 0, low, high)
        worse = np.where(gap > 0, high, low)
        group = np.broadcast_to(members[:, None], gap.shape)
        parts.append((group[keep], better[keep], worse[keep], probability[keep]))
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        return ConsensusPairs(empty, empty, empty, np.zeros(0))
    group, better, worse, probability = (
        np.concatenate(column) for column in zip(*parts, strict=True)
    )
    order = np.argsort(group, kind="stable")
    return ConsensusPairs(group[order], better[order], worse[order], probability[order])
