"""annotation.quality.stats and .metrics against reference implementations (scipy,
statsmodels, the krippendorff package, plain loops written here), on degenerate inputs, and
as hypothesis properties. Pure functions: no database.

Speed (measured on this 2-core development machine while other jobs ran; best of 3):
Krippendorff's alpha on 999,000 ratings (333,000 units with arbitrary ids × 3 ratings, rows
shuffled, values −1/0/+1, raters drawn from 100):
- `krippendorff_alpha(unit, value)`, 200-replicate bootstrap interval included: 0.15 s
  (ordinal and nominal), 0.19 s (interval); 0.15–0.17 s with `n_boot=0`;
- the `krippendorff` package, `alpha(reliability_data=matrix)` on the same data as its
  100 × 333,000 matrix (built outside the timing): 0.46–0.48 s at each level.
Both give the same alpha (difference 0.0).
"""

from __future__ import annotations

import itertools

import krippendorff
import numpy as np
import pytest
import statsmodels.api as sm  # type: ignore[import-untyped, unused-ignore]
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binomtest, friedmanchisquare, rankdata  # type: ignore[import-untyped, unused-ignore]
from statsmodels.stats.inter_rater import fleiss_kappa as statsmodels_fleiss_kappa  # type: ignore[import-untyped, unused-ignore]
from statsmodels.stats.multitest import multipletests  # type: ignore[import-untyped, unused-ignore]
from statsmodels.stats.proportion import proportion_confint  # type: ignore[import-untyped, unused-ignore]

from annotation.quality.metrics import (
    alpha_from_matrix,
    fleiss_kappa,
    kendalls_w,
    krippendorff_alpha,
    percent_agreement,
)
from annotation.quality.stats import (
    Estimate,
    binomial_test,
    binomial_test_many,
    bootstrap_interval,
    bootstrap_weights,
    holm,
    logistic_fit,
    logistic_fit_grouped,
    one_sided_binomial_greater,
    one_sided_binomial_less,
    pattern_bootstrap_weights,
    percentile_interval,
    wilson_interval,
)

TOL = 1e-9
PROPERTY = settings(max_examples=50, deadline=None)


def long_format(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rater, unit, value) rows of a raters × units matrix, NaN cells left out."""
    rater, unit = np.nonzero(~np.isnan(matrix))
    return rater, unit, matrix[rater, unit]


def random_matrix(rng: np.random.Generator, values: list[float], missing: float) -> np.ndarray:
    shape = (int(rng.integers(2, 8)), int(rng.integers(5, 60)))
    matrix = rng.choice(np.asarray(values, dtype=float), size=shape)
    matrix[rng.uniform(size=matrix.shape) < missing] = np.nan
    return matrix


def assert_interval_in(estimate: Estimate, low: float, high: float) -> None:
    assert estimate.value is not None
    assert low - TOL <= estimate.value <= high + TOL
    if estimate.ci_low is not None and estimate.ci_high is not None:
        assert low - TOL <= estimate.ci_low <= estimate.ci_high <= high + TOL


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


# --- percent agreement --------------------------------------------------------------------


def percent_agreement_loop(unit: np.ndarray, value: np.ndarray, include_ties: bool) -> float:
    agreeing = pairs = 0
    for u in np.unique(unit):
        ratings = [v for v in value[unit == u] if include_ties or v != 0]
        for first, second in itertools.combinations(ratings, 2):
            pairs += 1
            agreeing += first == second
    return agreeing / pairs


@pytest.mark.parametrize("include_ties", [True, False])
def test_percent_agreement_matches_a_loop(include_ties):
    rng = np.random.default_rng(9)
    for _ in range(5):
        _, unit, value = long_format(random_matrix(rng, [-1, 0, 1], missing=0.3))
        estimate = percent_agreement(unit, value, include_ties=include_ties)
        expected = percent_agreement_loop(unit, value, include_ties)
        assert estimate.value == pytest.approx(expected, abs=TOL)
        kept = value != 0 if not include_ties else np.ones(value.size, dtype=bool)
        assert estimate.n == int((np.bincount(unit[kept]) >= 2).sum())
        assert_interval_in(estimate, 0, 1)


# --- Krippendorff's alpha -----------------------------------------------------------------


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval"])
@pytest.mark.parametrize("values", [[-1.0, 0.0, 1.0], [1.0, 1.5, 2.0, 3.5, 7.0]])
def test_alpha_matches_the_krippendorff_package(level, values):
    rng = np.random.default_rng(10)
    for _ in range(6):
        matrix = random_matrix(rng, values, missing=0.35)
        if np.unique(matrix[~np.isnan(matrix)]).size < 2:
            continue
        expected = krippendorff.alpha(reliability_data=matrix, level_of_measurement=level)
        assert alpha_from_matrix(matrix, level=level).value == pytest.approx(expected, abs=TOL)
        _, unit, value = long_format(matrix)
        ours = krippendorff_alpha(unit, value, level=level)
        assert ours.value == pytest.approx(expected, abs=TOL)
        assert ours.n == int(((~np.isnan(matrix)).sum(axis=0) >= 2).sum())


def test_alpha_rejects_an_unknown_level():
    with pytest.raises(ValueError, match="level"):
        krippendorff_alpha([0, 0], [1.0, 2.0], level="ratio")  # type: ignore[arg-type]


def test_alpha_is_one_for_perfect_agreement_with_variation():
    unit = np.repeat(np.arange(6), 3)
    value = np.repeat([1.0, 2.0, 3.0, 1.0, 2.0, 3.0], 3)
    for level in ("nominal", "ordinal", "interval"):
        estimate = krippendorff_alpha(unit, value, level=level)
        assert estimate.value == 1.0
        assert (estimate.ci_low, estimate.ci_high) == (1.0, 1.0)


# --- Fleiss' kappa ------------------------------------------------------------------------


def test_fleiss_kappa_matches_statsmodels_with_equal_ratings_per_unit():
    rng = np.random.default_rng(11)
    for raters in (2, 3, 5):
        ratings = rng.integers(0, 4, size=(80, raters))
        unit = np.repeat(np.arange(80), raters)
        table = np.stack([(ratings == c).sum(axis=1) for c in range(4)], axis=1)
        expected = statsmodels_fleiss_kappa(table, method="fleiss")
        assert fleiss_kappa(unit, ratings.ravel()).value == pytest.approx(expected, abs=TOL)


def test_fleiss_kappa_with_varying_ratings_per_unit_is_the_generalisation():
    rng = np.random.default_rng(12)
    _, unit, value = long_format(random_matrix(rng, [0.0, 1.0, 2.0], missing=0.4))
    agreement, pooled = [], np.zeros(3)
    for u in np.unique(unit):
        counts = np.array([(value[unit == u] == c).sum() for c in (0.0, 1.0, 2.0)])
        n = counts.sum()
        if n >= 2:
            agreement.append((counts * (counts - 1)).sum() / (n * (n - 1)))
            pooled += counts
    shares = pooled / pooled.sum()
    chance = (shares**2).sum()
    expected = (np.mean(agreement) - chance) / (1 - chance)
    assert fleiss_kappa(unit, value).value == pytest.approx(expected, abs=TOL)


# --- Kendall's W --------------------------------------------------------------------------


def ranking_tasks(rng: np.random.Generator, shapes: list[tuple[int, int]], levels: int):
    """Long-format rows of tasks with (raters, items) shapes and integer scores (ties when
    `levels` is small)."""
    rows = []
    for t, (m, n) in enumerate(shapes):
        scores = rng.integers(0, levels, size=(m, n)).astype(float)
        for r, i in itertools.product(range(m), range(n)):
            rows.append((t, 100 + r, 1000 + i, scores[r, i]))
    task, rater, item, score = (np.array(column) for column in zip(*rows, strict=True))
    return task, rater, item, score


def test_kendalls_w_matches_friedman_with_ties():
    rng = np.random.default_rng(13)
    shapes = [(3, 4), (5, 6), (4, 3), (2, 5), (6, 8)] * 4
    task, rater, item, score = ranking_tasks(rng, shapes, levels=4)
    order = rng.permutation(task.size)
    result = kendalls_w(task[order], rater[order], item[order], score[order])
    for t, (m, n) in enumerate(shapes):
        block = score[task == t].reshape(m, n)
        if (block == block[:, :1]).all():  # every rater tied everything: undefined
            assert not result.defined[t]
            continue
        friedman = friedmanchisquare(*block.T)
        assert result.defined[t]
        assert result.per_task[t] == pytest.approx(friedman.statistic / (m * (n - 1)), abs=TOL)
        assert result.p_value[t] == pytest.approx(friedman.pvalue, abs=TOL)
    assert (result.n_raters == [m for m, _ in shapes]).all()
    assert result.mean.value == pytest.approx(result.per_task[result.defined].mean(), abs=TOL)
    assert result.mean.n == int(result.defined.sum())


def test_kendalls_w_two_items_and_given_mid_ranks():
    # two raters agree, one reverses: R = (4, 5) with mid-ranks, W = 12·0.5/(9·6) = 1/9
    task = np.zeros(6, dtype=int)
    rater = np.repeat([1, 2, 3], 2)
    item = np.tile([0, 1], 3)
    rank = np.array([1, 2, 1, 2, 2, 1], dtype=float)
    assert kendalls_w(task, rater, item, rank).per_task[0] == pytest.approx(1 / 9, abs=TOL)
    mid = np.concatenate([rankdata([3, 1, 1]), rankdata([2, 1, 1])])
    tied = kendalls_w(np.zeros(6), np.repeat([0, 1], 3), np.tile([0, 1, 2], 2), mid)
    friedman = friedmanchisquare(*np.array([[3, 1, 1], [2, 1, 1]]).T)
    assert tied.per_task[0] == pytest.approx(friedman.statistic / 4, abs=TOL)


def test_kendalls_w_undefined_tasks_are_left_out_of_the_mean():
    rows = [
        (0, 0, 0, 1.0), (0, 0, 1, 2.0), (0, 1, 0, 1.0), (0, 1, 1, 2.0),  # perfect: W = 1
        (1, 0, 0, 1.0), (1, 0, 1, 2.0),  # one rater
        (2, 0, 0, 1.0), (2, 0, 1, 1.0), (2, 1, 0, 1.0), (2, 1, 1, 1.0),  # all tied
        (3, 0, 0, 1.0), (3, 0, 1, 2.0), (3, 1, 0, 1.0),  # incomplete
        (4, 0, 0, 1.0), (4, 0, 0, 2.0), (4, 1, 0, 1.0), (4, 1, 1, 2.0),  # item ranked twice
    ]  # fmt: skip
    task, rater, item, rank = (np.array(column) for column in zip(*rows, strict=True))
    result = kendalls_w(task, rater, item, rank)
    assert result.defined.tolist() == [True, False, False, False, False]
    assert result.per_task.tolist() == [1.0, 0.0, 0.0, 0.0, 0.0]
    assert result.mean == Estimate(1.0, 1.0, 1.0, 1)


# --- degenerate inputs --------------------------------------------------------------------

EMPTY = np.zeros(0)


@pytest.mark.parametrize(
    "metric",
    [
        percent_agreement,
        fleiss_kappa,
        lambda unit, value: krippendorff_alpha(unit, value, level="nominal"),
        lambda unit, value: krippendorff_alpha(unit, value, level="interval"),
        krippendorff_alpha,
    ],
)
@pytest.mark.parametrize(
    ("unit", "value"),
    [
        (EMPTY, EMPTY),  # nothing rated
        (np.arange(5), np.ones(5)),  # one rating per unit
        (np.array([0, 0, 1]), np.array([np.nan, 1.0, 1.0])),  # missing leaves one each
    ],
)
def test_metrics_without_pairable_units_are_undefined(metric, unit, value):
    assert metric(unit, value) == Estimate(None, None, None, 0)


def test_a_single_value_everywhere():
    unit, value = np.repeat(np.arange(4), 3), np.ones(12)
    assert percent_agreement(unit, value) == Estimate(1.0, 1.0, 1.0, 4)
    assert krippendorff_alpha(unit, value) == Estimate(None, None, None, 4)
    assert fleiss_kappa(unit, value) == Estimate(None, None, None, 4)


def test_all_ties_without_ties_is_undefined():
    unit, value = np.repeat(np.arange(4), 3), np.zeros(12)
    assert percent_agreement(unit, value, include_ties=False) == Estimate.undefined()
    assert percent_agreement(unit, value).value == 1.0


def test_kendalls_w_on_nothing():
    result = kendalls_w(EMPTY, EMPTY, EMPTY, EMPTY)
    assert result.per_task.size == 0
    assert result.mean == Estimate.undefined()


def test_no_interval_when_not_asked():
    unit = np.repeat(np.arange(10), 2)
    value = np.tile([1.0, -1.0], 10)
    estimate = krippendorff_alpha(unit, value, n_boot=0)
    assert estimate.value is not None
    assert (estimate.ci_low, estimate.ci_high) == (None, None)


# --- properties ---------------------------------------------------------------------------

ratings_strategy = st.lists(
    st.lists(st.sampled_from([-1.0, 0.0, 1.0]), min_size=0, max_size=5), min_size=1, max_size=15
)


def to_long(units: list[list[float]]) -> tuple[np.ndarray, np.ndarray]:
    unit = np.concatenate([np.full(len(values), u) for u, values in enumerate(units)])
    value = np.concatenate([np.array(values, dtype=float) for values in units])
    return unit.astype(np.int64), value


@PROPERTY
@given(units=ratings_strategy, seed=st.integers(0, 2**16))
def test_agreement_metrics_stay_in_bounds_and_ignore_labels(units, seed):
    unit, value = to_long(units)
    rng = np.random.default_rng(seed)
    relabel = rng.permutation(len(units)) * 7 + 3
    order = rng.permutation(unit.size)
    metrics = {
        "percent": (lambda u, v: percent_agreement(u, v, n_boot=50), 0.0, 1.0),
        "alpha": (lambda u, v: krippendorff_alpha(u, v, n_boot=50), -np.inf, 1.0),
        "kappa": (lambda u, v: fleiss_kappa(u, v, n_boot=50), -np.inf, 1.0),
    }
    for metric, low, high in metrics.values():
        estimate = metric(unit, value)
        if estimate.value is not None:
            assert_interval_in(estimate, low, high)
        relabelled = metric(relabel[unit][order], value[order])
        assert relabelled.n == estimate.n
        assert relabelled.as_dict() == pytest.approx(estimate.as_dict(), abs=1e-12)


@PROPERTY
@given(
    units=st.lists(
        st.tuples(st.sampled_from([1.0, 2.5, 4.0]), st.integers(2, 5)), min_size=1, max_size=12
    )
)
def test_perfect_agreement_gives_one(units):
    unit = np.concatenate([np.full(k, u) for u, (_, k) in enumerate(units)])
    value = np.concatenate([np.full(k, v) for v, k in units])
    assert percent_agreement(unit, value).value == 1.0
    alpha = krippendorff_alpha(unit, value).value
    assert alpha == (1.0 if len({v for v, _ in units}) > 1 else None)


@PROPERTY
@given(
    shapes=st.lists(st.tuples(st.integers(1, 4), st.integers(1, 5)), min_size=1, max_size=6),
    levels=st.integers(1, 6),
    seed=st.integers(0, 2**16),
)
def test_kendalls_w_in_bounds_and_invariant_to_relabelling(shapes, levels, seed):
    rng = np.random.default_rng(seed)
    task, rater, item, score = ranking_tasks(rng, shapes, levels)
    result = kendalls_w(task, rater, item, score, n_boot=50)
    assert ((result.per_task >= 0) & (result.per_task <= 1)).all()
    assert ((result.p_value >= 0) & (result.p_value <= 1)).all()
    if result.mean.value is not None:
        assert_interval_in(result.mean, 0.0, 1.0)
    task_map = rng.permutation(len(shapes)) + 50
    rater_map = rng.permutation(200)
    order = rng.permutation(task.size)
    again = kendalls_w(task_map[task][order], rater_map[rater][order], item[order], score[order])
    by_task = dict(zip(again.tasks.tolist(), again.per_task.tolist(), strict=True))
    expected = dict(zip(task_map[result.tasks].tolist(), result.per_task.tolist(), strict=True))
    assert by_task == pytest.approx(expected, abs=1e-12)
    assert again.mean.value == pytest.approx(result.mean.value, abs=1e-12)


@PROPERTY
@given(m=st.integers(2, 5), n=st.integers(2, 6))
def test_kendalls_w_is_one_when_raters_agree(m, n):
    task = np.zeros(m * n)
    rater = np.repeat(np.arange(m), n)
    item = np.tile(np.arange(n), m)
    assert kendalls_w(task, rater, item, np.tile(np.arange(n), m)).per_task[0] == 1.0


def test_binomial_test_is_symmetric_at_one_half():
    k = np.arange(0, 21)
    np.testing.assert_allclose(binomial_test_many(k, 20), binomial_test_many(20 - k, 20))
