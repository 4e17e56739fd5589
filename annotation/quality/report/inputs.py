"""What the quality report is computed from: one campaign's preference pairs as flat arrays
(as `annotation.selectors.quality_arrays` loads them), its gold answers, repeats and raters;
and the settings it is computed with."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class PairArrays:
    """One row per preference pair (of human, non-repeat judgments), as flat arrays."""

    judgment: np.ndarray
    rater: np.ndarray
    task: np.ndarray
    chosen: np.ndarray
    rejected: np.ndarray
    is_tie: np.ndarray  # bool
    chosen_first: np.ndarray  # 1 shown first, 0 shown second, -1 unknown
    is_gold: np.ndarray  # bool, per the pair's task
    time_ms: np.ndarray  # the judgment's time (client-measured, else server); -1 unknown
    submitted_at: np.ndarray  # seconds since the epoch
    chosen_length: np.ndarray  # characters
    rejected_length: np.ndarray


@dataclass(frozen=True)
class VerdictArrays:
    """One row per LLM-judge verdict on a pair (`first` has the lower response id)."""

    judge: np.ndarray  # the judge's name (object)
    first: np.ndarray
    second: np.ndarray
    first_shown_first: np.ndarray  # log-odds that `first` is better, shown first
    first_shown_second: np.ndarray  # the same, shown second
    first_length: np.ndarray  # characters
    second_length: np.ndarray

    @classmethod
    def empty(cls) -> VerdictArrays:
        ints, floats = np.zeros(0, dtype=np.int64), np.zeros(0)
        return cls(np.zeros(0, dtype=object), ints, ints, floats, floats, ints, ints)


@dataclass(frozen=True)
class RaterInfo:
    ids: list[int]
    names: dict[int, str]
    statuses: dict[int, str]
    pools: dict[int, list[str]]
    demographics: dict[int, dict[str, Any]]  # consented only


@dataclass(frozen=True)
class CampaignData:
    pairs: PairArrays
    gold: dict[int, list[list[int]]]  # gold task id -> expected tiers of response ids
    repeats: dict[int, tuple[int, int, int]]  # rater -> (repeats, agreeing pairs, pairs)
    raters: RaterInfo
    reading_floor_ms_per_char: float = 15.0
    gold_threshold: float | None = None
    gold_min_items: int = 10
    verdicts: VerdictArrays | None = None


@dataclass(frozen=True)
class ReportSettings:
    test_level: float = 0.05  # family-wise, per test, Holm across raters
    min_judgments: int = 20  # fewer: listed, not tested
    outlier_margin: float = 0.10  # leave-one-out agreement this far below the median is an outlier
    fast_share_allowed: float = 0.10  # share of too-fast judgments tolerated
    straight_line_share: float = 0.90  # pairwise: modal position share tolerated
    min_group_raters: int = 5  # smaller pools or groups are not compared
    n_boot: int = 200
    seed: int = 0
