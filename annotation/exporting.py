"""Export formats for preference pairs: TRL-ready JSONL (standard and conversational) and CSV;
and the audit event every export leaves: who, with which filters, how many rows."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from django.contrib.auth.models import User

from annotation.selectors.preferences import PreferenceRow
from annotation.services.audit import record_audit_event
from common.spreadsheet import spreadsheet_row

Row = TypeVar("Row")

EXPORT_FORMATS = {
    "trl": ("application/x-ndjson", "jsonl"),
    "trl_messages": ("application/x-ndjson", "jsonl"),
    "csv": ("text/csv", "csv"),
}
CSV_COLUMNS = (
    "preference_id",
    "judgment_id",
    "task_id",
    "campaign_id",
    "rater_id",
    "prompt",
    "chosen",
    "rejected",
    "margin",
    "is_tie",
    "source",
    "submitted_at",
    "flags",
    "rationale",
    "chosen_flags",
    "rejected_flags",
)


def prompt_text(conversation: list[dict[str, str]]) -> str:
    """A single user turn as is; longer conversations as role-labelled turns."""
    if len(conversation) == 1 and conversation[0]["role"] == "user":
        return conversation[0]["content"]
    return "\n\n".join(f"{m['role'].capitalize()}: {m['content']}" for m in conversation)


def _notes(row: PreferenceRow) -> dict[str, object]:
    """The judgment's flags on the set, on each side, and its rationale (TRL ignores them)."""
    return {
        "flags": list(row.flags),
        "chosen_flags": row.chosen_flags,
        "rejected_flags": row.rejected_flags,
        "rationale": row.rationale,
    }


def trl_record(row: PreferenceRow) -> dict[str, object]:
    """TRL's preference columns, then what the rater flagged and wrote."""
    return {
        "prompt": prompt_text(row.conversation),
        "chosen": row.chosen,
        "rejected": row.rejected,
        "margin": row.margin,
        **_notes(row),
    }


def trl_messages_record(row: PreferenceRow) -> dict[str, object]:
    return {
        "prompt": row.conversation,
        "chosen": [{"role": "assistant", "content": row.chosen}],
        "rejected": [{"role": "assistant", "content": row.rejected}],
        "margin": row.margin,
        **_notes(row),
    }


def render_jsonl(rows: Iterable[PreferenceRow], messages: bool) -> Iterator[str]:
    to_record = trl_messages_record if messages else trl_record
    for row in rows:
        yield json.dumps(to_record(row), ensure_ascii=False) + "\n"


def render_csv(rows: Iterable[PreferenceRow]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow(
            spreadsheet_row(
                [
                    row.preference_id,
                    row.judgment_id,
                    row.task_id,
                    row.campaign_id,
                    row.rater_id,
                    json.dumps(row.conversation, ensure_ascii=False),
                    row.chosen,
                    row.rejected,
                    row.margin,
                    row.is_tie,
                    row.source,
                    row.submitted_at.isoformat(),
                    " ".join(row.flags),
                    row.rationale,
                    " ".join(row.chosen_flags),
                    " ".join(row.rejected_flags),
                ]
            )
        )
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def render_export(rows: Iterable[PreferenceRow], export_format: str) -> Iterator[str]:
    if export_format == "csv":
        return render_csv(rows)
    return render_jsonl(rows, messages=export_format == "trl_messages")


@dataclass(frozen=True)
class Export:
    """What an export's audit event names as its target (an export has no row of its own)."""

    name: str
    pk: int | None = None


def export_details(params: Mapping[str, Any]) -> dict[str, Any]:
    """An export's parameters as the audit log keeps them (JSON: times as ISO text)."""
    return {
        key: value.isoformat() if hasattr(value, "isoformat") else value
        for key, value in sorted(params.items())
    }


def audited_export(
    *,
    actor: User | None,
    action: str,
    target: Any,
    details: Mapping[str, Any],
    rows: Iterable[Row],
    render: Callable[[Iterable[Row]], Iterator[str]],
) -> Iterator[str]:
    """The rendered export, counting rows as they stream; when the stream ends (or the client
    goes away) one audit event records who exported what, how many rows, and whether all of
    them were sent. Counting while streaming keeps a large export from being computed twice."""
    sent = 0

    def counting() -> Iterator[Row]:
        nonlocal sent
        for row in rows:
            sent += 1
            yield row

    complete = False
    try:
        yield from render(counting())
        complete = True
    finally:
        record_audit_event(
            actor=actor,
            action=action,
            target=target,
            details={**details, "rows": sent, "complete": complete},
        )
