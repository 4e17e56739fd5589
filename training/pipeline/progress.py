"""Progress for people (a tqdm bar) and for machines (JSON lines a worker can stream)."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

from transformers import TrainerCallback, TrainerControl, TrainerState, TrainingArguments


def _finite(metrics: dict[str, Any]) -> dict[str, float]:
    return {
        k: float(v)
        for k, v in metrics.items()
        if isinstance(v, int | float) and math.isfinite(float(v))
    }


class ProgressLog:
    """Appends {"event", "step", "total", "metrics", "time"} lines to `progress.jsonl`."""

    def __init__(self, out: Path) -> None:
        out.mkdir(parents=True, exist_ok=True)
        self.path = out / "progress.jsonl"

    def write(
        self, event: str, step: int, total: int, metrics: dict[str, Any] | None = None
    ) -> None:
        row = {
            "event": event,
            "step": step,
            "total": total,
            "metrics": _finite(metrics or {}),
            "time": time.time(),
        }
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(row) + "\n")


class ProgressCallback(TrainerCallback):
    """Mirrors a Trainer's logs into a ProgressLog."""

    def __init__(self, log: ProgressLog) -> None:
        self.log = log

    def on_log(
        self,
        args: TrainingArguments,
        state: TrainerState,
        control: TrainerControl,
        logs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        event = "eval" if logs and any(k.startswith("eval_") for k in logs) else "train"
        self.log.write(event, state.global_step, state.max_steps, logs)


def write_metrics(out: Path, metrics: dict[str, Any]) -> Path:
    path = out / "metrics.json"
    path.write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n")
    return path
