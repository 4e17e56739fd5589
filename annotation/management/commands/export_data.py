"""Export preference pairs as TRL JSONL (standard or conversational) or CSV."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.dateparse import parse_datetime

from annotation.exporting import (
    EXPORT_FORMATS,
    Export,
    audited_export,
    export_details,
    render_export,
)
from annotation.selectors.preferences import PreferenceFilter, iter_preference_rows
from annotation.selectors.safety import UNSAFE_TREATMENTS


class Command(BaseCommand):
    help = "Export preference pairs (ties left out unless --include-ties)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=sorted(EXPORT_FORMATS), default="trl")
        parser.add_argument("--out", type=Path, help="Output file (default: standard output).")
        parser.add_argument("--campaign", type=int, action="append", default=[])
        parser.add_argument("--rater", type=int, action="append", default=[])
        parser.add_argument("--pool", type=int, action="append", default=[])
        parser.add_argument("--since", type=parse_datetime)
        parser.add_argument("--until", type=parse_datetime)
        parser.add_argument("--include-ties", action="store_true")
        parser.add_argument(
            "--unsafe",
            choices=UNSAFE_TREATMENTS,
            default="ignore",
            help="what a response flagged unsafe does: drop = the helpfulness set, safety = "
            "the safety set (annotation.selectors.safety)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        filters = PreferenceFilter(
            campaign_ids=tuple(options["campaign"]),
            rater_ids=tuple(options["rater"]),
            pool_ids=tuple(options["pool"]),
            since=options["since"],
            until=options["until"],
            include_ties=options["include_ties"],
            unsafe=options["unsafe"],
        )
        params = {key: options[key] for key in ("format", "campaign", "rater", "pool", "since")}
        params.update(
            until=options["until"], include_ties=options["include_ties"], unsafe=options["unsafe"]
        )
        chunks = audited_export(
            actor=None,
            action="export.preferences",
            target=Export(name=f"preferences ({options['format']})"),
            details={**export_details(params), "via": "command line"},
            rows=iter_preference_rows(filters),
            render=lambda counted: render_export(counted, options["format"]),
        )
        if options["out"] is None:
            sys.stdout.writelines(chunks)
            return
        with options["out"].open("w", encoding="utf-8", newline="") as handle:
            handle.writelines(chunks)
        self.stderr.write(f"Wrote {options['out']}")
