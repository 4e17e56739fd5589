"""Progress for people (a tqdm bar) and for machines (JSON lines a worker can stream)."""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from transformers import TrainerCallback, TrainerControl, TrainerState, TrainingArguments

from training.pipeline.processes import is_main_process


def _finite(metrics: dict[str, Any]) -> dict[str, float]:
    return {
        k: float(v)
        for k, v in metrics.items()
        if isinstance(v, int | float) and math.isfinite(float(v))
    }


class ProgressLog:
    """Appends {"event", "step", "total", "metrics", "time"} lines to `progress.jsonl`; under
    several processes only the first one writes (the others would repeat its lines)."""

    def __init__(self, out: Path) -> None:
        out.mkdir(parents=True, exist_ok=True)
        self.path = out / "progress.jsonl"
        self.enabled = is_main_process()

    def write(
        self, event: str, step: int, total: int, metrics: dict[str, Any] | None = None
    ) -> None:
        if not self.enabled:
            return
        row = {
            "event": event,
            "step": step,
            "total": total,
            "metrics": _finite(metrics or {}),
            "time": time.time(),
        }
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(row) + "\n")


@dataclass
class StepPlan:
    """Several trainings of one run counted as one sequence of steps, so that its progress and
    time left cover them all: a training's steps follow those of the trainings before it, and
    the total is the steps done, the current training's own count and the estimates of those
    still to come (each replaced by its real count when it starts)."""

    estimates: list[int]
    done: int = 0
    current: int = 0  # the index of the training under way

    @property
    def total(self) -> int:
        return self.done + sum(self.estimates[self.current :])

    def position(self, step: int, max_steps: int) -> tuple[int, int]:
        """(step, total) of the run for a step of the current training out of its max_steps."""
        return self.done + step, self.done + max_steps + sum(self.estimates[self.current + 1 :])

    def finish(self, steps: int) -> None:
        self.done += steps
        self.current += 1


class ProgressCallback(TrainerCallback):
    """Mirrors a Trainer's logs into a ProgressLog; with a plan, its steps are the run's (see
    StepPlan); `prefix` names its events apart from another training's (`cv_train`). A
    subclass may rename or drop a log entry in `step_metrics` (None: not a step's line)."""

    def __init__(self, log: ProgressLog, plan: StepPlan | None = None, prefix: str = "") -> None:
        self.log, self.plan, self.prefix = log, plan, prefix

    def step_metrics(self, logs: dict[str, Any]) -> dict[str, Any] | None:
        return logs

    def on_train_end(
        self,
        args: TrainingArguments,
        state: TrainerState,
        control: TrainerControl,
        **kwargs: Any,
    ) -> None:
        if self.plan is not None:
            self.plan.finish(state.global_step)

    def on_log(
        self,
        args: TrainingArguments,
        state: TrainerState,
        control: TrainerControl,
        logs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        metrics = self.step_metrics(logs or {})
        if metrics is None:
            return
        event = "eval" if any(k.startswith("eval_") for k in metrics) else "train"
        step, total = state.global_step, state.max_steps
        if self.plan is not None:
            step, total = self.plan.position(step, total)
        self.log.write(self.prefix + event, step, total, metrics)


def write_metrics(out: Path, metrics: dict[str, Any]) -> Path:
    path = out / "metrics.json"
    if not is_main_process():
        return path
    path.write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n")
    return path
