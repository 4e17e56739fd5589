"""Import a JSONL or CSV file (optionally .gz) of prompts or preferences into a campaign."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotation.models import Campaign
from annotation.services.importing import import_file
from common.errors import ServiceError


class Command(BaseCommand):
    help = "Import prompts (with optional responses) or preference pairs into a campaign."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument("--campaign", required=True, help="Campaign id or exact name.")
        parser.add_argument("--source", default="", help="Source name (default: the file name).")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["path"]
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        campaign = self._campaign(options["campaign"])
        try:
            report = import_file(
                actor=None,
                campaign=campaign,
                data=path.read_bytes(),
                filename=path.name,
                source=options["source"],
            )
        except ServiceError as error:
            raise CommandError(error.detail) from error
        if not report.is_ok:
            for row_error in report.errors[:50]:
                self.stderr.write(f"line {row_error.line}: {row_error.reason}")
            raise CommandError(f"{len(report.errors)} bad rows; nothing was imported.")
        self.stdout.write(
            f"Imported {report.prompts} prompts, {report.responses} responses, "
            f"{report.tasks} tasks, {report.judgments} judgments into {campaign.name!r}."
        )

    def _campaign(self, ref: str) -> Campaign:
        campaign = (
            Campaign.objects.filter(pk=int(ref)).first()
            if ref.isdigit()
            else Campaign.objects.filter(name=ref).first()
        )
        if campaign is None:
            raise CommandError(f"No campaign {ref!r}.")
        return campaign
