"""The API's JSON parser: hostile bodies are a 400 with a stable code, never a 500.

DRF's own parser lets a body nested 100,000 deep through to a RecursionError, accepts the
non-standard NaN and Infinity constants, and keeps lone surrogates ("\\ud800") and NUL
characters, which neither UTF-8 output nor Postgres can hold.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from rest_framework import exceptions, parsers

# Nothing the API takes nests deeper than a few levels; 64 leaves room for any honest client.
MAX_JSON_DEPTH = 64


class UnacceptableJson(exceptions.ParseError):
    """A body that is JSON the API will not take; its `code` says which rule it broke."""

    def __init__(self, detail: str, code: str) -> None:
        super().__init__(detail=detail, code=code)


def _refuse_constant(name: str) -> Any:
    raise UnacceptableJson(f"{name} is not a JSON number.", code="parse_error")


def _check_text(text: str) -> None:
    if text.isascii():
        if "\x00" in text:
            raise UnacceptableJson("Text may not contain NUL characters.", code="invalid_text")
        return
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise UnacceptableJson(
            "Text contains a lone surrogate (an unpaired \\ud800-\\udfff escape).",
            code="invalid_text",
        ) from None
    if "\x00" in text:
        raise UnacceptableJson("Text may not contain NUL characters.", code="invalid_text")


def check_json_value(value: object, max_depth: int = MAX_JSON_DEPTH) -> None:
    """Raise UnacceptableJson if `value` nests deeper than `max_depth` or holds bad text.

    Iterative, so checking a deep value cannot itself overflow the stack.
    """
    pending: list[tuple[object, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            _check_text(item)
        elif isinstance(item, list | Mapping):
            if depth > max_depth:
                raise UnacceptableJson(
                    f"JSON nests deeper than {max_depth} levels.", code="json_too_deep"
                )
            if isinstance(item, Mapping):
                for key, child in item.items():
                    _check_text(key)
                    pending.append((child, depth + 1))
            else:
                pending.extend((child, depth + 1) for child in item)


def parse_json_text(text: str) -> Any:
    """Parse `text` as strict JSON (no NaN or Infinity) and check it with check_json_value."""
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        # The C scanner gives up near the interpreter's recursion limit, far above our own.
        raise UnacceptableJson(
            f"JSON nests deeper than {MAX_JSON_DEPTH} levels.", code="json_too_deep"
        ) from None
    except ValueError as error:
        raise UnacceptableJson(f"Malformed JSON: {error}", code="parse_error") from None
    check_json_value(value)
    return value


class StrictJSONParser(parsers.JSONParser):
    """JSON bodies, bounded in depth and free of NaN, Infinity, lone surrogates and NUL."""

    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        raw = stream.read()
        try:
            text = raw.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            raise UnacceptableJson(
                f"The body is not valid {encoding} text.", code="invalid_text"
            ) from None
        return parse_json_text(text)
