"""CSV cells that a spreadsheet cannot run. Excel, LibreOffice and Google Sheets read a cell that
starts with =, +, -, @ (or a tab, carriage return or line feed before one of them) as a formula,
and some also take the full-width forms of those four (as typed on a Japanese or Chinese
keyboard), so a model's answer, a campaign name or a username could run one on the machine of
whoever opens an export. Every CSV the app writes goes through `spreadsheet_row`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

FULL_WIDTH_STARTS = ("\uff1d", "\uff0b", "\uff0d", "\uff20")  # = + - @, full width
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", *FULL_WIDTH_STARTS)


def spreadsheet_cell(value: Any) -> Any:
    """The value, with a leading apostrophe if it is text a spreadsheet would read as a formula.
    Numbers stay numbers: -0.5 is a value, not an expression, and must still sum."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def spreadsheet_row(values: Iterable[Any]) -> list[Any]:
    return [spreadsheet_cell(value) for value in values]


def spreadsheet_dict(row: Mapping[str, Any]) -> dict[str, Any]:
    return {key: spreadsheet_cell(value) for key, value in row.items()}
