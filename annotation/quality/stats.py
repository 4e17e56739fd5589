"""Statistical building blocks for the quality report: binomial tests and intervals, Holm's
correction and the array helpers the other modules share. Pure numpy/scipy.

NaN may be used inside this package as a marker for "undefined" in intermediate arrays,
never in a return value: metrics return an `annotation.quality.estimate.Estimate`.
The logistic regression lives in `logistic`, the unit bootstrap in `bootstrap`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.stats import binom, norm  # type: ignore[import-untyped, unused-ignore]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

# Relative tolerance scipy's binomtest uses to decide that two pmf values are equal.
_BINOM_RERR = 1 + 1e-7


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


def sum_by(index: IntArray, weights: ArrayLike | None, size: int) -> FloatArray:
    """Σ weights (1 each when None) per index value 0..size−1: a float `np.bincount`."""
    return np.asarray(np.bincount(index, weights, minlength=size), dtype=np.float64)
