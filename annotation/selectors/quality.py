"""The quality report of a campaign, as a typed `QualityReport`: loaded as arrays
(`quality_arrays`), computed in annotation.quality, cached until the campaign's judgments (or
an admin action) change. `preferences.raters_meeting_quality` and
`campaigns.campaign_agreement` read their figures from it."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from django.core.cache import cache

from annotation.models import Campaign

if TYPE_CHECKING:
    from annotation.quality.report.figures import QualityReport
    from annotation.quality.report.inputs import ReportSettings

CACHE_SECONDS = 3600
# Part of the cache key: a report cached by code that built another shape is never read back.
_CACHE_SHAPE = "typed-3"  # typed-3: QualityReport.judges


def campaign_quality_report(
    *, campaign: Campaign, settings: ReportSettings | None = None
) -> QualityReport:
    """The report, from the cache when nothing it depends on has changed."""
    # numpy/scipy load on the first report, not when the web process starts.
    from annotation.quality.report.assembly import build_report
    from annotation.quality.report.inputs import ReportSettings
    from annotation.selectors.quality_arrays import data_version, load_campaign

    settings = settings or ReportSettings()
    version = ":".join(map(str, data_version(campaign.pk)))
    key = f"quality-report:{_CACHE_SHAPE}:{campaign.pk}:{version}:{hash(settings)}"
    report: QualityReport | None = cache.get(key)
    if report is None:
        report = replace(
            build_report(load_campaign(campaign), settings),
            campaign_id=campaign.pk,
            campaign_name=campaign.name,
        )
        cache.set(key, report, CACHE_SECONDS)
    return report
