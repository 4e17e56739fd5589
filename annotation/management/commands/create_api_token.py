"""Issue a new API token for a user, for scripts: `Authorization: Token <key>`."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotation.services.tokens import issue_token
from common.errors import ServiceError


class Command(BaseCommand):
    help = "Issue and print a new API token for a user (it expires; the key is shown only once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="command line", help="what the token is for")

    def handle(self, *args: Any, **options: Any) -> None:
        user = get_user_model().objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"No user {options['username']!r}.")
        try:
            token, key = issue_token(user=user, name=options["name"])
        except ServiceError as error:
            raise CommandError(error.detail) from error
        self.stderr.write(
            f"Token {token.prefix}… expires at {token.expires_at:%Y-%m-%d %H:%M} UTC."
        )
        self.stdout.write(key)
