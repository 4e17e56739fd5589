"""`make demo-loop DEMO_ARGS="--gold reward-model"` on tiny models: a gold reward model is trained
by the pipeline on human pairs (here a small file in the HH format), the raters follow its
scores, PPO logs its reward beside the proxy's at every step (the over-optimisation curve), the
gold win rate is judged by it, and a second loop reuses it instead of training it again."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from annotation.models import Campaign, RankingTask, Response
from training.models import ModelVersion, RunMetric, RunStatus, TrainingRun

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

PROMPTS, HELDOUT, PPO_STEPS, EVAL_SAMPLES = 8, 4, 3, 4


def hh_file(path: Path, pairs: int) -> Path:
    """Human pairs in Anthropic's HH format (full transcripts), the shorter answer chosen, and
    one malformed row (an empty chosen answer) that the gold's import leaves out."""
    rows = [json.dumps({"chosen": "", "rejected": "\n\nHuman: Hi\n\nAssistant: Hello."})]
    for n in range(pairs):
        question = f"\n\nHuman: What is {n} plus {n}?\n\nAssistant: "
        short, long = f"{2 * n}.", f"Well, let me think about {n} and {n} at length: it is {2 * n}."
        rows.append(json.dumps({"chosen": question + short, "rejected": question + long}))
    path.write_bytes(gzip.compress(("\n".join(rows) + "\n").encode()))
    return path


def run_loop(base: Path, gold_base: Path, data: Path, name: str, **extra: Any) -> dict[str, Any]:
    out = io.StringIO()
    options = {
        "name": name,
        "base": base,
        "reward_base": gold_base,
        "gold": "reward-model",
        "gold_data": data,
        "gold_base": gold_base,
        "gold_epochs": 2,
        "prompts": PROMPTS,
        "heldout": HELDOUT,
        "k": 4,
        "raters": 3,
        "max_new_tokens": 8,
        "rm_epochs": 1,
        "rm_learning_rate": 1e-3,
        "rm_batch": 16,
        "ppo_steps": PPO_STEPS,
        "ppo_batch": 8,
        "ppo_minibatch": 8,
        "eval_samples": EVAL_SAMPLES,
        **extra,
    }
    args = [f"--{key.replace('_', '-')}={value}" for key, value in options.items()]
    call_command("demo_loop", *args, stdout=out, stderr=io.StringIO())
    return dict(json.loads(out.getvalue().strip().splitlines()[-1]))


def test_a_missing_pairs_file_stops_the_loop_before_anything_is_made(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "hh-harmless-dev.jsonl.gz"
    with pytest.raises(CommandError) as error:
        call_command(
            "demo_loop", "--gold=reward-model", f"--gold-data={missing}", stderr=io.StringIO()
        )
    message = str(error.value)
    assert str(missing) in message
    assert "not found" in message
    assert "--gold concise" in message
    assert "--gold-data" in message
    assert not Campaign.objects.exists()
    assert not TrainingRun.objects.exists()


def test_the_gold_reward_model_rates_the_loop_and_draws_its_curve(
    stopping_policy: Path, tiny_model: Path, tmp_path: Path, settings: Any
) -> None:
    settings.TRAINING_ARTIFACTS_DIR = tmp_path / "artifacts"
    settings.TRAINING_POLL_S = 0.2
    data = hh_file(tmp_path / "pairs.jsonl.gz", 40)

    summary = run_loop(stopping_policy, tiny_model, data, "gold loop")

    # The gold model: a reward run on the imported human pairs, in their own campaign.
    gold_run = TrainingRun.objects.order_by("id").first()
    assert gold_run is not None
    assert gold_run.kind == "reward"
    assert gold_run.status == RunStatus.SUCCEEDED
    assert gold_run.campaign is not None
    assert gold_run.campaign.name == "Gold pairs: pairs.jsonl.gz"
    assert gold_run.config["head_init"] == "probe"
    assert RankingTask.objects.filter(campaign=gold_run.campaign).count() == 40
    gold = ModelVersion.objects.get(produced_by=gold_run)
    assert summary["gold"] == "reward-model"
    assert summary["gold_model"] == gold.name
    assert summary["gold_model_reused"] is False
    assert summary["gold_model_val"]["pairs"] == gold.metrics["validation_pairs"] == 8
    assert summary["gold_model_val"]["accuracy"] == gold.metrics["validation_accuracy"]
    # The raters followed the gold model's scores: every first-round response carries one.
    policy = ModelVersion.objects.get(kind="policy")
    first_round = Response.objects.filter(prompt__campaign__name="gold loop").exclude(
        generator_version_id=policy.pk
    )
    assert first_round.exists()
    for response in first_round:
        assert isinstance(response.metadata["sim_quality"], float)
        assert response.metadata["gold_reward_model"] == gold.name
    # PPO scored every step's answers with the gold model beside the proxy.
    ppo = TrainingRun.objects.get(kind="ppo")
    assert ppo.check_reward_version_id == gold.pk
    curve = summary["reward_kl_curve"]
    assert [point["step"] for point in curve] == list(range(1, PPO_STEPS + 1))
    for point in curve:
        assert set(point) == {"step", "kl", "proxy", "gold"}
        stored = RunMetric.objects.get(run=ppo, name="train/check_reward_mean", step=point["step"])
        assert point["gold"] == stored.value
    # The win rate is judged by the gold model's scores of both policies' answers.
    assert summary["gold_comparisons"] == HELDOUT * EVAL_SAMPLES
    assert 0.0 <= summary["gold_win_rate"] <= 1.0
    assert summary["gold_stderr"] > 0
    assert {"gold_reward_policy", "gold_reward_parent"} <= set(summary)
    assert summary["rm_val"]["accuracy"] == summary["rm_val_accuracy"]
    assert summary["rm_val"]["accuracy_ci_low"] <= summary["rm_val_accuracy"]

    # A second rehearsal on the same pairs reuses the gold model: no second gold run.
    again = run_loop(
        stopping_policy, tiny_model, data, "gold loop 2", prompts=4, heldout=2, ppo_steps=1
    )
    assert again["gold_model"] == gold.name
    assert again["gold_model_reused"] is True
    assert TrainingRun.objects.filter(campaign=gold_run.campaign).count() == 1
