"""k-fold cross-validation of a reward-model run, for data sets too small to spare a held-out
split. The pairs are dealt into k folds by prompt (data.fold_by_prompt); k models are trained
from the run's starting point, each on every fold but one, and each scores the fold it did not
see. The out-of-fold scores, pooled, give the same honest figures as a validation split
(figures.honest_figures), over every pair, beside each fold's own accuracy.

Torch-free: reward.py hands in the training and scoring of one fold, so the bookkeeping here
(who trains on what, who is scored by whom, what is pooled) is tested on its own."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from training.pipeline.data import PreferencePair
from training.pipeline.errors import PipelineError
from training.pipeline.figures import honest_figures, pair_outcome
from training.pipeline.options import MAX_CV_FOLDS

FoldRun = Callable[[int, list[int], list[int]], tuple[list[float], list[float]]]
"""run_fold(fold, train, test): train on the pairs indexed by `train` and return the chosen and
rejected scores of the pairs indexed by `test`, in that order (`fold` counts from 1)."""

FoldReport = Callable[[int, dict[str, float]], None]
"""report(fold, {"accuracy", "pairs"}): called as each fold is scored."""


def cv_folds_wanted(folds: object) -> int:
    """k, or 0 when cross-validation is off (0 or 1: a single fold is no cross-validation);
    anything but a whole number from 0 to MAX_CV_FOLDS is an error."""
    if isinstance(folds, bool) or not isinstance(folds, int) or not 0 <= folds <= MAX_CV_FOLDS:
        raise PipelineError(f"--cv-folds must be 0 (off) or 2 to {MAX_CV_FOLDS}, not {folds!r}")
    return folds if folds >= 2 else 0


@dataclass(frozen=True)
class OutOfFold:
    """Every pair's fold and its scores by the one model that was not trained on that fold."""

    fold_of: list[int]
    chosen: list[float]
    rejected: list[float]


def _accuracy(chosen: Sequence[float], rejected: Sequence[float]) -> float:
    """Ties as half, as honest_figures counts them."""
    outcomes = [pair_outcome(c, r) for c, r in zip(chosen, rejected, strict=True)]
    return sum(outcomes) / len(outcomes)


def cross_validate(
    fold_of: Sequence[int], run_fold: FoldRun, report: FoldReport | None = None
) -> OutOfFold:
    """Runs each fold (trained on the others, scored on itself) and pools the scores, so that
    every pair is scored exactly once, by a model that never saw its prompt."""
    chosen, rejected = [math.nan] * len(fold_of), [math.nan] * len(fold_of)
    for fold in range(max(fold_of) + 1):
        test = [index for index, f in enumerate(fold_of) if f == fold]
        train = [index for index, f in enumerate(fold_of) if f != fold]
        fold_chosen, fold_rejected = run_fold(fold + 1, train, test)
        for index, c, r in zip(test, fold_chosen, fold_rejected, strict=True):
            chosen[index], rejected[index] = c, r
        if report is not None:
            accuracy = _accuracy(fold_chosen, fold_rejected)
            report(fold + 1, {"accuracy": accuracy, "pairs": float(len(test))})
    return OutOfFold(list(fold_of), chosen, rejected)


def cv_figures(pairs: Sequence[PreferencePair], scores: OutOfFold) -> dict[str, float]:
    """The honest figures over all out-of-fold pairs (`cv_accuracy`, `cv_accuracy_ci_low`, ...,
    `cv_pairs`, `cv_folds`) and each fold's accuracy and pairs (`cv_fold_1_accuracy`, ...)."""
    pooled = honest_figures(
        scores.chosen,
        scores.rejected,
        [len(p.chosen) for p in pairs],
        [len(p.rejected) for p in pairs],
        [p.prompt_key for p in pairs],
    )
    folds = max(scores.fold_of) + 1
    figures: dict[str, float] = {"cv_folds": folds, "cv_pairs": len(pairs)}
    figures.update({f"cv_{name}": value for name, value in pooled.items()})
    for fold in range(folds):
        test = [index for index, f in enumerate(scores.fold_of) if f == fold]
        figures[f"cv_fold_{fold + 1}_accuracy"] = _accuracy(
            [scores.chosen[i] for i in test], [scores.rejected[i] for i in test]
        )
        figures[f"cv_fold_{fold + 1}_pairs"] = len(test)
    return figures


def write_predictions(path: Path, pairs: Sequence[PreferencePair], scores: OutOfFold) -> Path:
    """One JSON line per pair, in the data's order: its fold (from 1), its prompt's key and its
    out-of-fold scores, to look into what the models got wrong or to recompute the figures."""
    with path.open("w", encoding="utf-8") as handle:
        for index, pair in enumerate(pairs):
            row = {
                "pair": index,
                "fold": scores.fold_of[index] + 1,
                "prompt_key": pair.prompt_key,
                "chosen_score": scores.chosen[index],
                "rejected_score": scores.rejected[index],
            }
            handle.write(json.dumps(row) + "\n")
    return path
