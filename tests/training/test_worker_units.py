"""The worker's parts without Celery: progress-line parsing, the partial-line-safe reader,
command-line building, the subprocess runner (against a fake pipeline), claiming and
reconciling run rows, and importing generated answers as ranking tasks."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from annotation.models import RankingTask, Response
from annotation.services.generated import GeneratedAnswers, add_generated_tasks
from config.celery import app as celery_app
from tests.factories import make_campaign, make_task
from training import dispatch, tasks
from training.models import ModelVersion, RunKind, RunMetric, RunStatus, TrainingRun
from training.pipeline.evaluation import side_by_side
from training.worker.claim import claim_run, worker_identity
from training.worker.inputs import stage_arguments, stage_options
from training.worker.job import execute_run
from training.worker.outcome import record_outcome
from training.worker.reconcile import reconcile_stale_runs
from training.worker.runner import (
    PollReport,
    ProgressLine,
    ProgressReader,
    StageOutcome,
    failure_message,
    metric_points,
    parse_progress_line,
    run_stage,
)
from training.worker.streaming import RunStream

FAKE_PIPELINE = """#!{python}
# Stands in for `python -m training.pipeline STAGE ... --out DIR`.
import json, os, signal, sys, time
args = sys.argv[3:]
stage, out = args[0], args[args.index("--out") + 1]
os.makedirs(out, exist_ok=True)
progress = open(os.path.join(out, "progress.jsonl"), "a")
def line(step, total=3):
    return json.dumps({{"event": "train", "step": step, "total": total,
                        "metrics": {{"loss": 1.0 / step}}, "time": time.time()}})
if stage == "ok":
    progress.write(line(1) + "\\n" + line(2)[:10]); progress.flush()
    time.sleep(0.3)
    progress.write(line(2)[10:] + "\\n" + line(3) + "\\n"); progress.flush()
    print("done")
elif stage == "bad":
    print("loading...", flush=True)
    print("error: The dataset is empty: no preference pairs to train on", file=sys.stderr)
    sys.exit(2)
elif stage == "crash":
    raise RuntimeError("CUDA out of memory")
elif stage in ("slow", "stubborn"):
    if stage == "stubborn":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    with open(os.path.join(out, "pid"), "w") as handle:
        handle.write(str(os.getpid()))
    progress.write(line(1, 100) + "\\n"); progress.flush()
    time.sleep(120)
"""


@pytest.fixture
def fake_pipeline(tmp_path: Path, settings: Any) -> Path:
    script = tmp_path / "fake-python"
    script.write_text(FAKE_PIPELINE.format(python=sys.executable))
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    settings.TRAINING_PIPELINE_PYTHON = str(script)
    return script


# -- progress lines ---------------------------------------------------------------------------


def test_a_progress_line_becomes_metric_points_named_event_slash_key() -> None:
    text = json.dumps(
        {
            "event": "train",
            "step": 7,
            "total": 20,
            "metrics": {"loss": 0.5, "kl": 2, "flag": True, "x" * 70: 1.0},
            "time": 12.5,
        }
    )
    line = parse_progress_line(text)

    assert line is not None
    assert (line.event, line.step, line.total, line.time) == ("train", 7, 20, 12.5)
    assert metric_points(line) == [(7, "train/loss", 0.5), (7, "train/kl", 2.0)]


@pytest.mark.parametrize(
    "text",
    ["", "not json", "[1, 2]", '{"step": 1, "total": 2}', '{"event": "train", "step": -1}'],
)
def test_malformed_progress_lines_are_skipped(text: str) -> None:
    assert parse_progress_line(text) is None


def test_the_reader_waits_for_the_end_of_a_half_written_line(tmp_path: Path) -> None:
    path = tmp_path / "progress.jsonl"
    reader = ProgressReader(path)
    assert reader.read_new() == []  # no file yet
    full = json.dumps({"event": "train", "step": 1, "total": 2, "metrics": {"loss": 1.0}})
    path.write_text(full[:15])

    assert reader.read_new() == []
    with path.open("a") as handle:
        handle.write(full[15:] + "\n" + full.replace('"step": 1', '"step": 2')[:5])
    first = reader.read_new()
    with path.open("a") as handle:
        handle.write(full.replace('"step": 1', '"step": 2')[5:] + "\n")
    second = reader.read_new()

    assert [line.step for line in first] == [1]
    assert [line.step for line in second] == [2]
    assert reader.read_new() == []


def test_a_worker_without_the_training_stack_says_how_to_install_it() -> None:
    tail = (
        "Traceback (most recent call last):\n"
        '  File "training/pipeline/__main__.py", line 3, in <module>\n'
        "ModuleNotFoundError: No module named 'transformers.models'\n"
    )

    message = failure_message(1, tail)

    assert message.startswith("This worker cannot train: its Python lacks transformers,")
    assert "make install-train" in message
    assert "Traceback" not in message


def test_failure_message_is_the_pipelines_one_line_for_input_errors() -> None:
    tail = "loading\r50%\nerror: No such data file: /x\n"
    assert failure_message(2, tail) == "No such data file: /x"
    crash = failure_message(1, "a\nTraceback (most recent call last):\nRuntimeError: boom\n")
    assert crash.startswith("The pipeline exited with status 1:")
    assert crash.endswith("RuntimeError: boom")
    assert "signal 9 SIGKILL (out of memory?)" in failure_message(-9, "")


# -- command lines ----------------------------------------------------------------------------


def test_hyperparameters_become_the_clis_options() -> None:
    config = {"batch_size": 8, "learning_rate": 1e-5, "lora": True, "bf16": False}
    config["prompts"] = 20  # the worker's own setting, never an option

    assert stage_options("dpo", config) == [
        "--batch-size",
        "8",
        "--learning-rate",
        "1e-05",
        "--lora",
    ]


@pytest.mark.django_db
def test_stage_arguments_use_the_versions_artifacts(tmp_path: Path) -> None:
    reward = ModelVersion.objects.create(
        name="rm", kind="reward", base="smollm2", artifact_path="/m/rm"
    )
    policy = ModelVersion.objects.create(
        name="pi", kind="policy", base="smollm2", artifact_path="/m/pi"
    )
    ppo = TrainingRun(
        kind=RunKind.PPO, parent_version=policy, reward_version=reward, config={"steps": 3}
    )
    reward_run = TrainingRun(kind=RunKind.REWARD, base="/m/tiny", config={"epochs": 1.0})

    assert stage_arguments(ppo, tmp_path) == [
        *("--policy", "/m/pi", "--reward", "/m/rm", "--prompts", str(tmp_path / "prompts.jsonl")),
        *("--out", str(tmp_path), "--lineage-base", "smollm2", "--steps", "3"),
    ]
    assert stage_arguments(reward_run, tmp_path) == [
        *("--data", str(tmp_path / "data.jsonl"), "--base", "/m/tiny", "--out", str(tmp_path)),
        *("--epochs", "1.0"),
    ]


def test_evaluation_keeps_replies_side_by_side() -> None:
    prompts = [[{"role": "user", "content": f"q{i}"}] for i in range(3)]
    rows = side_by_side(prompts, ["a0", "a1", "a2"], ["b0", "b1", "b2"], [1, 2, 3], [0, 0, 5], 2)
    assert rows == [
        {"prompt": "q0", "a": "a0", "b": "b0", "reward_a": 1, "reward_b": 0},
        {"prompt": "q1", "a": "a1", "b": "b1", "reward_a": 2, "reward_b": 0},
    ]


# -- the runner, against a fake pipeline ------------------------------------------------------


def collecting(stop_after: int | None = None) -> tuple[list[PollReport], Any]:
    reports: list[PollReport] = []

    def on_poll(report: PollReport) -> str:
        reports.append(report)
        return "cancelled" if stop_after is not None and len(reports) >= stop_after else ""

    return reports, on_poll


def test_runner_streams_every_line_once_and_keeps_the_log_tail(
    fake_pipeline: Path, tmp_path: Path
) -> None:
    reports, on_poll = collecting()
    outcome = run_stage(
        "ok",
        ["--out", str(tmp_path / "run")],
        out=tmp_path / "run",
        log_path=tmp_path / "run.log",
        on_poll=on_poll,
        poll_s=0.1,
    )

    assert (outcome.returncode, outcome.stopped, outcome.error) == (0, "", "")
    assert [line.step for report in reports for line in report.lines] == [1, 2, 3]
    assert reports[-1].log_tail == "done\n"


def test_runner_reports_an_input_error_with_the_pipelines_line(
    fake_pipeline: Path, tmp_path: Path
) -> None:
    _, on_poll = collecting()
    outcome = run_stage(
        "bad",
        ["--out", str(tmp_path)],
        out=tmp_path,
        log_path=tmp_path / "log",
        on_poll=on_poll,
        poll_s=0.1,
    )
    crash = run_stage(
        "crash",
        ["--out", str(tmp_path)],
        out=tmp_path,
        log_path=tmp_path / "log2",
        on_poll=on_poll,
        poll_s=0.1,
    )

    assert outcome.returncode == 2
    assert outcome.error == "The dataset is empty: no preference pairs to train on"
    assert crash.returncode == 1
    assert crash.error.endswith("RuntimeError: CUDA out of memory")


@pytest.mark.parametrize("stage", ["slow", "stubborn"])
def test_runner_stops_the_stage_when_asked_sigkill_after_the_grace(
    fake_pipeline: Path, tmp_path: Path, stage: str
) -> None:
    _, on_poll = collecting(stop_after=3)
    started = time.monotonic()
    outcome = run_stage(
        stage,
        ["--out", str(tmp_path)],
        out=tmp_path,
        log_path=tmp_path / "log",
        on_poll=on_poll,
        poll_s=0.2,
        grace_s=0.5,
    )

    assert outcome.stopped == "cancelled"
    assert time.monotonic() - started < 10
    pid = int((tmp_path / "pid").read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


# -- claiming and reconciling -----------------------------------------------------------------


def queued_run(**fields: Any) -> TrainingRun:
    return TrainingRun.objects.create(kind=RunKind.REWARD, base="smollm2", **fields)


@pytest.mark.django_db
def test_a_run_is_claimed_once() -> None:
    run = queued_run()
    now = timezone.now()

    first = claim_run(run.pk, worker="host-a:1", now=now)
    second = claim_run(run.pk, worker="host-b:2", now=now)

    assert first is not None
    assert (first.status, first.attempts, first.worker) == ("running", 1, "host-a:1")
    assert second is None


@pytest.mark.django_db
def test_a_running_run_with_a_stale_heartbeat_can_be_reclaimed(settings: Any) -> None:
    settings.TRAINING_HEARTBEAT_STALE_S = 60
    now = timezone.now()
    fresh = queued_run(status=RunStatus.RUNNING, heartbeat_at=now, attempts=1, worker="h:1")
    stale = queued_run(
        status=RunStatus.RUNNING, heartbeat_at=now - timedelta(seconds=61), attempts=1, worker="h:1"
    )
    spent = queued_run(
        status=RunStatus.RUNNING, heartbeat_at=now - timedelta(hours=1), attempts=3, worker="h:1"
    )

    assert claim_run(fresh.pk, worker="other:2", now=now) is None
    reclaimed = claim_run(stale.pk, worker="other:2", now=now)
    assert reclaimed is not None
    assert reclaimed.attempts == 2
    assert claim_run(spent.pk, worker="other:2", now=now) is None
    spent.refresh_from_db()
    assert spent.status == "failed"
    assert spent.error == "Gave up after 3 attempts: the worker was lost each time."


@pytest.mark.django_db
def test_a_run_whose_worker_died_on_this_host_is_reclaimed_at_once() -> None:
    now = timezone.now()
    me = worker_identity()
    host = me.rpartition(":")[0]
    gone = subprocess.Popen(["true"])
    gone.wait()
    dead = queued_run(
        status=RunStatus.RUNNING, heartbeat_at=now, attempts=1, worker=f"{host}:{gone.pid}"
    )
    claimed = claim_run(dead.pk, worker=me, now=now)
    assert claimed is not None
    assert claimed.attempts == 2


@pytest.mark.django_db(transaction=True)
def test_reconciler_requeues_lost_runs_within_their_attempts(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.TRAINING_HEARTBEAT_STALE_S = 60
    sent: list[int] = []
    monkeypatch.setattr(dispatch, "send_run", sent.append)
    now = timezone.now()
    old = now - timedelta(seconds=120)
    lost = queued_run(status=RunStatus.RUNNING, heartbeat_at=old, attempts=1, worker="h:1")
    spent = queued_run(status=RunStatus.RUNNING, heartbeat_at=old, attempts=3, worker="h:1")
    alive = queued_run(status=RunStatus.RUNNING, heartbeat_at=now, attempts=1, worker="h:2")
    forgotten = queued_run(created_at=now - timedelta(minutes=10))
    waiting = queued_run(created_at=now - timedelta(minutes=1))

    assert reconcile_stale_runs(now=now) == 1

    statuses = {r.pk: r.status for r in TrainingRun.objects.all()}
    assert statuses == {
        lost.pk: "queued",
        spent.pk: "failed",
        alive.pk: "running",
        forgotten.pk: "queued",
        waiting.pk: "queued",
    }
    assert sorted(sent) == sorted([lost.pk, forgotten.pk])
    assert TrainingRun.objects.get(pk=spent.pk).error.startswith("The worker was lost 3 times")
    assert reconcile_stale_runs(now=now + timedelta(seconds=1)) == 0
    assert len(sent) == 2  # a nudged run is not nudged again for a while


@pytest.mark.django_db
def test_stream_stores_metrics_once_and_stops_a_run_that_is_no_longer_its(
    tmp_path: Path,
) -> None:
    run = queued_run(status=RunStatus.RUNNING, worker="me:1", attempts=1)
    stream = RunStream(run.pk, "me:1", tmp_path, run.kind, started=0.0)
    line = parse_progress_line(
        json.dumps({"event": "train", "step": 2, "total": 4, "metrics": {"loss": 0.5}, "time": 9})
    )
    assert line is not None

    assert stream(PollReport([line], "tail")) == ""
    assert stream(PollReport([line], "tail")) == ""  # a re-read line is not stored twice
    TrainingRun.objects.filter(pk=run.pk).update(cancel_requested=True)
    assert stream(PollReport([], "tail")) == "cancelled"
    TrainingRun.objects.filter(pk=run.pk).update(worker="someone-else:2")
    assert stream(PollReport([], "tail")) == "lost"

    run.refresh_from_db()
    assert (run.step, run.total_steps, run.progress, run.log_tail) == (2, 4, 0.5, "tail")
    assert list(RunMetric.objects.values_list("name", "step", "value")) == [("train/loss", 2, 0.5)]


@pytest.mark.django_db
def test_the_time_left_counts_down_through_a_long_step_that_prints_nothing(
    tmp_path: Path,
) -> None:
    run = queued_run(status=RunStatus.RUNNING, worker="me:1", attempts=1)
    now = [100.0]
    stream = RunStream(run.pk, "me:1", tmp_path, run.kind, started=0.0, clock=lambda: now[0])

    def line(step: int, at: float) -> ProgressLine:
        text = json.dumps({"event": "train", "step": step, "total": 10, "metrics": {}, "time": at})
        parsed = parse_progress_line(text)
        assert parsed is not None
        return parsed

    def eta_after(report: PollReport, at: float) -> float | None:
        now[0] = at
        assert stream(report) == ""
        return TrainingRun.objects.get(pk=run.pk).eta_s

    # steps 0 -> 2 took 20 s: 10 s a step, 8 steps left, 80 s
    assert eta_after(PollReport([line(0, 100.0), line(2, 120.0)], ""), 120.0) == 80.0
    # no line for 30 s (a long step): the time left keeps falling at each poll ...
    assert eta_after(PollReport([], ""), 135.0) == 65.0
    assert eta_after(PollReport([], ""), 150.0) == 50.0
    # ... never below zero, and a new line sets it from the new rate
    assert eta_after(PollReport([], ""), 500.0) == 0.0
    assert eta_after(PollReport([line(5, 500.0)], ""), 500.0) == 5 * 80.0


@pytest.mark.django_db
def test_a_succeeded_run_starts_its_follow_up_from_the_row_as_recorded(tmp_path: Path) -> None:
    campaign = make_campaign()
    run = queued_run(
        status=RunStatus.RUNNING, worker="me:1", attempts=1, campaign=campaign, follow_up=["ppo"]
    )
    (tmp_path / "metrics.json").write_text(json.dumps({"accuracy": 0.75}))

    ended = record_outcome(run, "me:1", tmp_path, StageOutcome(0))

    assert (ended, run.status) == ("succeeded", RunStatus.RUNNING)  # no status set in memory
    run.refresh_from_db()
    follow = TrainingRun.objects.get(kind=RunKind.PPO)
    assert run.status == "succeeded"
    assert run.result == {"accuracy": 0.75, "follow_up_run_id": follow.pk}
    reward = ModelVersion.objects.get(produced_by=run)
    assert (follow.reward_version, follow.campaign, follow.follow_up) == (reward, campaign, [])


def test_a_run_is_sent_by_task_name_to_the_gpu_queue(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(celery_app, "send_task", lambda name, **kw: sent.append((name, kw)))

    dispatch.send_run(7)

    assert sent == [("training.tasks.execute_run", {"args": (7,)})]
    assert tasks.execute_run.name == dispatch.EXECUTE_RUN in celery_app.tasks
    assert celery_app.amqp.router.route({}, dispatch.EXECUTE_RUN)["queue"].name == "gpu"


# -- generated answers become tasks -----------------------------------------------------------


@pytest.mark.django_db
def test_generated_answers_become_tasks_of_k_once_per_batch() -> None:
    campaign = make_campaign(responses_per_task=2, overlap=2)
    prompt = make_task(campaign, k=2).prompt
    answers = [GeneratedAnswers(prompt.pk, ["one", "two", "two", " ", "three"])]

    created = add_generated_tasks(
        campaign=campaign, answers=answers, generator="pi", generator_version_id=7, batch_key="b1"
    )
    again = add_generated_tasks(
        campaign=campaign, answers=answers, generator="pi", generator_version_id=7, batch_key="b1"
    )

    assert (created.tasks, again.tasks) == (1, 0)  # "three" alone: nothing to rank it against
    task = RankingTask.objects.order_by("-id").first()
    assert task is not None
    assert task.required_judgments == 2
    texts = list(Response.objects.filter(pk__in=task.response_ids).values_list("text", flat=True))
    assert sorted(texts) == ["one", "two"]
    assert set(
        Response.objects.filter(generator_version_id=7).values_list("generator", flat=True)
    ) == {"pi"}
    assert Response.objects.filter(generator_version_id=7).count() == 2


@pytest.mark.django_db
def test_a_run_without_inputs_fails_with_the_reason_and_starts_no_stage(
    tmp_path: Path, settings: Any
) -> None:
    settings.TRAINING_ARTIFACTS_DIR = tmp_path
    settings.TRAINING_PIPELINE_PYTHON = "/nonexistent/python"  # would fail loudly if started
    reward = ModelVersion.objects.create(name="rm", kind="reward", base="b", artifact_path="/rm")
    run = TrainingRun.objects.create(
        kind=RunKind.PPO, base="smollm2", reward_version=reward, campaign=make_campaign()
    )

    assert execute_run(run.pk, worker="me:1") == "failed"

    run.refresh_from_db()
    assert (run.status, run.attempts) == ("failed", 1)
    assert run.error == (
        "Preparing inputs: No prompts: the run's campaign has none and its snapshot is empty."
    )
    assert run.finished_at is not None
