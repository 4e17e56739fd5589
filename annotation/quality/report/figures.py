"""The quality report's typed figures: frozen dataclasses, built by `assembly.build_report`,
cached as they are, rendered by `annotation.api.quality_serializers` and read by selectors.
Plain Python (no numpy), so the web process can import them without the array stack.

Every figure may be `None` (undefined for lack of data); none is ever NaN.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from annotation.quality.estimate import Estimate

# The tests a rater can be flagged by, in the order the report names them.
RATER_FLAGS = ("position_bias", "length_bias", "speed", "straight_lining", "outlier", "gold")


@dataclass(frozen=True)
class TestedEstimate(Estimate):
    """One rater's test: a proportion, its p-value, the Holm-adjusted p-value and the flag."""

    p_value: float | None
    p_adjusted: float | None
    flagged: bool


@dataclass(frozen=True)
class LengthTest(TestedEstimate):
    """The length test: with the log-odds shift towards the longer response (> 0 prefers
    longer) from the rater's logistic fit."""

    slope: float | None
    slope_se: float | None


@dataclass(frozen=True)
class GoldAccuracy(Estimate):
    items: int  # gold judgments the rater made (n counts their pairs)


@dataclass(frozen=True)
class SelfConsistency(Estimate):
    repeats: int  # repeated tasks (n counts their pairs)


@dataclass(frozen=True)
class PooledPositionBias(Estimate):
    p_value: float  # exact two-sided binomial test against 0.5


@dataclass(frozen=True)
class SlopedEstimate(Estimate):
    """The campaign's share choosing the longer response, with the slope of one logistic fit
    over everyone."""

    slope: float | None
    slope_se: float | None


@dataclass(frozen=True)
class AppliedSettings:
    """The settings the report was computed with, and the references raters were tested
    against."""

    test_level: float
    min_judgments: int
    outlier_margin: float
    fast_share_allowed: float
    straight_line_share: float
    min_group_raters: int
    n_boot: int
    seed: int
    reading_floor_ms_per_char: float
    gold_threshold: float | None
    gold_min_items: int
    loo_reference: float | None
    length_slope_reference: float | None


@dataclass(frozen=True)
class Agreement:
    percent_agreement: Estimate
    percent_agreement_no_ties: Estimate
    alpha_pairwise: Estimate
    fleiss_kappa: Estimate
    alpha_ranks: Estimate
    kendalls_w: Estimate | None  # only when some judgments rank three or more responses
    # Leave-one-out agreement with the other raters' decided majority, ties left out: what a
    # reward model's accuracy on held-out consensus pairs is compared with.
    consensus_agreement: Estimate


@dataclass(frozen=True)
class Consensus:
    tasks: int
    mean_top_probability: float | None  # fitted P(best beats runner-up), averaged over tasks
    clear_top_share: float | None  # share of tasks where that probability is >= 0.75


@dataclass(frozen=True)
class OverTimePoint:
    start: str  # ISO date-time of the period's start (a day, or a week for long campaigns)
    judgments: int
    percent_agreement: Estimate
    alpha_pairwise: Estimate


@dataclass(frozen=True)
class PooledFigures:
    """A set of raters' figures pooled."""

    raters: int
    judgments: int
    loo_agreement: Estimate
    position_bias: PooledPositionBias
    length_bias: Estimate
    fast_share: Estimate
    flagged_raters: int


@dataclass(frozen=True)
class GroupFigures(PooledFigures):
    name: str


@dataclass(frozen=True)
class CampaignFigures(PooledFigures):
    """Everyone pooled; the length figure also carries the campaign-wide slope."""

    length_bias: SlopedEstimate


@dataclass(frozen=True)
class Comparison:
    """Pools, or the values of one self-reported attribute, compared."""

    groups: tuple[GroupFigures, ...]
    left_out: tuple[str, ...]  # fewer than `min_group_raters` raters: not compared
    loo_agreement_p_value: float | None
    position_bias_p_value: float | None


@dataclass(frozen=True)
class RaterRow:
    rater_id: int
    username: str
    status: str
    pools: tuple[str, ...]
    judgments: int
    tested: bool  # enough judgments (settings.min_judgments) to be tested
    loo_agreement: TestedEstimate
    gold_accuracy: GoldAccuracy
    median_time_ms: float | None
    fast_share: TestedEstimate
    straight_lining: TestedEstimate
    self_consistency: SelfConsistency
    position_bias: TestedEstimate
    length_bias: LengthTest
    flags: tuple[str, ...]  # names from RATER_FLAGS


@dataclass(frozen=True)
class JudgeRow:
    """An LLM judge scored like a rater, against the raters' decided majority on the pairs it
    judged (each pair asked in both orders)."""

    judge: str
    verdicts: int
    order_consistency: Estimate  # verdicts whose two orders pick the same answer
    consensus_agreement: Estimate  # consistent verdicts that agree with the raters' majority
    debiased_agreement: Estimate  # every verdict, by its log-odds averaged over both orders
    position_bias: Estimate  # the calls (two per verdict) that picked the answer shown first
    length_bias: Estimate  # consistent verdicts on pairs of unequal length that chose the longer


@dataclass(frozen=True)
class QualityReport:
    generated_at: str  # ISO date-time
    judgments: int
    pairs: int
    raters: int
    settings: AppliedSettings
    agreement: Agreement
    consensus: Consensus
    over_time: tuple[OverTimePoint, ...]
    campaign: CampaignFigures | None  # None until somebody has judged
    pools: Comparison
    demographics: Mapping[str, Comparison]  # self-reported attribute -> its groups compared
    rater_rows: tuple[RaterRow, ...]
    flagged_raters: tuple[int, ...]
    judges: tuple[JudgeRow, ...] = ()
    campaign_id: int | None = None  # set by the selector that reads it for a campaign
    campaign_name: str = ""
