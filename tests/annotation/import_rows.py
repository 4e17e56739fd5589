"""Row builders the import parser tests share."""

from __future__ import annotations

import json

from annotation.import_parser import parse_import


def jsonl(*rows: object) -> bytes:
    return "".join(json.dumps(row) + "\n" for row in rows).encode()


def user(text: str) -> dict[str, str]:
    return {"role": "user", "content": text}


def assistant(text: str) -> dict[str, str]:
    return {"role": "assistant", "content": text}


def errors_of(data: bytes, file_format: str = "jsonl") -> list[tuple[int, str]]:
    return [(error.line, error.reason) for error in parse_import(data, file_format).errors]
