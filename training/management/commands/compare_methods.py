"""Which policy round wins here (`make bench-methods`): the demo loop's stages 1-4 once (the
same prompts, raters and reward model for all), then each method's round from the same base
under the same wall-clock budget (`--round-seconds`: every round is asked for more steps than
fit and stops after the step that crosses it), each judged like the demo loop's stage 8: the
gold win rate over the base on the held-out prompts with its standard error, the KL from the
base on the watch's answers, the mean answer length and the time the round took.

PPO, GRPO and RLOO train against the reward model; DPO on the raters' pairs (it never sees the
reward model). The last line on stdout is one JSON object, `methods` keyed by method."""

from __future__ import annotations

import json
import time
from typing import Any

from django.core.management.base import CommandError, CommandParser

from training.management.commands.demo_loop import METHODS
from training.management.commands.demo_loop import Command as DemoLoop
from training.models import ModelVersion, RunMetric


def method_list(text: str) -> list[str]:
    methods = [m.strip() for m in text.split(",") if m.strip()]
    unknown = [m for m in methods if m not in METHODS]
    if unknown or not methods:
        raise CommandError(f"--methods takes some of {', '.join(METHODS)}; got {text!r}")
    return methods


class Command(DemoLoop):
    help = "PPO, GRPO, RLOO and DPO rounds from one base and reward model at equal wall clock."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--methods", default=",".join(METHODS), help="comma-separated")
        # More steps than fit; a checkpoint only at the end (the rounds are not resumed here).
        parser.set_defaults(
            round_seconds=360, ppo_steps=1000, dpo_epochs=50.0, checkpoint_every=1000
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["round_seconds"] <= 0:
            raise CommandError("--round-seconds must be above 0: the methods share a time budget")
        methods = method_list(options["methods"])
        started = time.perf_counter()
        campaign, heldout, base, _, reward = self.shared_stages(options)
        figures: dict[str, dict[str, Any]] = {}
        for method in methods:
            self.options = {**options, "method": method}
            policy = self._stage(method, lambda: self._policy_round(campaign, base, reward))
            gold = self._stage(
                f"gold_eval_{method}", lambda p=policy: self._gold_win_rate(heldout, p)
            )
            figures[method] = self._figures(method, policy, gold)
            self.stderr.write(f"compare-methods: {method} {json.dumps(figures[method])}")
        summary = {
            "round_seconds": options["round_seconds"],
            "reward_version": reward.name,
            "rm_val_accuracy": reward.metrics.get("validation_accuracy"),
            "gold": options["gold"],
            "methods": figures,
            "stage_wall_s": {k: round(v, 1) for k, v in self.walls.items()},
            "wall_s": round(time.perf_counter() - started, 1),
        }
        self.stdout.write(json.dumps(summary))

    def _figures(self, method: str, policy: ModelVersion, gold: dict[str, Any]) -> dict[str, Any]:
        run = policy.produced_by
        assert run is not None
        kl = RunMetric.objects.filter(run=run, name="train/kl").order_by("-step").first()
        watch = run.result.get("watch") or {}
        return {
            "round_wall_s": round(self.walls[method], 1),
            "steps": run.result.get("steps"),
            "gold_win_rate": gold["win_rate"],
            "gold_stderr": gold["stderr"],
            "gold_comparisons": gold["gold_comparisons"],
            "kl_to_base": watch.get("kl_to_base"),  # on the watch's answers (16 prompts)
            "kl_last_step": kl.value if kl else None,  # DPO logs none
            "mean_words_policy": gold["mean_words_policy"],
            "mean_words_parent": gold["mean_words_parent"],
            "watch_warnings": [w.get("code") for w in watch.get("warnings") or []],
        }
