"""Importing prompts, responses and existing preference data into a campaign: all rows are
checked first, and either every row is written in one transaction or none is."""

from __future__ import annotations

import gzip
import io
import json
import logging
import re
import zlib
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.utils import timezone

from annotation.import_parser import (
    ParsedImport,
    PreferenceRecord,
    PromptRecord,
    RowError,
    parse_import,
)
from annotation.models import (
    Assignment,
    AssignmentStatus,
    Campaign,
    Judgment,
    JudgmentMode,
    JudgmentSource,
    Preference,
    Prompt,
    RankingTask,
    RaterProfile,
    Response,
)
from annotation.services.arena import top_up_arena
from annotation.services.audit import record_audit_event
from common.errors import InvalidInput, NotFound
from common.roles import Role

FORMATS = ("jsonl", "csv")
BULK_IMPORT_TASKS = 1000  # imports at least this big refresh the planner's statistics

logger = logging.getLogger(__name__)


@dataclass
class ImportReport:
    prompts: int = 0
    responses: int = 0
    tasks: int = 0
    judgments: int = 0
    # Responses identical to another of their prompt's, merged into it (not stored twice).
    merged_responses: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def is_ok(self) -> bool:
        return not self.errors


def detect_format(filename: str) -> str:
    name = filename.lower().removesuffix(".gz")
    if name.endswith(".csv"):
        return "csv"
    if name.endswith((".jsonl", ".json", ".ndjson")):
        return "jsonl"
    raise InvalidInput(
        "Cannot tell the file format: name it .jsonl or .csv (optionally .gz).",
        code="unknown_format",
    )


def readable_size(size: int) -> str:
    """A byte count as people read it: "64 bytes", "1.5 KiB", "50 MiB"."""
    value, unit = float(size), "bytes"
    for bigger in ("KiB", "MiB", "GiB"):
        if value < 1024:
            break
        value, unit = value / 1024, bigger
    number = f"{value:.1f}".removesuffix(".0") if unit != "bytes" else str(size)
    return f"{number} {unit}"


def read_upload(data: bytes, filename: str) -> bytes:
    """Unpack gzip when the name says so, refusing files above the configured size."""
    limit = settings.IMPORT_MAX_BYTES
    if len(data) > limit:
        raise InvalidInput(
            f"The file is over {readable_size(limit)}, the most an import takes.",
            code="file_too_large",
        )
    if not filename.lower().endswith(".gz"):
        return data
    try:
        unpacked = gzip.GzipFile(fileobj=io.BytesIO(data)).read(limit + 1)
    except (OSError, EOFError, zlib.error) as error:
        raise InvalidInput(f"File is not valid gzip: {error}", code="bad_gzip") from None
    if len(unpacked) > limit:
        raise InvalidInput(
            f"Unpacked, the file is over {readable_size(limit)}, the most an import takes.",
            code="file_too_large",
        )
    return unpacked


def _check_arena_fit(parsed: ParsedImport) -> None:
    """An arena takes models' answers, each naming its model; people's comparisons are made
    here, and tasks are chosen by the arena itself."""
    for record in parsed.prompts:
        for index, response in enumerate(record.responses):
            if not response.generator:
                parsed.errors.append(
                    RowError(
                        record.line,
                        f"responses[{index}] names no generator: an arena answer needs "
                        "the name of the model that wrote it",
                    )
                )
        if record.gold_ranking is not None:
            parsed.errors.append(RowError(record.line, "an arena has no gold tasks"))
    for preference in parsed.preferences:
        parsed.errors.append(
            RowError(preference.line, "an arena takes answers, not chosen/rejected pairs")
        )


def _check_campaign_fit(campaign: Campaign, parsed: ParsedImport) -> None:
    if campaign.is_arena:
        _check_arena_fit(parsed)
        return
    if campaign.judgment_mode != JudgmentMode.PAIRWISE:
        return
    for record in parsed.prompts:
        if record.responses and len(record.responses) != 2:
            parsed.errors.append(
                RowError(record.line, "a pairwise campaign needs exactly 2 responses")
            )


def _external_rater(source: str) -> User:
    slug = re.sub(r"[^a-zA-Z0-9_.+-]+", "-", source).strip("-")[:100] or "import"
    user, created = User.objects.get_or_create(
        username=f"external-{slug}", defaults={"is_active": False}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
        RaterProfile.objects.create(user=user, role=Role.EXTERNAL)
    return user


def _new_prompt(campaign: Campaign, record: PromptRecord | PreferenceRecord, source: str) -> Prompt:
    return Prompt(
        campaign=campaign,
        conversation=record.conversation,
        metadata=record.metadata,
        source=source,
        external_id=record.external_id,
    )


def _write_prompts(
    campaign: Campaign, records: list[PromptRecord], source: str, report: ImportReport
) -> None:
    if campaign.is_arena:
        prompts = _arena_prompts(campaign, records, source)
    else:
        prompts = Prompt.objects.bulk_create([_new_prompt(campaign, r, source) for r in records])
    responses = [
        Response(
            prompt=prompt,
            text=response.text,
            generator=response.generator or source,
            metadata=_merged_from(response.merged_generators, source),
        )
        for prompt, record in zip(prompts, records, strict=True)
        for response in record.responses
    ]
    Response.objects.bulk_create(responses)
    by_prompt: dict[int, list[int]] = {}
    for response in responses:
        by_prompt.setdefault(response.prompt_id, []).append(response.pk)
    report.prompts += len({prompt.pk for prompt in prompts})
    report.responses += len(responses)
    report.merged_responses += sum(record.merged for record in records)
    if campaign.is_arena:  # its tasks come from top_up_arena, once this commits
        return
    tasks = [
        RankingTask(
            campaign=campaign,
            prompt=prompt,
            response_ids=by_prompt[prompt.pk],
            required_judgments=campaign.overlap,
            is_gold=record.gold_ranking is not None,
            gold_ranking=(
                [[by_prompt[prompt.pk][i] for i in tier] for tier in record.gold_ranking]
                if record.gold_ranking is not None
                else None
            ),
        )
        for prompt, record in zip(prompts, records, strict=True)
        if prompt.pk in by_prompt
    ]
    RankingTask.objects.bulk_create(tasks)
    report.tasks += len(tasks)


def _arena_prompts(campaign: Campaign, records: list[PromptRecord], source: str) -> list[Prompt]:
    """An arena's prompt for each record: the one it already has with the same conversation
    (each model's answers may come in a file of its own), else a new one."""
    known = {
        json.dumps(prompt.conversation, sort_keys=True): prompt
        for prompt in Prompt.objects.filter(campaign=campaign)
    }
    new: list[Prompt] = []
    prompts = []
    for record in records:
        key = json.dumps(record.conversation, sort_keys=True)
        if key not in known:
            known[key] = _new_prompt(campaign, record, source)
            new.append(known[key])
        prompts.append(known[key])
    Prompt.objects.bulk_create(new)
    return prompts


def _merged_from(generators: tuple[str, ...], source: str) -> dict[str, list[str]]:
    """A merged response's metadata: every generator that gave its text, in file order (an
    unnamed one as the import's source), repeats kept: two copies from one model count twice."""
    return {"generators": [name or source for name in generators]} if generators else {}


def _write_preferences(
    campaign: Campaign, records: list[PreferenceRecord], source: str, report: ImportReport
) -> None:
    """Each pair becomes a task open to raters plus one external judgment, which does not
    use up a rater's slot."""
    rater = _external_rater(source)
    prompts = Prompt.objects.bulk_create([_new_prompt(campaign, r, source) for r in records])
    pairs = [
        (
            Response(prompt=p, text=r.chosen, generator=source),
            Response(prompt=p, text=r.rejected, generator=source),
        )
        for p, r in zip(prompts, records, strict=True)
    ]
    Response.objects.bulk_create([response for pair in pairs for response in pair])
    tasks = RankingTask.objects.bulk_create(
        [
            RankingTask(
                campaign=campaign,
                prompt=prompt,
                response_ids=[chosen.pk, rejected.pk],
                required_judgments=campaign.overlap,
            )
            for prompt, (chosen, rejected) in zip(prompts, pairs, strict=True)
        ]
    )
    judgments = _write_imported_judgments(tasks, pairs, rater)
    report.prompts += len(prompts)
    report.responses += 2 * len(pairs)
    report.tasks += len(tasks)
    report.judgments += len(judgments)


def _write_imported_judgments(
    tasks: list[RankingTask], pairs: list[tuple[Response, Response]], rater: User
) -> list[Judgment]:
    """Per imported pair, a submitted assignment of the external rater, its judgment (chosen
    over rejected) and the one preference it implies."""
    now = timezone.now()
    assignments = Assignment.objects.bulk_create(
        [
            Assignment(
                task=task,
                rater=rater,
                status=AssignmentStatus.SUBMITTED,
                display_order=task.response_ids,
                leased_at=now,
                expires_at=now,
                finished_at=now,
            )
            for task in tasks
        ]
    )
    judgments = Judgment.objects.bulk_create(
        [
            Judgment(
                assignment=assignment,
                task=assignment.task,
                rater=rater,
                ranking=[[chosen.pk], [rejected.pk]],
                idempotency_key=f"import-{assignment.task.pk}",
                source=JudgmentSource.IMPORTED,
                submitted_at=now,
            )
            for assignment, (chosen, rejected) in zip(assignments, pairs, strict=True)
        ]
    )
    Preference.objects.bulk_create(
        [
            Preference(
                judgment=judgment,
                task=judgment.task,
                chosen=chosen,
                rejected=rejected,
                margin=1.0,
                chosen_shown_first=None,
            )
            for judgment, (chosen, rejected) in zip(judgments, pairs, strict=True)
        ]
    )
    return judgments


def _locked_campaign(campaign: Campaign) -> Campaign:
    """The campaign's row, locked for the rest of the transaction; NotFound if it is gone."""
    locked = Campaign.objects.select_for_update().filter(pk=campaign.pk).first()
    if locked is None:
        raise NotFound("The campaign no longer exists.", code="campaign_not_found")
    return locked


def refresh_planner_statistics() -> None:
    """After a bulk load, Postgres's statistics still describe the empty tables until
    autovacuum catches up; the claim query then sorts every open task instead of walking the
    primary key (46 ms instead of 0.5 ms per claim, measured on 20,000 tasks)."""
    if connection.vendor != "postgresql":
        return
    tables = [model._meta.db_table for model in (Prompt, Response, RankingTask, Assignment)]
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {', '.join(tables)}")


def import_file(
    *,
    actor: User | None,
    campaign: Campaign,
    data: bytes,
    filename: str,
    source: str = "",
) -> ImportReport:
    """Import a JSONL or CSV file into a campaign. Any bad row: a report with line numbers and
    reasons, and nothing written."""
    parsed = parse_import(
        read_upload(data, filename), detect_format(filename), single_answers=campaign.is_arena
    )
    # Upload names may reach 255 characters; the source and generator columns hold 200.
    source = (source or filename.rsplit("/", 1)[-1])[:200]
    report = ImportReport()
    with transaction.atomic():
        # The campaign as it is now, locked until the rows are in, and not the copy the caller
        # loaded: an edit of its overlap, mode or K (which takes the same lock) either waits
        # and then finds these tasks, or goes first and the tasks are built to its settings.
        locked = _locked_campaign(campaign)
        _check_campaign_fit(locked, parsed)
        report.errors = sorted(parsed.errors, key=lambda e: e.line)
        if not report.is_ok:
            return report
        _write_prompts(locked, parsed.prompts, source, report)
        if parsed.preferences:
            _write_preferences(locked, parsed.preferences, source, report)
        record_audit_event(
            actor=actor,
            action="campaign.import",
            target=locked,
            details={
                "file": filename,
                "prompts": report.prompts,
                "tasks": report.tasks,
                "judgments": report.judgments,
            },
        )
    if locked.is_arena:  # stored already: a failure to open tasks is logged, not an error
        try:
            report.tasks = top_up_arena(campaign_id=locked.pk)
        except Exception:
            logger.exception("Arena %s: no new tasks after the import", locked.pk)
    if report.tasks >= BULK_IMPORT_TASKS:
        refresh_planner_statistics()
    return report
