"""Logistic regression for the quality report: one fit (`logistic_fit`) or one per group at
once (`logistic_fit_grouped`, e.g. one per rater), by Newton's method (IRLS). Pure numpy/scipy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import norm  # type: ignore[import-untyped, unused-ignore]

from annotation.quality.stats import BoolArray, FloatArray, IntArray, safe_ratio

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


def ridge_logistic_grouped(
    group: ArrayLike, X: ArrayLike, y: ArrayLike, *, l2: float, n_groups: int | None = None
) -> FloatArray:
    """(G, p) coefficients of a penalised fit per group, every group fitted whatever its data:
    the ridge is a prior here, not a fallback, so a group whose data alone do not fix the
    coefficients (a model that won every comparison of a bootstrap resample) still gets the
    penalised estimate, never zeros."""
    design, outcome, shift = _as_design(X, y, None)
    ids = np.asarray(group, dtype=np.int64).ravel()
    count = int(ids.max()) + 1 if n_groups is None and ids.size else int(n_groups or 0)
    fit = _newton_groups(ids, design, outcome, shift, fit=np.ones(count, dtype=bool), l2=l2)
    return fit.coef
