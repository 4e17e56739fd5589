"""The quality report as one long CSV table: one row per figure of the campaign, each pool and
group, and each rater. Rendered from the report's JSON form, so the columns follow the API."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from typing import Any

from annotation.api.quality_serializers import QualityReportSerializer
from annotation.quality.report.figures import QualityReport

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


def _figure_rows(level: str, name: str, figures: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    for figure, value in figures.items():
        if isinstance(value, Mapping) and "value" in value:
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


def report_csv(report: QualityReport) -> str:
    """The report as one long table."""
    data = QualityReportSerializer(report).data
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    campaign = data["campaign_name"]
    writer.writerows(_figure_rows("agreement", campaign, data["agreement"]))
    writer.writerows(_figure_rows("campaign", campaign, data["campaign"]))
    for group in data["pools"]["groups"]:
        writer.writerows(_figure_rows("pool", group["name"], group))
    for key, comparison in data["demographics"].items():
        for group in comparison["groups"]:
            writer.writerows(_figure_rows(f"group:{key}", group["name"], group))
    for row in data["rater_rows"]:
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
