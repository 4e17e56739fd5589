"""A reward model's accuracy beside its interval and baselines (training/pipeline/figures.py)."""

from __future__ import annotations

import pytest

from training.pipeline.figures import clustered_interval, honest_figures, wilson_interval


def test_the_wilson_interval_matches_its_textbook_values() -> None:
    assert wilson_interval(50, 100) == pytest.approx((0.4038, 0.5962), abs=1e-4)
    assert wilson_interval(9, 10) == pytest.approx((0.5958, 0.9821), abs=1e-4)
    assert wilson_interval(0, 0) == (0.0, 1.0)  # nothing counted: nothing known
    assert wilson_interval(10, 10) == pytest.approx((0.7225, 1.0), abs=1e-4)


def test_ties_count_half_and_the_length_rules_are_scored_on_the_same_pairs() -> None:
    # four pairs: chosen scored higher, higher, tied, lower
    figures = honest_figures(
        chosen=[2.0, 1.0, 0.5, 0.0],
        rejected=[1.0, 0.0, 0.5, 1.0],
        chosen_lengths=[100, 200, 50, 90],  # chosen longer, longer, equal, ...
        rejected_lengths=[90, 100, 50, 100],  # ... shorter than its rival
    )
    assert figures["accuracy"] == (1 + 1 + 0.5 + 0) / 4
    assert figures["chance_accuracy"] == 0.5
    assert figures["longer_wins_accuracy"] == (1 + 1 + 0.5 + 0) / 4
    assert figures["shorter_wins_accuracy"] == 1 - figures["longer_wins_accuracy"]
    # lengths within 20 %: pairs 1 (100/90), 3 (50/50) and 4 (90/100); pair 2 (200/100) is not
    assert figures["length_matched_pairs"] == 3
    assert figures["length_matched_accuracy"] == (1 + 0.5 + 0) / 3
    assert figures["accuracy_ci_low"] < figures["accuracy"] < figures["accuracy_ci_high"]


def test_a_model_that_only_likes_long_answers_is_exposed_by_length_matched_pairs() -> None:
    """It matches the "longer wins" rule exactly, and is at chance where lengths are alike."""
    chosen_lengths = [300, 280, 310, 100, 200, 210, 150, 160]
    rejected_lengths = [100, 90, 120, 290, 205, 200, 155, 150]
    by_length = [float(n) for n in chosen_lengths], [float(n) for n in rejected_lengths]

    figures = honest_figures(*by_length, chosen_lengths, rejected_lengths)

    assert figures["accuracy"] == figures["longer_wins_accuracy"] == 5 / 8
    assert figures["length_matched_pairs"] == 4
    assert figures["length_matched_accuracy"] == 0.5


def test_no_length_matched_pairs_leaves_that_figure_out() -> None:
    figures = honest_figures([1.0], [0.0], [100], [10])
    assert figures["length_matched_pairs"] == 0
    assert "length_matched_accuracy" not in figures
    assert figures["accuracy"] == 1.0


def test_pairs_of_one_prompt_widen_the_interval() -> None:
    """Ten prompts whose pairs are all right or all wrong together: the evidence is ten
    prompts, not sixty pairs, and the interval says so."""
    outcomes = [1.0] * 36 + [0.0] * 24  # six prompts of 6 right pairs, four of 6 wrong
    groups = [i // 6 for i in range(60)]
    wilson = wilson_interval(sum(outcomes), 60)
    clustered = clustered_interval(outcomes, groups)
    assert clustered is not None
    assert clustered[1] - clustered[0] > 1.5 * (wilson[1] - wilson[0])
    figures = honest_figures(outcomes, [0.5] * 60, [10] * 60, [10] * 60, groups)
    assert (figures["accuracy_ci_low"], figures["accuracy_ci_high"]) == pytest.approx(clustered)
    assert clustered_interval([1.0, 0.0], ["one", "one"]) is None  # one group: no clustering
