"""k-fold cross-validation of a reward run (training/pipeline/crossval.py): folds hold whole
prompts, every pair is scored once by a model that never saw its prompt, the pooled figures are
the honest figures of those scores, progress counts every training, and bad fold counts are
clear errors before anything trains."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from rest_framework.test import APIClient

from annotation.services.importing import import_file
from common.errors import InvalidInput
from common.roles import Role
from tests.factories import make_campaign
from tests.training.test_reward import keyword_pairs
from training.hyperparameters import resolve_hyperparameters
from training.models import ModelVersion, RunMetric, TrainingRun
from training.pipeline.cli import main
from training.pipeline.crossval import cross_validate, cv_figures, cv_folds_wanted
from training.pipeline.data import PreferencePair, fold_by_prompt
from training.pipeline.errors import PipelineError
from training.pipeline.figures import honest_figures, pair_outcome
from training.pipeline.progress import StepPlan
from training.pipeline.reward import RewardTrainingConfig, train_reward_model
from training.worker.job import execute_run


def clustered_pairs(prompts: int, per_prompt: int, seed: int) -> list[PreferencePair]:
    """`per_prompt` keyword pairs ("banana" wins) for each of `prompts` prompts."""
    pairs = keyword_pairs(prompts * per_prompt, seed)
    return [
        replace(pair, prompt=[{"role": "user", "content": f"Say something, {i // per_prompt}"}])
        for i, pair in enumerate(pairs)
    ]


def folds_of_prompts(pairs: list[PreferencePair], fold_of: list[int]) -> dict[str, set[int]]:
    folds: dict[str, set[int]] = {}
    for pair, fold in zip(pairs, fold_of, strict=True):
        folds.setdefault(pair.prompt_key, set()).add(fold)
    return folds


# -- the folds, alone ---------------------------------------------------------------------------


def test_each_prompt_falls_in_one_fold_and_the_folds_differ_by_a_prompt_at_most() -> None:
    pairs = clustered_pairs(prompts=10, per_prompt=3, seed=1)

    fold_of = fold_by_prompt(pairs, 3, seed=0)

    assert all(len(folds) == 1 for folds in folds_of_prompts(pairs, fold_of).values())
    assert sorted(fold_of.count(fold) for fold in range(3)) == [9, 9, 12]  # 3, 3 and 4 prompts
    assert fold_by_prompt(pairs, 3, seed=0) == fold_of  # the seed decides
    assert fold_by_prompt(pairs, 3, seed=1) != fold_of


def test_every_fold_trains_without_its_prompts_and_every_pair_is_scored_once() -> None:
    pairs = clustered_pairs(prompts=7, per_prompt=2, seed=1) + keyword_pairs(5, seed=9)
    fold_of = fold_by_prompt(pairs, 4, seed=3)
    trained: list[tuple[int, list[int], list[int]]] = []
    reported: list[tuple[int, dict[str, float]]] = []

    def run_fold(fold: int, train: list[int], test: list[int]) -> tuple[list[float], list[float]]:
        trained.append((fold, train, test))
        # a stand-in model: right on even pairs, tied on pairs divisible by 3, wrong otherwise
        chosen = [1.0 if i % 2 == 0 else 0.5 if i % 3 == 0 else 0.0 for i in test]
        return chosen, [0.5] * len(test)

    scores = cross_validate(fold_of, run_fold, lambda fold, f: reported.append((fold, f)))

    assert [fold for fold, _, _ in trained] == [1, 2, 3, 4]
    for _, train, test in trained:
        assert sorted(train + test) == list(range(len(pairs)))
        assert {pairs[i].prompt_key for i in train}.isdisjoint({pairs[i].prompt_key for i in test})
    tested = sorted(i for _, _, test in trained for i in test)
    assert tested == list(range(len(pairs)))  # each pair scored exactly once
    assert scores.chosen == [1.0 if i % 2 == 0 else 0.5 if i % 3 == 0 else 0.0 for i in tested]
    assert [fold for fold, _ in reported] == [1, 2, 3, 4]
    assert sum(f["pairs"] for _, f in reported) == len(pairs)


def test_the_pooled_figures_are_the_honest_figures_of_all_out_of_fold_scores() -> None:
    pairs = clustered_pairs(prompts=6, per_prompt=2, seed=2)
    fold_of = fold_by_prompt(pairs, 3, seed=0)
    scores = cross_validate(
        fold_of, lambda _, __, test: ([float(i % 3) for i in test], [1.0] * len(test))
    )

    figures = cv_figures(pairs, scores)

    expected = honest_figures(
        scores.chosen,
        scores.rejected,
        [len(p.chosen) for p in pairs],
        [len(p.rejected) for p in pairs],
        [p.prompt_key for p in pairs],
    )
    assert {
        k.removeprefix("cv_"): v for k, v in figures.items() if k.removeprefix("cv_") in expected
    } == expected
    assert (figures["cv_folds"], figures["cv_pairs"]) == (3, 12)
    for fold in (1, 2, 3):
        mine = [i for i, f in enumerate(fold_of) if f == fold - 1]
        outcomes = [pair_outcome(scores.chosen[i], scores.rejected[i]) for i in mine]
        assert figures[f"cv_fold_{fold}_accuracy"] == sum(outcomes) / len(outcomes)
        assert figures[f"cv_fold_{fold}_pairs"] == len(mine)


def test_progress_counts_every_training_as_one_run() -> None:
    plan = StepPlan([8, 6, 6])  # the final model, then two folds

    assert plan.position(3, 8) == (3, 20)
    plan.finish(8)
    assert plan.position(1, 7) == (9, 21)  # the fold's real count replaces its estimate
    plan.finish(7)
    assert (plan.done, plan.total) == (15, 21)
    plan.finish(6)
    assert plan.done == plan.total == 21


# -- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize("folds", [-1, 11, 2.5, True, "3"])
def test_a_fold_count_out_of_range_is_refused(folds: object) -> None:
    with pytest.raises(PipelineError, match=r"--cv-folds must be 0 \(off\) or 2 to 10"):
        cv_folds_wanted(folds)


def test_zero_or_one_fold_is_no_cross_validation() -> None:
    assert (cv_folds_wanted(0), cv_folds_wanted(1), cv_folds_wanted(2), cv_folds_wanted(10)) == (
        0,
        0,
        2,
        10,
    )


def write_pairs(path: Path, pairs: list[PreferencePair]) -> Path:
    rows = [{"prompt": p.prompt, "chosen": p.chosen, "rejected": p.rejected} for p in pairs]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


@pytest.mark.parametrize(
    ("folds", "message"),
    [
        (
            "5",
            "error: --cv-folds 5 needs at least 5 prompts (each fold holds out whole prompts) "
            "but the data has 4: use fewer folds, or 0 for none",
        ),
        ("11", "error: --cv-folds must be 0 (off) or 2 to 10, not 11"),
        ("-2", "error: --cv-folds must be 0 (off) or 2 to 10, not -2"),
    ],
)
def test_a_run_with_bad_folds_stops_with_one_error_line_before_training(
    folds: str, message: str, tiny_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = write_pairs(tmp_path / "pairs.jsonl", clustered_pairs(prompts=4, per_prompt=3, seed=1))
    out = tmp_path / "run"

    arguments = ["--data", str(data), "--base", str(tiny_model), "--out", str(out)]
    code = main(["reward", *arguments, "--cv-folds", folds])

    assert code == 2
    assert capsys.readouterr().err.strip() == message
    assert not out.exists()  # nothing trained, nothing written


def test_the_api_takes_2_to_10_folds_or_off_and_refuses_the_rest() -> None:
    assert resolve_hyperparameters(kind="reward", overrides={})["cv_folds"] == 0
    assert resolve_hyperparameters(kind="reward", overrides={"cv_folds": 5})["cv_folds"] == 5
    for bad in (11, -1, 2.5, "3"):
        with pytest.raises(InvalidInput):
            resolve_hyperparameters(kind="reward", overrides={"cv_folds": bad})


@pytest.mark.django_db
def test_the_options_endpoint_offers_the_fold_count(client_for: Callable[..., APIClient]) -> None:
    options = client_for(Role.ML_ENGINEER).get("/api/v1/training/options/").json()

    assert options["defaults"]["reward"]["cv_folds"] == 0
    assert options["limits"]["reward"]["cv_folds"] == {
        "type": "integer",
        "minimum": 0,
        "maximum": 10,
        "choices": None,
    }
    assert "cross-validation" in options["help"]["reward"]["cv_folds"]


# -- a real run on a tiny model ------------------------------------------------------------------


def progress_lines(out: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (out / "progress.jsonl").read_text().splitlines()]


def assert_one_count_of_steps(out: Path, total: int) -> None:
    """Every progress line counts the steps of all the run's trainings, from the first line:
    the worker's progress and time left cover the folds."""
    lines = progress_lines(out)
    assert {line["total"] for line in lines} == {total}
    steps = [line["step"] for line in lines]
    assert steps == sorted(steps)
    assert steps[-1] == total
    assert [line["metrics"]["fold"] for line in lines if line["event"] == "cv_fold"] == [1, 2, 3]
    assert lines[-1]["event"] == "cv"
    assert {line["event"] for line in lines} == {"train", "validation", "cv_train", "cv_fold", "cv"}


def test_a_three_fold_run_pools_out_of_fold_scores_into_honest_figures(
    tiny_model: Path, tmp_path: Path
) -> None:
    pairs = clustered_pairs(prompts=12, per_prompt=3, seed=4)
    config = RewardTrainingConfig(
        base=str(tiny_model),
        out=tmp_path,
        epochs=2,
        learning_rate=3e-3,
        batch_size=8,
        validation_fraction=0.25,
        cv_folds=3,
        seed=0,
    )
    started = time.perf_counter()

    metrics = train_reward_model(config, pairs)

    wall = time.perf_counter() - started
    cv = {k: v for k, v in metrics.items() if k.startswith("cv_")}
    print(f"\n3-fold run on the tiny model, {wall:.1f} s:", json.dumps(cv, indent=1))
    predictions = [
        json.loads(line) for line in (tmp_path / "cv_predictions.jsonl").read_text().splitlines()
    ]
    # every pair once, in order, each prompt in one fold
    assert [row["pair"] for row in predictions] == list(range(36))
    assert [row["prompt_key"] for row in predictions] == [p.prompt_key for p in pairs]
    fold_of = [row["fold"] - 1 for row in predictions]
    assert all(len(folds) == 1 for folds in folds_of_prompts(pairs, fold_of).values())
    assert [fold_of.count(fold) for fold in range(3)] == [12, 12, 12]
    # the reported figures are the honest figures of the pooled out-of-fold scores
    chosen = [row["chosen_score"] for row in predictions]
    rejected = [row["rejected_score"] for row in predictions]
    expected = honest_figures(
        chosen,
        rejected,
        [len(p.chosen) for p in pairs],
        [len(p.rejected) for p in pairs],
        [p.prompt_key for p in pairs],
    )
    assert {f"cv_{k}": v for k, v in expected.items()}.items() <= metrics.items()
    assert (metrics["cv_folds"], metrics["cv_pairs"]) == (3, 36)
    for fold in range(3):
        mine = [i for i, f in enumerate(fold_of) if f == fold]
        outcomes = [pair_outcome(chosen[i], rejected[i]) for i in mine]
        assert metrics[f"cv_fold_{fold + 1}_accuracy"] == sum(outcomes) / 12
    assert metrics["cv_accuracy_ci_low"] < metrics["cv_accuracy"] <= metrics["cv_accuracy_ci_high"]
    # the final model is trained as without folds: on the usual split, and registered
    assert (metrics["train_pairs"], metrics["validation_pairs"]) == (27, 9)
    assert (tmp_path / "model" / "model.safetensors").is_file()
    assert (
        json.loads((tmp_path / "metrics.json").read_text())["cv_accuracy"] == metrics["cv_accuracy"]
    )
    assert_one_count_of_steps(tmp_path, total=8 + 3 * 6)  # the final model's 8, 6 per fold


# -- through the app: the API, the worker's code path, the run's row ----------------------------


def start_reward_run(ml: APIClient, tiny_model: Path, prompts: int, folds: int) -> TrainingRun:
    """A reward run created through the API on `prompts` imported pairs, one per prompt."""
    campaign = make_campaign(responses_per_task=2, overlap=1)
    rows = [
        {
            "prompt": f"Greet me, please ({i})",
            "chosen": f"Hello there, friend {i}!",
            "rejected": "No.",
        }
        for i in range(prompts)
    ]
    data = "\n".join(json.dumps(row) for row in rows).encode()
    assert import_file(actor=None, campaign=campaign, data=data, filename="p.jsonl").is_ok
    body = {
        "kind": "reward",
        "base": str(tiny_model),
        "dataset": {"mode": "all", "campaign_ids": [campaign.pk]},
        "hyperparameters": {"epochs": 1.0, "batch_size": 4, "max_length": 128, "cv_folds": folds},
    }
    created = ml.post("/api/v1/training/runs/", body, format="json")
    assert created.status_code == 201, created.json()
    return TrainingRun.objects.get(pk=created.json()["id"])


@pytest.mark.slow
@pytest.mark.django_db
def test_a_cross_validated_run_brings_its_figures_to_the_run_and_its_version(
    ml: APIClient, tiny_model: Path, tmp_path: Path, settings: Any
) -> None:
    settings.TRAINING_ARTIFACTS_DIR = tmp_path / "artifacts"
    run = start_reward_run(ml, tiny_model, prompts=12, folds=3)

    assert execute_run(run.pk) == "succeeded"

    run.refresh_from_db()
    assert (run.result["cv_folds"], run.result["cv_pairs"]) == (3, 12)
    assert (
        run.result["cv_fold_1_pairs"]
        + run.result["cv_fold_2_pairs"]
        + run.result["cv_fold_3_pairs"]
        == 12
    )
    assert run.result["cv_accuracy_ci_low"] <= run.result["cv_accuracy"]
    version = ModelVersion.objects.get(produced_by=run)
    assert version.metrics["cv_accuracy"] == run.result["cv_accuracy"]
    assert "validation_accuracy" in version.metrics  # the final model, as without folds
    # progress: one count over the final model's 3 steps (10 pairs) and 2 per fold (8 pairs)
    assert (run.step, run.total_steps, run.progress) == (9, 9, 1.0)
    names = set(RunMetric.objects.filter(run=run).values_list("name", flat=True))
    assert {"train/loss", "cv_train/loss", "cv_fold/accuracy", "cv/accuracy"} <= names


@pytest.mark.slow
@pytest.mark.django_db
def test_a_run_with_fewer_prompts_than_folds_fails_with_the_reason(
    ml: APIClient, tiny_model: Path, tmp_path: Path, settings: Any
) -> None:
    settings.TRAINING_ARTIFACTS_DIR = tmp_path / "artifacts"
    run = start_reward_run(ml, tiny_model, prompts=4, folds=5)

    assert execute_run(run.pk) == "failed"

    run.refresh_from_db()
    assert run.error == (
        "--cv-folds 5 needs at least 5 prompts (each fold holds out whole prompts) but the data "
        "has 4: use fewer folds, or 0 for none"
    )
    assert not ModelVersion.objects.filter(produced_by=run).exists()
