"""Label savings from uncertainty routing (`make bench-active`): the reward model's held-out
accuracy as a function of human judgments spent, when the pairs people judge are chosen at
random, least confident first (|mean margin| / std over the heads), or most informative first
(BALD, the order the app routes by).

The setting (Gao et al. 2022's gold reward model, with real texts):

- pairs: bench-train's split of Anthropic HH harmless (80/20 by line, seed 1234): the 1,196
  training pairs are the pool people may judge, the 299 others are held out;
- features: the embedded SmolLM2-135M's last-token features of every answer (what the reward
  model's score head reads), computed once and cached in $RLHF_VAR_DIR/bench;
- gold: a linear Bradley-Terry head fitted on the pool's real human labels (the best linear
  reading of those people); a held-out pair's gold order is its higher gold score;
- simulated raters: a pool pair comes out a over b with probability sigma(s (g_a - g_b)), the
  gold's log-odds at face value (`--bt-scale` s, default 1), one draw per pair and seed, so
  every route sees the same answers;
- the reward model: K linear heads on those features, each on a bootstrap resample
  (training/pipeline/active.py), refitted after every batch of judgments.

The gold is itself a linear head on these features, so the learner can match it exactly: the
most favourable case for choosing pairs by uncertainty. The held-out human labels are
reported beside it, where that advantage is gone. Prints the curve's points and a last JSON
line with `human_judgments_saved` (most informative first against random) and
`accuracy_at_budget` for every route.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import time
from pathlib import Path
from statistics import mean, stdev
from typing import Any

import torch

from tests.benchmarks.bench_train import HH, hh_split
from training.pipeline.active import ROUTES, ActiveSetup, acquisition_curve, judgments_saved
from training.pipeline.data import PreferencePair, encode_pairs
from training.pipeline.model_loading import load_reward_model, load_tokenizer, resolve_model
from training.pipeline.probe import fit_linear_head, last_token_features


def cache_folder() -> Path:
    folder = Path(os.environ.get("RLHF_VAR_DIR", "var")) / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def answer_features(pairs: list[PreferencePair], bf16: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, D) features of the chosen and of the rejected answers, cached by the data and the
    model."""
    location = resolve_model("smollm2")
    key = hashlib.sha256(HH.read_bytes() + str(location).encode() + bytes([bf16])).hexdigest()
    cached = cache_folder() / f"active-features-{key[:16]}-{len(pairs)}.pt"
    if cached.is_file():
        chosen, rejected = torch.load(cached)
        return chosen, rejected
    started = time.perf_counter()
    tokenizer = load_tokenizer(location, padding_side="right")
    model = load_reward_model(location, tokenizer, heads=1)
    rows = encode_pairs(tokenizer, pairs, 4096)
    sequences = [r["chosen_ids"] for r in rows] + [r["rejected_ids"] for r in rows]
    features = last_token_features(model, sequences, bf16)
    chosen, rejected = features[: len(rows)], features[len(rows) :]
    torch.save((chosen, rejected), cached)
    print(f"features of {len(sequences)} answers in {time.perf_counter() - started:.0f} s")
    return chosen, rejected


def build_setup(
    train: tuple[torch.Tensor, torch.Tensor],
    test: tuple[torch.Tensor, torch.Tensor],
    bt_scale: float,
    seed: int,
) -> tuple[ActiveSetup, float]:
    """The experiment of one seed, and how often its raters follow the gold order. Each pair
    is stored in a random order (the first is the chosen one half the time), so neither a
    label nor a route can lean on the side."""
    rng = torch.Generator().manual_seed(seed)
    pool_diff = train[0] - train[1]
    gold, _ = fit_linear_head(pool_diff)  # on the pool's human labels (chosen first)
    flip_pool = torch.rand(len(pool_diff), generator=rng) < 0.5
    pool = torch.where(flip_pool[:, None], -pool_diff, pool_diff)
    first_wins = torch.sigmoid(bt_scale * (pool @ gold))
    rater_first = torch.rand(len(pool), generator=rng) < first_wins
    test_diff = test[0] - test[1]
    flip_test = torch.rand(len(test_diff), generator=rng) < 0.5
    held_out = torch.where(flip_test[:, None], -test_diff, test_diff)
    agreement = float((rater_first == (pool @ gold > 0)).double().mean())
    setup = ActiveSetup(
        pool=pool,
        rater_first=rater_first,
        held_out=held_out,
        gold_first=held_out @ gold > 0,
        human_first=~flip_test,
    )
    return setup, agreement


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=5, help="repeats (rater draws, starts)")
    parser.add_argument("--heads", type=int, default=8, help="ensemble heads")
    parser.add_argument("--start", type=int, default=50, help="random judgments to begin with")
    parser.add_argument("--step", type=int, default=50, help="judgments added per round")
    parser.add_argument("--budget", type=int, default=600, help="human judgments in all")
    parser.add_argument("--bt-scale", type=float, default=1.0, help="rater noise: s in sigma")
    parser.add_argument("--fp32", action="store_true", help="features without bf16 autocast")
    return parser.parse_args()


def standard_error(values: list[float]) -> float:
    return stdev(values) / len(values) ** 0.5 if len(values) > 1 else float("nan")


def spread(values: list[float]) -> str:
    return f"{mean(values):.3f} ± {standard_error(values):.3f}"


def per_seed_saving(curves: dict[str, list[Any]], budgets: list[int], route: str) -> list[float]:
    """Each seed's own saving (the route against random on that seed), for the spread."""
    return [
        judgments_saved(
            budgets, [p.accuracy for p in random_curve], [p.accuracy for p in routed_curve]
        )
        for random_curve, routed_curve in zip(curves["random"], curves[route], strict=True)
    ]


def print_curve(curves: dict[str, list[Any]], budgets: list[int]) -> None:
    """The table: each budget's held-out accuracy per route, against gold and human labels."""
    names = [f"{route} ({labels})" for labels in ("gold", "human") for route in ROUTES]
    print(f"{'judgments':>9}  " + "  ".join(f"{name:>19}" for name in names))
    for index, budget in enumerate(budgets):
        cells = [
            spread([getattr(curve[index], field) for curve in curves[route]])
            for field in ("accuracy", "human_accuracy")
            for route in ROUTES
        ]
        print(f"{budget:>9}  " + "  ".join(f"{cell:>19}" for cell in cells))


def savings(
    curves: dict[str, list[Any]], budgets: list[int], means: dict[str, Any], route: str
) -> dict[str, Any]:
    """One route's savings against random: from the seed-averaged curves, per seed (mean and
    standard error) and on the held-out pairs' human labels."""
    gold, human = means["accuracy"], means["human_accuracy"]
    seeds = per_seed_saving(curves, budgets, route)
    return {
        "saved": round(judgments_saved(budgets, gold["random"], gold[route]), 3),
        "seed_mean_se": [round(mean(seeds), 3), round(standard_error(seeds), 3)],
        "per_seed": [round(v, 3) for v in seeds],
        "on_human_labels": round(judgments_saved(budgets, human["random"], human[route]), 3),
    }


def summary(curves: dict[str, list[Any]], budgets: list[int]) -> dict[str, Any]:
    """The JSON line's figures. `human_judgments_saved` is for the order the app routes by
    (annotation/routing.py: the most informative first); least-confident-first beside it."""
    means = {
        field: {
            route: [mean(getattr(c[i], field) for c in curves[route]) for i in range(len(budgets))]
            for route in ROUTES
        }
        for field in ("accuracy", "human_accuracy")
    }
    informative = savings(curves, budgets, means, "informative")
    return {
        "human_judgments_saved": informative["saved"],
        "human_judgments_saved_seed_mean_se": informative["seed_mean_se"],
        "human_judgments_saved_per_seed": informative["per_seed"],
        "human_judgments_saved_on_human_labels": informative["on_human_labels"],
        "least_confident_first": savings(curves, budgets, means, "least_confident"),
        "accuracy_at_budget": {r: round(means["accuracy"][r][-1], 4) for r in ROUTES},
        "human_accuracy_at_budget": {r: round(means["human_accuracy"][r][-1], 4) for r in ROUTES},
        "budget": budgets[-1],
    }


def main() -> None:
    args = parse_args()
    started = time.perf_counter()
    train_pairs, test_pairs, refused = hh_split(None, None)
    chosen, rejected = answer_features(train_pairs + test_pairs, not args.fp32)
    cut = len(train_pairs)
    train, test = (chosen[:cut], rejected[:cut]), (chosen[cut:], rejected[cut:])
    budgets = list(range(args.start, args.budget + 1, args.step))
    curves: dict[str, list[Any]] = {route: [] for route in ROUTES}
    for seed in range(args.seeds):
        setup, agreement = build_setup(train, test, args.bt_scale, seed)
        print(f"seed {seed}: the simulated raters follow the gold order on {agreement:.3f}")
        for route in ROUTES:
            curves[route].append(acquisition_curve(setup, route, budgets, args.heads, seed))
    print(
        f"\nHH harmless: {cut} pool / {len(test_pairs)} held-out pairs "
        f"(80/20 by line, seed 1234; the importer refused {refused}); {args.heads} heads, "
        f"{args.seeds} seeds, rater noise s = {args.bt_scale}"
    )
    print_curve(curves, budgets)
    figures = {
        **summary(curves, budgets),
        "heads": args.heads,
        "seeds": args.seeds,
        "bt_scale": args.bt_scale,
        "wall_s": round(time.perf_counter() - started),
        "peak_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
