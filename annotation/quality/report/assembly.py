"""`build_report`: the campaign quality report from its arrays, as a `QualityReport`."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from datetime import UTC, datetime

from annotation.quality.estimate import finite_or_none
from annotation.quality.report.campaign_figures import agreement, consensus, over_time
from annotation.quality.report.figures import AppliedSettings, QualityReport
from annotation.quality.report.groups import RaterGroups, demographic_comparisons, pool_masks
from annotation.quality.report.indexes import CampaignIndex
from annotation.quality.report.inputs import CampaignData, ReportSettings
from annotation.quality.report.judges import judge_rows
from annotation.quality.report.rater_rows import flagged_mask, rater_rows
from annotation.quality.report.rater_tests import RaterTests, run_rater_tests


def build_report(data: CampaignData, settings: ReportSettings | None = None) -> QualityReport:
    """The whole report."""
    settings = settings or ReportSettings()
    c = CampaignIndex(data)
    # The consensus fit is mostly numpy work that releases the GIL (sorts, batched solves):
    # it runs on the second core while this thread computes the rest.
    with ThreadPoolExecutor(max_workers=1) as background:
        consensus_figures = background.submit(consensus, c)
        tests = run_rater_tests(c, data, settings)
        rows = rater_rows(c, data, tests)
        groups = RaterGroups(c, tests, flagged_mask(rows))
        pools = groups.compare(pool_masks(c, data), settings.min_group_raters)
        demographics = demographic_comparisons(c, data, groups, settings)
        return QualityReport(
            generated_at=datetime.now(tz=UTC).isoformat(),
            judgments=int(c.n_judgments),
            pairs=int(c.p.judgment.size),
            raters=len(rows),
            settings=_applied(data, settings, tests),
            agreement=agreement(c, settings),
            consensus=consensus_figures.result(),
            over_time=tuple(over_time(c, settings)),
            campaign=groups.campaign(),
            pools=pools,
            demographics=demographics,
            rater_rows=tuple(rows),
            flagged_raters=tuple(row.rater_id for row in rows if row.flags),
            judges=judge_rows(data.pairs, data.verdicts),
        )


def _applied(data: CampaignData, settings: ReportSettings, tests: RaterTests) -> AppliedSettings:
    return AppliedSettings(
        **asdict(settings),
        reading_floor_ms_per_char=data.reading_floor_ms_per_char,
        gold_threshold=data.gold_threshold,
        gold_min_items=data.gold_min_items,
        loo_reference=finite_or_none(tests.loo_reference),
        length_slope_reference=finite_or_none(tests.length_reference),
    )
