"""A run's inputs: data.jsonl (reward, DPO), pairs.jsonl (judge) or prompts.jsonl (the others)
in the run folder, and the command line of its pipeline stage."""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from django.conf import settings

from annotation.models import RoutingMode
from annotation.selectors import campaigns, judging, snapshots
from training.hyperparameters import defaults_for
from training.models import POLICY_KINDS, REWARD_DRIVEN_KINDS, ModelVersion, RunKind, TrainingRun
from training.pipeline.declarations import options_of
from training.pipeline.options import RUN_KINDS
from training.registry import lineage_base
from training.worker.runner import MULTI_PROCESS_STAGES, training_world_size


class RunInputError(Exception):
    """The run cannot start as configured (a missing model version, no prompts, ...)."""


# -- the command line -------------------------------------------------------------------------


def stage_command(kind: str) -> str:
    """The pipeline stage that runs a run kind (`evaluate` is `evaluate-policy`)."""
    return RUN_KINDS[kind].command


def stage_options(kind: str, config: Mapping[str, Any]) -> list[str]:
    """A run's hyperparameters as its stage's command-line options, as the declaration renders
    them (`batch_size: 8` -> `--batch-size 8`); the worker's own settings (`prompts`, how many
    prompts it writes) are not the stage's options and stay out."""
    declared = {
        o.name: o for o in options_of(RUN_KINDS[kind].config) if o.scope == "hyperparameter"
    }
    args: list[str] = []
    for name, value in sorted(config.items()):
        if name in declared:
            args.extend(declared[name].as_arguments(value))
    return args


def model_path(version: ModelVersion | None, fallback: str) -> str:
    """Where a stage loads a model from: the version's artifacts, else the run's base."""
    return version.artifact_path if version is not None else (fallback or "smollm2")


def check_process_split(run: TrainingRun) -> None:
    """Over several processes each takes an equal share of every batch: a batch that does
    not split is refused before anything starts."""
    processes = training_world_size()
    if processes == 1 or run.kind not in MULTI_PROCESS_STAGES:
        return
    source = "TRAINING_PROCESSES"
    if settings.TRAINING_BACKEND == "ray" and settings.RAY_TRAINING_NODES > 1:
        source += " x RAY_TRAINING_NODES"
    for name in ("batch_size", "minibatch_size"):
        value = run.config.get(name)
        if isinstance(value, int) and value % processes:
            raise RunInputError(
                f"{name} {value} does not split evenly over the {processes} processes this "
                f"worker runs ({source}): use a multiple of {processes}."
            )


def check_strategy(run: TrainingRun) -> None:
    """A run's strategy must be one this worker allows (TRAINING_STRATEGY)."""
    strategy = run.config.get("strategy")
    if strategy is None or strategy in settings.TRAINING_STRATEGY:
        return
    allowed = ", ".join(settings.TRAINING_STRATEGY)
    raise RunInputError(
        f"This run asks for the {strategy} strategy, which this worker does not allow (it "
        f"allows {allowed}: its TRAINING_STRATEGY). Start the run again with one of those, or "
        "on a worker that allows it."
    )


def _require(version: ModelVersion | None, what: str) -> ModelVersion:
    if version is None:
        raise RunInputError(f"This run needs {what}.")
    return version


def stage_arguments(run: TrainingRun, folder: Path) -> list[str]:
    """The command line for the run's stage (inputs already written into `folder`)."""
    start = model_path(run.parent_version, run.base)
    kind = run.kind
    if kind in (RunKind.REWARD, RunKind.DPO):
        inputs = ["--data", str(folder / "data.jsonl"), "--base", start, "--out", str(folder)]
    elif kind in REWARD_DRIVEN_KINDS:
        reward = _require(run.reward_version, "a reward model version").artifact_path
        inputs = ["--policy", start, "--reward", reward, "--prompts", str(folder / "prompts.jsonl")]
        inputs += ["--out", str(folder)]
    elif kind == RunKind.GENERATE:
        inputs = ["--policy", start, "--prompts", str(folder / "prompts.jsonl")]
        inputs += ["--out", str(folder / "generated.jsonl")]
        if run.reward_version is not None:  # the campaign routes by the ensemble's uncertainty
            inputs += ["--routing-reward", run.reward_version.artifact_path]
        if run.campaign is not None and run.campaign.routing == RoutingMode.JUDGE:
            inputs += ["--judge", run.campaign.judge_model]
    elif kind == RunKind.ARENA:  # the policy, and the rival it is compared with, answer
        inputs = ["--policy", start, "--prompts", str(folder / "prompts.jsonl")]
        inputs += ["--out", str(folder / "generated.jsonl")]
        if run.compare_version is not None:
            inputs += ["--rival", run.compare_version.artifact_path]
    elif kind == RunKind.JUDGE:
        inputs = ["--judge", start, "--data", str(folder / "pairs.jsonl"), "--out", str(folder)]
    else:
        reward = _require(run.reward_version, "a reward model version").artifact_path
        other = _comparison_model(run)
        inputs = ["--policy", start, "--parent", other, "--reward", reward]
        inputs += ["--prompts", str(folder / "prompts.jsonl"), "--out", str(folder)]
    if kind in POLICY_KINDS:  # the watch measures drift from the base (kl_from may count from it)
        inputs += ["--lineage-base", lineage_base(run)]
    if kind in POLICY_KINDS and run.check_reward_version is not None:
        inputs += ["--check-reward", run.check_reward_version.artifact_path]
    return [*inputs, *stage_options(kind, run.config)]


def _comparison_model(run: TrainingRun) -> str:
    if run.compare_version is not None:
        return run.compare_version.artifact_path
    parent = run.parent_version.parent if run.parent_version else None
    return model_path(parent, run.base)


# -- the files --------------------------------------------------------------------------------


def _write_jsonl(path: Path, rows: Iterator[dict[str, Any]]) -> int:
    """Written under a temporary name and renamed, so a crash leaves no half file."""
    staging = path.with_suffix(".partial")
    count = 0
    with staging.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    os.replace(staging, path)
    return count


def _pair_rows(run: TrainingRun) -> Iterator[dict[str, Any]]:
    """The pairs a run trains on, with what the raters flagged and wrote (a consensus pair,
    fitted over several judgments, has none): kept for the record, the stage ignores them."""
    mode = run.dataset.get("mode", "consensus")
    unsafe = run.dataset.get("unsafe", "ignore")  # datasets stored before the option: ignored
    people = snapshots.iter_snapshot_rows(run.snapshot_preference_ids, mode=mode, unsafe=unsafe)
    models = snapshots.iter_model_label_rows(run.snapshot_model_label_ids)
    for row in itertools.chain(people, models):
        yield {
            "prompt": row.conversation,
            "chosen": row.chosen,
            "rejected": row.rejected,
            "margin": row.margin,
            "flags": list(row.flags),
            "chosen_flags": row.chosen_flags,
            "rejected_flags": row.rejected_flags,
            "rationale": row.rationale,
            "source": row.source,
        }


def _campaign_ids(run: TrainingRun) -> list[int]:
    if run.campaign_id is not None:
        return [run.campaign_id]
    return [int(i) for i in run.dataset.get("campaign_ids") or []]


def _prompt_rows(run: TrainingRun) -> Iterator[dict[str, Any]]:
    """The campaign's prompts (with their ids, for generated tasks); a run without a campaign
    uses the prompts of its data snapshot."""
    limit = int(run.config.get("prompts", defaults_for(run.kind)["prompts"]))
    seen = 0
    for campaign_id in _campaign_ids(run):
        for prompt in campaigns.campaign_prompts(campaign_id=campaign_id, limit=limit - seen):
            yield {"prompt": prompt.conversation, "prompt_id": prompt.prompt_id}
            seen += 1
    if seen or not run.snapshot_preference_ids:
        return
    distinct: dict[str, list[dict[str, str]]] = {}
    for row in snapshots.iter_snapshot_rows(run.snapshot_preference_ids, mode="all"):
        distinct.setdefault(json.dumps(row.conversation, sort_keys=True), row.conversation)
        if len(distinct) >= limit:
            break
    for conversation in distinct.values():
        yield {"prompt": conversation}


def _write_judge_pairs(run: TrainingRun, folder: Path) -> None:
    if run.campaign_id is None:
        raise RunInputError("A judge run needs a campaign whose pairs it judges.")
    limit = int(run.config.get("pairs", defaults_for(run.kind)["pairs"]))
    pairs = judging.pairs_to_judge(campaign_id=run.campaign_id, limit=limit)
    rows = (
        {"prompt": p.conversation, "first": p.first, "second": p.second}
        | {"prompt_id": p.prompt_id, "first_id": p.first_id, "second_id": p.second_id}
        for p in pairs
    )
    if not _write_jsonl(folder / "pairs.jsonl", rows):
        raise RunInputError("Nothing to judge: the campaign has no task with two responses yet.")


def prepare_inputs(run: TrainingRun, folder: Path) -> None:
    """data.jsonl (reward, DPO) or prompts.jsonl (the others) from the frozen snapshot or the
    campaign; rewritten on every attempt, which gives the same file for the same run."""
    folder.mkdir(parents=True, exist_ok=True)
    if run.kind in (RunKind.REWARD, RunKind.DPO):
        _write_jsonl(folder / "data.jsonl", _pair_rows(run))
        return
    if run.kind == RunKind.JUDGE:
        _write_judge_pairs(run, folder)
        return
    if run.kind == RunKind.GENERATE and run.campaign_id is None:
        raise RunInputError("A generation run needs a campaign to receive the new tasks.")
    if not _write_jsonl(folder / "prompts.jsonl", _prompt_rows(run)):
        raise RunInputError("No prompts: the run's campaign has none and its snapshot is empty.")
