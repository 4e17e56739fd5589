"""While the stage runs: its progress lines become RunMetric rows, progress, ETA and heartbeat
on the run's row; each poll answers whether to go on."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.utils import timezone

from training.models import REWARD_DRIVEN_KINDS, RunMetric, RunStatus, TrainingRun
from training.pipeline.resume_points import resume_point
from training.worker.runner import PollReport, ProgressLine, metric_points


@dataclass
class RunStream:
    """The runner's poll callback: metrics into RunMetric, progress and heartbeat into the
    row, and the answer to "go on?" (cancel requested, or the row is no longer ours)."""

    run_id: int
    worker: str
    folder: Path
    kind: str
    started: float
    first_point: tuple[float, int] | None = None
    last_line: ProgressLine | None = None
    clock: Callable[[], float] = time.time

    def __call__(self, report: PollReport) -> str:
        points = [
            RunMetric(run_id=self.run_id, step=step, name=name, value=value)
            for line in report.lines
            for step, name, value in metric_points(line)
        ]
        RunMetric.objects.bulk_create(points, ignore_conflicts=True, batch_size=1000)
        fields: dict[str, Any] = {"heartbeat_at": timezone.now(), "log_tail": report.log_tail}
        fields.update(self._progress(report))
        checkpoint = resume_point(self.folder) if self.kind in REWARD_DRIVEN_KINDS else None
        if checkpoint is not None:
            fields["last_checkpoint"] = str(checkpoint)
        mine = TrainingRun.objects.filter(
            pk=self.run_id, status=RunStatus.RUNNING, worker=self.worker
        )
        if not mine.update(**fields):
            return "lost"
        return "cancelled" if mine.filter(cancel_requested=True).exists() else ""

    def _progress(self, report: PollReport) -> dict[str, Any]:
        """Step, progress and time left; asked at every poll, so the time left keeps counting
        down through a long step that prints no line (never below 0)."""
        lines = [line for line in report.lines if line.total > 0]
        for line in lines:  # this attempt's first line starts the ETA's clock
            if self.first_point is None and (line.time or 0) >= self.started:
                self.first_point = (line.time or self.clock(), line.step)
        if lines:
            self.last_line = lines[-1]
        last = self.last_line
        if last is None:
            return {}
        eta = None
        if self.first_point and last.step > self.first_point[1] and last.time:
            rate = (last.time - self.first_point[0]) / (last.step - self.first_point[1])
            since_line = max(0.0, self.clock() - last.time)
            eta = max(0.0, rate * (last.total - last.step) - since_line)
        step = min(last.step, last.total)
        return {
            "step": step,
            "total_steps": last.total,
            "progress": step / last.total,
            "eta_s": eta,
        }
