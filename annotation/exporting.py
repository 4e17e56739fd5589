"""Export formats for preference pairs: TRL-ready JSONL (standard and conversational) and CSV."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator

from annotation.selectors.preferences import PreferenceRow

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
)


def prompt_text(conversation: list[dict[str, str]]) -> str:
    """A single user turn as is; longer conversations as role-labelled turns."""
    if len(conversation) == 1 and conversation[0]["role"] == "user":
        return conversation[0]["content"]
    return "\n\n".join(f"{m['role'].capitalize()}: {m['content']}" for m in conversation)


def trl_record(row: PreferenceRow) -> dict[str, object]:
    return {
        "prompt": prompt_text(row.conversation),
        "chosen": row.chosen,
        "rejected": row.rejected,
        "margin": row.margin,
    }


def trl_messages_record(row: PreferenceRow) -> dict[str, object]:
    return {
        "prompt": row.conversation,
        "chosen": [{"role": "assistant", "content": row.chosen}],
        "rejected": [{"role": "assistant", "content": row.rejected}],
        "margin": row.margin,
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
            ]
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
