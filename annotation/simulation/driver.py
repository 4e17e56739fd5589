"""Drive the rater API (assignments/next -> submit) with synthetic raters whose traits are set:
for demos, load tests, and checking that the bias report flags the raters it should.

    manage.py simulate_raters --create-campaign "Sim pairs" --tasks 200 --overlap 3 \\
        --raters 30 --position-biased 2 --length-biased 2 --spammers 2 \\
        --judgments-per-rater 50 --seed 7 --summary var/sim-pairs.json

The campaign gets synthetic prompts whose responses hide a true quality in
Response.metadata["sim_quality"] (the rater API shows labels and texts only); `--campaign NAME`
uses an existing one instead (quality from sim_quality where stored, else the more concise the
better: annotation.simulation.concise_quality). Raters `{prefix}-01`.. are annotators with API
tokens in the pool "Simulated raters: <campaign>", created on the first run and reused after.
What each rater does is described in annotation.simulation.

Requests go in-process through Django's test Client (the whole URL, middleware and DRF stack,
no socket) or, with --base-url, over HTTP to a running server using the same database. Raters
take turns, one next + submit each per round. The last line on stdout is the summary JSON,
with every rater's traits, so a check can compare flagged raters with injected ones.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import re
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.test import Client
from rest_framework.authtoken.models import Token

from annotation.models import (
    Campaign,
    CampaignStatus,
    JudgmentMode,
    RankingTask,
    RaterPool,
    Response,
    TaskStatus,
)
from annotation.services.campaigns import ensure_campaign
from annotation.services.importing import import_file
from annotation.services.raters import create_user_with_role
from annotation.simulation import (
    QualityKey,
    RaterTraits,
    ShownResponse,
    SyntheticPrompt,
    TraitsInvalid,
    assign_traits,
    concise_quality,
    decide,
    quality_key,
    stored_quality,
    synthetic_prompts,
)
from common.roles import Role, role_of

API = "/api/v1"
NEXT_PATH = f"{API}/assignments/next/"
SUBMIT_PATH = API + "/assignments/{id}/submit/"
PROGRESS_EVERY = 1000
MAX_ERRORS_IN_A_ROW = 5  # then the rater stops: a broken server must not make us spin
HTTP_TIMEOUT_S = 30
SOURCE = "simulate_raters"
GUIDELINES = "Synthetic prompts for simulated raters: pick the more helpful answer."
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


def seeded(seed: int, stream: str) -> random.Random:
    """A reproducible stream of the run's randomness (simulation, not secrets)."""
    return random.Random(f"{seed}:{stream}")  # noqa: S311


# -- transports -----------------------------------------------------------------------------


class Transport(Protocol):
    def post(self, path: str, body: dict[str, Any] | None) -> tuple[int, Any]: ...

    def close(self) -> None: ...


def _json_or_none(data: bytes) -> Any:
    try:
        return json.loads(data) if data else None
    except ValueError:
        return None


def in_process_host() -> str:
    """A Host header this server accepts (the test Client's "testserver" may not be)."""
    for host in settings.ALLOWED_HOSTS:
        if host == "*":
            return "localhost"
        return f"sim{host}" if host.startswith(".") else host
    return "localhost"


class InProcessTransport:
    """Through the whole Django stack (URLs, middleware, DRF auth), without a socket."""

    def __init__(self, token: str, host: str) -> None:
        self.client = Client(
            raise_request_exception=False,
            headers={"Authorization": f"Token {token}", "Host": host},
        )

    def post(self, path: str, body: dict[str, Any] | None) -> tuple[int, Any]:
        response = self.client.post(path, body or {}, content_type="application/json")
        return response.status_code, _json_or_none(response.content)

    def close(self) -> None:
        return None


class HttpTransport:
    """One keep-alive connection to a running server."""

    def __init__(self, base_url: str, token: str) -> None:
        parsed = urlparse(base_url)
        connection = (
            http.client.HTTPSConnection if parsed.scheme == "https" else http.client.HTTPConnection
        )
        self.conn = connection(parsed.hostname or "", parsed.port, timeout=HTTP_TIMEOUT_S)
        self.prefix = parsed.path.rstrip("/")
        self.headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}

    def post(self, path: str, body: dict[str, Any] | None) -> tuple[int, Any]:
        payload = json.dumps(body).encode() if body is not None else b""
        try:
            self.conn.request("POST", self.prefix + path, body=payload, headers=self.headers)
            response = self.conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()  # the next request reconnects
            raise
        return response.status, _json_or_none(data)

    def close(self) -> None:
        self.conn.close()


def check_base_url(base_url: str) -> None:
    parsed = urlparse(base_url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise CommandError(f"--base-url must look like http://host:port, got {base_url!r}.")


# -- the simulation loop --------------------------------------------------------------------


@dataclass
class SimulatedRater:
    username: str
    user_id: int
    traits: RaterTraits
    transport: Transport
    rng: random.Random
    submitted: int = 0
    errors_in_a_row: int = 0
    stopped: str = ""  # why it stopped: limit, no_work, paused, errors, other_campaign

    def summary(self) -> dict[str, Any]:
        return {
            "username": self.username,
            "user_id": self.user_id,
            "traits": self.traits.as_dict(),
            "submitted": self.submitted,
            "stopped": self.stopped,
        }


class Simulation:
    """Raters take turns, one next + submit each per round, until each has submitted `limit`
    judgments (None: no limit), got 204 (no work left) or failed MAX_ERRORS_IN_A_ROW times."""

    def __init__(
        self,
        *,
        raters: list[SimulatedRater],
        qualities: dict[QualityKey, float],
        campaign_id: int,
        limit: int | None,
        say: Callable[[str], None],
    ) -> None:
        self.raters = raters
        self.qualities = qualities
        self.campaign_id = campaign_id
        self.limit = limit
        self.say = say
        self.errors: Counter[str] = Counter()
        self.judgments = 0
        self.started = 0.0

    def run(self) -> float:
        """Run to the end; returns the wall time in seconds."""
        self.started = time.perf_counter()
        working = [rater for rater in self.raters if not self._is_done(rater)]
        while working:
            for rater in working:
                self._turn(rater)
            working = [rater for rater in working if not rater.stopped]
        return time.perf_counter() - self.started

    def _is_done(self, rater: SimulatedRater) -> bool:
        if self.limit is not None and rater.submitted >= self.limit:
            rater.stopped = "limit"
        return bool(rater.stopped)

    def _turn(self, rater: SimulatedRater) -> None:
        try:
            self._cycle(rater)
        except (OSError, http.client.HTTPException) as error:
            self._fail(rater, f"connection: {type(error).__name__}", str(error))
        self._is_done(rater)

    def _cycle(self, rater: SimulatedRater) -> None:
        status, assignment = rater.transport.post(NEXT_PATH, None)
        if status == 204:
            rater.stopped = "no_work"
            return
        if status != 200 or not isinstance(assignment, dict):
            self._fail(rater, f"next: HTTP {status}", assignment)
            return
        if assignment["campaign"]["id"] != self.campaign_id:
            # Never judge another campaign's task; the lease simply expires.
            self._fail(rater, "next: a task of another campaign", assignment["campaign"])
            rater.stopped = "other_campaign"
            return
        status, answer = self._submit(rater, assignment)
        if status in (200, 201):  # 200: a retry found the first try stored
            rater.submitted += 1
            rater.errors_in_a_row = 0
            self._count_judgment()
        else:
            self._fail(rater, f"submit: HTTP {status}", answer)

    def _submit(self, rater: SimulatedRater, assignment: dict[str, Any]) -> tuple[int, Any]:
        decision = decide(
            rater.traits,
            self._shown(assignment),
            pairwise=assignment["campaign"]["judgment_mode"] == JudgmentMode.PAIRWISE,
            prompt_words=sum(len(m["content"].split()) for m in assignment["conversation"]),
            rng=rater.rng,
        )
        body: dict[str, Any] = {
            "ranking": decision.ranking,
            "idempotency_key": f"sim-{uuid.uuid4().hex}",
            "client_time_ms": decision.client_time_ms,
        }
        if decision.strength:
            body["strength"] = decision.strength
        path = SUBMIT_PATH.format(id=assignment["id"])
        try:
            return rater.transport.post(path, body)
        except (OSError, http.client.HTTPException):
            # The first try may have been stored: the same key makes the retry safe.
            return rater.transport.post(path, body)

    def _shown(self, assignment: dict[str, Any]) -> list[ShownResponse]:
        conversation = assignment["conversation"]
        return [
            ShownResponse(
                response["label"],
                response["text"],
                self.qualities.get(
                    quality_key(conversation, response["text"]), concise_quality(response["text"])
                ),
            )
            for response in assignment["responses"]
        ]

    def _count_judgment(self) -> None:
        self.judgments += 1
        if self.judgments % PROGRESS_EVERY == 0:
            elapsed = time.perf_counter() - self.started
            self.say(f"{self.judgments} judgments, {self.judgments / elapsed:.0f}/s")

    def _fail(self, rater: SimulatedRater, kind: str, answer: Any) -> None:
        code = answer.get("code", "") if isinstance(answer, dict) else ""
        kind = f"{kind} {code}".rstrip()
        if kind not in self.errors:
            detail = answer.get("detail", answer) if isinstance(answer, dict) else answer
            self.say(f"{rater.username}: {kind}: {detail}")
        self.errors[kind] += 1
        rater.errors_in_a_row += 1
        if code == "rater_paused":  # e.g. by a campaign's gold pause rule: a result, not noise
            rater.stopped = "paused"
        elif rater.errors_in_a_row >= MAX_ERRORS_IN_A_ROW:
            rater.stopped = rater.stopped or "errors"
            self.say(f"{rater.username}: stopped after {MAX_ERRORS_IN_A_ROW} errors in a row")


# -- setting up campaign, raters, hidden qualities ------------------------------------------


def prompts_jsonl(prompts: list[SyntheticPrompt]) -> bytes:
    rows = (
        {
            "id": prompt.external_id,
            "prompt": prompt.prompt,
            "responses": [{"text": r.text, "generator": SOURCE} for r in prompt.responses],
        }
        for prompt in prompts
    )
    return "\n".join(json.dumps(row) for row in rows).encode()


def store_hidden_qualities(campaign: Campaign, prompts: list[SyntheticPrompt]) -> None:
    """Write each response's true quality to its metadata (no service sets response
    metadata; the import file format has no place for it)."""
    quality = {(p.external_id, r.text): r.quality for p in prompts for r in p.responses}
    responses = list(
        Response.objects.filter(prompt__campaign=campaign, prompt__source=SOURCE).select_related(
            "prompt"
        )
    )
    for response in responses:
        key = (response.prompt.external_id, response.text)
        response.metadata = {**response.metadata, "sim_quality": quality[key]}
    Response.objects.bulk_update(responses, ["metadata"], batch_size=1000)


def load_qualities(campaign: Campaign) -> dict[QualityKey, float]:
    """Every response's hidden quality, read once, keyed as the rater API shows it."""
    rows = Response.objects.filter(prompt__campaign=campaign).values_list(
        "prompt__conversation", "text", "metadata"
    )
    return {
        quality_key(conversation, text): stored_quality(metadata, text)
        for conversation, text, metadata in rows.iterator(chunk_size=2000)
    }


def pool_name(campaign: Campaign) -> str:
    return f"Simulated raters: {campaign.name}"[:200]


def rater_names(prefix: str, how_many: int) -> list[str]:
    return [f"{prefix}-{number:02d}" for number in range(1, how_many + 1)]


def ensure_raters(campaign: Campaign, names: list[str]) -> list[tuple[Any, str]]:
    """Annotators with these names and API tokens, members of the campaign's simulation
    pool; existing ones are reused. Returns (user, token key) pairs."""
    user_model = get_user_model()
    with transaction.atomic():
        existing = {
            user.username: user
            for user in user_model.objects.filter(username__in=names).select_related(
                "rater_profile"
            )
        }
        users = [existing.get(name) or _new_rater(name) for name in names]
        for user in users:
            if role_of(user) != Role.ANNOTATOR or not user.is_active:
                raise CommandError(
                    f"User {user.username!r} exists but is not an active annotator; "
                    "choose another --prefix."
                )
        # No pool service takes a missing actor; seed_demo fills its pool the same way.
        pool, _ = RaterPool.objects.get_or_create(
            name=pool_name(campaign), defaults={"description": f"Made by {SOURCE}."}
        )
        pool.members.add(*users)
        pool.campaigns.add(campaign)
        tokens = [Token.objects.get_or_create(user=user)[0].key for user in users]
    return list(zip(users, tokens, strict=True))


def _new_rater(username: str) -> Any:
    # No password: simulated raters sign in with their token only.
    return create_user_with_role(username=username, password=None, role=Role.ANNOTATOR)


def check_no_other_work(campaign_name: str, names: list[str]) -> None:
    """The rater API offers tasks from every campaign a rater's pools open: refuse, before
    writing anything, when these raters could be handed another campaign's open tasks."""
    open_tasks = RankingTask.objects.filter(campaign=OuterRef("pk"), status=TaskStatus.OPEN)
    others = sorted(
        Campaign.objects.filter(pools__members__username__in=names, status=CampaignStatus.ACTIVE)
        .exclude(name=campaign_name)
        .filter(Exists(open_tasks))
        .values_list("name", flat=True)
        .distinct()
    )
    if others:
        raise CommandError(
            f"These raters are also in pools open to {', '.join(map(repr, others))}, whose "
            "tasks the API would hand them too. Use another --prefix or take them out of "
            "those pools."
        )


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
        raters = ensure_raters(campaign, names)
        simulation = Simulation(
            raters=self._simulated(raters, traits, options),
            qualities=load_qualities(campaign),
            campaign_id=campaign.pk,
            limit=options["judgments_per_rater"],
            say=lambda line: self.stderr.write(f"simulate_raters: {line}"),
        )
        try:
            wall_s = simulation.run()
        finally:
            for rater in simulation.raters:
                rater.transport.close()
        self._report(campaign, simulation, wall_s, options["summary"])

    def _traits(self, options: dict[str, Any]) -> list[RaterTraits]:
        try:
            clean = RaterTraits(accuracy=options["accuracy"], tie_rate=options["tie_rate"])
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
            campaign = Campaign.objects.filter(name=options["campaign"]).first()
            if campaign is None:
                raise CommandError(f"No campaign named {options['campaign']!r}.")
        else:
            campaign = self._create_campaign(options)
        if campaign.status != CampaignStatus.ACTIVE:
            raise CommandError(
                f"Campaign {campaign.name!r} is {campaign.status}: raters get no tasks from it."
            )
        return campaign

    def _create_campaign(self, options: dict[str, Any]) -> Campaign:
        name, k = options["create_campaign"], options["responses_per_task"]
        with transaction.atomic():
            try:
                campaign, created = ensure_campaign(
                    actor=None,
                    name=name,
                    guidelines=GUIDELINES,
                    responses_per_task=k,
                    overlap=options["overlap"],
                    judgment_mode=JudgmentMode.PAIRWISE if k == 2 else JudgmentMode.RANK,
                )
            except ValidationError as error:
                raise CommandError(f"Cannot create campaign {name!r}: {error}") from error
            if not created:
                return self._reused(campaign, k)
            prompts = synthetic_prompts(options["tasks"], k, seeded(options["seed"], "prompts"))
            report = import_file(
                actor=None,
                campaign=campaign,
                data=prompts_jsonl(prompts),
                filename="simulated.jsonl",
                source=SOURCE,
            )
            if not report.is_ok:
                raise CommandError(f"Synthetic prompts were refused: {report.errors[:3]}")
            store_hidden_qualities(campaign, prompts)
        self.stderr.write(f"simulate_raters: created {name!r} with {report.tasks} tasks")
        return campaign

    def _reused(self, campaign: Campaign, k: int) -> Campaign:
        if campaign.responses_per_task != k:
            raise CommandError(
                f"Campaign {campaign.name!r} exists with {campaign.responses_per_task} responses "
                f"per task, not {k}; pass --campaign to use it as it is, or another name."
            )
        self.stderr.write(
            f"simulate_raters: reusing campaign {campaign.name!r} "
            f"({campaign.tasks.count()} tasks); --tasks and --overlap are ignored"
        )
        return campaign

    def _simulated(
        self, raters: list[tuple[Any, str]], traits: list[RaterTraits], options: dict[str, Any]
    ) -> list[SimulatedRater]:
        base_url, host = options["base_url"], in_process_host()
        return [
            SimulatedRater(
                username=user.username,
                user_id=user.pk,
                traits=rater_traits,
                transport=(
                    HttpTransport(base_url, token) if base_url else InProcessTransport(token, host)
                ),
                rng=seeded(options["seed"], user.username),
            )
            for (user, token), rater_traits in zip(raters, traits, strict=True)
        ]

    def _report(
        self, campaign: Campaign, simulation: Simulation, wall_s: float, path: Path | None
    ) -> None:
        summary = {
            "campaign_id": campaign.pk,
            "campaign": campaign.name,
            "raters": [rater.summary() for rater in simulation.raters],
            "judgments": simulation.judgments,
            "wall_s": round(wall_s, 3),
            "judgments_per_s": round(simulation.judgments / wall_s, 1) if wall_s else None,
            "errors": dict(simulation.errors.most_common()),
        }
        text = json.dumps(summary)
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(json.dumps(summary, indent=2) + "\n")
            except OSError as error:
                self.stderr.write(f"simulate_raters: cannot write {path}: {error}")
        self.stdout.write(text)


def read_traits_file(path: Path, base: RaterTraits) -> list[RaterTraits]:
    """One trait object per rater; keys left out take `base`'s values."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise CommandError(f"Cannot read --traits-file {path}: {error.strerror}.") from error
    except ValueError as error:
        raise CommandError(f"--traits-file {path} is not valid JSON: {error}.") from error
    if not isinstance(raw, list) or not raw:
        raise CommandError(f"--traits-file {path} must hold a non-empty JSON list of objects.")
    traits = []
    for number, item in enumerate(raw, start=1):
        try:
            traits.append(RaterTraits.from_mapping(item, base))
        except TraitsInvalid as error:
            raise CommandError(f"--traits-file {path}, rater {number}: {error}.") from error
    return traits
