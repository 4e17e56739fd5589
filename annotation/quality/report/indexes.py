"""The indexes every part of the quality report shares: dense codes for judgments, raters and
units (response pairs), per-judgment figures, and per-rater sums."""

from __future__ import annotations

import numpy as np

from annotation.quality.report.inputs import CampaignData


def pair_key(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """One int64 per (first, second) pair of non-negative ids."""
    base = int(second.max(initial=0)) + 1
    return first.astype(np.int64) * base + second.astype(np.int64)


def factorize(keys: np.ndarray) -> np.ndarray:
    """Dense 0..n-1 codes for the distinct keys."""
    return dense_codes(keys)[1]


def dense_codes(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(distinct keys ascending, each key's code, the first row of each code). Non-negative
    integer keys below a few times the row count (database ids) are coded with a bincount
    instead of a sort: a million rows in milliseconds."""
    keys = np.asarray(keys, dtype=np.int64)
    if keys.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    if keys.min() >= 0 and keys.max() < 4 * keys.size + 1024:
        present = np.bincount(keys) > 0
        distinct = np.flatnonzero(present)
        code_of = np.cumsum(present) - 1
        codes = code_of[keys]
    else:
        unique = np.unique(keys, return_inverse=True)
        distinct, codes = unique[0], unique[1].reshape(-1)
    first = np.full(distinct.size, keys.size, dtype=np.int64)
    np.minimum.at(first, codes, np.arange(keys.size))
    return distinct, codes.astype(np.int64), first


class CampaignIndex:
    """Indexes shared by every part of the report: each pair's judgment and rater codes,
    per-judgment figures, each pair's unit and value, and the other raters' verdict on it."""

    def __init__(self, data: CampaignData) -> None:
        pairs = data.pairs
        self.data = data
        self.p = pairs
        judgment_ids, self.j_of_pair, first = dense_codes(pairs.judgment)
        self.n_judgments = judgment_ids.size
        self.rater_ids, self.r_of_pair, _ = dense_codes(pairs.rater)
        self.n_raters = self.rater_ids.size
        self.r_of_j = self.r_of_pair[first] if first.size else np.zeros(0, dtype=np.int64)
        self.gold_j = pairs.is_gold[first]
        self.time_j = pairs.time_ms[first]
        self.at_j = pairs.submitted_at[first]
        self.task_j = pairs.task[first]
        pair_count = np.bincount(self.j_of_pair, minlength=self.n_judgments)
        self.k_of_j = np.rint((1 + np.sqrt(1 + 8 * pair_count)) / 2).astype(np.int64)
        shown = pairs.chosen_length + pairs.rejected_length
        # Each response of a K-way judgment appears in K-1 of its pairs.
        self.chars_j = np.bincount(self.j_of_pair, weights=shown, minlength=self.n_judgments) / (
            np.maximum(self.k_of_j - 1, 1)
        )
        self.judgments_r = np.bincount(self.r_of_j, minlength=self.n_raters)
        self.low = np.minimum(pairs.chosen, pairs.rejected)
        self.high = np.maximum(pairs.chosen, pairs.rejected)
        self.value = np.where(pairs.is_tie, 0, np.where(pairs.chosen == self.low, 1, -1)).astype(
            np.int8
        )
        self.regular = ~pairs.is_gold
        self.unit = factorize(pair_key(self.low, self.high))
        # The other raters' verdict on each pair, from regular (non-gold) ratings: the sum of
        # their values and how many they are (what leave-one-out and the length fit compare to).
        value = self.value.astype(np.float64)
        n_units = int(self.unit.max()) + 1 if self.unit.size else 0
        unit_sum = np.bincount(
            self.unit[self.regular], weights=value[self.regular], minlength=n_units
        )
        unit_count = np.bincount(self.unit[self.regular], minlength=n_units)
        self.others_sum = unit_sum[self.unit] - value
        self.others_count = unit_count[self.unit] - 1

    def rater_sum(self, values: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        """Sum a per-judgment array by rater."""
        index = self.r_of_j if mask is None else self.r_of_j[mask]
        weights = values if mask is None else values[mask]
        return np.bincount(index, weights=weights, minlength=self.n_raters)
