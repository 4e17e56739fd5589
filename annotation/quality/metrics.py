"""Inter-rater agreement: percent agreement, Krippendorff's alpha, Fleiss' kappa, Kendall's W.

Inputs are long format: one row per rating, `unit` saying what was rated (a pair, a response
of a task) and `value` the rating. Pairwise outcomes are coded −1 (second item better), 0
(tie), +1 (first item better) with the pair in a canonical order chosen by the caller.
Ratings whose value is NaN are dropped (missing).

Each statistic is a function of per-unit counts summed over units. Units with the same counts
per value (a "pattern") contribute the same, so everything is computed once per distinct
pattern, and the bootstrap over units (default 200 replicates, fixed seed, percentile
interval; see `stats.bootstrap_interval`) is a multinomial draw over patterns and one matrix
product. Every function returns `Estimate(value=None, ...)` rather than NaN when the
statistic is undefined (no unit with two ratings, a single value everywhere).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.stats import chi2  # type: ignore[import-untyped, unused-ignore]

from annotation.quality.bootstrap import (
    DEFAULT_BOOTSTRAP,
    DEFAULT_SEED,
    bootstrap_interval,
    unique_rows,
)
from annotation.quality.estimate import Estimate, make_estimate
from annotation.quality.stats import BoolArray, FloatArray, IntArray, safe_ratio, sum_by

Level = Literal["nominal", "ordinal", "interval"]


def _long_format(unit: ArrayLike, value: ArrayLike) -> tuple[NDArray[Any], FloatArray]:
    units = np.asarray(unit).ravel()
    values = np.asarray(value, dtype=np.float64).ravel()
    if units.size != values.size:
        raise ValueError("unit and value must have the same length")
    rated = ~np.isnan(values)
    return units[rated], values[rated]


def _value_counts(unit: ArrayLike, value: ArrayLike) -> tuple[IntArray, FloatArray]:
    """(U, V) ratings per unit and distinct value (values sorted ascending), and the values."""
    units, values = _long_format(unit, value)
    if units.size == 0:
        return np.zeros((0, 0), dtype=np.int64), np.zeros(0)
    unit_index = _dense_codes(units)
    domain, value_index = _value_codes(values)
    n_units, n_values = int(unit_index.max()) + 1, domain.size
    flat = unit_index * n_values + value_index
    counts = np.bincount(flat, minlength=n_units * n_values).reshape(n_units, n_values)
    counts = counts[counts.any(axis=1)]  # unit codes may have gaps; empty rows carry nothing
    return counts.astype(np.int64), domain


def _dense_codes(units: NDArray[Any]) -> IntArray:
    """Codes for unit ids; non-negative integer ids that are already dense-ish are used as
    they are (no sort: the report passes 0..U-1 codes for a million ratings)."""
    if units.dtype.kind in "iu" and units.min() >= 0 and units.max() < 4 * units.size + 1024:
        return units.astype(np.int64)
    return np.unique(units, return_inverse=True)[1].ravel().astype(np.int64)


def _value_codes(values: FloatArray) -> tuple[FloatArray, IntArray]:
    """(sorted distinct values, the code of each rating). Half-integers over a small range
    (pairwise outcomes, mid-ranks) are counted with a bincount instead of a sort."""
    doubled = values * 2
    low = float(doubled.min())
    span = float(doubled.max()) - low
    if span < 4096 and np.array_equal(doubled, np.round(doubled)):
        offsets = (doubled - low).astype(np.int64)
        present = np.flatnonzero(np.bincount(offsets))
        code_of = np.zeros(int(span) + 1, dtype=np.int64)
        code_of[present] = np.arange(present.size)
        return (present + low) / 2, code_of[offsets]
    domain, index = np.unique(values, return_inverse=True)
    return domain, index.ravel().astype(np.int64)


def _pairable_patterns(counts: IntArray) -> tuple[IntArray, IntArray]:
    """Distinct count rows among units with at least two ratings, and how many units each."""
    pairable = counts[counts.sum(axis=1) >= 2]
    patterns, frequency = unique_rows(pairable)
    return np.asarray(patterns, dtype=np.int64), frequency


def _estimate(
    stats: FloatArray,
    frequency: IntArray,
    statistic: Callable[[FloatArray], FloatArray],
    n_boot: int,
    seed: int,
) -> Estimate:
    """The statistic on all units, with its unit-bootstrap percentile interval."""
    n_units = int(frequency.sum())
    if n_units == 0:
        return Estimate.undefined()
    with np.errstate(divide="ignore", invalid="ignore"):
        value = float(statistic((frequency @ stats)[None, :])[0])
    interval = bootstrap_interval(stats, frequency, statistic, n_boot=n_boot, seed=seed)
    return make_estimate(value, interval, n_units)


# --- Percent agreement -------------------------------------------------------------------


def percent_agreement(
    unit: ArrayLike,
    value: ArrayLike,
    *,
    include_ties: bool = True,
    n_boot: int = DEFAULT_BOOTSTRAP,
    seed: int = DEFAULT_SEED,
) -> Estimate:
    """Share of agreeing rater pairs, pooled over units:
    Σ_units Σ_c n_c(n_c − 1)/2 / Σ_units n(n − 1)/2, with n_c the ratings of value c.

    `include_ties=False` drops tie ratings (value 0) first. Units with fewer than two
    ratings contribute nothing; `n` is the number of units with at least two.
    """
    units, values = _long_format(unit, value)
    if not include_ties:
        units, values = units[values != 0], values[values != 0]
    counts, _ = _value_counts(units, values)
    patterns, frequency = _pairable_patterns(counts)
    ratings = patterns.sum(axis=1)
    agreeing = (patterns * (patterns - 1)).sum(axis=1) / 2
    stats = np.column_stack([agreeing, ratings * (ratings - 1) / 2]).astype(np.float64)
    return _estimate(stats, frequency, lambda t: safe_ratio(t[:, 0], t[:, 1]), n_boot, seed)


# --- Krippendorff's alpha ----------------------------------------------------------------


def _squared_distances(domain: FloatArray, marginals: FloatArray, level: Level) -> FloatArray:
    """δ²(c, k) for every pair of values, (B, V, V) for (B, V) value marginals n_c.

    nominal: [c ≠ k]; interval: (v_c − v_k)²; ordinal: (Σ_{g=c..k} n_g − (n_c + n_k)/2)²,
    which depends on the marginals and so on the bootstrap replicate.
    """
    n_values = domain.size
    if level == "nominal":
        return np.broadcast_to(1.0 - np.eye(n_values), (marginals.shape[0], n_values, n_values))
    if level == "interval":
        gap = (domain[:, None] - domain[None, :]) ** 2
        return np.broadcast_to(gap, (marginals.shape[0], n_values, n_values))
    index = np.arange(n_values)
    low = np.minimum(index[:, None], index[None, :])
    high = np.maximum(index[:, None], index[None, :])
    cumulative = np.cumsum(marginals, axis=1)
    between = cumulative[:, high] - cumulative[:, low] + marginals[:, low]
    return np.asarray(
        (between - (marginals[:, low] + marginals[:, high]) / 2) ** 2, dtype=np.float64
    )


def _alpha_from_coincidences(
    coincidences: FloatArray, domain: FloatArray, level: Level
) -> FloatArray:
    """α = 1 − D_o / D_e = 1 − (n − 1)·Σ o_ck δ²_ck / Σ n_c n_k δ²_ck, for a (B, V·V) stack
    of coincidence matrices; NaN where D_e = 0 (a single value among pairable ratings)."""
    n_values = domain.size
    o = coincidences.reshape(-1, n_values, n_values)
    marginals = o.sum(axis=2)
    total = marginals.sum(axis=1)
    distance = _squared_distances(domain, marginals, level)
    observed = (o * distance).sum(axis=(1, 2))
    expected = (marginals[:, :, None] * marginals[:, None, :] * distance).sum(axis=(1, 2))
    return 1 - (total - 1) * safe_ratio(observed, expected)


def krippendorff_alpha(
    unit: ArrayLike,
    value: ArrayLike,
    *,
    level: Level = "ordinal",
    n_boot: int = DEFAULT_BOOTSTRAP,
    seed: int = DEFAULT_SEED,
) -> Estimate:
    """Krippendorff's alpha (Krippendorff 2004, *Content Analysis*, ch. 11; Hayes &
    Krippendorff 2007), equal to the `krippendorff` package's `alpha`.

    The coincidence matrix o_ck = Σ_u n_uc (n_uk − [c = k]) / (m_u − 1) sums over units u
    with m_u ≥ 2 ratings; with n_c = Σ_k o_ck and n = Σ_c n_c,
    α = 1 − (n − 1)·Σ o_ck δ²_ck / Σ n_c n_k δ²_ck, δ² as in `_squared_distances`. Values
    may be any floats (e.g. mid-ranks); their order is numeric. The interval resamples
    units with at least two ratings (not Hayes & Krippendorff's resampling of pairs); `n`
    counts those units. α is undefined (None) when only one value occurs among them.
    """
    if level not in ("nominal", "ordinal", "interval"):
        raise ValueError(f"unknown level of measurement: {level!r}")
    counts, domain = _value_counts(unit, value)
    patterns, frequency = _pairable_patterns(counts)
    ratings = patterns.sum(axis=1).astype(np.float64)
    pairs = patterns[:, :, None] * patterns[:, None, :] - patterns[:, :, None] * np.eye(
        domain.size, dtype=np.int64
    )
    coincidences = (pairs / (ratings - 1)[:, None, None]).reshape(len(patterns), domain.size**2)
    return _estimate(
        coincidences,
        frequency,
        lambda t: _alpha_from_coincidences(t, domain, level),
        n_boot,
        seed,
    )


def alpha_from_matrix(
    matrix: ArrayLike,
    *,
    level: Level = "ordinal",
    n_boot: int = DEFAULT_BOOTSTRAP,
    seed: int = DEFAULT_SEED,
) -> Estimate:
    """`krippendorff_alpha` on a raters × units matrix with NaN for missing ratings (the
    `krippendorff` package's `reliability_data` layout)."""
    data = np.asarray(matrix, dtype=np.float64)
    if data.ndim != 2:
        raise ValueError("matrix must be raters × units")
    unit = np.broadcast_to(np.arange(data.shape[1]), data.shape)
    return krippendorff_alpha(unit.ravel(), data.ravel(), level=level, n_boot=n_boot, seed=seed)


# --- Fleiss' kappa -----------------------------------------------------------------------


def _kappa_from_totals(totals: FloatArray) -> FloatArray:
    """κ = (P̄ − P_e) / (1 − P_e) from summed [P_i, 1, n_i1..n_iV] columns."""
    mean_agreement = safe_ratio(totals[:, 0], totals[:, 1])
    shares = totals[:, 2:] / totals[:, 2:].sum(axis=1, keepdims=True)
    chance = (shares**2).sum(axis=1)
    return safe_ratio(mean_agreement - chance, 1 - chance)


def fleiss_kappa(
    unit: ArrayLike,
    value: ArrayLike,
    *,
    n_boot: int = DEFAULT_BOOTSTRAP,
    seed: int = DEFAULT_SEED,
) -> Estimate:
    """Fleiss' kappa (Fleiss 1971) with the distinct values as categories.

    Over units with n_i ≥ 2 ratings: P_i = Σ_c n_ic(n_ic − 1) / (n_i(n_i − 1)), P̄ their
    mean, p_c = Σ_i n_ic / Σ_i n_i pooled over the same units, P_e = Σ_c p_c² and
    κ = (P̄ − P_e) / (1 − P_e). With the same number of ratings per unit this is statsmodels'
    `fleiss_kappa(table, method="fleiss")`; with varying numbers it is the usual
    generalisation (each unit's P_i weighted equally, chance from pooled shares).
    Undefined (None) when P_e = 1 (one category only).
    """
    counts, _ = _value_counts(unit, value)
    patterns, frequency = _pairable_patterns(counts)
    ratings = patterns.sum(axis=1).astype(np.float64)
    agreement = (patterns * (patterns - 1)).sum(axis=1) / (ratings * (ratings - 1))
    stats = np.column_stack([agreement, np.ones(len(patterns)), patterns]).astype(np.float64)
    return _estimate(stats, frequency, _kappa_from_totals, n_boot, seed)


# --- Kendall's W -------------------------------------------------------------------------


@dataclass(frozen=True)
class KendallW:
    """Kendall's W per task (in `np.unique(task)` order) and its mean over tasks.

    `per_task` holds 0.0 and `p_value` 1.0 where `defined` is False: read `defined` first.
    """

    tasks: NDArray[Any]
    per_task: FloatArray
    p_value: FloatArray
    defined: BoolArray
    n_raters: IntArray
    n_items: IntArray
    mean: Estimate


def _runs(*keys: NDArray[Any]) -> IntArray:
    """Ids 0, 1, ... of the runs of equal consecutive rows across `keys` (sorted arrays)."""
    new = np.zeros(keys[0].size, dtype=bool)
    new[:1] = True
    for key in keys:
        new[1:] |= key[1:] != key[:-1]
    return np.cumsum(new) - 1


def _mid_ranks(block: IntArray, score: FloatArray) -> tuple[FloatArray, IntArray, FloatArray]:
    """Mid-ranks of `score` within each block (rows sorted by block, then score), the tie
    group of each row, and each tie group's t³ − t."""
    tie = _runs(block, score)
    first = _first_rows(block)
    position = np.arange(1, block.size + 1) - np.repeat(
        first, np.diff(np.append(first, block.size))
    )
    tie_size = np.bincount(tie).astype(np.float64)
    mid = sum_by(tie, position.astype(np.float64), tie_size.size) / tie_size
    return mid[tie], tie, tie_size**3 - tie_size


def _factor(values: ArrayLike) -> tuple[NDArray[Any], IntArray]:
    distinct, index = np.unique(np.asarray(values).ravel(), return_inverse=True)
    return distinct, index.ravel().astype(np.int64)


def _first_rows(run: IntArray) -> IntArray:
    """Index of the first row of each run (runs numbered 0.. in row order)."""
    return np.flatnonzero(np.diff(run, prepend=-1) != 0)


def _sorted_rankings(
    task: ArrayLike, rater: ArrayLike, item: ArrayLike, rank: ArrayLike
) -> tuple[IntArray, IntArray, IntArray, FloatArray, NDArray[Any]]:
    """Task, rater and item codes and the scores of the ranked rows (NaN ranks dropped), sorted
    by task, rater and score; and the distinct task ids."""
    scores = np.asarray(rank, dtype=np.float64).ravel()
    columns = [np.asarray(column).ravel() for column in (task, rater, item)]
    if any(column.size != scores.size for column in columns):
        raise ValueError("task, rater, item and rank must have the same length")
    ranked = ~np.isnan(scores)
    tasks, t = _factor(columns[0][ranked])
    _, r = _factor(columns[1][ranked])
    _, i = _factor(columns[2][ranked])
    scores = scores[ranked]
    order = np.lexsort((scores, r, t))
    return t[order], r[order], i[order], scores[order], tasks


def _rank_spread(
    t: IntArray, i: IntArray, block: IntArray, mid: FloatArray, m: FloatArray, n_tasks: int
) -> tuple[FloatArray, FloatArray, BoolArray]:
    """Per task: items n, Σ_j (R_j − m(n + 1)/2)² over its items' rank sums R_j, and whether
    it is complete (every rater ranked every item exactly once)."""
    n_item_ids = int(i.max(initial=0)) + 1
    cells, cell = np.unique(t * n_item_ids + i, return_inverse=True)
    cell_task = cells // n_item_ids
    n = np.bincount(cell_task, minlength=n_tasks).astype(np.float64)
    rows = np.bincount(t, minlength=n_tasks)
    _, first_pair = np.unique(block * n_item_ids + i, return_index=True)
    distinct_pairs = np.bincount(t[first_pair], minlength=n_tasks)
    complete = (rows == m * n) & (distinct_pairs == rows)
    rank_sum = sum_by(cell.ravel(), mid, cells.size)
    deviation = (rank_sum - m[cell_task] * (n[cell_task] + 1) / 2) ** 2
    return n, sum_by(cell_task, deviation, n_tasks), complete


def kendalls_w(
    task: ArrayLike,
    rater: ArrayLike,
    item: ArrayLike,
    rank: ArrayLike,
    *,
    n_boot: int = DEFAULT_BOOTSTRAP,
    seed: int = DEFAULT_SEED,
) -> KendallW:
    """Kendall's coefficient of concordance W with the tie correction (Kendall & Babington
    Smith 1939; Siegel & Castellan 1988, §9.4), for many tasks at once.

    One row per (task, rater, item); `rank` is any score where lower is better (ranks,
    mid-ranks) and is turned into mid-ranks within each rater's ranking. For a task with m
    raters and n items, R_j the rank sum of item j and T_i = Σ (t³ − t) over rater i's tie
    groups: W = 12·Σ_j (R_j − m(n + 1)/2)² / (m²(n³ − n) − m·Σ_i T_i), which is Friedman's
    χ² (tie-corrected, as scipy's `friedmanchisquare`) divided by m(n − 1); `p_value` is
    Friedman's χ² test on n − 1 degrees of freedom.

    W is undefined for a task with fewer than 2 raters or 2 items, that is incomplete (a
    rater who did not rank every item exactly once), or whose raters all tie every item.
    `mean` averages W over defined tasks (bootstrap over those tasks; `n` = their count).
    Rows with a NaN rank are dropped.
    """
    t, r, i, scores, tasks = _sorted_rankings(task, rater, item, rank)
    n_tasks = tasks.size
    block = _runs(t, r)  # one per (task, rater)
    mid, tie, tie_term = _mid_ranks(block, scores)
    ties = sum_by(t[_first_rows(tie)], tie_term, n_tasks)
    m = np.bincount(t[_first_rows(block)], minlength=n_tasks).astype(np.float64)
    n, spread, complete = _rank_spread(t, i, block, mid, m, n_tasks)
    denominator = m**2 * (n**3 - n) - m * ties
    defined = complete & (m >= 2) & (n >= 2) & (denominator > 1e-9 * m**2 * n**3)
    w = np.where(defined, np.clip(12 * safe_ratio(spread, denominator), 0.0, 1.0), 0.0)
    p_value = np.where(defined, chi2.sf(m * (n - 1) * w, np.maximum(n - 1, 1)), 1.0)

    values, frequency = unique_rows(w[defined][:, None])
    stats = np.column_stack([values[:, 0], np.ones(len(values))])
    mean = _estimate(stats, frequency, lambda s: safe_ratio(s[:, 0], s[:, 1]), n_boot, seed)
    return KendallW(
        tasks=tasks,
        per_task=w,
        p_value=np.asarray(p_value, dtype=np.float64),
        defined=defined,
        n_raters=m.astype(np.int64),
        n_items=n.astype(np.int64),
        mean=mean,
    )
