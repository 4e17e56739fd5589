"""The nonparametric bootstrap over units (Efron 1979) as weight matrices, and the percentile
interval it gives. Pure numpy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from annotation.quality.stats import FloatArray, IntArray

DEFAULT_BOOTSTRAP = 200
DEFAULT_SEED = 0
# Multinomial weights are drawn for this many patterns at a time (bounds the B x P matrix).
_PATTERN_CHUNK = 8192

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
