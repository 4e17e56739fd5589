"""Parsing import files into records. Pure: bytes in, records and row errors out.

Accepted rows (JSONL objects, or CSV rows with the same column names):
- prompts: `prompt` (text) or `conversation` / `messages` (list of {role, content}), with
  optional `responses` (list of texts or of {text, generator}; in CSV, columns `response_1`..;
  identical texts merge into one response that records every generator),
  `metadata`, `id`, and optionally `gold_ranking`: the expected ranking that makes the task a
  gold task, as tiers of 1-based response numbers, best first (`[[2], [1, 3]]`);
- preferences: `prompt` + `chosen` + `rejected` (texts, or TRL's conversational message lists),
  or `chosen` + `rejected` alone: whole conversations (TRL's implicit-prompt form) or Anthropic
  HH transcripts ("\\n\\nHuman: ...\\n\\nAssistant: ...").
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from typing import Any

ROLES = ("system", "user", "assistant")
MAX_RESPONSES = 16
MAX_TEXT_CHARS = 100_000
MAX_GENERATOR_CHARS = 200  # Response.generator's column width
_HH_TURN = re.compile(r"\n\n(Human|Assistant): ")


@dataclass(frozen=True)
class ResponseRecord:
    text: str
    generator: str = ""
    # Every generator that gave this exact text, in file order, when identical responses to
    # one prompt were merged into this one (different models often give the same answer).
    merged_generators: tuple[str, ...] = ()


@dataclass(frozen=True)
class PromptRecord:
    line: int
    conversation: list[dict[str, str]]
    responses: list[ResponseRecord]
    metadata: dict[str, Any] = field(default_factory=dict)
    external_id: str = ""
    # Tiers of 0-based response indices; set for gold tasks.
    gold_ranking: list[list[int]] | None = None
    # How many responses were identical to an earlier one of this prompt and merged into it.
    merged: int = 0


@dataclass(frozen=True)
class PreferenceRecord:
    line: int
    conversation: list[dict[str, str]]
    chosen: str
    rejected: str
    metadata: dict[str, Any] = field(default_factory=dict)
    external_id: str = ""


@dataclass(frozen=True)
class RowError:
    line: int
    reason: str


@dataclass
class ParsedImport:
    prompts: list[PromptRecord] = field(default_factory=list)
    preferences: list[PreferenceRecord] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    # An arena takes one model's answer to a prompt on its own (a file per model).
    single_answers: bool = False


class RowInvalid(ValueError):
    pass


def _text(value: object, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise RowInvalid(f"{what} must be non-empty text")
    if len(value) > MAX_TEXT_CHARS:
        raise RowInvalid(f"{what} is longer than {MAX_TEXT_CHARS} characters")
    return value


def _messages(value: object, what: str) -> list[dict[str, str]]:
    if not isinstance(value, list) or not value:
        raise RowInvalid(f"{what} must be a non-empty list of {{role, content}} messages")
    messages = []
    for index, message in enumerate(value):
        if not isinstance(message, dict) or message.get("role") not in ROLES:
            raise RowInvalid(f"{what}[{index}] needs a role among {', '.join(ROLES)}")
        messages.append(
            {
                "role": message["role"],
                "content": _text(message.get("content"), f"{what}[{index}].content"),
            }
        )
    return messages


def _conversation(row: dict[str, Any], cells_are_text: bool = False) -> list[dict[str, str]]:
    raw = row.get("conversation", row.get("messages", row.get("prompt")))
    # Only CSV cells hold message lists as JSON text; in JSONL a string prompt is just text.
    if cells_are_text and isinstance(raw, str) and raw.lstrip().startswith("["):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as error:
            raise RowInvalid(
                f"prompt looks like a JSON list but is not valid JSON: {error}"
            ) from None
    if isinstance(raw, str):
        return [{"role": "user", "content": _text(raw, "prompt")}]
    if raw is None:
        raise RowInvalid("row needs a prompt, conversation or messages field")
    conversation = _messages(raw, "conversation")
    if conversation[-1]["role"] != "user":
        raise RowInvalid("conversation must end with a user message")
    return conversation


def _response(value: object, index: int) -> ResponseRecord:
    if isinstance(value, dict):
        generator = value.get("generator", "")
        generator = generator if isinstance(generator, str) else str(generator)
        if len(generator) > MAX_GENERATOR_CHARS:
            raise RowInvalid(
                f"responses[{index}].generator is longer than {MAX_GENERATOR_CHARS} characters"
            )
        return ResponseRecord(_text(value.get("text"), f"responses[{index}].text"), generator)
    return ResponseRecord(_text(value, f"responses[{index}]"))


def _raw_responses(row: dict[str, Any], single: bool = False) -> list[ResponseRecord]:
    raw = row.get("responses")
    if raw is None:
        columns = sorted(
            (k for k in row if re.fullmatch(r"response_\d+", k)), key=lambda k: int(k.split("_")[1])
        )
        raw = [row[k] for k in columns if row[k] not in (None, "")]
    if not isinstance(raw, list):
        raise RowInvalid("responses must be a list")
    if (len(raw) == 1 and not single) or len(raw) > MAX_RESPONSES:
        low = 1 if single else 2
        raise RowInvalid(f"a prompt needs 0 or {low}..{MAX_RESPONSES} responses, got {len(raw)}")
    return [_response(value, index) for index, value in enumerate(raw)]


def _merge_identical(responses: list[ResponseRecord]) -> tuple[list[ResponseRecord], list[int]]:
    """Identical texts become one response (the first's place) recording every generator;
    returns the responses and, for each given response, the index it now has."""
    first_of: dict[str, int] = {}
    generators: list[list[str]] = []
    where: list[int] = []
    for response in responses:
        if response.text not in first_of:
            first_of[response.text] = len(generators)
            generators.append([])
        where.append(first_of[response.text])
        generators[where[-1]].append(response.generator)
    merged = [
        ResponseRecord(text, names[0], tuple(names) if len(names) > 1 else ())
        for text, names in zip(first_of, generators, strict=True)
    ]
    if len(responses) > 1 and len(merged) < 2:
        raise RowInvalid(
            f"all {len(responses)} responses are identical: a prompt needs 2 different ones"
        )
    return merged, where


def split_hh_transcript(transcript: str) -> tuple[list[dict[str, str]], str]:
    """Split an HH transcript into the conversation before the last reply, and that reply."""
    parts = _HH_TURN.split(transcript)
    if len(parts) < 3 or parts[0].strip():
        raise RowInvalid("HH transcript must start with '\\n\\nHuman: '")
    turns = [
        {"role": "user" if speaker == "Human" else "assistant", "content": text.strip()}
        for speaker, text in zip(parts[1::2], parts[2::2], strict=True)
    ]
    if turns[-1]["role"] != "assistant":
        raise RowInvalid("HH transcript must end with an Assistant turn")
    if any(not turn["content"] for turn in turns[:-1]):
        raise RowInvalid("HH transcript has an empty turn")
    return turns[:-1], turns[-1]["content"]


def _reply(value: object, what: str) -> str:
    if isinstance(value, list):
        messages = _messages(value, what)
        if messages[-1]["role"] != "assistant":
            raise RowInvalid(f"{what} must end with an assistant message")
        return messages[-1]["content"]
    return _text(value, what)


def _implicit_prompt(
    chosen_raw: object, rejected_raw: object
) -> tuple[list[dict[str, str]], str, str]:
    """TRL's implicit-prompt form: two whole conversations sharing all but the last reply."""
    chosen_messages = _messages(chosen_raw, "chosen")
    rejected_messages = _messages(rejected_raw, "rejected")
    for name, messages in (("chosen", chosen_messages), ("rejected", rejected_messages)):
        if len(messages) < 2 or messages[-1]["role"] != "assistant":
            raise RowInvalid(f"{name} must be a conversation ending with an assistant message")
    if chosen_messages[:-1] != rejected_messages[:-1]:
        raise RowInvalid("chosen and rejected conversations do not share the same prompt")
    conversation = chosen_messages[:-1]
    if conversation[-1]["role"] != "user":
        raise RowInvalid("the shared prompt must end with a user message")
    return conversation, chosen_messages[-1]["content"], rejected_messages[-1]["content"]


def _preference(row: dict[str, Any], line: int, cells_are_text: bool) -> PreferenceRecord:
    chosen_raw, rejected_raw = row["chosen"], row["rejected"]
    if "prompt" in row or "conversation" in row or "messages" in row:
        conversation = _conversation(row, cells_are_text)
        chosen, rejected = _reply(chosen_raw, "chosen"), _reply(rejected_raw, "rejected")
    elif isinstance(chosen_raw, list) or isinstance(rejected_raw, list):
        conversation, chosen, rejected = _implicit_prompt(chosen_raw, rejected_raw)
    else:
        conversation, chosen = split_hh_transcript(_text(chosen_raw, "chosen"))
        other, rejected = split_hh_transcript(_text(rejected_raw, "rejected"))
        if other != conversation:
            raise RowInvalid("chosen and rejected transcripts do not share the same prompt")
    chosen, rejected = _text(chosen, "chosen"), _text(rejected, "rejected")
    if chosen == rejected:
        raise RowInvalid("chosen and rejected are identical")
    return PreferenceRecord(line, conversation, chosen, rejected, _metadata(row), _id(row))


def _metadata(row: dict[str, Any]) -> dict[str, Any]:
    metadata = row.get("metadata") or {}
    if isinstance(metadata, str):
        try:
            metadata = json.loads(metadata)
        except json.JSONDecodeError:
            raise RowInvalid("metadata must be a JSON object") from None
    if not isinstance(metadata, dict):
        raise RowInvalid("metadata must be an object")
    return metadata


def _id(row: dict[str, Any]) -> str:
    value = row.get("id", "")
    return str(value)[:200] if value is not None else ""


def _check_storable(record: PromptRecord | PreferenceRecord) -> None:
    """Refuse text no database column can hold: NUL characters and lone surrogates. Walks
    the record without recursion, so deeply nested metadata cannot exhaust the stack."""
    pending: list[object] = [record]
    while pending:
        value = pending.pop()
        if isinstance(value, PromptRecord | PreferenceRecord | ResponseRecord):
            pending.extend(vars(value).values())
        elif isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list | tuple):
            pending.extend(value)
        elif isinstance(value, str):
            if "\x00" in value:
                raise RowInvalid("row contains a NUL character, which cannot be stored")
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise RowInvalid("row contains text that is not valid Unicode") from None


def _record(
    row: object, line: int, cells_are_text: bool, single: bool = False
) -> PromptRecord | PreferenceRecord:
    if not isinstance(row, dict):
        raise RowInvalid("each row must be a JSON object")
    if "chosen" in row or "rejected" in row:
        if "chosen" not in row or "rejected" not in row:
            raise RowInvalid("a preference row needs both chosen and rejected")
        return _preference(row, line, cells_are_text)
    given = _raw_responses(row, single)
    gold = _gold_ranking(row.get("gold_ranking"), len(given))
    # In an arena each answer is one model's, even when another model wrote the same text.
    responses, where = (given, list(range(len(given)))) if single else _merge_identical(given)
    return PromptRecord(
        line,
        _conversation(row, cells_are_text),
        responses,
        _metadata(row),
        _id(row),
        _merged_gold(gold, where),
        merged=len(given) - len(responses),
    )


def _merged_gold(gold: list[list[int]] | None, where: list[int]) -> list[list[int]] | None:
    """The gold tiers in merged indices; identical responses must share a tier."""
    if gold is None:
        return None
    tiers = [sorted({where[i] for i in tier}) for tier in gold]
    placed = [i for tier in tiers for i in tier]
    if len(placed) != len(set(placed)):
        raise RowInvalid("gold_ranking puts identical responses in different tiers")
    return tiers


def _gold_ranking(value: object, count: int) -> list[list[int]] | None:
    """1-based response numbers in tiers -> 0-based tiers; every response exactly once."""
    if value in (None, ""):
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise RowInvalid("gold_ranking must be JSON tiers such as [[2], [1, 3]]") from None
    if count < 2:
        raise RowInvalid("gold_ranking needs the row's responses")
    if not isinstance(value, list) or not all(isinstance(tier, list) and tier for tier in value):
        raise RowInvalid("gold_ranking must be a list of non-empty tiers")
    numbers = [n for tier in value for n in tier]
    if any(not isinstance(n, int) or isinstance(n, bool) for n in numbers) or sorted(
        numbers
    ) != list(range(1, count + 1)):
        raise RowInvalid(f"gold_ranking must name responses 1..{count} exactly once each")
    return [[n - 1 for n in tier] for tier in value]


def parse_row(row: object, line: int, parsed: ParsedImport, cells_are_text: bool = False) -> None:
    """Parse one row into `parsed`, recording a RowError instead of raising. `cells_are_text`
    (CSV) lets a conversation be given as JSON text."""
    try:
        record = _record(row, line, cells_are_text, parsed.single_answers)
        _check_storable(record)
    except RowInvalid as error:
        parsed.errors.append(RowError(line, str(error)))
    except RecursionError:
        parsed.errors.append(RowError(line, "row is nested too deeply"))
    else:
        if isinstance(record, PreferenceRecord):
            parsed.preferences.append(record)
        else:
            parsed.prompts.append(record)


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise RowInvalid(f"file is not UTF-8 (byte {error.start})") from None


def parse_jsonl(data: bytes, single_answers: bool = False) -> ParsedImport:
    parsed = ParsedImport(single_answers=single_answers)
    try:
        text = _decode(data)
    except RowInvalid as error:
        parsed.errors.append(RowError(0, str(error)))
        return parsed
    # Split on "\n" only: str.splitlines() also splits on U+2028, U+0085 and others, which
    # are legal raw inside JSON strings. A trailing "\r" is JSON whitespace.
    for line_number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            parsed.errors.append(RowError(line_number, f"invalid JSON: {error.msg}"))
            continue
        except RecursionError:
            parsed.errors.append(RowError(line_number, "invalid JSON: nested too deeply"))
            continue
        parse_row(row, line_number, parsed)
    return parsed


def parse_csv(data: bytes, single_answers: bool = False) -> ParsedImport:
    parsed = ParsedImport(single_answers=single_answers)
    try:
        reader = csv.DictReader(io.StringIO(_decode(data), newline=""))
        for row in reader:
            line = reader.line_num
            if None in row:
                parsed.errors.append(RowError(line, "row has more cells than the header"))
                continue
            cleaned = {key.strip(): value for key, value in row.items() if key is not None}
            parse_row(
                {k: v for k, v in cleaned.items() if v != ""}, line, parsed, cells_are_text=True
            )
    except RowInvalid as error:
        parsed.errors.append(RowError(0, str(error)))
    except csv.Error as error:
        parsed.errors.append(RowError(0, f"malformed CSV: {error}"))
    return parsed


def parse_import(data: bytes, file_format: str, *, single_answers: bool = False) -> ParsedImport:
    """Parse a whole file; `file_format` is jsonl or csv (gzip is unpacked by the caller).
    `single_answers` (an arena) lets a prompt come with one response."""
    parse = parse_csv if file_format == "csv" else parse_jsonl
    parsed = parse(data, single_answers)
    if not parsed.errors and not parsed.prompts and not parsed.preferences:
        parsed.errors.append(RowError(0, "the file has no rows"))
    return parsed
