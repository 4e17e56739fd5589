"""The arena's leaderboard and its choice of the next comparison (annotation/arena.py), on
simulated raters comparing models of known gold quality."""

from __future__ import annotations

import math

import numpy as np
import pytest

from annotation.arena import (
    ArenaError,
    Comparisons,
    Leaderboard,
    fit_leaderboard,
    next_pair,
    win_probability,
)

GOLD = np.array([-0.6, 0.0, 0.6])  # three versions' true Bradley-Terry strengths


def _compare(
    a: int, b: int, rng: np.random.Generator, length_pull: float = 0.0
) -> tuple[float, float]:
    """A simulated rater's outcome for a's answer against b's, and the log length ratio:
    model 2's answers are twice as long on average (each answer's length varies), which
    `length_pull` rewards per unit log ratio."""
    typical = np.log(np.array([100.0, 100.0, 200.0]))
    ratio = float(typical[a] - typical[b] + rng.normal(0, 0.5) - rng.normal(0, 0.5))
    p = 1.0 / (1.0 + math.exp(-(GOLD[a] - GOLD[b] + length_pull * ratio)))
    return float(rng.random() < p), ratio


def _uniform(n: int, seed: int, length_pull: float = 0.0, gold: np.ndarray = GOLD) -> Comparisons:
    rng = np.random.default_rng(seed)
    pairs = [tuple(rng.choice(len(gold), 2, replace=False)) for _ in range(n)]
    rows = [_compare(int(a), int(b), rng, length_pull) for a, b in pairs]
    return Comparisons(
        first=np.array([a for a, _ in pairs]),
        second=np.array([b for _, b in pairs]),
        outcome=np.array([o for o, _ in rows]),
        log_length_ratio=np.array([r for _, r in rows]),
    )


def test_the_leaderboard_orders_known_qualities_and_its_intervals_cover_them() -> None:
    board = fit_leaderboard(_uniform(900, seed=1), 3, seed=1)
    assert [s.model for s in board.standings] == [2, 1, 0]
    for standing in board.standings:
        assert standing.low < standing.score < standing.high
    assert [s.lead_low > 0 for s in board.standings] == [False, True, True]
    assert sum(s.comparisons for s in board.standings) == 2 * 900
    assert board.top_separated
    assert 0.5 < win_probability(board, 2, 0) < 1.0


def test_intervals_cover_the_truth_in_most_repeats() -> None:
    """95 % intervals: over 40 arenas of 300 comparisons each, the truth is inside about 95 %
    of the time (each model's interval, so 120 chances)."""
    truth = GOLD - GOLD.mean()
    inside = [
        s.low <= truth[s.model] <= s.high
        for seed in range(40)
        for s in fit_leaderboard(_uniform(300, seed), 3, n_boot=200, seed=seed).standings
    ]
    assert 0.88 <= sum(inside) / len(inside) <= 1.0


def _tasks_judged_by_several(
    seed: int,
    tasks: int,
    raters: int,
    spread: float,
    strengths: np.ndarray = GOLD,
    compared: list[int] | None = None,
) -> Comparisons:
    """Tasks of two answers each judged by `raters` people, between the `compared` models
    (default all). The two answers have a chance of their own to win, drawn around the
    models' (Beta with concentration `spread`; 0: exactly the models'), so one task's
    judgments share more than the models' strengths."""
    rng = np.random.default_rng(seed)
    among = len(strengths) if compared is None else compared
    rows = []
    for task in range(tasks):
        a, b = (int(m) for m in rng.choice(among, 2, replace=False))
        q = 1.0 / (1.0 + math.exp(strengths[b] - strengths[a]))
        p = rng.beta(spread * q, spread * (1 - q)) if spread else q
        rows += [(a, b, float(rng.random() < p), task) for _ in range(raters)]
    first, second, outcome, cluster = (np.array(column) for column in zip(*rows, strict=True))
    return Comparisons(first, second, outcome, np.zeros(len(rows)), cluster=cluster)


def _coverage_and_width(arenas: list[Comparisons]) -> tuple[float, float]:
    truth = GOLD - GOLD.mean()
    standings = [
        s for seed, data in enumerate(arenas) for s in fit_leaderboard(data, 3, seed=seed).standings
    ]
    inside = [s.low <= truth[s.model] <= s.high for s in standings]
    return sum(inside) / len(inside), float(np.mean([s.high - s.low for s in standings]))


def _unclustered(data: Comparisons) -> Comparisons:
    return Comparisons(data.first, data.second, data.outcome, data.log_length_ratio)


def test_a_tasks_raters_are_resampled_together_so_intervals_still_cover_the_truth() -> None:
    """Five raters per task, answers whose own chance varies: counted one by one, the judgments
    look five times as many as they are worth, and the intervals cover the truth about 3 times
    in 4 (0.73 here); resampled by task, about 95 % (0.94)."""
    arenas = [_tasks_judged_by_several(seed, 100, 5, spread=1.0) for seed in range(60)]
    clustered, clustered_width = _coverage_and_width(arenas)
    naive, naive_width = _coverage_and_width([_unclustered(a) for a in arenas])
    assert clustered >= 0.88, clustered
    assert naive < clustered - 0.08, (naive, clustered)
    assert clustered_width > 1.3 * naive_width


def test_resampling_by_task_costs_no_width_when_a_tasks_judgments_are_independent() -> None:
    arenas = [_tasks_judged_by_several(seed, 100, 5, spread=0.0) for seed in range(20)]
    _, clustered_width = _coverage_and_width(arenas)
    _, naive_width = _coverage_and_width([_unclustered(a) for a in arenas])
    assert clustered_width == pytest.approx(naive_width, rel=0.05)


def _with_an_uncompared_model(seed: int, uncompared: int) -> Comparisons:
    """Four models, one of which has answers but was never compared (as when a model has
    just entered the arena); 400 tasks of five raters among the other three, answers whose
    own chance varies."""
    strengths = np.array([0.0, 0.4, 0.8, 0.2])
    compared = [m for m in range(4) if m != uncompared]
    return _tasks_judged_by_several(seed, 400, 5, 1.0, strengths, compared)


@pytest.mark.parametrize("uncompared", [3, 0])  # the fit's reference model, or another
def test_the_wald_intervals_widen_for_shared_tasks_even_beside_an_uncompared_model(
    uncompared: int,
) -> None:
    """The fast intervals the next task is chosen from (and a large arena's leaderboard) are
    about as wide as the task bootstrap's for the models people compared: a model with no
    comparisons, whose variance only the prior sets, must not hide the clustering (one
    design effect for the whole fit did: 0.6 of the bootstrap's width)."""
    ratios = []
    for seed in range(4):
        data = _with_an_uncompared_model(seed, uncompared)
        fast = fit_leaderboard(data, 4, n_boot=0)
        boot = fit_leaderboard(data, 4, n_boot=200, seed=seed)
        width = {s.model: s.lead_high - s.lead_low for s in fast.standings}
        ratios += [
            width[s.model] / (s.lead_high - s.lead_low)
            for s in boot.standings[1:]
            if s.model != uncompared
        ]
    assert np.mean(ratios) > 0.9, ratios


def test_length_control_takes_out_what_length_alone_won() -> None:
    """Model 2 is the best, and also writes twice as long, and the raters reward length on
    top: the plain fit credits model 2 with both, the length-controlled one only with its
    quality (and says how much length won)."""
    data = _uniform(2000, seed=3, length_pull=1.5)
    plain = fit_leaderboard(data, 3, seed=3)
    controlled = fit_leaderboard(data, 3, length_controlled=True, seed=3)
    scores = {s.model: s.score for s in plain.standings}
    fair = {s.model: s.score for s in controlled.standings}
    truth = GOLD - GOLD.mean()
    assert scores[2] > truth[2] + 0.3  # inflated by length
    assert fair[2] == pytest.approx(truth[2], abs=0.25)
    assert controlled.length_coefficient == pytest.approx(1.5, abs=0.4)
    assert plain.length_coefficient is None


def _comparisons_to_separate(active: bool, seed: int, limit: int = 1500) -> int:
    """Comparisons, in batches of 20, until the leader's interval clears every other's (five
    models, the best 0.5 above the next). Active choice reads the fit's Wald intervals, as
    the arena's service does; separation is the leaderboard's bootstrap test."""
    gold = np.array([0.0, 0.5, 1.0, -0.3, -0.6])
    rng = np.random.default_rng(seed)
    first: list[int] = []
    second: list[int] = []
    outcome: list[float] = []
    choice: Leaderboard | None = None
    while len(first) < limit:
        for _ in range(20):
            if active and choice is not None:
                a, b = next_pair(choice)
            else:
                a, b = (int(m) for m in rng.choice(len(gold), 2, replace=False))
            first.append(a)
            second.append(b)
            outcome.append(float(rng.random() < 1 / (1 + math.exp(gold[b] - gold[a]))))
        data = Comparisons(
            np.array(first), np.array(second), np.array(outcome), np.zeros(len(first))
        )
        board = fit_leaderboard(data, len(gold), n_boot=100, seed=seed)
        choice = fit_leaderboard(data, len(gold), n_boot=0)
        if board.top_separated and board.standings[0].model == 2:
            return len(first)
    return limit


def test_active_choice_separates_the_top_with_fewer_comparisons_than_uniform() -> None:
    seeds = range(6)
    uniform = [_comparisons_to_separate(False, seed) for seed in seeds]
    active = [_comparisons_to_separate(True, seed) for seed in seeds]
    assert sum(active) < 0.8 * sum(uniform), (active, uniform)


def test_an_arena_with_one_model_or_an_unknown_model_is_refused() -> None:
    one = Comparisons(np.array([0]), np.array([0]), np.array([1.0]), np.zeros(1))
    with pytest.raises(ArenaError, match="at least two models"):
        fit_leaderboard(one, 1)
    stray = Comparisons(np.array([0]), np.array([3]), np.array([1.0]), np.zeros(1))
    with pytest.raises(ArenaError, match="outside the arena"):
        fit_leaderboard(stray, 3)
    empty = fit_leaderboard(
        Comparisons(*(np.zeros(0, dtype=int),) * 2, np.zeros(0), np.zeros(0)), 3
    )
    assert empty.comparisons == 0
    assert not empty.top_separated
    assert next_pair(empty) == (0, 1)
