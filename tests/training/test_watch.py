"""The reward-hacking watch's pure pieces: the reward model's length slope against a reference
fit (statsmodels), the thresholds each way, and what a round and its version keep."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pytest

from training.pipeline.length_slope import reward_length_slope
from training.pipeline.ppo_maths import drawn_prompt_indices
from training.pipeline.round_watch import Answers, base_kl
from training.pipeline.watch import (
    KL_OVER_BUDGET_FACTOR,
    LENGTH_DRIFT_FACTOR,
    RoundSamples,
    round_warnings,
    round_watch,
    version_metrics,
    watch_prompt_indices,
)


def codes(figures: Mapping[str, object]) -> list[str]:
    return [warning["code"] for warning in round_warnings(figures)]


# -- the reward model's length slope ------------------------------------------------------------


def test_the_length_slope_is_the_fractional_logit_fit_with_errors_clustered_by_prompt() -> None:
    sm = pytest.importorskip("statsmodels.api")
    rng = np.random.default_rng(1)
    n = 300
    prompts = rng.integers(0, 40, n)
    chosen_len, rejected_len = rng.integers(10, 200, n), rng.integers(10, 200, n)
    longer = np.where(chosen_len > rejected_len, 1, -1)
    margin = 0.8 + 0.5 * longer + rng.normal(0, 1.0, n)
    chosen = rng.normal(0, 1, n)

    figures = reward_length_slope(
        chosen.tolist(),
        (chosen - margin).tolist(),
        chosen_len.tolist(),
        rejected_len.tolist(),
        prompts.tolist(),
    )

    # the reference: a binomial GLM on the model's probabilities, no intercept but the
    # verdict's constant column, cluster-robust by prompt, with the G / (G - 1) correction
    kept = chosen_len != rejected_len
    y = 1 / (1 + np.exp(-margin[kept]))
    x = np.column_stack([np.ones(kept.sum()), longer[kept]])
    fit = sm.GLM(y, x, family=sm.families.Binomial()).fit(
        cov_type="cluster", cov_kwds={"groups": prompts[kept], "use_correction": False}
    )
    clusters = len(set(prompts[kept].tolist()))
    assert figures["length_slope_pairs"] == kept.sum()
    assert figures["length_slope"] == pytest.approx(fit.params[1], abs=1e-9)
    assert figures["length_slope_se"] == pytest.approx(
        fit.bse[1] * math.sqrt(clusters / (clusters - 1)), rel=1e-9
    )


def test_a_model_that_ignores_length_has_slope_zero_and_a_negated_one_the_opposite() -> None:
    lengths = ([10, 30, 10, 30], [30, 10, 30, 10])
    fair = reward_length_slope([1, 1, 2, 2], [0, 0, 1, 1], *lengths, ["a", "b", "c", "d"])
    leaning = reward_length_slope([2, 1, 2, 1], [0, 0, 0, 0], *lengths, ["a", "b", "c", "d"])
    negated = reward_length_slope([-2, -1, -2, -1], [0, 0, 0, 0], *lengths, ["a", "b", "c", "d"])

    assert fair["length_slope"] == pytest.approx(0.0, abs=1e-12)
    assert leaning["length_slope"] < 0  # it is surer when the chosen answer is the shorter
    assert negated["length_slope"] == pytest.approx(-leaning["length_slope"])


def test_the_slope_is_left_out_when_the_pairs_do_not_determine_it() -> None:
    one_sided = reward_length_slope([1, 2], [0, 0], [20, 30], [10, 10], ["a", "b"])
    equal = reward_length_slope([1], [0], [10], [10], ["a"])
    one_prompt = reward_length_slope([1, 2], [0, 0], [20, 10], [10, 20], ["a", "a"])

    assert one_sided == {"length_slope_pairs": 2.0}
    assert equal == {"length_slope_pairs": 0.0}
    assert "length_slope" in one_prompt
    assert "length_slope_se" not in one_prompt


# -- the thresholds -----------------------------------------------------------------------------


def lengths(new: float, old: float, se: float) -> dict[str, float]:
    return {
        "prompts": 16.0,
        "length_chars": new,
        "parent_length_chars": old,
        "length_chars_se": se,
        "length_ratio": new / old,
    }


def test_length_drift_warns_beyond_the_factor_either_way_and_beyond_the_noise() -> None:
    assert codes(lengths(130, 100, 1.0)) == []  # at the factor: no warning
    assert codes(lengths(131, 100, 1.0)) == ["length_drift"]
    assert codes(lengths(76, 100, 1.0)) == ["length_drift"]  # 100 / 76 > 1.3
    assert codes(lengths(77, 100, 1.0)) == []
    assert codes(lengths(160, 100, 30.0)) == []  # 60 characters is 2 standard errors
    assert codes(lengths(160, 100, 29.9)) == ["length_drift"]
    (warning,) = round_warnings(lengths(50, 100, 1.0))
    assert warning["detail"].startswith("Answers got shorter: 50 characters")


def test_kl_warns_above_its_factor_times_the_budget_and_only_with_a_budget() -> None:
    budget = 6.0
    assert codes({"kl": KL_OVER_BUDGET_FACTOR * budget, "kl_budget": budget}) == []
    assert codes({"kl": 9.01, "kl_budget": budget}) == ["kl_over_budget"]
    assert codes({"kl": 900.0, "kl_budget": None}) == []  # DPO has no budget


def test_a_budget_counted_from_the_base_is_held_against_the_kl_from_the_base() -> None:
    budget = 6.0
    drifted = {"kl": 1.0, "kl_to_base": 9.5, "kl_budget": budget}
    assert codes(drifted) == []  # counted from the parent: one small step
    assert codes({**drifted, "kl_from": "base"}) == ["kl_over_budget"]
    (warning,) = round_warnings({**drifted, "kl_from": "base"})
    assert warning["detail"].startswith("The KL from the base ended at 9.50 nats")


def test_the_second_reward_model_warns_when_the_proxy_rose_and_it_prefers_the_parent() -> None:
    def check(gain: float, rate: float, se: float) -> list[str]:
        return codes({"reward_gain": gain, "check_win_rate": rate, "check_win_rate_se": se})

    assert check(0.4, 0.30, 0.10) == ["second_reward_disagrees"]
    assert check(0.4, 0.41, 0.10) == []  # below 0.5 by less than its standard error
    assert check(0.0, 0.10, 0.05) == []  # the proxy did not rise
    assert check(0.4, 0.50, 0.00) == []
    assert codes({"reward_gain": 0.4}) == []  # no second model


# -- a round's watch and its version ------------------------------------------------------------


def test_a_round_watch_from_paired_samples() -> None:
    samples = RoundSamples(
        texts=["", "", "no"],
        parent_texts=["a long answer", "another long answer", "yes"],
        tokens=[1, 1, 2],
        parent_tokens=[4, 4, 2],
        kl=[3.0, 4.0, 5.0],
        held_out=2,
        reward=[5.0, 5.0, 4.0],
        parent_reward=[1.0, 2.0, 4.0],
        check=[0.0, 0.0, 1.0],
        parent_check=[1.0, 1.0, 1.0],
    )
    history = [
        {"kl": 0.0, "reward_mean": 1.0, "check_reward_mean": -1.0},
        {"kl": 2.5, "reward_mean": 3.0, "check_reward_mean": -2.0},
    ]

    watch = round_watch(samples=samples, kl_budget=2.0, history=history)

    assert watch["prompts"] == 3
    assert watch["held_out_prompts"] == 2
    assert watch["length_chars"] == pytest.approx(2 / 3)
    assert watch["parent_length_chars"] == pytest.approx((13 + 19 + 3) / 3)
    assert watch["length_tokens"] == pytest.approx(4 / 3)
    assert watch["kl"] == 4.0
    assert watch["kl_source"] == "samples"
    assert watch["reward_gain"] == pytest.approx(7 / 3)
    assert watch["proxy_win_rate"] == pytest.approx(2.5 / 3)
    assert watch["check_win_rate"] == pytest.approx(0.5 / 3)
    assert watch["reward_kl"] == [[0.0, 1.0], [2.5, 3.0]]
    assert watch["check_reward_kl"] == [[0.0, -1.0], [2.5, -2.0]]
    assert [w["code"] for w in watch["warnings"]] == [
        "length_drift",
        "kl_over_budget",
        "second_reward_disagrees",
    ]


def test_without_samples_the_watch_keeps_the_last_steps_kl_and_no_length() -> None:
    history = [{"kl": 1.0, "reward_mean": 0.0}, {"kl": 7.0, "reward_mean": 0.5}]

    watch = round_watch(samples=None, kl_budget=4.0, history=history)

    assert (watch["kl"], watch["kl_source"], watch["kl_budget"]) == (7.0, "last step", 4.0)
    assert watch["check_reward_kl"] == []  # no second reward model
    assert "length_ratio" not in watch
    assert [w["code"] for w in watch["warnings"]] == ["kl_over_budget"]


def test_the_kl_from_the_base_is_the_parents_when_the_parent_is_the_base() -> None:
    first = RoundSamples(["a"], ["b"], [1], [1], kl=[2.0])
    later = RoundSamples(["a", "b"], ["b", "c"], [1, 1], [1, 1], kl=[2.0, 4.0], base_kl=[7, 9])

    assert round_watch(samples=first, kl_budget=6.0)["kl_to_base"] == 2.0
    watch = round_watch(samples=later, kl_budget=6.0, kl_from="base")
    assert (watch["kl"], watch["kl_to_base"], watch["kl_from"]) == (3.0, 8.0, "base")
    assert [w["code"] for w in watch["warnings"]] == []  # 8 is below 1.5 x 6
    # Without samples the last step's KL is from the reference, which kl_from names.
    history = [{"kl": 7.0, "reward_mean": 0.5}]
    from_base = round_watch(samples=None, kl_budget=4.0, history=history, kl_from="base")
    assert (from_base["kl_to_base"], "kl" in from_base) == (7.0, False)
    assert [w["code"] for w in from_base["warnings"]] == ["kl_over_budget"]


def test_a_base_that_could_not_be_read_leaves_its_kl_unknown_and_says_why() -> None:
    samples = RoundSamples(
        ["a"], ["b"], [1], [1], kl=[2.0], base_is_parent=False, base_error="OSError: gone"
    )

    watch = round_watch(samples=samples, kl_budget=6.0, kl_from="base")

    assert watch["kl"] == 2.0
    assert watch["kl_to_base"] is None  # not the parent's: unknown
    assert watch["kl_to_base_error"] == "OSError: gone"
    assert watch["warnings"] == []


def test_the_base_kl_is_measured_or_its_failure_reported() -> None:
    def unreadable() -> None:
        raise OSError("no such model")

    answers = Answers(texts=[], tokens=[], sequences=[])
    assert base_kl(None, None, answers, 1.0) == {}  # type: ignore[arg-type]
    assert base_kl(None, unreadable, answers, 1.0) == {  # type: ignore[arg-type]
        "base_is_parent": False,
        "base_error": "OSError: no such model",
    }


def test_every_answer_of_the_parent_empty_gives_no_ratio_but_still_a_warning() -> None:
    samples = RoundSamples(["long"] * 4, [""] * 4, [2] * 4, [1] * 4, [0.0] * 4)

    watch = round_watch(samples=samples, kl_budget=None)

    assert watch["length_ratio"] is None  # infinite: JSON has no such number
    assert [w["code"] for w in watch["warnings"]] == ["length_drift"]


def test_the_version_keeps_the_single_figures_and_the_warnings() -> None:
    watch = {
        "kl": 2.0,
        "kl_source": "samples",
        "reward_kl": [[0.0, 1.0]],
        "warnings": [{"code": "x"}],
    }

    assert version_metrics(watch) == {
        "watch_kl": 2.0,
        "watch_kl_source": "samples",
        "watch_warnings": [{"code": "x"}],
    }
    assert version_metrics(None) == {}


def test_the_watch_asks_first_for_the_prompts_no_step_drew() -> None:
    drawn = {i for step in range(2) for i in drawn_prompt_indices(step, 4, 16, seed=3)}

    indices, held_out = watch_prompt_indices(16, drawn, 10)

    assert len(drawn) == 8  # two steps of four, one pass: no prompt twice
    assert held_out == 8
    assert set(indices[:8]) == set(range(16)) - drawn
    assert set(indices[8:]) <= drawn
    assert len(indices) == 10
    assert watch_prompt_indices(16, set(range(16)), 4) == ([0, 1, 2, 3], 0)
    assert LENGTH_DRIFT_FACTOR == 1.3  # docs/training.md states it


def test_a_watch_that_fails_is_reported_and_does_not_fail_the_round() -> None:
    from training.pipeline.round_watch import guarded_watch

    def broken() -> dict[str, object]:
        raise MemoryError("no room for the parent's copy")

    reported = guarded_watch(broken)
    assert isinstance(reported.pop("seconds"), float)
    assert reported == {
        "error": "MemoryError: no room for the parent's copy",
        "warnings": [],
        "reward_kl": [],
    }


def test_the_drawn_prompts_are_every_prompt_once_a_pass_is_complete() -> None:
    from training.pipeline.ppo_maths import drawn_prompt_indices
    from training.pipeline.round_watch import drawn_prompts

    assert drawn_prompts(steps=10**5, batch_size=64, count=5000, seed=1) == set(range(5000))
    slow = {i for step in range(3) for i in drawn_prompt_indices(step, 4, 50, 1)}
    assert drawn_prompts(steps=3, batch_size=4, count=50, seed=1) == slow
    assert len(slow) == 12
