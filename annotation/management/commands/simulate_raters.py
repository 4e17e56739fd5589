"""Drive the rater API (assignments/next -> submit) with synthetic raters whose traits are set:
for demos, load tests, and checking that the bias report flags the raters it should.

    manage.py simulate_raters --create-campaign "Sim pairs" --tasks 200 --overlap 3 \\
        --raters 30 --position-biased 2 --length-biased 2 --spammers 2 \\
        --judgments-per-rater 50 --seed 7 --summary var/sim-pairs.json

The campaign gets synthetic prompts whose responses hide a true quality in
Response.metadata["sim_quality"] (the rater API shows labels and texts only); `--campaign NAME`
uses an existing one instead (quality from sim_quality where stored, else the more concise the
better: annotation.simulation.prompts.concise_quality). Raters `{prefix}-01`.. are annotators
with API tokens in the pool "Simulated raters: <campaign>", created on the first run and reused
after. What each rater does is described in annotation.simulation.traits.

Requests go in-process through Django's test Client (the whole URL, middleware and DRF stack,
no socket) or, with --base-url, over HTTP to a running server using the same database. Raters
take turns, one next + submit each per round. The last line on stdout is the summary JSON,
with every rater's traits, so a check can compare flagged raters with injected ones.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotation.models import Campaign
from annotation.simulation.driver import Simulation, run_summary, simulated_raters
from annotation.simulation.setup import (
    check_no_other_work,
    ensure_raters,
    existing_campaign,
    load_qualities,
    rater_names,
    read_traits_file,
    synthetic_campaign,
)
from annotation.simulation.traits import RaterTraits, TraitsInvalid, assign_traits, seeded

USERNAME_PREFIX = re.compile(r"^[\w.@+-]{1,140}$")


# -- argument types -------------------------------------------------------------------------


def _whole(text: str, least: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if value < least:
        raise argparse.ArgumentTypeError(f"must be at least {least}, got {value}")
    return value


def count(text: str) -> int:
    return _whole(text, 0)


def positive(text: str) -> int:
    return _whole(text, 1)


def responses_per_task(text: str) -> int:
    value = _whole(text, 2)
    if value > 16:
        raise argparse.ArgumentTypeError(f"must be at most 16, got {value}")
    return value


def probability(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value


def check_base_url(base_url: str) -> None:
    parsed = urlparse(base_url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise CommandError(f"--base-url must look like http://host:port, got {base_url!r}.")


class Command(BaseCommand):
    help = "Drive the rater API with synthetic raters of set traits; prints a summary JSON."

    def add_arguments(self, parser: CommandParser) -> None:
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--create-campaign", metavar="NAME", help="new (or reused) campaign")
        target.add_argument("--campaign", metavar="NAME", help="an existing campaign")
        parser.add_argument("--tasks", type=positive, default=100)
        parser.add_argument("--responses-per-task", type=responses_per_task, default=2)
        parser.add_argument("--overlap", type=positive, default=3)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--raters", type=positive, default=30)
        parser.add_argument("--prefix", default="sim")
        parser.add_argument("--accuracy", type=probability, default=0.85)
        parser.add_argument("--tie-rate", type=probability, default=0.03)
        parser.add_argument(
            "--bt-scale",
            type=float,
            default=0.0,
            help="> 0: follow each response's hidden quality (e.g. a gold reward model's score, "
            "manage.py gold_qualities) with Bradley-Terry noise of this scale instead of "
            "--accuracy",
        )
        parser.add_argument("--position-biased", type=count, default=0, metavar="N")
        parser.add_argument("--position-bias", type=probability, default=0.8)
        parser.add_argument("--length-biased", type=count, default=0, metavar="N")
        parser.add_argument("--length-bias", type=probability, default=0.8)
        parser.add_argument("--spammers", type=count, default=0, metavar="N")
        parser.add_argument(
            "--traits-file",
            type=Path,
            help="JSON list of per-rater trait objects; sets the raters and their traits",
        )
        parser.add_argument(
            "--judgments-per-rater", type=positive, metavar="M", help="default: until no work"
        )
        parser.add_argument("--base-url", help="a running server, e.g. http://127.0.0.1:8000")
        parser.add_argument("--summary", type=Path, help="also write the summary JSON here")

    def handle(self, *args: Any, **options: Any) -> None:
        if not USERNAME_PREFIX.match(options["prefix"]):
            raise CommandError("--prefix may hold letters, digits and . @ + - _ only.")
        if options["base_url"]:
            check_base_url(options["base_url"])
        traits = self._traits(options)
        names = rater_names(options["prefix"], len(traits))
        check_no_other_work(options["campaign"] or options["create_campaign"], names)
        campaign = self._campaign(options)
        simulation = Simulation(
            raters=simulated_raters(
                raters=ensure_raters(campaign, names),
                traits=traits,
                base_url=options["base_url"],
                seed=options["seed"],
            ),
            qualities=load_qualities(campaign),
            campaign_id=campaign.pk,
            limit=options["judgments_per_rater"],
            say=self._say,
        )
        try:
            wall_s = simulation.run()
        finally:
            for rater in simulation.raters:
                rater.transport.close()
        summary = run_summary(
            campaign_id=campaign.pk,
            campaign_name=campaign.name,
            simulation=simulation,
            wall_s=wall_s,
        )
        self._write_summary(summary, options["summary"])

    def _say(self, line: str) -> None:
        self.stderr.write(f"simulate_raters: {line}")

    def _traits(self, options: dict[str, Any]) -> list[RaterTraits]:
        try:
            clean = RaterTraits(
                accuracy=options["accuracy"],
                tie_rate=options["tie_rate"],
                bt_scale=options["bt_scale"],
            )
            if options["traits_file"]:
                return read_traits_file(options["traits_file"], clean)
            return assign_traits(
                options["raters"],
                clean=clean,
                position_biased=options["position_biased"],
                position_bias=options["position_bias"],
                length_biased=options["length_biased"],
                length_bias=options["length_bias"],
                spammers=options["spammers"],
            )
        except TraitsInvalid as error:
            raise CommandError(str(error)) from error

    def _campaign(self, options: dict[str, Any]) -> Campaign:
        if options["campaign"]:
            return existing_campaign(options["campaign"])
        return synthetic_campaign(
            name=options["create_campaign"],
            responses_per_task=options["responses_per_task"],
            overlap=options["overlap"],
            tasks=options["tasks"],
            rng=seeded(options["seed"], "prompts"),
            say=self._say,
        )

    def _write_summary(self, summary: dict[str, Any], path: Path | None) -> None:
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(json.dumps(summary, indent=2) + "\n")
            except OSError as error:
                self._say(f"cannot write {path}: {error}")
        self.stdout.write(json.dumps(summary))
