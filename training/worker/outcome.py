"""How an attempt ends: the row's final status, and on success what the stage produced
(model versions, generated ranking tasks) and the next run of a schedule's chain."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone

from annotation.models import Campaign, RoutingMode
from annotation.services.arena import add_arena_answers
from annotation.services.generated import (
    GeneratedAnswers,
    GeneratedBatch,
    Labeller,
    add_generated_tasks,
)
from annotation.services.judging import Judge, VerdictRow, record_judge_verdicts
from training.follow_ups import create_follow_up_run
from training.models import (
    POLICY_KINDS,
    ModelVersion,
    Promotion,
    RunKind,
    RunStatus,
    TrainingRun,
    VersionKind,
)
from training.pipeline.watch import version_metrics
from training.registry import register_run_version
from training.routing import routes_by_uncertainty, why_not_routed
from training.worker.inputs import model_path
from training.worker.runner import StageOutcome, read_json

logger = logging.getLogger(__name__)


def finish_attempt(run_id: int, worker: str, **fields: Any) -> int:
    """Ends this worker's attempt with `fields`; 0 when the row is no longer ours."""
    return TrainingRun.objects.filter(pk=run_id, status=RunStatus.RUNNING, worker=worker).update(
        finished_at=timezone.now(), **fields
    )


def describe_error(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"


def record_crash(run_id: int, worker: str, error: Exception) -> None:
    try:
        finish_attempt(run_id, worker, status=RunStatus.FAILED, error=f"Worker error: {error!r}")
    except DatabaseError:
        logger.exception("Run %s: could not record the worker error", run_id)


def record_outcome(run: TrainingRun, worker: str, folder: Path, outcome: StageOutcome) -> str:
    """The run's final status from how its stage ended; returns it for the task's log
    ("lost": the row is another worker's now, so nothing is written)."""
    stopped = outcome.stopped
    if stopped == "lost":
        return "lost"
    if stopped == "cancelled":
        finish_attempt(run.pk, worker, status=RunStatus.CANCELLED, eta_s=None)
        return "cancelled"
    if stopped:
        limit = settings.CELERY_LONGEST_TASK_S
        error = f"Stopped: {stopped} ({limit} s)."
        finish_attempt(run.pk, worker, status=RunStatus.FAILED, error=error)
        return "failed"
    if outcome.returncode != 0:
        finish_attempt(run.pk, worker, status=RunStatus.FAILED, error=outcome.error, eta_s=None)
        return "failed"
    try:
        succeed(run, worker, folder)
    except Exception as failure:  # rolled back: no half-registered outputs
        logger.exception("Run %s: recording its outputs failed", run.pk)
        message = f"Recording the outputs: {describe_error(failure)}"
        finish_attempt(run.pk, worker, status=RunStatus.FAILED, error=message)
        return "failed"
    return "succeeded"


def succeed(run: TrainingRun, worker: str, folder: Path) -> None:
    """Registers the outputs and records the success in one transaction, then starts the
    chain's next run from the row as recorded (so the chain sees a run that has succeeded)."""
    with transaction.atomic():
        locked = TrainingRun.objects.select_for_update().filter(
            pk=run.pk, status=RunStatus.RUNNING, worker=worker
        )
        if not locked.exists():
            return
        result = _outputs(run, folder)
        finish_attempt(
            run.pk, worker, status=RunStatus.SUCCEEDED, result=result, progress=1.0, eta_s=0
        )
        chained = _chain(TrainingRun.objects.get(pk=run.pk))
        if chained:
            TrainingRun.objects.filter(pk=run.pk).update(result={**result, **chained})


def _chain(finished: TrainingRun) -> dict[str, Any]:
    """Start the schedule's next stage; a failure to do so is recorded, not fatal."""
    if not finished.follow_up:
        return {}
    try:
        with transaction.atomic():
            follow = create_follow_up_run(finished=finished)
    except Exception as error:
        logger.exception("Run %s: could not start its follow-up run", finished.pk)
        return {"follow_up_error": str(error)}
    return {"follow_up_run_id": follow.pk} if follow is not None else {}


# -- what the stage produced ------------------------------------------------------------------


def _outputs(run: TrainingRun, folder: Path) -> dict[str, Any]:
    """Reads what the stage wrote and registers it; returns the run's `result`."""
    metrics = {k: v for k, v in read_json(folder / "metrics.json").items() if k != "history"}
    if run.kind == RunKind.REWARD:
        register_run_version(
            run, kind=VersionKind.REWARD, path=folder / "model", metrics=_scalars(metrics)
        )
    elif run.kind in POLICY_KINDS:
        flat = {
            **_scalars(metrics),
            **_scalars(metrics.get("final") or {}),
            **version_metrics(metrics.get("watch")),
        }
        # Gated when its chain goes on to the arena (as recorded when the chain started, not
        # as the schedule says now: it may have been edited or deleted since).
        gated = bool(run.follow_up) and run.follow_up[0] == RunKind.ARENA
        promotion = Promotion.PENDING if gated else Promotion.UNGATED
        register_run_version(
            run, kind=VersionKind.POLICY, path=folder / "policy", metrics=flat, promotion=promotion
        )
    elif run.kind == RunKind.GENERATE:
        metrics = _import_generated(run, folder)
    elif run.kind == RunKind.ARENA:
        metrics = _import_arena_answers(run, folder)
    elif run.kind == RunKind.JUDGE:
        metrics |= _import_verdicts(run, folder)
    return metrics


def _scalars(metrics: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in metrics.items() if isinstance(v, int | float | str | bool)}


def _answers(prompt_id: int, row: dict[str, Any]) -> GeneratedAnswers:
    """One prompt's answers as the stage wrote them, with the ensemble's scores or the judge's
    verdicts (keyed by the answers' stripped texts) when it routed them."""
    responses = row["responses"]
    texts = [r["text"] for r in responses]
    heads = [r["heads"] for r in responses] if all("heads" in r for r in responses) else None
    verdicts = None
    if "verdicts" in row:
        verdicts = {
            (texts[v["first"]].strip(), texts[v["second"]].strip()): (
                float(v["first_shown_first"]),
                float(v["first_shown_second"]),
            )
            for v in row["verdicts"]
        }
    return GeneratedAnswers(prompt_id, texts, heads, verdicts)


def _generated_rows(folder: Path) -> list[tuple[Any, dict[str, Any]]]:
    """Each prompt's id (None for a snapshot's prompt) beside the stage's row for it."""
    prompts = (folder / "prompts.jsonl").read_text(encoding="utf-8").splitlines()
    generated = (folder / "generated.jsonl").read_text(encoding="utf-8").splitlines()
    return [
        (json.loads(prompt).get("prompt_id"), json.loads(row))
        for prompt, row in zip(prompts, generated, strict=True)
    ]


def _import_generated(run: TrainingRun, folder: Path) -> dict[str, Any]:
    pairs = _generated_rows(folder)
    rows = [row for _, row in pairs]
    answers = [_answers(int(prompt_id), row) for prompt_id, row in pairs if prompt_id is not None]
    version = run.parent_version
    campaign = run.campaign
    assert campaign is not None  # prepare_inputs refused a generation run without one
    router = run.reward_version
    judge = next((str(row["judge"]) for row in rows if row.get("judge")), None)
    labeller = None
    if router is not None:
        labeller = Labeller(router.name, router.pk)
    elif judge is not None:
        labeller = Labeller(judge, None)
    batch = add_generated_tasks(
        campaign=campaign,
        answers=answers,
        generator=version.name if version else model_path(None, run.base),
        generator_version_id=version.pk if version else None,
        batch_key=f"training-run-{run.pk}",
        labeller=labeller,
    )
    result: dict[str, Any] = {
        "prompts": len(answers),
        "responses": sum(len(a.texts) for a in answers),
        "tasks_created": batch.tasks,
    }
    return result | _routing_result(campaign, router, judge, batch)


def _import_arena_answers(run: TrainingRun, folder: Path) -> dict[str, Any]:
    """Both policies' answers stored under their names in the arena, which then chooses its
    next tasks."""
    rows = _generated_rows(folder)
    assert run.campaign is not None  # create_run refused arena answers without an arena
    entrants = [(run.parent_version, "responses"), (run.compare_version, "rival_responses")]
    stored = 0
    for version, key in entrants:
        if key == "responses" or version is not None:
            stored += add_arena_answers(
                campaign=run.campaign,
                answers={int(prompt_id): [r["text"] for r in row[key]] for prompt_id, row in rows},
                generator=version.name if version else model_path(None, run.base),
                generator_version_id=version.pk if version else None,
                batch_key=f"training-run-{run.pk}",
            )
    return {"prompts": len(rows), "responses": stored}


def _routing_result(
    campaign: Campaign, router: ModelVersion | None, judge: str | None, batch: GeneratedBatch
) -> dict[str, Any]:
    """What the run's result says about routing: who labelled how many tasks, or why nobody
    did."""
    counts = {
        "model_labelled_tasks": batch.model_tasks,
        "model_labels": batch.model_labels,
        "over_budget_tasks": batch.over_budget,
    }
    if routes_by_uncertainty(campaign):
        result = {"routing_reward": router.name if router is not None else None} | counts
        if router is None:
            result["routing_note"] = why_not_routed(campaign)
        return result
    if campaign.routing == RoutingMode.JUDGE:
        result = {"routing_judge": judge} | counts
        if judge is None:
            result["routing_note"] = (
                "Judge routing was switched on after this round's answers were written, so no "
                "judge compared them: every task went to raters."
            )
        return result
    return {}


def _import_verdicts(run: TrainingRun, folder: Path) -> dict[str, Any]:
    """The judge's verdicts stored, its sure order-consistent ones as pre-labels."""
    rows = [
        json.loads(line)
        for line in (folder / "verdicts.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    version = run.parent_version
    campaign = run.campaign
    assert campaign is not None  # prepare_inputs refused a judge run without one
    batch = record_judge_verdicts(
        campaign=campaign,
        judge=Judge(
            name=version.name if version else model_path(None, run.base),
            version_id=version.pk if version else None,
            run_id=run.pk,
        ),
        rows=[
            VerdictRow(
                int(row["first_id"]),
                int(row["second_id"]),
                float(row["first_shown_first"]),
                float(row["first_shown_second"]),
            )
            for row in rows
        ],
        prelabel_margin=float(run.config["prelabel_margin"]),
    )
    return {"verdicts_stored": batch.verdicts, "prelabels": batch.prelabels}
