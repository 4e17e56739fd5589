"""annotation.quality.estimate, .stats, .logistic and .bootstrap against reference
implementations (scipy, statsmodels, plain loops written here) and on degenerate inputs. Pure
functions: no database.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import statsmodels.api as sm  # type: ignore[import-untyped, unused-ignore]
from scipy.stats import binomtest  # type: ignore[import-untyped, unused-ignore]
from statsmodels.stats.multitest import multipletests  # type: ignore[import-untyped, unused-ignore]
from statsmodels.stats.proportion import proportion_confint  # type: ignore[import-untyped, unused-ignore]

from annotation.quality.bootstrap import (
    bootstrap_interval,
    bootstrap_weights,
    pattern_bootstrap_weights,
    percentile_interval,
)
from annotation.quality.estimate import Estimate
from annotation.quality.logistic import logistic_fit, logistic_fit_grouped
from annotation.quality.stats import (
    binomial_test,
    binomial_test_many,
    holm,
    one_sided_binomial_greater,
    one_sided_binomial_less,
    wilson_interval,
)

TOL = 1e-9


# --- stats: Estimate, binomial, Holm ------------------------------------------------------


def test_estimate_as_dict_says_none_for_undefined():
    assert Estimate.undefined(3).as_dict() == {
        "value": None,
        "ci_low": None,
        "ci_high": None,
        "n": 3,
    }
    assert Estimate(0.5, 0.25, 0.75, 10).as_dict()["ci_high"] == 0.75


def test_wilson_interval_matches_statsmodels():
    rng = np.random.default_rng(1)
    n = rng.integers(1, 500, size=400)
    k = rng.binomial(n, rng.uniform(size=400))
    for confidence in (0.95, 0.9):
        low, high = wilson_interval(k, n, confidence)
        ref_low, ref_high = proportion_confint(k, n, alpha=1 - confidence, method="wilson")
        np.testing.assert_allclose(low, ref_low, rtol=0, atol=TOL)
        np.testing.assert_allclose(high, ref_high, rtol=0, atol=TOL)
    scalar = wilson_interval(3, 10)
    assert isinstance(scalar[0], float)
    assert scalar == pytest.approx(proportion_confint(3, 10, method="wilson"), abs=TOL)


def test_wilson_interval_without_trials_is_everything():
    assert wilson_interval(0, 0) == (0.0, 1.0)
    low, high = wilson_interval(np.array([0, 2]), np.array([0, 4]))
    assert (low[0], high[0]) == (0.0, 1.0)
    assert 0 < low[1] < 0.5 < high[1] < 1


def test_binomial_test_matches_scipy():
    rng = np.random.default_rng(2)
    n = rng.integers(1, 400, size=600)
    p = rng.uniform(0.01, 0.99, size=600)
    k = rng.binomial(n, np.clip(p * rng.uniform(0.6, 1.4, size=600), 0, 1))
    expected = [binomtest(int(a), int(b), float(c)).pvalue for a, b, c in zip(k, n, p, strict=True)]
    np.testing.assert_allclose(binomial_test_many(k, n, p), expected, rtol=0, atol=TOL)
    for k_, n_, p_ in itertools.product([0, 1, 5, 10], [10], [0.5, 0.1, 0.9]):
        assert binomial_test(k_, n_, p_) == pytest.approx(binomtest(k_, n_, p_).pvalue, abs=TOL)


def test_binomial_test_without_trials_is_one():
    assert binomial_test(0, 0) == 1.0
    assert binomial_test_many(np.array([0, 3]), np.array([0, 3]), 0.5)[0] == 1.0


def test_one_sided_binomial_tails_match_scipy():
    k, n, p = np.array([0, 3, 7, 10]), np.array([10, 10, 10, 10]), 0.3
    for i in range(4):
        greater = binomtest(int(k[i]), int(n[i]), p, alternative="greater").pvalue
        less = binomtest(int(k[i]), int(n[i]), p, alternative="less").pvalue
        assert one_sided_binomial_greater(k, n, p)[i] == pytest.approx(greater, abs=TOL)
        assert one_sided_binomial_less(k, n, p)[i] == pytest.approx(less, abs=TOL)
    assert one_sided_binomial_greater(0, 0, 0.5) == 1.0


def test_holm_matches_statsmodels_with_ties():
    rng = np.random.default_rng(3)
    pvalues = rng.uniform(0, 0.3, size=40)
    pvalues[[4, 9, 17]] = pvalues[2]
    np.testing.assert_allclose(holm(pvalues), multipletests(pvalues, method="holm")[1], atol=TOL)
    assert holm([]).size == 0


# --- stats: logistic regression -----------------------------------------------------------


def logistic_data(rng: np.random.Generator, rows: int) -> tuple[np.ndarray, np.ndarray]:
    X = np.column_stack([np.ones(rows), rng.normal(size=rows), rng.integers(0, 2, size=rows)])
    eta = 0.2 + 0.8 * X[:, 1] - 0.6 * X[:, 2]
    return X, (rng.uniform(size=rows) < 1 / (1 + np.exp(-eta))).astype(float)


def test_logistic_fit_matches_statsmodels_with_offset():
    rng = np.random.default_rng(4)
    X, y = logistic_data(rng, 400)
    offset = rng.normal(scale=0.5, size=400)
    fit = logistic_fit(X, y, offset=offset)
    reference = sm.Logit(y, X, offset=offset).fit(disp=0)
    assert fit.converged
    assert fit.se is not None
    assert fit.z is not None
    assert fit.p_value is not None
    np.testing.assert_allclose(fit.coef, reference.params, rtol=0, atol=1e-6)
    np.testing.assert_allclose(fit.se, reference.bse, rtol=0, atol=1e-6)
    np.testing.assert_allclose(fit.p_value, reference.pvalues, rtol=0, atol=1e-6)


@pytest.mark.parametrize(
    "case",
    ["separated", "constant_y", "collinear", "empty"],
)
def test_logistic_fit_is_defined_without_a_unique_maximum(case):
    rng = np.random.default_rng(5)
    X, y = logistic_data(rng, 60)
    if case == "separated":
        y = (X[:, 1] > 0).astype(float)
    elif case == "constant_y":
        y = np.ones(60)
    elif case == "collinear":
        X = np.column_stack([X, 2 * X[:, 1]])
    else:
        X, y = X[:0], y[:0]
    fit = logistic_fit(X, y)
    assert not fit.converged
    assert fit.se is None
    assert fit.z is None
    assert fit.p_value is None
    assert np.isfinite(fit.coef).all()


def test_logistic_fit_grouped_matches_one_fit_per_group():
    rng = np.random.default_rng(6)
    parts = [logistic_data(rng, int(rows)) for rows in (150, 300, 220)]
    group = np.concatenate([np.full(len(y), g) for g, (_, y) in enumerate(parts)])
    X = np.concatenate([x for x, _ in parts])
    y = np.concatenate([y for _, y in parts])
    order = rng.permutation(group.size)  # rows need not arrive grouped
    fit = logistic_fit_grouped(group[order], X[order], y[order], l2=0.0)
    assert fit.defined.all()
    for g, (x_g, y_g) in enumerate(parts):
        reference = sm.Logit(y_g, x_g).fit(disp=0)
        np.testing.assert_allclose(fit.coef[g], reference.params, rtol=0, atol=1e-6)
        np.testing.assert_allclose(fit.se[g], reference.bse, rtol=0, atol=1e-6)
        np.testing.assert_allclose(fit.p_value[g], reference.pvalues, rtol=0, atol=1e-6)
    assert fit.n_rows.tolist() == [150, 300, 220]


def test_logistic_fit_grouped_marks_undefined_groups_without_nan():
    rng = np.random.default_rng(7)
    X, y = logistic_data(rng, 200)
    separated = (X[:, 1] > 0).astype(float)
    group = np.concatenate([np.zeros(100), np.ones(100), np.full(3, 2), np.full(50, 4)])
    X_all = np.concatenate([X[:100], X[100:200], X[:3], X[:50]])
    y_all = np.concatenate([y[:100], separated[100:200], y[:3], np.ones(50)])
    fit = logistic_fit_grouped(group.astype(int), X_all, y_all, n_groups=6)
    # group 0 well posed; 1 separated; 2 too few rows; 3 and 5 empty; 4 constant outcome
    assert fit.defined.tolist() == [True, False, False, False, False, False]
    for array in (fit.coef, fit.se, fit.z, fit.p_value):
        assert np.isfinite(array).all()
    assert (fit.coef[1:] == 0).all()
    assert (fit.p_value[1:] == 1).all()


# --- stats: bootstrap ---------------------------------------------------------------------


def test_bootstrap_weights_resample_every_unit_count_reproducibly():
    weights = bootstrap_weights(50, n_boot=30, seed=4)
    assert weights.shape == (30, 50)
    assert (weights.sum(axis=1) == 50).all()
    assert (weights == bootstrap_weights(50, n_boot=30, seed=4)).all()
    assert (weights != bootstrap_weights(50, n_boot=30, seed=5)).any()


def test_bootstrap_interval_is_the_percentile_of_weighted_sums():
    rng = np.random.default_rng(8)
    stats = rng.uniform(size=(20_000, 2))  # more patterns than one weight chunk holds
    counts = rng.integers(1, 4, size=20_000)
    weights = pattern_bootstrap_weights(counts, n_boot=40, seed=3)
    assert (weights.sum(axis=1) == counts.sum()).all()
    totals = weights @ stats
    expected = np.quantile(totals[:, 0] / totals[:, 1], [0.025, 0.975])
    low, high = bootstrap_interval(stats, counts, lambda t: t[:, 0] / t[:, 1], n_boot=40, seed=3)
    assert (low, high) == pytest.approx(tuple(expected), abs=1e-12)


def test_percentile_interval_needs_most_replicates_defined():
    assert percentile_interval([np.nan, np.nan, 1.0]) == (None, None)
    assert percentile_interval([1.0, 2.0, 3.0, np.nan], confidence=0.5) == (1.5, 2.5)


def test_binomial_test_is_symmetric_at_one_half():
    k = np.arange(0, 21)
    np.testing.assert_allclose(binomial_test_many(k, 20), binomial_test_many(20 - k, 20))
