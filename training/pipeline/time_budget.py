"""A round's wall-clock budget (`max_seconds`): training stops at the end of the first step
that ends after that many seconds, then saves, watches and reports as after its last step, so
methods can be compared at the same time spent. Counted from the start of this process's
training (a resumed round gets the budget again); 0 is no limit."""

from __future__ import annotations

import time
from typing import Any

from transformers import TrainerCallback, TrainerControl, TrainerState, TrainingArguments

from training.pipeline.processes import any_process


class TimeBudget:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.started = time.monotonic()
        self.spent = False

    def over(self) -> bool:
        """After a step: whether the budget is spent, agreed over every process."""
        if self.seconds <= 0:
            return False
        self.spent = any_process(time.monotonic() - self.started >= self.seconds)
        return self.spent


class TimeBudgetCallback(TrainerCallback):
    """A Trainer's steps under a TimeBudget (clocked from the start of training)."""

    def __init__(self, seconds: float) -> None:
        self.budget = TimeBudget(seconds)

    def on_train_begin(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **_: Any
    ) -> None:
        self.budget = TimeBudget(self.budget.seconds)

    def on_step_end(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **_: Any
    ) -> None:
        if self.budget.over():
            control.should_training_stop = True
