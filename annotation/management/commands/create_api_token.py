"""Create (or show) the API token of a user, for scripts: `Authorization: Token <key>`."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotation.services.raters import issue_api_token


class Command(BaseCommand):
    help = "Print a user's API token, creating it if needed (--rotate replaces it)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--rotate", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        user = get_user_model().objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"No user {options['username']!r}.")
        self.stdout.write(issue_api_token(user=user, rotate=options["rotate"]))
