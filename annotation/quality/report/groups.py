"""Groups of raters pooled and compared: everyone (the campaign), each pool, and the values of
each self-reported attribute (consented raters only). Groups smaller than `min_group_raters`
are listed but not compared."""

from __future__ import annotations

import numpy as np
from scipy import stats as sps

from annotation.quality.estimate import Estimate, finite_or_none, wilson_estimate
from annotation.quality.report.figures import (
    CampaignFigures,
    Comparison,
    GroupFigures,
    PooledFigures,
    PooledPositionBias,
    SlopedEstimate,
)
from annotation.quality.report.indexes import CampaignIndex
from annotation.quality.report.inputs import CampaignData, ReportSettings
from annotation.quality.report.rater_tests import RaterTests
from annotation.quality.stats import binomial_test


class RaterGroups:
    """Pools the per-rater test counts of any set of raters (a boolean mask in rater order)."""

    def __init__(self, c: CampaignIndex, tests: RaterTests, flagged: np.ndarray) -> None:
        self.c, self.tests, self.flagged = c, tests, flagged

    def pooled(self, members: np.ndarray) -> PooledFigures:
        t = self.tests
        pos_k, pos_n = t.position.k[members].sum(), t.position.n[members].sum()
        return PooledFigures(
            raters=int(members.sum()),
            judgments=int(self.c.judgments_r[members].sum()),
            loo_agreement=_share(t.outlier.k[members], t.outlier.n[members]),
            position_bias=PooledPositionBias(
                **vars(wilson_estimate(pos_k, pos_n)),
                p_value=binomial_test(int(pos_k), int(pos_n), 0.5),
            ),
            length_bias=_share(t.length.k[members], t.length.n[members]),
            fast_share=_share(t.speed.k[members], t.speed.n[members]),
            flagged_raters=int(self.flagged[members].sum()),
        )

    def campaign(self) -> CampaignFigures | None:
        """Everyone pooled, with the campaign-wide length slope; None before any judgment."""
        if not self.c.n_raters:
            return None
        everyone = dict(vars(self.pooled(np.ones(self.c.n_raters, dtype=bool))))
        length = SlopedEstimate(
            **vars(everyone.pop("length_bias")),
            slope=finite_or_none(self.tests.campaign_slope),
            slope_se=finite_or_none(self.tests.campaign_slope_se),
        )
        return CampaignFigures(**everyone, length_bias=length)

    def compare(self, groups: dict[str, np.ndarray], min_raters: int) -> Comparison:
        """The groups with enough raters pooled, and chi-square tests that they share a rate."""
        kept = {name: members for name, members in groups.items() if members.sum() >= min_raters}
        loo, position = self.tests.outlier, self.tests.position
        return Comparison(
            groups=tuple(
                GroupFigures(name=name, **vars(self.pooled(m))) for name, m in sorted(kept.items())
            ),
            left_out=tuple(sorted(set(groups) - set(kept))),
            loo_agreement_p_value=_chi_square(
                [loo.k[m].sum() for m in kept.values()], [loo.n[m].sum() for m in kept.values()]
            ),
            position_bias_p_value=_chi_square(
                [position.k[m].sum() for m in kept.values()],
                [position.n[m].sum() for m in kept.values()],
            ),
        )


def _share(k: np.ndarray, n: np.ndarray) -> Estimate:
    return wilson_estimate(k.sum(), n.sum())


def pool_masks(c: CampaignIndex, data: CampaignData) -> dict[str, np.ndarray]:
    """Each pool's members among the raters who judged."""
    ids = c.rater_ids.tolist()
    pools = data.raters.pools
    names = sorted({name for rid in ids for name in pools.get(rid, [])})
    return {
        name: np.array([name in pools.get(rid, []) for rid in ids], dtype=bool) for name in names
    }


def demographic_comparisons(
    c: CampaignIndex, data: CampaignData, groups: RaterGroups, settings: ReportSettings
) -> dict[str, Comparison]:
    """Per self-reported attribute, its values' raters compared."""
    ids = c.rater_ids.tolist()
    answers = data.raters.demographics
    keys = sorted({key for rid in ids for key in answers.get(rid, {})})
    comparisons = {}
    for key in keys:
        said = [str(answers.get(rid, {}).get(key)) for rid in ids]
        values = set(said)
        values.discard("None")
        masks = {value: np.array([s == value for s in said], dtype=bool) for value in values}
        comparisons[key] = groups.compare(masks, settings.min_group_raters)
    return comparisons


def _chi_square(successes: list[float], totals: list[float]) -> float | None:
    """p-value of a chi-square test that every group has the same rate (None if undefined)."""
    table = np.array([[s, t - s] for s, t in zip(successes, totals, strict=True) if t > 0])
    if table.shape[0] < 2 or (table.sum(axis=0) == 0).any():
        return None
    return finite_or_none(float(sps.chi2_contingency(table, correction=False)[1]))
