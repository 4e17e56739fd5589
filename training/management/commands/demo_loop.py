"""The RLHF loop end to end on this machine, through the app (`make demo-loop`):

1. import prompts into a new campaign (a held-out set goes to a second campaign);
2. a generation run: the base policy answers each prompt K times -> ranking tasks;
3. simulated raters judge them through the rater API; their hidden gold preference is the
   more concise answer that still answers (annotation.simulation.prompts.concise_quality), or
   with `--gold reward-model` a gold reward model's score with Bradley-Terry noise: a model the
   pipeline trains first on real human pairs (../shared/data, training/gold.py);
4. a reward-model run on those judgments;
5. a policy round (`--method`): PPO against that reward model with a KL budget (adaptive
   beta), or GRPO or RLOO against it, or DPO on the raters' pairs; with the gold reward model,
   it scores every step's answers too (proxy and gold reward against KL);
6. a generation run from the new policy: the next tasks for the raters;
7. an evaluation run: the new policy against its parent on the held-out prompts under the
   reward model, with their answers side by side (the dashboard's comparison shows them);
8. the gold win rate of the new policy over its parent on the held-out prompts (K samples of
   each, judged by the same gold preference the raters used, `--gold`: the rule, or the gold
   reward model's higher score), with its standard error (ties count half).

Every stage is a TrainingRun executed by the same code a Celery worker runs (in this process
here, the pipeline itself in a subprocess), so the dashboard at /training shows all of it.
The last line on stdout is one JSON object.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from annotation.models import Campaign, JudgmentMode
from annotation.services.campaigns import ensure_campaign
from annotation.services.importing import import_file
from annotation.simulation.prompts import concise_quality
from training.gold import (
    DEFAULT_GOLD_DATA,
    GoldDataMissing,
    RewardModelGold,
    gold_reward_version,
)
from training.hyperparameters import defaults_for
from training.models import ModelVersion, RunMetric, RunStatus, TrainingRun
from training.pipeline.figures import HONEST
from training.selectors import reward_kl_points
from training.services import RunRequest, create_run, register_base_version
from training.worker.job import execute_run

if TYPE_CHECKING:  # the pipeline needs torch, which the command loads only when it runs
    from training.pipeline.evaluation import GoldPreference

PROMPTS_FILE = Path(__file__).resolve().parents[2] / "demo" / "loop_prompts.jsonl"
# The loop's own recipe is below (more epochs, bigger PPO batches, higher learning rates);
# what it shares with every run (K, reply length, KL budget, seed) is the run kinds' default.
GENERATE, PPO, REWARD = defaults_for("generate"), defaults_for("ppo"), defaults_for("reward")


def concise_gold(prompt: object, a: str, b: str) -> float:
    """The gold preference: 1.0 if `a` is the more concise answer that still answers."""
    quality_a, quality_b = concise_quality(a), concise_quality(b)
    return 1.0 if quality_a > quality_b else 0.0 if quality_a < quality_b else 0.5


# The gold preferences the win rate can be judged by. Each must be the preference the simulated
# raters follow, or the loop would be graded on something it was never shown: "concise" is the
# rule above; "reward-model" a gold reward model trained on real human pairs (training/gold.py).
GOLDS = ("concise", "reward-model")
# The policy round the loop runs: against the reward model (PPO, GRPO, RLOO) or on the pairs.
METHODS = ("ppo", "grpo", "rloo", "dpo")


def validation_figures(reward: ModelVersion) -> dict[str, Any]:
    """A reward version's held-out figures with their baselines (docs/training.md)."""
    wanted = ("pairs", *HONEST)
    return {key: reward.metrics.get(f"validation_{key}") for key in wanted}


def add_policy_round_arguments(parser: CommandParser) -> None:
    """The demo loop's options for its policy round (stage 5)."""
    parser.add_argument(
        "--method", choices=METHODS, default="ppo", help="the policy round (default: ppo)"
    )
    parser.add_argument(
        "--group-size",
        type=int,
        default=4,
        help="GRPO/RLOO: answers per prompt (a step takes --ppo-batch answers)",
    )
    parser.add_argument("--dpo-epochs", type=float, default=1.0, help="DPO: passes over pairs")
    parser.add_argument("--dpo-learning-rate", type=float, default=5e-6)
    parser.add_argument(
        "--round-seconds",
        type=int,
        default=0,
        help="the policy round's wall-clock budget (max_seconds; 0: none)",
    )
    parser.add_argument(
        "--checkpoint-every", type=int, default=PPO["checkpoint_every"], help="PPO/GRPO/RLOO"
    )
    parser.add_argument("--ppo-steps", type=int, default=12, help="PPO/GRPO/RLOO steps")
    parser.add_argument("--ppo-batch", type=int, default=8)
    parser.add_argument("--ppo-minibatch", type=int, default=4, help="at most --ppo-batch")
    parser.add_argument("--ppo-learning-rate", type=float, default=5e-6)
    parser.add_argument(
        "--target-kl", type=float, default=PPO["target_kl"], help="KL budget (nats)"
    )


class Command(BaseCommand):
    help = (
        "Run the whole loop on the embedded model: generate, judge, reward model, a policy "
        "round (PPO, GRPO, RLOO or DPO), again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", default="", help="campaign name (default: timestamped)")
        parser.add_argument("--base", default="smollm2", help="base policy and reward model")
        parser.add_argument(
            "--reward-base", default="", help="base of the reward model (default: --base)"
        )
        parser.add_argument(
            "--gold",
            choices=GOLDS,
            default="concise",
            help="the raters' preference that the gold win rate is judged by",
        )
        parser.add_argument(
            "--gold-data",
            type=Path,
            default=DEFAULT_GOLD_DATA,
            help="reward-model gold: the human pairs it is trained on (JSONL, may be gzipped)",
        )
        parser.add_argument(
            "--gold-pairs", type=int, default=None, help="reward-model gold: the first N pairs"
        )
        parser.add_argument(
            "--gold-base", default="", help="reward-model gold: its base (default: --base)"
        )
        parser.add_argument("--gold-epochs", type=float, default=0.25)
        parser.add_argument(
            "--bt-scale",
            type=float,
            default=1.0,
            help="reward-model gold: P(a over b) = sigmoid(scale x (gold(a) - gold(b)))",
        )
        parser.add_argument("--prompts", type=int, default=32, help="training prompts")
        parser.add_argument("--heldout", type=int, default=16, help="held-out prompts")
        parser.add_argument("--k", type=int, default=GENERATE["k"], help="responses per prompt")
        parser.add_argument("--raters", type=int, default=6)
        parser.add_argument("--overlap", type=int, default=3)
        parser.add_argument("--max-new-tokens", type=int, default=GENERATE["max_new_tokens"])
        parser.add_argument("--rm-epochs", type=float, default=2.0)
        parser.add_argument("--rm-learning-rate", type=float, default=2e-5)
        parser.add_argument("--rm-batch", type=int, default=REWARD["batch_size"])
        add_policy_round_arguments(parser)
        parser.add_argument("--eval-samples", type=int, default=4, help="per held-out prompt")
        parser.add_argument("--seed", type=int, default=GENERATE["seed"])

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        campaign, heldout, base, first, reward = self.shared_stages(options)
        method = options["method"]
        policy = self._stage(method, lambda: self._policy_round(campaign, base, reward))
        self._stage("generate_next", lambda: self._generate(campaign, policy))
        evaluation = self._stage("evaluate", lambda: self._evaluate(heldout, policy, reward))
        gold = self._stage("gold_eval", lambda: self._gold_win_rate(heldout, policy))
        assert policy.produced_by is not None
        kl = RunMetric.objects.filter(run=policy.produced_by, name="train/kl").order_by("-step")
        summary = {
            "method": method,
            "campaign_id": campaign.pk,
            "generation_run": first.pk,
            "reward_version": reward.name,
            "policy_version": policy.name,
            "rm_win_rate": evaluation.result.get("win_rate"),
            "stage_wall_s": {k: round(v, 1) for k, v in self.walls.items()},
            **gold,
            "rm_val_accuracy": reward.metrics.get("validation_accuracy"),
            "rm_val": validation_figures(reward),
            "gold": options["gold"],
            "gold_win_rate": gold["win_rate"],
            "gold_stderr": gold["stderr"],
            "kl": kl.values_list("value", flat=True).first(),
            **self._gold_model_figures(policy.produced_by),
            "wall_s": round(time.perf_counter() - started, 1),
        }
        self.stdout.write(json.dumps(summary))

    def shared_stages(
        self, options: dict[str, Any]
    ) -> tuple[Campaign, Campaign, ModelVersion, TrainingRun, ModelVersion]:
        """Stages 1-4 (and the gold model first, with `--gold reward-model`): the campaigns, the
        base version, the first generation run and the reward model."""
        self.options = options
        self.walls: dict[str, float] = {}
        self.parent_replies: list[str] = []
        self.gold_version: ModelVersion | None = None
        self.gold_reused = False
        if options["gold"] == "reward-model":  # trained first: a missing file stops at once
            self.gold_version = self._stage("gold_model", self._gold_model)
        name = options["name"] or f"Demo loop {timezone.now():%Y-%m-%d %H:%M:%S}"
        campaign, heldout = self._stage("setup", lambda: self._campaigns(name))
        base = register_base_version(base=options["base"])
        first = self._stage("generate", lambda: self._generate(campaign, base))
        self._stage("judge", lambda: self._judge(campaign))
        reward = self._stage("reward", lambda: self._reward(campaign))
        return campaign, heldout, base, first, reward

    def _stage(self, label: str, work: Any) -> Any:
        self.stderr.write(f"demo-loop: {label} ...")
        started = time.perf_counter()
        result = work()
        self.walls[label] = time.perf_counter() - started
        self.stderr.write(f"demo-loop: {label} done in {self.walls[label]:.1f} s")
        return result

    # -- stages --

    def _campaigns(self, name: str) -> tuple[Campaign, Campaign]:
        rows = PROMPTS_FILE.read_text(encoding="utf-8").splitlines()
        wanted = self.options["prompts"] + self.options["heldout"]
        if len(rows) < wanted:
            raise CommandError(f"{PROMPTS_FILE} has {len(rows)} prompts; {wanted} asked for")
        made = []
        for label, chunk in (
            (name, rows[: self.options["prompts"]]),
            (f"{name} (held out)", rows[self.options["prompts"] : wanted]),
        ):
            campaign, created = ensure_campaign(
                actor=None,
                name=label,
                responses_per_task=self.options["k"],
                overlap=self.options["overlap"],
                judgment_mode=JudgmentMode.RANK,
                guidelines="Prefer the more concise answer that still answers the question.",
            )
            if not created:
                raise CommandError(f"Campaign {label!r} exists; pass another --name")
            report = import_file(
                actor=None,
                campaign=campaign,
                data=("\n".join(chunk) + "\n").encode(),
                filename="loop_prompts.jsonl",
                source="demo-loop",
            )
            if not report.is_ok:
                raise CommandError(f"Prompts refused: {report.errors[:3]}")
            made.append(campaign)
        return made[0], made[1]

    def _execute(self, request: RunRequest) -> TrainingRun:
        """Create the run and execute it here; if a Celery worker claimed it first, wait."""
        run = create_run(request=request, actor=None)
        execute_run(run.pk, worker=f"demo-loop-{os.getpid()}")
        run.refresh_from_db()
        while not run.is_finished:
            time.sleep(2)
            run.refresh_from_db()
        if run.status != RunStatus.SUCCEEDED:
            raise CommandError(f"{run} ended {run.status}: {run.error or run.log_tail[-2000:]}")
        return run

    def _generate(self, campaign: Campaign, policy: ModelVersion) -> TrainingRun:
        hyperparameters = {
            "prompts": self.options["prompts"],
            "k": self.options["k"],
            "max_new_tokens": self.options["max_new_tokens"],
            "seed": self.options["seed"],
        }
        return self._execute(
            RunRequest(
                kind="generate",
                parent_version=policy,
                campaign=campaign,
                hyperparameters=hyperparameters,
            )
        )

    def _judge(self, campaign: Campaign) -> None:
        gold: list[str] = []
        if self.gold_version is not None:  # raters follow the gold model's scores
            call_command(
                "gold_qualities",
                "--campaign",
                campaign.name,
                "--reward",
                self.gold_version.name,
                stderr=self.stderr,
            )
            gold = ["--bt-scale", str(self.options["bt_scale"])]
        call_command(
            "simulate_raters",
            "--campaign",
            campaign.name,
            "--raters",
            str(self.options["raters"]),
            "--prefix",
            f"loop{campaign.pk}",
            "--seed",
            str(self.options["seed"]),
            *gold,
            stdout=self.stderr,
        )

    def _reward(self, campaign: Campaign) -> ModelVersion:
        run = self._execute(
            RunRequest(
                kind="reward",
                base=self.options["reward_base"] or self.options["base"],
                campaign=campaign,
                dataset={"mode": "all", "campaign_ids": [campaign.pk]},
                hyperparameters={
                    "epochs": self.options["rm_epochs"],
                    "learning_rate": self.options["rm_learning_rate"],
                    "batch_size": self.options["rm_batch"],
                    "seed": self.options["seed"],
                },
            )
        )
        return ModelVersion.objects.get(produced_by=run)

    def _policy_round(
        self, campaign: Campaign, base: ModelVersion, reward: ModelVersion
    ) -> ModelVersion:
        method = self.options["method"]
        common = {"seed": self.options["seed"], "max_seconds": self.options["round_seconds"]}
        if method == "dpo":  # on the raters' pairs, from the same base
            request = RunRequest(
                kind="dpo",
                parent_version=base,
                check_reward_version=self.gold_version,
                campaign=campaign,
                dataset={"mode": "all", "campaign_ids": [campaign.pk]},
                hyperparameters={
                    "epochs": self.options["dpo_epochs"],
                    "learning_rate": self.options["dpo_learning_rate"],
                    **common,
                },
            )
        else:  # PPO, GRPO or RLOO: answers sampled and scored by the reward model
            request = RunRequest(
                kind=method,
                parent_version=base,
                reward_version=reward,
                check_reward_version=self.gold_version,  # the gold beside the proxy, per step
                campaign=campaign,
                hyperparameters={**self._sampling_hyperparameters(), **common},
            )
        return ModelVersion.objects.get(produced_by=self._execute(request))

    def _sampling_hyperparameters(self) -> dict[str, Any]:
        """A PPO, GRPO or RLOO round's steps, batches and sampling from the --ppo-* options;
        GRPO and RLOO take as many answers a step as PPO's batch, in groups."""
        options = self.options
        if options["method"] == "ppo":
            batch = {
                "batch_size": options["ppo_batch"],
                "minibatch_size": min(options["ppo_minibatch"], options["ppo_batch"]),
            }
        else:
            group = options["group_size"]
            batch = {"batch_size": max(1, options["ppo_batch"] // group), "group_size": group}
        return {
            "steps": options["ppo_steps"],
            **batch,
            "checkpoint_every": options["checkpoint_every"],
            "max_new_tokens": options["max_new_tokens"],
            "learning_rate": options["ppo_learning_rate"],
            "target_kl": options["target_kl"],
            "prompts": options["prompts"],
        }

    def _evaluate(
        self, heldout: Campaign, policy: ModelVersion, reward: ModelVersion
    ) -> TrainingRun:
        assert policy.parent is not None  # the base version the round started from
        return self._execute(
            RunRequest(
                kind="evaluate",
                parent_version=policy,
                compare_version=policy.parent,
                reward_version=reward,
                campaign=heldout,
                hyperparameters={
                    "prompts": self.options["heldout"],
                    "max_new_tokens": self.options["max_new_tokens"],
                    "seed": self.options["seed"],
                },
            )
        )

    def _gold_win_rate(self, heldout: Campaign, policy: ModelVersion) -> dict[str, Any]:
        """K samples from the new policy and from its parent on each held-out prompt, paired
        in order and judged by the `--gold` preference; also stored on the version's metrics."""
        from annotation.selectors.campaigns import campaign_prompts
        from training.pipeline.evaluation import gold_win_rate
        from training.pipeline.generation import GenerationConfig, sample
        from training.pipeline.model_loading import load_causal_lm, load_tokenizer

        prompts = [p.conversation for p in campaign_prompts(campaign_id=heldout.pk, limit=10**6)]
        replies: dict[str, list[str]] = {}
        for label, path in (("policy", policy.artifact_path), ("parent", self.options["base"])):
            if label == "parent" and self.parent_replies:  # the same seed: the same answers
                replies[label] = self.parent_replies
                continue
            config = GenerationConfig(
                policy=path,
                k=self.options["eval_samples"],
                max_new_tokens=self.options["max_new_tokens"],
                seed=self.options["seed"] + 1,
            )
            tokenizer, model = load_tokenizer(path), load_causal_lm(path)
            replies[label] = [s.text for s in sample(model, tokenizer, prompts, config)]
        self.parent_replies = replies["parent"]
        paired = [p for p in prompts for _ in range(self.options["eval_samples"])]
        gold: GoldPreference = concise_gold
        scored: dict[str, float] = {}
        if self.gold_version is not None:
            gold = judge = RewardModelGold(self.gold_version.artifact_path)
            for label, texts in replies.items():
                values = judge.score(paired, texts)
                scored[f"gold_reward_{label}"] = round(sum(values) / len(values), 4)
        rate = gold_win_rate(replies["policy"], replies["parent"], paired, gold)
        words = {k: sum(len(t.split()) for t in v) / len(v) for k, v in replies.items()}
        figures = {
            **scored,
            "gold_win_rate": rate["win_rate"],
            "gold_stderr": rate["stderr"],
            "gold_comparisons": len(paired),
            "mean_words_policy": round(words["policy"], 1),
            "mean_words_parent": round(words["parent"], 1),
        }
        policy.metrics = {**policy.metrics, **figures}
        policy.save(update_fields=["metrics"])
        return {**rate, **figures}

    # -- the reward-model gold --

    def _gold_model(self) -> ModelVersion:
        try:
            version, reused = gold_reward_version(
                data=self.options["gold_data"],
                base=self.options["gold_base"] or self.options["base"],
                pairs=self.options["gold_pairs"],
                epochs=self.options["gold_epochs"],
                seed=self.options["seed"],
                execute=self._execute,
                log=self.stderr.write,
            )
        except (GoldDataMissing, ValueError) as error:
            raise CommandError(str(error)) from error
        self.gold_reused = reused
        verb = "reused" if reused else "trained"
        self.stderr.write(f"demo-loop: gold reward model {version.name} ({verb})")
        return version

    def _gold_model_figures(self, ppo: TrainingRun) -> dict[str, Any]:
        """With a gold reward model: its own held-out figures on the human pairs, and the PPO
        round's proxy and gold reward against KL, step by step (the over-optimisation curve)."""
        if self.gold_version is None:
            return {}
        return {
            "gold_model": self.gold_version.name,
            "gold_model_reused": self.gold_reused,
            "gold_model_val": validation_figures(self.gold_version),
            "reward_kl_curve": [asdict(point) for point in reward_kl_points(run=ppo)],
        }
