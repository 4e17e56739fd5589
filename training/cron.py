"""Five-field crontab strings ("0 3 * * *") as schedules use them, read with Celery's parser,
in the server's time zone."""

from __future__ import annotations

from datetime import datetime

from celery.schedules import ParseException, crontab
from django.utils import timezone

from common.errors import InvalidInput


def parse_cron(text: str) -> crontab:
    """The crontab, or InvalidInput saying what is wrong with the string."""
    fields = text.split()
    if len(fields) != 5:
        raise InvalidInput(
            "A cron needs five fields: minute hour day-of-month month day-of-week.",
            code="invalid_cron",
        )
    minute, hour, day_of_month, month_of_year, day_of_week = fields
    try:
        return crontab(
            minute=minute,
            hour=hour,
            day_of_month=day_of_month,
            month_of_year=month_of_year,
            day_of_week=day_of_week,
        )
    except (ValueError, ParseException) as error:
        raise InvalidInput(f"Invalid cron {text!r}: {error}", code="invalid_cron") from None


def next_cron_time(text: str, *, after: datetime) -> datetime:
    """The first time the cron names after `after`."""
    local = timezone.localtime(after)
    _, delta, _ = parse_cron(text).remaining_delta(local, tz=local.tzinfo)
    moment: datetime = local + delta
    return moment


def cron_due(text: str, *, since: datetime, now: datetime) -> bool:
    """Whether a cron time has come since `since` (blank cron: never)."""
    return bool(text) and next_cron_time(text, after=since) <= now
