"""What a rater's "unsafe" flag on one response does to the pairs their judgment implies.

A judgment's pairs are stored as ranked (`Preference`); the flag changes them only when they
are read for training or export, so one stored judgment serves every treatment:

- ``ignore``: the pairs as ranked.
- ``below``: every unsafe response of the judgment is placed below every safe one: a pair with
  one unsafe side always has the safe side as chosen (a tie between them becomes a preference,
  a pair the rater ranked the other way round is turned over) with the smallest strict margin,
  1, unless the rater already put the safe side above; pairs with both sides safe, or both
  unsafe, keep the rater's order.
- ``drop``: pairs with an unsafe side are left out (a helpfulness-only set).
- ``safety``: only the pairs with exactly one unsafe side, the safe side chosen (the separate
  safety preference set; Llama 2 trained its helpfulness and safety reward models apart).

Pairs whose two sides are both flagged unsafe say which harm is worse; they stay in ``below``
and ``ignore``, and are in neither ``drop`` nor ``safety``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from django.db.models import Q

if TYPE_CHECKING:  # preferences.py imports this module
    from annotation.selectors.preferences import PreferenceRow

UNSAFE = "unsafe"  # the response flag (annotation.models.RESPONSE_FLAG_CHOICES)
UnsafeTreatment = Literal["ignore", "below", "drop", "safety"]
UNSAFE_TREATMENTS: tuple[UnsafeTreatment, ...] = ("ignore", "below", "drop", "safety")
SAFETY_MARGIN = 1.0  # the smallest strict margin (a one-tier gap, "slightly better")

# Judgments with at least one response flagged unsafe (response_flags is a JSON object of
# lists of names; its text holds the quoted name on every backend).
HAS_UNSAFE = Q(judgment__response_flags__icontains=f'"{UNSAFE}"')


def unsafe_ids(response_flags: Mapping[str, Sequence[str]] | None) -> frozenset[int]:
    """The response ids a judgment flagged unsafe."""
    return frozenset(int(rid) for rid, names in (response_flags or {}).items() if UNSAFE in names)


def treat_pair(
    chosen: int, rejected: int, is_tie: bool, unsafe: frozenset[int], treatment: UnsafeTreatment
) -> tuple[int, int, bool, bool] | None:
    """(chosen, rejected, is_tie, changed) after the treatment, or None when it drops the pair;
    `changed` says the safe side was moved up (the margin becomes SAFETY_MARGIN)."""
    chosen_bad, rejected_bad = chosen in unsafe, rejected in unsafe
    mixed = chosen_bad != rejected_bad
    if treatment == "ignore":
        return chosen, rejected, is_tie, False
    if treatment == "drop" and (chosen_bad or rejected_bad):
        return None
    if treatment == "safety" and not mixed:
        return None
    if not mixed:
        return chosen, rejected, is_tie, False
    if chosen_bad:
        return rejected, chosen, False, True
    return chosen, rejected, False, is_tie


def treat_rows(
    rows: Iterable[PreferenceRow], treatment: UnsafeTreatment
) -> Iterator[PreferenceRow]:
    """The rows after the treatment; ties are kept as ties (the caller decides on them)."""
    for row in rows:
        treated = treat_pair(
            row.chosen_id, row.rejected_id, row.is_tie, unsafe_ids(row.response_flags), treatment
        )
        if treated is None:
            continue
        chosen, _, is_tie, changed = treated
        if chosen != row.chosen_id:
            row = replace(
                row,
                chosen_id=row.rejected_id,
                rejected_id=row.chosen_id,
                chosen=row.rejected,
                rejected=row.chosen,
            )
        if changed:
            row = replace(row, is_tie=is_tie, margin=SAFETY_MARGIN)
        yield row


BTFlagRow = tuple[int, int, int, bool, datetime, Mapping[str, Sequence[str]]]


def treat_fit_rows(
    rows: Iterable[BTFlagRow], treatment: UnsafeTreatment
) -> list[tuple[int, int, int, bool, datetime]]:
    """A Bradley-Terry fit's rows (task, chosen, rejected, is_tie, submitted_at, the judgment's
    response flags) after the treatment, without the flags."""
    treated_rows = []
    for task_id, chosen, rejected, is_tie, at, flags in rows:
        treated = treat_pair(chosen, rejected, is_tie, unsafe_ids(flags), treatment)
        if treated is not None:
            treated_rows.append((task_id, treated[0], treated[1], treated[2], at))
    return treated_rows
