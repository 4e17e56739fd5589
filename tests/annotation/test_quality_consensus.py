"""annotation.quality.consensus: Bradley–Terry per task against a plain reference fit
(scipy.optimize on the same penalised log-likelihood, one group at a time), its symmetries,
degenerate tasks, and the consensus pairs. Pure functions: no database.

Speed (measured on this 2-core development machine while other jobs ran): 250,000 tasks
with K drawn from 2..6 and every pair judged three times (5.26 million comparisons in
random order, outcomes win/tie/loss) fit in 0.95–1.3 s wall time; with one judgment per pair
(1.75 million comparisons) 1.0–1.2 s. `consensus_pairs` on the result takes 0.12 s.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize  # type: ignore[import-untyped, unused-ignore]
from scipy.special import expit, log_expit  # type: ignore[import-untyped, unused-ignore]

from annotation.quality.consensus import BTResult, bradley_terry, consensus_pairs

PRIOR = 0.1


def random_comparisons(rng: np.random.Generator, sizes: np.ndarray, per_group: int):
    """`per_group` comparisons per group among its items, outcomes win/tie/loss, weights."""
    group = np.repeat(np.arange(sizes.size), per_group)
    k = sizes[group]
    a = rng.integers(0, k)
    b = (a + rng.integers(1, k)) % k  # never a itself
    strength = rng.normal(scale=1.5, size=(sizes.size, sizes.max()))
    p_a = expit(strength[group, a] - strength[group, b])
    draw = rng.uniform(size=group.size)
    outcome = np.where(draw < 0.1, 0.5, (draw < 0.1 + 0.9 * p_a).astype(float))
    weight = rng.uniform(0.5, 2.0, size=group.size)
    return group, a, b, outcome, weight


def reference_fit(a, b, outcome, weight, size, prior=PRIOR):
    """Scores and standard errors for one group by generic optimisation of
    Σ w [y log σ(s_a − s_b) + (1 − y) log σ(s_b − s_a)] − prior/2 |s|², written plainly."""

    def negative(s):
        gap = s[a] - s[b]
        loglik = weight * (outcome * log_expit(gap) + (1 - outcome) * log_expit(-gap))
        return -loglik.sum() + prior / 2 * (s**2).sum()

    def gradient(s):
        residual = weight * (outcome - expit(s[a] - s[b]))
        grad = np.zeros(size)
        np.add.at(grad, a, -residual)
        np.add.at(grad, b, residual)
        return grad + prior * s

    fit = minimize(negative, np.zeros(size), jac=gradient, method="BFGS", options={"gtol": 1e-12})
    hessian = prior * np.eye(size)
    for i, j, w in zip(a, b, weight, strict=True):
        p = expit(fit.x[i] - fit.x[j])
        curvature = w * p * (1 - p)
        hessian[i, i] += curvature
        hessian[j, j] += curvature
        hessian[i, j] -= curvature
        hessian[j, i] -= curvature
    return fit.x, np.linalg.inv(hessian)


def test_scores_and_errors_match_a_reference_fit():
    rng = np.random.default_rng(1)
    sizes = rng.integers(2, 7, size=30)
    group, a, b, outcome, weight = random_comparisons(rng, sizes, per_group=12)
    result = bradley_terry(group, a, b, outcome, n_items_per_group=sizes, weight=weight)
    assert result.converged.all()
    for g in range(0, 30, 3):
        rows = group == g
        score, covariance = reference_fit(a[rows], b[rows], outcome[rows], weight[rows], sizes[g])
        np.testing.assert_allclose(result.scores_of(g), score, rtol=0, atol=1e-6)
        own_se = result.se[result.offsets[g] : result.offsets[g + 1]]
        np.testing.assert_allclose(own_se, np.sqrt(np.diag(covariance)), rtol=0, atol=1e-6)
        best, second = np.argsort(-score)[:2]
        gap_variance = covariance[best, best] + covariance[second, second]
        gap_variance -= 2 * covariance[best, second]
        assert result.top_gap[g] == pytest.approx(score[best] - score[second], abs=1e-6)
        assert result.top_gap_se[g] == pytest.approx(np.sqrt(gap_variance), abs=1e-6)


def test_swapping_sides_and_flipping_outcomes_changes_nothing():
    rng = np.random.default_rng(2)
    sizes = rng.integers(2, 6, size=40)
    group, a, b, outcome, weight = random_comparisons(rng, sizes, per_group=8)
    one = bradley_terry(group, a, b, outcome, n_items_per_group=sizes, weight=weight)
    two = bradley_terry(group, b, a, 1 - outcome, n_items_per_group=sizes, weight=weight)
    np.testing.assert_allclose(one.score, two.score, rtol=0, atol=1e-12)
    np.testing.assert_allclose(one.se, two.se, rtol=0, atol=1e-12)
    assert (one.tier == two.tier).all()


def test_an_item_that_beats_all_others_ranks_first_alone():
    # item 2 of 4 wins every comparison; the others split theirs
    a = np.array([2, 2, 2, 2, 0, 1, 0, 1, 3])
    b = np.array([0, 1, 3, 0, 1, 3, 3, 0, 0])
    outcome = np.array([1, 1, 1, 1, 1, 1, 0, 1, 0], dtype=float)
    result = bradley_terry(np.zeros(9), a, b, outcome, n_items_per_group=[4])
    assert result.ranking(0)[0] == [2]
    assert np.argmax(result.score) == 2
    assert np.isfinite(result.score).all()
    assert result.converged.all()


def test_all_ties_give_zero_scores_and_one_tier():
    a, b = np.array([0, 1, 0, 2]), np.array([1, 2, 2, 1])
    result = bradley_terry(np.zeros(4), a, b, np.full(4, 0.5), n_items_per_group=[3])
    np.testing.assert_allclose(result.score, 0.0, atol=1e-12)
    assert result.ranking(0) == [[0, 1, 2]]
    assert consensus_pairs(result).group.size == 0


def test_relabelling_items_permutes_scores():
    rng = np.random.default_rng(3)
    group, a, b, outcome, weight = random_comparisons(rng, np.array([5]), per_group=20)
    permutation = rng.permutation(5)
    one = bradley_terry(group, a, b, outcome, n_items_per_group=[5], weight=weight)
    two = bradley_terry(
        group, permutation[a], permutation[b], outcome, n_items_per_group=[5], weight=weight
    )
    np.testing.assert_allclose(two.score[permutation], one.score, rtol=0, atol=1e-12)
    np.testing.assert_allclose(two.se[permutation], one.se, rtol=0, atol=1e-12)


def test_items_without_comparisons_keep_the_prior():
    # group 0: one item; group 1: items 0 and 1 compared, item 2 never; group 2: nothing
    result = bradley_terry([1], [0], [1], [1.0], n_items_per_group=[1, 3, 2])
    assert result.offsets.tolist() == [0, 1, 4, 6]
    prior_se = 1 / np.sqrt(PRIOR)
    assert result.score[[0, 3, 4, 5]].tolist() == [0.0, 0.0, 0.0, 0.0]
    assert result.se[[0, 4, 5]] == pytest.approx([prior_se] * 3, abs=1e-12)
    assert result.score[1] > 0 > result.score[2]
    assert result.ranking(0) == [[0]]
    assert result.ranking(1) == [[0], [2], [1]]
    assert result.ranking(2) == [[0, 1]]
    assert result.group.tolist() == [0, 1, 1, 1, 2, 2]
    assert result.item.tolist() == [0, 0, 1, 2, 0, 1]


def test_win_probability_and_top_gap():
    result = bradley_terry([0, 0, 0], [0, 0, 1], [1, 2, 2], [1.0, 1.0, 0.0], n_items_per_group=[3])
    s = result.score
    assert result.win_probability(0, 0, 1) == pytest.approx(expit(s[0] - s[1]), abs=1e-15)
    probability = result.win_probability([0, 0], [0, 2], [2, 0])
    assert probability.sum() == pytest.approx(1.0, abs=1e-15)
    assert result.top_gap_z().tolist() == [result.top_gap[0] / result.top_gap_se[0]]
    single = bradley_terry([], [], [], [], n_items_per_group=[1, 2])
    assert single.top_gap_z().tolist() == [0.0, 0.0]  # one item; two items never compared


def test_consensus_pairs_list_every_untied_pair_by_group():
    rng = np.random.default_rng(4)
    sizes = np.array([3, 1, 4, 2])
    group, a, b, outcome, weight = random_comparisons(rng, np.maximum(sizes, 2), per_group=15)
    keep = group != 1
    result = bradley_terry(
        group[keep], a[keep], b[keep], outcome[keep], n_items_per_group=sizes, weight=weight[keep]
    )
    pairs = consensus_pairs(result)
    expected = []
    for g, size in enumerate(sizes):
        scores, tiers = result.scores_of(g), result.tier[result.offsets[g] : result.offsets[g + 1]]
        for i in range(size):
            for j in range(size):
                if scores[i] > scores[j] and tiers[i] != tiers[j]:
                    expected.append((g, i, j, expit(scores[i] - scores[j])))
    got = sorted(zip(pairs.group, pairs.better, pairs.worse, pairs.probability, strict=True))
    expected.sort()
    assert [row[:3] for row in got] == [row[:3] for row in expected]
    assert [row[3] for row in got] == pytest.approx([row[3] for row in expected], abs=1e-12)
    assert (np.diff(pairs.group) >= 0).all()
    confident = consensus_pairs(result, min_probability=0.8)
    assert (confident.probability >= 0.8).all()
    assert confident.group.size == int((pairs.probability >= 0.8).sum())


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"group": [0], "item_a": [0], "item_b": [0], "outcome": [1.0]}, "itself"),
        ({"group": [0], "item_a": [0], "item_b": [2], "outcome": [1.0]}, "item indices"),
        ({"group": [1], "item_a": [0], "item_b": [1], "outcome": [1.0]}, "group ids"),
        ({"group": [0], "item_a": [0], "item_b": [1], "outcome": [2.0]}, "outcomes"),
        ({"group": [0, 0], "item_a": [0], "item_b": [1], "outcome": [1.0]}, "same length"),
    ],
)
def test_malformed_input_is_rejected(arguments, message):
    with pytest.raises(ValueError, match=message):
        bradley_terry(**arguments, n_items_per_group=[2])


def test_nothing_to_fit():
    result = bradley_terry([], [], [], [], n_items_per_group=[])
    assert result.n_groups == 0
    assert result.score.size == 0
    assert consensus_pairs(result).group.size == 0
    assert result.top_gap_z().size == 0


@settings(max_examples=50, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 6), min_size=1, max_size=8),
    per_group=st.integers(0, 12),
    seed=st.integers(0, 2**16),
)
def test_fits_are_finite_centred_and_converged(sizes, per_group, seed):
    rng = np.random.default_rng(seed)
    size_array = np.array(sizes)
    has_pairs = np.flatnonzero(size_array >= 2)
    group, a, b, outcome, _ = random_comparisons(rng, np.maximum(size_array, 2), per_group)
    keep = np.isin(group, has_pairs)
    result: BTResult = bradley_terry(
        group[keep], a[keep], b[keep], outcome[keep], n_items_per_group=size_array
    )
    assert result.converged.all()
    assert np.isfinite(result.score).all()
    assert (result.se > 0).all()
    for g in range(len(sizes)):
        assert abs(result.scores_of(g).sum()) < 1e-9
        tiers = result.tier[result.offsets[g] : result.offsets[g + 1]]
        assert set(tiers.tolist()) == set(range(int(tiers.max()) + 1))
