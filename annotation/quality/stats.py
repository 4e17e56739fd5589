"""Statistical building blocks for the quality report: estimates, binomial tests and intervals,
Holm's correction, logistic regression and the unit bootstrap. Pure numpy/scipy.

Every public metric returns an `Estimate`, whose fields are `None` (never NaN) when the
quantity is undefined, so nothing downstream ever shows NaN to a user. NaN may be used inside
this package as a marker for "undefined" in intermediate arrays, never in a return value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.stats import binom, norm  # type: ignore[import-untyped, unused-ignore]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

DEFAULT_BOOTSTRAP = 200
DEFAULT_SEED = 0
# Relative tolerance scipy's binomtest uses to decide that two pmf values are equal.
_BINOM_RERR = 1 + 1e-7
# Multinomial weights are drawn for this many patterns at a time (bounds the B x P matrix).
_PATTERN_CHUNK = 8192


@dataclass(frozen=True)
class Estimate:
    """A statistic with its confidence interval and the number of units it rests on.

    `value`, `ci_low` and `ci_high` are `None` when undefined (no data, no variation); the
    interval alone is `None` when it was not computed (`n_boot=0`) or cannot be.
    """

    value: float | None
    ci_low: float | None
    ci_high: float | None
    n: int

    @classmethod
    def undefined(cls, n: int = 0) -> Estimate:
        return cls(value=None, ci_low=None, ci_high=None, n=n)

    def as_dict(self) -> dict[str, float | int | None]:
        return {"value": self.value, "ci_low": self.ci_low, "ci_high": self.ci_high, "n": self.n}


def finite_or_none(value: float) -> float | None:
    """A Python float, or `None` for NaN and infinities."""
    number = float(value)
    return number if np.isfinite(number) else None


def make_estimate(value: float, interval: tuple[float | None, float | None], n: int) -> Estimate:
    """An Estimate from a possibly-NaN value: an undefined value carries no interval."""
    defined = finite_or_none(value)
    if defined is None:
        return Estimate.undefined(n)
    return Estimate(value=defined, ci_low=interval[0], ci_high=interval[1], n=n)


def safe_ratio(numerator: ArrayLike, denominator: ArrayLike) -> FloatArray:
    """numerator / denominator elementwise, NaN (internal "undefined") where the denominator
    is 0, without warnings."""
    num = np.asarray(numerator, dtype=np.float64)
    den = np.asarray(denominator, dtype=np.float64)
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=den != 0)
    return out


# --- Binomial proportions ----------------------------------------------------------------


@overload
def wilson_interval(k: float, n: float, confidence: float = 0.95) -> tuple[float, float]: ...
@overload
def wilson_interval(
    k: NDArray[Any], n: ArrayLike, confidence: float = 0.95
) -> tuple[FloatArray, FloatArray]: ...
def wilson_interval(k: Any, n: Any, confidence: float = 0.95) -> tuple[Any, Any]:
    """Wilson score interval for k successes in n trials (Wilson 1927), elementwise.

    With z the normal quantile and p̂ = k/n: centre (p̂ + z²/2n) / (1 + z²/n), half-width
    z·sqrt(p̂(1−p̂)/n + z²/4n²) / (1 + z²/n). Equals statsmodels'
    `proportion_confint(method="wilson")`. n == 0 gives (0, 1): nothing is known.
    """
    scalar = np.ndim(k) == 0 and np.ndim(n) == 0
    k_arr = np.asarray(k, dtype=np.float64)
    n_arr = np.asarray(n, dtype=np.float64)
    k_arr, n_arr = np.broadcast_arrays(k_arr, n_arr)
    z = norm.isf((1 - confidence) / 2)
    z2 = z * z
    observed = n_arr > 0
    safe_n = np.where(observed, n_arr, 1.0)
    share = k_arr / safe_n
    denominator = 1 + z2 / safe_n
    centre = (share + z2 / (2 * safe_n)) / denominator
    half = z * np.sqrt(share * (1 - share) / safe_n + z2 / (4 * safe_n**2)) / denominator
    low = np.where(observed, centre - half, 0.0)
    high = np.where(observed, centre + half, 1.0)
    if scalar:
        return float(low), float(high)
    return low, high


def one_sided_binomial_greater(k: ArrayLike, n: ArrayLike, p: ArrayLike) -> FloatArray:
    """P[X ≥ k] for X ~ Binomial(n, p), elementwise (1 when n == 0 and k ≤ 0)."""
    return np.asarray(binom.sf(np.asarray(k) - 1, n, p), dtype=np.float64)


def one_sided_binomial_less(k: ArrayLike, n: ArrayLike, p: ArrayLike) -> FloatArray:
    """P[X ≤ k] for X ~ Binomial(n, p), elementwise."""
    return np.asarray(binom.cdf(k, n, p), dtype=np.float64)


def _last_true(
    predicate: Callable[[IntArray], BoolArray], low: IntArray, high: IntArray
) -> IntArray:
    """Elementwise binary search: the largest x in [low, high] where `predicate` (true, then
    false along x) holds, or low − 1 when it holds nowhere."""
    low, high = low.copy(), high.copy()
    while True:
        active = low <= high
        if not active.any():
            return high
        middle = (low + high) // 2
        holds = predicate(middle)
        low = np.where(active & holds, middle + 1, low)
        high = np.where(active & ~holds, middle - 1, high)


def binomial_test_many(k: ArrayLike, n: ArrayLike, p: ArrayLike = 0.5) -> FloatArray:
    """Two-sided exact binomial test p-values, elementwise; n == 0 gives 1.

    The p-value sums the probabilities of every outcome no more likely than the one observed
    (the "minimum likelihood" rule), with scipy's relative tolerance 1e-7 for "equally
    likely". This is scipy's `binomtest(k, n, p).pvalue` with its search for the far tail's
    boundary run as one vectorised binary search.
    """
    k_arr, n_arr, p_arr = np.broadcast_arrays(
        np.asarray(k, dtype=np.int64), np.asarray(n, dtype=np.int64), np.asarray(p, dtype=float)
    )
    out = np.ones(k_arr.shape)
    tested = n_arr > 0
    kk, nn, pp = k_arr[tested], n_arr[tested], p_arr[tested]
    threshold = binom.pmf(kk, nn, pp) * _BINOM_RERR
    expected = pp * nn
    pvalue = np.ones(kk.shape)

    below = kk < expected  # far tail is above the mode: find where the pmf drops under d
    kb, nb, pb, tb = kk[below], nn[below], pp[below], threshold[below]
    last = _last_true(
        lambda x: binom.pmf(x, nb, pb) >= tb, np.ceil(pb * nb).astype(np.int64), nb.copy()
    )
    tail = nb - last + (tb == binom.pmf(last, nb, pb))
    pvalue[below] = binom.cdf(kb, nb, pb) + binom.sf(nb - tail, nb, pb)

    above = kk > expected  # far tail is below the mode
    ka, na, pa, ta = kk[above], nn[above], pp[above], threshold[above]
    last = _last_true(
        lambda x: binom.pmf(x, na, pa) <= ta,
        np.zeros_like(na),
        np.floor(pa * na).astype(np.int64),
    )
    pvalue[above] = binom.cdf(last, na, pa) + binom.sf(ka - 1, na, pa)

    out[tested] = np.minimum(pvalue, 1.0)
    return out


def binomial_test(k: int, n: int, p: float = 0.5) -> float:
    """Two-sided exact binomial test (see `binomial_test_many`); n == 0 gives 1."""
    return float(binomial_test_many(np.array([k]), np.array([n]), p)[0])


def holm(pvalues: ArrayLike) -> FloatArray:
    """Holm's step-down adjusted p-values (Holm 1979), in the input's order.

    Sorted ascending, p₍ᵢ₎ becomes max over j ≤ i of (m − j + 1)·p₍ⱼ₎, capped at 1; equals
    statsmodels' `multipletests(p, method="holm")[1]`.
    """
    values = np.asarray(pvalues, dtype=np.float64).ravel()
    order = np.argsort(values, kind="stable")
    raw = values[order] * np.arange(values.size, 0, -1)
    adjusted = np.empty_like(values)
    adjusted[order] = np.minimum(np.maximum.accumulate(raw), 1.0)
    return adjusted


# --- Logistic regression -----------------------------------------------------------------

# A ridge this small leaves well-posed fits unchanged to ~1e-6 and keeps separated ones finite.
FALLBACK_RIDGE = 1e-6
# A coefficient is determined by the data, not the ridge, when the data's curvature in every
# direction is at least this many times the ridge's.
_DATA_OVER_RIDGE = 1e3
_MAX_NEWTON = 100
_NEWTON_TOL = 1e-9


@dataclass(frozen=True)
class LogisticFit:
    """One logistic regression. `se`, `z` and `p_value` are `None` when the data do not
    determine the coefficients (separation, collinear columns); `coef` is then the fit under
    a small ridge and `converged` is False."""

    coef: FloatArray
    se: FloatArray | None
    z: FloatArray | None
    p_value: FloatArray | None
    converged: bool


@dataclass(frozen=True)
class GroupedLogisticFit:
    """One logistic regression per group, arrays of shape (G, p).

    Rows of a group that is not `defined` (fewer than p + 1 rows, y constant, no
    convergence, or coefficients the data do not determine) hold coef 0, se 0, z 0 and
    p_value 1: read `defined` before using them.
    """

    coef: FloatArray
    se: FloatArray
    z: FloatArray
    p_value: FloatArray
    defined: BoolArray
    n_rows: IntArray


@dataclass(frozen=True)
class _NewtonResult:
    coef: FloatArray  # (G, p)
    information: FloatArray  # (G, p, p), unpenalised, at the last iterate
    converged: BoolArray  # (G,)


def sum_by(index: IntArray, weights: ArrayLike | None, size: int) -> FloatArray:
    """Σ weights (1 each when None) per index value 0..size−1: a float `np.bincount`."""
    return np.asarray(np.bincount(index, weights, minlength=size), dtype=np.float64)


def _solve_stack(matrices: FloatArray, vectors: FloatArray) -> FloatArray:
    """Solve each p×p system of a stack; a singular one gets the pseudo-inverse step."""
    try:
        solved = np.linalg.solve(matrices, vectors[..., None])[..., 0]
    except np.linalg.LinAlgError:
        solved = np.einsum("gij,gj->gi", np.linalg.pinv(matrices), vectors)
    return np.asarray(solved, dtype=np.float64)


class _Rows:
    """The rows of the groups still being fitted, sorted by group so that per-group sums are
    `np.add.reduceat` and per-group values reach rows by `np.repeat` (both many times faster
    than bincount and fancy indexing); columns and their pairwise products (for X'WX) stored
    contiguously, one row each."""

    def __init__(
        self,
        group: IntArray,
        columns: FloatArray,
        products: FloatArray,
        outcome: FloatArray,
        offset: FloatArray,
    ) -> None:
        self.group, self.columns, self.products = group, columns, products
        self.outcome, self.offset = outcome, offset
        p = columns.shape[0]
        self.cells = [(int(i), int(j)) for i, j in zip(*np.triu_indices(p), strict=True)]
        change = np.ones(group.size, dtype=bool)
        change[1:] = group[1:] != group[:-1]
        self.starts = np.flatnonzero(change)
        self.lengths = np.diff(np.append(self.starts, group.size))

    @classmethod
    def sorted(
        cls, group: IntArray, X: FloatArray, y: FloatArray, offset: FloatArray, rows: IntArray
    ) -> _Rows:
        """`rows` of the data, sorted by group."""
        order = rows[np.argsort(group[rows])]
        columns = np.ascontiguousarray(X[order].T)
        cells = list(zip(*np.triu_indices(X.shape[1]), strict=True))
        products = np.empty((len(cells), order.size))
        for cell, (i, j) in enumerate(cells):
            np.multiply(columns[i], columns[j], out=products[cell])
        return cls(group[order], columns, products, y[order], offset[order])

    def restricted(self, keep_group: BoolArray) -> _Rows:
        keep = keep_group[self.group]
        return _Rows(
            self.group[keep],
            self.columns[:, keep],
            self.products[:, keep],
            self.outcome[keep],
            self.offset[keep],
        )

    def sum(self, values: FloatArray, n_groups: int) -> FloatArray:
        out = np.zeros(n_groups)
        if self.starts.size:
            out[self.group[self.starts]] = np.add.reduceat(values, self.starts)
        return out

    def linear_predictor(self, coef: FloatArray) -> FloatArray:
        eta = self.offset.copy()
        for j, column in enumerate(self.columns):
            eta += column * np.repeat(coef[self.group[self.starts], j], self.lengths)
        return eta

    def log_likelihood(self, eta: FloatArray, n_groups: int) -> tuple[FloatArray, FloatArray]:
        """Σ y·η − log(1 + e^η) per group, and e^−|η| (both overflow-free)."""
        small = np.exp(-np.abs(eta))
        terms = self.outcome * eta
        terms -= np.maximum(eta, 0.0)
        terms -= np.log1p(small)
        return self.sum(terms, n_groups), small

    def derivatives(
        self, eta: FloatArray, small: FloatArray, n_groups: int
    ) -> tuple[FloatArray, FloatArray]:
        """Per group, the log-likelihood's gradient X'(y − μ) and information X'WX."""
        mu = np.where(eta >= 0, 1.0, small)
        mu /= 1 + small
        residual = self.outcome - mu
        mu *= 1 - mu  # now the IRLS weight μ(1 − μ)
        gradient = np.stack([self.sum(c * residual, n_groups) for c in self.columns], axis=1)
        p = self.columns.shape[0]
        info = np.empty((n_groups, p, p))
        for cell, (i, j) in enumerate(self.cells):
            info[:, i, j] = info[:, j, i] = self.sum(mu * self.products[cell], n_groups)
        return gradient, info


def _newton_groups(
    group: IntArray,
    X: FloatArray,
    y: FloatArray,
    offset: FloatArray,
    *,
    fit: BoolArray,
    l2: float,
) -> _NewtonResult:
    """Maximise Σ [y·η − log(1 + e^η)] − l2/2·|β|², η = offset + x·β, for every group in
    `fit` at once: Newton steps from β = 0, halving a group's last step whenever its
    objective fell, until each group's step is below 1e-9."""
    n_groups, p = fit.size, X.shape[1]
    coef, previous = np.zeros((n_groups, p)), np.zeros((n_groups, p))
    best = np.full(n_groups, -np.inf)
    information = np.zeros((n_groups, p, p))
    active, converged = fit.copy(), np.zeros(n_groups, dtype=bool)
    rows = _Rows.sorted(group, X, y, offset, np.flatnonzero(active[group]))
    for _ in range(_MAX_NEWTON):
        eta = rows.linear_predictor(coef)
        loglik, small = rows.log_likelihood(eta, n_groups)
        objective = loglik - l2 / 2 * (coef**2).sum(axis=1)
        worse = active & (objective < best - 1e-12 * (1 + np.abs(best)))
        if worse.any():
            coef[worse] = (previous[worse] + coef[worse]) / 2
            continue
        best = np.where(active, objective, best)
        gradient, info = rows.derivatives(eta, small, n_groups)
        information[active] = info[active]
        step = np.zeros_like(coef)
        step[active] = _solve_stack(info[active] + l2 * np.eye(p), (gradient - l2 * coef)[active])
        previous, coef = coef, coef + step
        done = active & (np.abs(step).max(axis=1, initial=0.0) < _NEWTON_TOL)
        converged |= done
        active &= ~done
        if not active.any():
            break
        if active[rows.group].mean() < 0.5:  # drop finished groups' rows once most are done
            rows = rows.restricted(active)
    return _NewtonResult(coef=coef, information=information, converged=converged)


def _determined(information: FloatArray, l2: float) -> BoolArray:
    """Whether the data (not the ridge, nor rounding) fix every coefficient of each fit."""
    if information.shape[-1] == 0:
        return np.ones(information.shape[0], dtype=bool)
    eigen = np.linalg.eigvalsh(information)
    floor = np.maximum(_DATA_OVER_RIDGE * l2, 1e-10 * eigen[:, -1])
    return (eigen[:, 0] > floor) & (eigen[:, -1] > 0)


def _inference(
    coef: FloatArray, information: FloatArray, l2: float
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Standard errors from the inverse penalised information, Wald z and two-sided p."""
    p = coef.shape[1]
    covariance = np.linalg.pinv(information + l2 * np.eye(p))
    se = np.sqrt(np.clip(np.diagonal(covariance, axis1=1, axis2=2), 0.0, None))
    z = safe_ratio(coef, se)
    z = np.where(np.isfinite(z), z, 0.0)
    return se, z, 2 * norm.sf(np.abs(z))


def _as_design(
    X: ArrayLike, y: ArrayLike, offset: ArrayLike | None
) -> tuple[FloatArray, FloatArray, FloatArray]:
    design = np.asarray(X, dtype=np.float64)
    if design.ndim == 1:
        design = design[:, None]
    outcome = np.asarray(y, dtype=np.float64).ravel()
    if design.shape[0] != outcome.size:
        raise ValueError("X and y must have the same number of rows")
    shift = np.zeros(outcome.size) if offset is None else np.asarray(offset, dtype=np.float64)
    return design, outcome, np.broadcast_to(shift, outcome.shape).astype(np.float64)


def logistic_fit(
    X: ArrayLike, y: ArrayLike, *, offset: ArrayLike | None = None, l2: float = 0.0
) -> LogisticFit:
    """Maximum-likelihood logistic regression P(y=1) = σ(offset + X·β) by Newton's method (IRLS).

    The caller supplies the intercept column. `l2` adds −l2/2·|β|² to the log-likelihood
    (every column, the intercept included) and se comes from the penalised information
    X'WX + l2·I. On well-posed data this equals statsmodels `Logit(y, X, offset=...).fit()`
    (params and bse). When the data do not determine β (perfect separation, collinear
    columns, no rows) it never raises: coef is the fit under a ridge of at least 1e-6, and
    se, z and p_value are None.
    """
    design, outcome, shift = _as_design(X, y, offset)
    group = np.zeros(outcome.size, dtype=np.int64)
    single = np.ones(1, dtype=bool)
    fit = _newton_groups(group, design, outcome, shift, fit=single, l2=l2)
    if fit.converged[0] and _determined(fit.information, l2)[0]:
        se, z, p_value = _inference(fit.coef, fit.information, l2)
        return LogisticFit(fit.coef[0], se[0], z[0], p_value[0], converged=True)
    if not fit.converged[0] or l2 < FALLBACK_RIDGE:
        fit = _newton_groups(group, design, outcome, shift, fit=single, l2=max(l2, FALLBACK_RIDGE))
    return LogisticFit(fit.coef[0], se=None, z=None, p_value=None, converged=False)


def logistic_fit_grouped(
    group: ArrayLike,
    X: ArrayLike,
    y: ArrayLike,
    *,
    offset: ArrayLike | None = None,
    l2: float = FALLBACK_RIDGE,
    n_groups: int | None = None,
) -> GroupedLogisticFit:
    """`logistic_fit` for many groups at once (e.g. one per rater): batched Newton steps with
    one (G, p, p) stack of Hessians and `np.linalg.solve` on the stack.

    `group` holds ids 0..G−1 (G = `n_groups`, default max + 1). The small default ridge keeps
    separated groups finite; it moves well-posed estimates by ~l2/n. A group is `defined` when
    it has at least p + 1 rows, both outcomes, converges, and its data (not the ridge)
    determine every coefficient (curvature ≥ 1000·l2 in every direction).
    """
    design, outcome, shift = _as_design(X, y, offset)
    ids = np.asarray(group, dtype=np.int64).ravel()
    if ids.size != outcome.size:
        raise ValueError("group and y must have the same length")
    count = int(ids.max()) + 1 if n_groups is None and ids.size else int(n_groups or 0)
    p = design.shape[1]
    n_rows = np.bincount(ids, minlength=count)
    positives = np.bincount(ids, outcome, minlength=count)
    eligible = (n_rows >= p + 1) & (positives > 0) & (positives < n_rows)
    fit = _newton_groups(ids, design, outcome, shift, fit=eligible, l2=l2)
    defined = eligible & fit.converged & _determined(fit.information, l2)
    se, z, p_value = _inference(fit.coef, fit.information, l2)
    undefined = ~defined
    coef = np.where(undefined[:, None], 0.0, fit.coef)
    se = np.where(undefined[:, None], 0.0, se)
    z = np.where(undefined[:, None], 0.0, z)
    p_value = np.where(undefined[:, None], 1.0, p_value)
    return GroupedLogisticFit(coef, se, z, p_value, defined=defined, n_rows=n_rows)


# --- Bootstrap over units ----------------------------------------------------------------
#
# Each metric is a function of per-unit sufficient statistics summed over units, so a
# bootstrap replicate is `weights @ per_unit_stats`. Units with identical statistics are
# merged first (a unit's counts per value take few distinct patterns): drawing n units with
# replacement is then exactly a multinomial draw over the patterns with probabilities
# count/n, so the weight matrix is B × patterns, not B × units.


def _weight_chunks(
    counts: IntArray, n_boot: int, rng: np.random.Generator
) -> Iterator[tuple[slice, IntArray]]:
    """Multinomial resampling counts over patterns, drawn chunk by chunk: a binomial split of
    each replicate's draws between this chunk and the rest, then a multinomial inside the
    chunk. Together the chunks are one multinomial draw per replicate, and no weight block
    exceeds n_boot × 8192."""
    draws_left = np.full(n_boot, int(counts.sum()), dtype=np.int64)
    mass_left = int(counts.sum())
    for start in range(0, counts.size, _PATTERN_CHUNK):
        window = slice(start, start + _PATTERN_CHUNK)
        chunk = counts[window]
        mass = int(chunk.sum())
        if mass == 0:
            yield window, np.zeros((n_boot, chunk.size), dtype=np.int64)
            continue
        draws = rng.binomial(draws_left, min(1.0, mass / mass_left))
        yield window, rng.multinomial(draws, chunk / mass).astype(np.int64)
        draws_left -= draws
        mass_left -= mass


def pattern_bootstrap_weights(
    pattern_counts: ArrayLike, n_boot: int = DEFAULT_BOOTSTRAP, seed: int = DEFAULT_SEED
) -> IntArray:
    """(n_boot, P) resampling counts over P patterns holding `pattern_counts` units each: row
    b says how many units of each pattern replicate b draws (each row sums to the units)."""
    counts = np.asarray(pattern_counts, dtype=np.int64).ravel()
    rng = np.random.default_rng(seed)
    blocks = [weights for _, weights in _weight_chunks(counts, n_boot, rng)]
    return np.hstack(blocks) if blocks else np.zeros((n_boot, 0), dtype=np.int64)


def bootstrap_weights(
    n_units: int, n_boot: int = DEFAULT_BOOTSTRAP, seed: int = DEFAULT_SEED
) -> IntArray:
    """(n_boot, n_units) multinomial resampling counts (each row sums to n_units): the
    ordinary nonparametric bootstrap over units (Efron 1979) as a weight matrix, so a
    replicate of any sum over units is one matrix product."""
    return pattern_bootstrap_weights(np.ones(n_units, dtype=np.int64), n_boot, seed)


def unique_rows(matrix: ArrayLike) -> tuple[NDArray[Any], IntArray]:
    """The distinct rows of a 2-D array and how many times each occurs. Non-negative integer
    rows are packed into one int64 key when they fit (much faster than a row sort)."""
    rows = np.asarray(matrix)
    if rows.shape[0] == 0:
        return rows, np.zeros(0, dtype=np.int64)
    if rows.dtype.kind in "iu" and rows.min() >= 0:
        base = int(rows.max()) + 1
        if base ** rows.shape[1] < 2**62:
            powers = base ** np.arange(rows.shape[1], dtype=np.int64)
            keys = rows.astype(np.int64) @ powers
            _, first, counts = np.unique(keys, return_index=True, return_counts=True)
            return rows[first], counts.astype(np.int64)
    distinct, counts = np.unique(rows, axis=0, return_counts=True)
    return distinct, counts.astype(np.int64)


def percentile_interval(
    replicates: ArrayLike, confidence: float = 0.95
) -> tuple[float | None, float | None]:
    """Percentile bootstrap interval over the defined (finite) replicates; None when fewer
    than half of them are defined."""
    values = np.asarray(replicates, dtype=np.float64).ravel()
    finite = values[np.isfinite(values)]
    if finite.size == 0 or finite.size * 2 < values.size:
        return None, None
    tail = (1 - confidence) / 2
    low, high = np.quantile(finite, [tail, 1 - tail])
    return float(low), float(high)


def bootstrap_interval(
    stats: ArrayLike,
    counts: ArrayLike,
    statistic: Callable[[FloatArray], FloatArray],
    *,
    n_boot: int = DEFAULT_BOOTSTRAP,
    seed: int = DEFAULT_SEED,
    confidence: float = 0.95,
) -> tuple[float | None, float | None]:
    """Percentile interval of `statistic` under resampling units with replacement.

    `stats` is (P, d): the summable statistics of each distinct unit pattern, `counts` (P,)
    how many units share it; the summed replicates are `pattern_bootstrap_weights(counts) @
    stats` with the same seed. `statistic` maps (B, d) summed statistics to B values, NaN
    where undefined. n_boot == 0 or no units gives (None, None).
    """
    table = np.asarray(stats, dtype=np.float64)
    weights = np.asarray(counts, dtype=np.int64).ravel()
    if n_boot <= 0 or weights.sum() == 0:
        return None, None
    totals = np.zeros((n_boot, table.shape[1]))
    for window, block in _weight_chunks(weights, n_boot, np.random.default_rng(seed)):
        totals += block @ table[window]
    with np.errstate(divide="ignore", invalid="ignore"):
        replicates = statistic(totals)
    return percentile_interval(replicates, confidence)
