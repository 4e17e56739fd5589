"""A round's wall-clock budget (`max_seconds`): training stops at the end of the first step
that ends after that many seconds, then saves, watches and reports as after its last step, so
methods can be compared at the same time spent; 0 is no limit. A resumed round counts the
training time its steps before the kill logged (their `seconds`; TRL's `step_time`): PPO then
trains no further step if the budget was spent, a TRL round at most one more."""

from __future__ import annotations

import time
from typing import Any

from transformers import TrainerCallback, TrainerControl, TrainerState, TrainingArguments

from training.pipeline.processes import any_process


class TimeBudget:
    def __init__(self, seconds: float, spent_before: float = 0.0) -> None:
        self.seconds = seconds
        self.started = time.monotonic() - spent_before

    def over(self) -> bool:
        """Whether the budget is spent, agreed over every process."""
        if self.seconds <= 0:
            return False
        return any_process(time.monotonic() - self.started >= self.seconds)


class TimeBudgetCallback(TrainerCallback):
    """A Trainer's steps under a TimeBudget (clocked from the start of training)."""

    def __init__(self, seconds: float) -> None:
        self.budget = TimeBudget(seconds)

    def on_train_begin(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **_: Any
    ) -> None:
        # A resumed trainer's state holds the steps logged before the kill.
        spent = sum(float(entry.get("step_time", 0.0)) for entry in state.log_history)
        self.budget = TimeBudget(self.budget.seconds, spent)

    def on_step_end(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **_: Any
    ) -> None:
        if self.budget.over():
            control.should_training_stop = True
            control.should_save = True  # a kill before the end resumes from here
