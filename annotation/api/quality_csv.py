"""The quality report as one long CSV table: one row per figure of the campaign, each pool and
group, and each rater. Rendered from the report's JSON form, so the columns follow the API.
Names in it (the campaign's, pools', groups', raters') are escaped for spreadsheets."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from typing import Any

from django.contrib.auth.models import User

from annotation.api.quality_serializers import QualityReportSerializer
from annotation.models import Campaign
from annotation.quality.report.figures import QualityReport
from annotation.services.audit import record_audit_event
from common.spreadsheet import spreadsheet_dict

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


def _table_rows(data: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    campaign = data["campaign_name"]
    yield from _figure_rows("agreement", campaign, data["agreement"])
    yield from _figure_rows("campaign", campaign, data["campaign"])
    for group in data["pools"]["groups"]:
        yield from _figure_rows("pool", group["name"], group)
    for key, comparison in data["demographics"].items():
        for group in comparison["groups"]:
            yield from _figure_rows(f"group:{key}", group["name"], group)
    for row in data["rater_rows"]:
        yield from _figure_rows("rater", row["username"], row)
        yield {
            "level": "rater",
            "name": row["username"],
            "figure": "flags",
            "flagged": bool(row["flags"]),
            "extra": ";".join(row["flags"]),
        }


def _render(report: QualityReport) -> tuple[str, int]:
    """The report as one long table, and how many rows it has (the header not counted)."""
    data = QualityReportSerializer(report).data
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    rows = 0
    for row in _table_rows(data):
        writer.writerow(spreadsheet_dict(row))
        rows += 1
    return out.getvalue(), rows


def report_csv(report: QualityReport) -> str:
    """The report as one long table."""
    return _render(report)[0]


def export_report_csv(*, actor: User, campaign: Campaign, report: QualityReport) -> str:
    """The report's CSV, with an audit event saying who exported it and how many rows."""
    text, rows = _render(report)
    record_audit_event(
        actor=actor,
        action="export.quality_csv",
        target=campaign,
        details={"format": "csv", "rows": rows},
    )
    return text
