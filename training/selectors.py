"""Reads behind the training dashboard: metric series, a version's lineage, two versions side
by side, and the reward model's ceiling (the campaign's human agreement)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from annotation.models import Campaign
from annotation.selectors.campaigns import AgreementFigures, campaign_agreement
from training.charts import CurvePoint
from training.models import (
    POLICY_KINDS,
    ModelVersion,
    RunKind,
    RunMetric,
    RunStatus,
    TrainingRun,
    VersionKind,
)

# The pipeline's metrics.json names validation accuracy so (reward.py prefixes "validation_").
VALIDATION_ACCURACY = "validation_accuracy"


REWARD_KL_NAMES = {
    "train/kl": "kl",
    "train/reward_mean": "proxy",
    "train/check_reward_mean": "gold",
}


def reward_kl_points(*, run: TrainingRun) -> list[CurvePoint]:
    """A PPO round's reward against KL: one point per step that logged both its KL and its
    proxy reward, with the second (gold) reward model's mean where the round had one."""
    by_step: dict[int, dict[str, float]] = {}
    for metric in RunMetric.objects.filter(run=run, name__in=REWARD_KL_NAMES).order_by("step"):
        by_step.setdefault(metric.step, {})[REWARD_KL_NAMES[metric.name]] = metric.value
    return [
        CurvePoint(step=step, kl=values["kl"], proxy=values["proxy"], gold=values.get("gold"))
        for step, values in sorted(by_step.items())
        if "kl" in values and "proxy" in values
    ]


def metric_series(*, run: TrainingRun, after_step: int = -1) -> dict[str, list[list[float]]]:
    """Each metric of the run as [[step, value], ...] in step order, steps after `after_step`."""
    series: dict[str, list[list[float]]] = {}
    rows = RunMetric.objects.filter(run=run, step__gt=after_step).order_by("name", "step")
    for name, step, value in rows.values_list("name", "step", "value"):
        series.setdefault(name, []).append([step, value])
    return series


def version_lineage(*, version: ModelVersion) -> list[ModelVersion]:
    """The version, its parent, and so on up to the root (a cycle cannot loop for ever)."""
    chain: list[ModelVersion] = []
    seen: set[int] = set()
    current: ModelVersion | None = version
    while current is not None and current.pk not in seen:
        chain.append(current)
        seen.add(current.pk)
        parent_id = current.parent_id
        if parent_id is None:
            break
        current = ModelVersion.objects.select_related("produced_by").filter(pk=parent_id).first()
    return chain


def numeric_metrics(metrics: dict[str, Any]) -> dict[str, float]:
    return {
        name: float(value)
        for name, value in metrics.items()
        if isinstance(value, int | float) and not isinstance(value, bool)
    }


@dataclass(frozen=True)
class Comparison:
    metrics: list[dict[str, Any]]
    samples: list[dict[str, Any]]
    evaluation_run: TrainingRun | None


def _evaluation(a: ModelVersion, b: ModelVersion) -> tuple[TrainingRun | None, bool]:
    """The newest succeeded evaluation of a against b, or of b against a (then swapped)."""
    pair = Q(parent_version=a, compare_version=b) | Q(parent_version=b, compare_version=a)
    run = (
        TrainingRun.objects.filter(pair, kind=RunKind.EVALUATE, status=RunStatus.SUCCEEDED)
        .order_by("-finished_at", "-id")
        .first()
    )
    return run, run is not None and run.parent_version_id != a.pk


def _sample(row: dict[str, Any], *, swapped: bool) -> dict[str, Any]:
    first, second = ("b", "a") if swapped else ("a", "b")
    return {
        "prompt": str(row.get("prompt", "")),
        "a": str(row.get(first, "")),
        "b": str(row.get(second, "")),
        "reward_a": row.get(f"reward_{first}"),
        "reward_b": row.get(f"reward_{second}"),
    }


def compare_versions(*, a: ModelVersion, b: ModelVersion) -> Comparison:
    """Both versions' metrics by name, and sample outputs for the same prompts from the
    newest evaluation run that compared them (none yet: no samples)."""
    ma, mb = numeric_metrics(a.metrics), numeric_metrics(b.metrics)
    metrics = [{"name": n, "a": ma.get(n), "b": mb.get(n)} for n in sorted(ma.keys() | mb.keys())]
    run, swapped = _evaluation(a, b)
    rows = run.result.get("samples", []) if run is not None else []
    samples = [_sample(r, swapped=swapped) for r in rows if isinstance(r, dict)]
    return Comparison(metrics=metrics, samples=samples, evaluation_run=run)


@dataclass(frozen=True)
class Ceiling:
    campaign: Campaign
    human_agreement: AgreementFigures
    reward_version: ModelVersion | None
    val_accuracy: float | None
    val_ci_low: float | None = None
    val_ci_high: float | None = None
    # "above", "at" or "below" the human figure, only as far as both intervals allow;
    # "unknown" when either figure or interval is missing.
    verdict: str = "unknown"


Interval = tuple[float | None, float | None]


def ceiling_verdict(model: Interval, human: Interval) -> str:
    """Intervals (low, high) of the reward model's accuracy and of the human figure: "above"
    or "below" only when they do not overlap, "at" when they do, "unknown" when one is
    missing."""
    (m_low, m_high), (h_low, h_high) = model, human
    if m_low is None or m_high is None or h_low is None or h_high is None:
        return "unknown"
    if m_low > h_high:
        return "above"
    if m_high < h_low:
        return "below"
    return "at"


def reward_ceiling(*, campaign: Campaign) -> Ceiling:
    """Like for like: each rater's agreement with the other raters' decided majority (ties
    left out) beside the newest reward model's accuracy on held-out pairs, both with their
    95 % intervals. People disagree on some pairs, so a reward model cannot be expected to
    predict them better than they predict each other."""
    version = ModelVersion.objects.filter(kind=VersionKind.REWARD, campaign=campaign).first()
    metrics = numeric_metrics(version.metrics) if version else {}
    human = campaign_agreement(campaign_id=campaign.pk)
    model = (
        metrics.get(f"{VALIDATION_ACCURACY}_ci_low"),
        metrics.get(f"{VALIDATION_ACCURACY}_ci_high"),
    )
    return Ceiling(
        campaign=campaign,
        human_agreement=human,
        reward_version=version,
        val_accuracy=metrics.get(VALIDATION_ACCURACY),
        val_ci_low=model[0],
        val_ci_high=model[1],
        verdict=ceiling_verdict(model, (human.consensus_low, human.consensus_high)),
    )


# -- the reward-hacking watch's chart -----------------------------------------------------------

# The reward pipeline's metrics.json names the model's length slope so (length_slope.py,
# prefixed "validation_" like every validation figure).
REWARD_LENGTH_SLOPE = "validation_length_slope"


@dataclass(frozen=True)
class PolicyRound:
    """One policy round along a lineage: its reward model's length slope, how far its
    answers' length drifted from the parent's, and its KL from the parent and from the
    lineage's base (the watch's figures; kl_from says which one its budget counted)."""

    version: ModelVersion
    run: TrainingRun
    reward_version: ModelVersion | None
    reward_slope: float | None
    reward_slope_se: float | None
    length_ratio: float | None
    warnings: list[str]
    kl_to_parent: float | None
    kl_to_base: float | None
    kl_budget: float | None
    kl_from: str


@dataclass(frozen=True)
class LengthPreference:
    """The chart "Length preference: raters, reward model, policy drift": the raters' slope
    (the campaign's quality report, now), each round's reward model's slope in the same
    units, and each round's policy length over its parent's, oldest round first."""

    version: ModelVersion
    campaign: Campaign | None
    raters_slope: float | None
    raters_slope_se: float | None
    raters_pairs: int
    rounds: list[PolicyRound]


def _policy_round(version: ModelVersion) -> PolicyRound | None:
    run = version.produced_by
    if run is None or run.kind not in POLICY_KINDS:
        return None
    reward = run.reward_version
    slope = numeric_metrics(reward.metrics) if reward is not None else {}
    metrics = numeric_metrics(version.metrics)
    warnings = version.metrics.get("watch_warnings") or []
    return PolicyRound(
        version=version,
        run=run,
        reward_version=reward,
        reward_slope=slope.get(REWARD_LENGTH_SLOPE),
        reward_slope_se=slope.get(f"{REWARD_LENGTH_SLOPE}_se"),
        length_ratio=metrics.get("watch_length_ratio"),
        warnings=[str(w.get("code")) for w in warnings if isinstance(w, dict)],
        kl_to_parent=metrics.get("watch_kl"),
        kl_to_base=metrics.get("watch_kl_to_base"),
        kl_budget=metrics.get("watch_kl_budget"),
        kl_from=str(version.metrics.get("watch_kl_from") or "parent"),
    )


def length_preference(*, version: ModelVersion) -> LengthPreference:
    """The chart's three series along the version's lineage; the raters' slope is the one
    fit over everyone of its campaign's quality report (docs/quality.md, length bias)."""
    from annotation.selectors.quality import campaign_quality_report

    rounds = [r for v in reversed(version_lineage(version=version)) if (r := _policy_round(v))]
    campaign = version.campaign or (version.produced_by.campaign if version.produced_by else None)
    figures = campaign_quality_report(campaign=campaign).campaign if campaign else None
    length = figures.length_bias if figures is not None else None
    return LengthPreference(
        version=version,
        campaign=campaign,
        raters_slope=length.slope if length is not None else None,
        raters_slope_se=length.slope_se if length is not None else None,
        raters_pairs=length.n if length is not None else 0,
        rounds=rounds,
    )
