"""Ranking validation and implied pairs: examples, then hypothesis properties."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from annotation.ranking import ImpliedPair, RankingError, implied_pairs, labels_for, parse_tiers


def test_tiers_of_labels_become_tiers_of_positions() -> None:
    assert parse_tiers([["C"], ["A", "D"], ["B"]], labels_for(4)) == [[2], [0, 3], [1]]


@pytest.mark.parametrize(
    ("tiers", "code"),
    [
        ([], "ranking_not_tiers"),
        ("A>B", "ranking_not_tiers"),
        ([["A"], []], "ranking_empty_tier"),
        ([["A"], "B"], "ranking_empty_tier"),
        ([["A"], ["E"]], "ranking_unknown_label"),
        ([["A"], [1]], "ranking_unknown_label"),
        ([["A", "A"], ["B"]], "ranking_duplicate_label"),
        ([["A"], ["B"], ["A"]], "ranking_duplicate_label"),
        ([["A"], ["B"]], "ranking_incomplete"),
    ],
)
def test_bad_rankings_are_refused_with_a_code(tiers: object, code: str) -> None:
    with pytest.raises(RankingError) as raised:
        parse_tiers(tiers, labels_for(3))
    assert raised.value.code == code


def test_pairs_across_tiers_carry_the_gap_and_ties_within_a_tier() -> None:
    pairs = implied_pairs([[1], [0, 2]])
    assert pairs == [
        ImpliedPair(better=1, worse=0, is_tie=False, tier_gap=1),
        ImpliedPair(better=1, worse=2, is_tie=False, tier_gap=1),
        ImpliedPair(better=0, worse=2, is_tie=True, tier_gap=0),
    ]


@st.composite
def ranking_of(draw: st.DrawFn, max_k: int = 8) -> tuple[int, list[list[str]]]:
    """A valid ranking: a random permutation of K labels cut into random tiers."""
    k = draw(st.integers(min_value=2, max_value=max_k))
    order = draw(st.permutations(labels_for(k)))
    cuts = sorted(draw(st.sets(st.integers(min_value=1, max_value=k - 1))))
    bounds = [0, *cuts, k]
    return k, [list(order[a:b]) for a, b in itertools.pairwise(bounds)]


@given(ranking_of())
def test_every_valid_ranking_is_accepted_and_names_each_position_once(case: tuple) -> None:
    k, tiers = case
    positions = parse_tiers(tiers, labels_for(k))
    assert sorted(p for tier in positions for p in tier) == list(range(k))
    assert [len(t) for t in positions] == [len(t) for t in tiers]


@given(ranking_of())
def test_implied_pairs_cover_every_unordered_pair_exactly_once(case: tuple) -> None:
    k, tiers = case
    pairs = implied_pairs(parse_tiers(tiers, labels_for(k)))
    unordered = [frozenset((p.better, p.worse)) for p in pairs]
    assert len(unordered) == k * (k - 1) // 2
    assert set(unordered) == {frozenset(c) for c in itertools.combinations(range(k), 2)}


@given(ranking_of())
def test_better_side_is_always_in_a_higher_tier_unless_tied(case: tuple) -> None:
    k, tiers = case
    positions = parse_tiers(tiers, labels_for(k))
    tier_of = {p: i for i, tier in enumerate(positions) for p in tier}
    for pair in implied_pairs(positions):
        gap = tier_of[pair.worse] - tier_of[pair.better]
        assert gap == pair.tier_gap
        assert pair.is_tie == (gap == 0)


@given(ranking_of(), st.data())
def test_dropping_or_duplicating_a_label_is_always_refused(
    case: tuple, data: st.DataObject
) -> None:
    k, tiers = case
    flat = [label for tier in tiers for label in tier]
    victim = data.draw(st.sampled_from(flat))
    dropped = [[label for label in tier if label != victim] for tier in tiers]
    dropped = [tier for tier in dropped if tier]
    with pytest.raises(RankingError):
        parse_tiers(dropped, labels_for(k))
    with pytest.raises(RankingError):
        parse_tiers([*tiers, [victim]], labels_for(k))
