"""Load the demo: 30 prompts with 4 responses each (a ranking campaign), the same prompts as
pairs (a pairwise campaign), one admin, three annotators and one ML engineer in one pool.

Idempotent: a second run changes nothing and prints the same logins. Passwords are random on
first creation and kept in var/demo-logins.json (readable by the owner only)."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from annotation.models import JudgmentMode, RaterPool
from annotation.services.campaigns import ensure_campaign
from annotation.services.importing import import_file
from annotation.services.pools import change_pool_campaigns, change_pool_members, create_pool
from annotation.services.raters import create_rater
from common.roles import Role

DEMO_FILE = Path(__file__).resolve().parents[2] / "demo" / "prompts.jsonl"
DEMO_USERS = [
    ("admin", Role.ADMIN),
    ("annotator1", Role.ANNOTATOR),
    ("annotator2", Role.ANNOTATOR),
    ("annotator3", Role.ANNOTATOR),
    ("mlengineer", Role.ML_ENGINEER),
]
RANK_CAMPAIGN = "Demo: rank four answers"
PAIR_CAMPAIGN = "Demo: which answer is better"
GUIDELINES = """\
Rank the answers from **best to worst** for the person who asked.

- Prefer answers that are *correct*, then *helpful*, then *clear and concise*.
- A careful answer to a risky request beats both a reckless one and a flat refusal.
- Tie answers you honestly cannot separate; flag answers that are unsafe.
"""


def _pairwise_rows() -> bytes:
    rows = []
    for line in DEMO_FILE.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        rows.append(
            json.dumps({**row, "id": f"{row['id']}-pair", "responses": row["responses"][:2]})
        )
    return "\n".join(rows).encode()


class Command(BaseCommand):
    help = "Load demo prompts, campaigns, users and a rater pool (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--logins-file", default=str(Path(settings.VAR_DIR) / "demo-logins.json")
        )
        parser.add_argument("--password", help="Use this password for every demo user (tests).")

    def handle(self, *args: Any, **options: Any) -> None:
        logins_file = Path(options["logins_file"])
        passwords = json.loads(logins_file.read_text()) if logins_file.exists() else {}
        with transaction.atomic():
            users = self._users(passwords, options["password"])
            self._campaigns(users["admin"])
        if not options["password"]:
            logins_file.parent.mkdir(parents=True, exist_ok=True)
            logins_file.write_text(json.dumps(passwords, indent=2))
            logins_file.chmod(0o600)
        self.stdout.write("Demo logins (username / password / role):")
        for username, role in DEMO_USERS:
            shown = options["password"] or passwords.get(
                username, "(set before; see --logins-file)"
            )
            self.stdout.write(f"  {username:<12} {shown:<24} {role.label}")

    def _users(self, passwords: dict[str, str], fixed: str | None) -> dict[str, Any]:
        users = {}
        user_model = get_user_model()
        for username, role in DEMO_USERS:
            user = user_model.objects.filter(username=username).first()
            if user is None:
                password = fixed or passwords.get(username) or secrets.token_urlsafe(9)
                passwords[username] = password
                user = create_rater(
                    actor=None, username=username, password=password, role=role, via="seed_demo"
                )
            elif fixed:
                user.set_password(fixed)
                user.save(update_fields=["password"])
            users[username] = user
        return users

    def _pool(self, admin: Any, campaign_ids: set[int]) -> None:
        """The demo pool with every demo user and both campaigns, through the audited services;
        what a rerun finds already there is left alone."""
        pool = RaterPool.objects.filter(name="Demo raters").first() or create_pool(
            actor=admin, name="Demo raters", description="Everyone in the demo."
        )
        users = get_user_model().objects.filter(username__in=[u for u, _ in DEMO_USERS])
        members = set(users.values_list("pk", flat=True)) - set(
            pool.members.values_list("pk", flat=True)
        )
        if members:
            change_pool_members(actor=admin, pool=pool, add=members)
        campaigns = campaign_ids - set(pool.campaigns.values_list("pk", flat=True))
        if campaigns:
            change_pool_campaigns(actor=admin, pool=pool, add=campaigns)

    def _campaigns(self, admin: Any) -> None:
        rank, rank_new = ensure_campaign(
            actor=admin, name=RANK_CAMPAIGN, guidelines=GUIDELINES, responses_per_task=4, overlap=3
        )
        pair, pair_new = ensure_campaign(
            actor=admin,
            name=PAIR_CAMPAIGN,
            guidelines=GUIDELINES,
            responses_per_task=2,
            overlap=3,
            judgment_mode=JudgmentMode.PAIRWISE,
        )
        if rank_new:
            import_file(
                actor=admin,
                campaign=rank,
                data=DEMO_FILE.read_bytes(),
                filename="demo-prompts.jsonl",
                source="demo",
            )
        if pair_new:
            import_file(
                actor=admin,
                campaign=pair,
                data=_pairwise_rows(),
                filename="demo-pairs.jsonl",
                source="demo",
            )
        self._pool(admin, campaign_ids={rank.pk, pair.pk})
        self.stdout.write(
            f"Campaigns: {rank.name!r} ({rank.tasks.count()} tasks), "
            f"{pair.name!r} ({pair.tasks.count()} tasks)"
        )
