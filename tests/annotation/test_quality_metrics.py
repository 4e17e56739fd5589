"""annotation.quality.metrics against reference implementations (scipy,
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
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import friedmanchisquare, rankdata  # type: ignore[import-untyped, unused-ignore]
from statsmodels.stats.inter_rater import fleiss_kappa as statsmodels_fleiss_kappa  # type: ignore[import-untyped, unused-ignore]

from annotation.quality.estimate import Estimate
from annotation.quality.metrics import (
    alpha_from_matrix,
    fleiss_kappa,
    kendalls_w,
    krippendorff_alpha,
    percent_agreement,
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
