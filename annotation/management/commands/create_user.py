"""Create a user with a role (annotator, admin, ml_engineer)."""

from __future__ import annotations

import secrets
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotation.services.raters import create_rater
from common.errors import ServiceError
from common.roles import Role


class Command(BaseCommand):
    help = "Create a user with a role; prints a generated password unless one is given."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--role", default=Role.ANNOTATOR, choices=[r for r in Role.values if r != Role.EXTERNAL]
        )
        parser.add_argument("--password", help="Default: a random one, printed once.")
        parser.add_argument("--email", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        password = options["password"] or secrets.token_urlsafe(12)
        try:
            # Audited like a user made through the API; nobody signed in made it.
            create_rater(
                actor=None,
                username=options["username"],
                password=password,
                role=options["role"],
                email=options["email"],
                via="command line",
            )
        except ServiceError as error:
            raise CommandError(error.detail) from error
        shown = "(as given)" if options["password"] else password
        self.stdout.write(f"Created {options['username']} ({options['role']}), password: {shown}")
