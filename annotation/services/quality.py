"""The quality report for a campaign: loaded as arrays, computed in annotation.quality, cached
until the campaign's judgments (or an admin action) change."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from django.core.cache import cache

from annotation.models import Campaign

if TYPE_CHECKING:
    from annotation.quality.report import ReportSettings

CACHE_SECONDS = 3600


def quality_report(campaign: Campaign, settings: ReportSettings | None = None) -> dict[str, Any]:
    """The report, from the cache when nothing it depends on has changed."""
    # numpy/scipy load on the first report, not when the web process starts.
    from annotation.quality.report import ReportSettings, build_report
    from annotation.services.quality_data import data_version, load_campaign

    settings = settings or ReportSettings()
    version = data_version(campaign.pk)
    key = f"quality-report:{campaign.pk}:{':'.join(map(str, version))}:{hash(settings)}"
    report: dict[str, Any] | None = cache.get(key)
    if report is None:
        report = build_report(load_campaign(campaign), settings)
        report["campaign_id"] = campaign.pk
        report["campaign_name"] = campaign.name
        cache.set(key, report, CACHE_SECONDS)
    return report


CSV_COLUMNS = [
    "level",
    "name",
    "figure",
    "value",
    "ci_low",
    "ci_high",
    "n",
    "p_value",
    "p_adjusted",
    "flagged",
    "extra",
]


def _figure_rows(level: str, name: str, figures: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for figure, value in figures.items():
        if isinstance(value, dict) and "value" in value:
            known = {k: value.get(k) for k in CSV_COLUMNS if k in value}
            extra = {k: v for k, v in value.items() if k not in CSV_COLUMNS}
            yield {
                "level": level,
                "name": name,
                "figure": figure,
                **known,
                "extra": ";".join(f"{k}={v}" for k, v in sorted(extra.items())),
            }
        elif isinstance(value, int | float) and not isinstance(value, bool):
            yield {"level": level, "name": name, "figure": figure, "value": value}


def report_csv(report: dict[str, Any]) -> str:
    """The report as one long table: one row per figure of the campaign, each pool and
    group, and each rater."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    campaign = report.get("campaign_name", "")
    writer.writerows(_figure_rows("agreement", campaign, report["agreement"]))
    writer.writerows(_figure_rows("campaign", campaign, report["campaign"] or {}))
    for group in report["pools"]["groups"]:
        writer.writerows(_figure_rows("pool", group["name"], group))
    for key, comparison in report["demographics"].items():
        for group in comparison["groups"]:
            writer.writerows(_figure_rows(f"group:{key}", group["name"], group))
    for row in report["rater_rows"]:
        writer.writerows(_figure_rows("rater", row["username"], row))
        writer.writerow(
            {
                "level": "rater",
                "name": row["username"],
                "figure": "flags",
                "flagged": bool(row["flags"]),
                "extra": ";".join(row["flags"]),
            }
        )
    return out.getvalue()
