"""Loading a campaign's judgments into flat arrays for the quality report.

A campaign can hold a million judgments, so rows never become Python objects on Postgres:
each column comes back as one aggregated bytea of fixed-width big-endian values
(`string_agg(int8send(x), '')`), which numpy reads in place. All aggregates of one query see
the rows in the same order, so the columns line up. (Binary COPY was measured first: it
sends one message per row, and reading a million of them cost more than the query.) Other
databases (SQLite in development) take the plain cursor path.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from django.db import connection
from django.db.models import Count, Max

from annotation.models import (
    AuditEvent,
    Campaign,
    JudgeVerdict,
    Judgment,
    JudgmentSource,
    Preference,
    Prompt,
    RankingTask,
    RaterPool,
    RaterProfile,
    Response,
)
from annotation.quality.report.inputs import CampaignData, PairArrays, RaterInfo, VerdictArrays
from annotation.ranking import ranking_agreement

# (name, SQL expression, Postgres type): the type names the send function and the width.
_WIDTH = {"int8": ">i8", "int4": ">i4", "int2": ">i2", "float8": ">f8"}
# One row per preference pair in the campaign (those of imported and repeat judgments are
# dropped when joined with the judgments below, in numpy: cheaper than a million-row SQL join).
_PAIR_COLUMNS = [
    ("judgment", "p.judgment_id", "int8"),
    ("task", "p.task_id", "int8"),
    ("chosen", "p.chosen_id", "int8"),
    ("rejected", "p.rejected_id", "int8"),
    # bit 0: tie; bits 1-2: shown first + 1 (0 unknown, 1 second, 2 first); bit 3: gold task
    (
        "packed",
        "(CASE WHEN p.is_tie THEN 1 ELSE 0 END"
        " + 2 * (CASE WHEN p.chosen_shown_first THEN 2 WHEN NOT p.chosen_shown_first THEN 1"
        " ELSE 0 END) + CASE WHEN t.is_gold THEN 8 ELSE 0 END)",
        "int2",
    ),
]
_PAIRS_FROM = """
FROM {preference} p JOIN {task} t ON t.id = p.task_id
WHERE t.campaign_id = %s
"""
# One row per human, non-repeat judgment in the campaign.
_JUDGMENT_COLUMNS = [
    ("id", "j.id", "int8"),
    ("rater", "j.rater_id", "int8"),
    ("time_ms", "COALESCE(j.client_time_ms, j.server_time_ms, -1)", "int8"),
    ("submitted_at", "EXTRACT(EPOCH FROM j.submitted_at)", "float8"),
]
_JUDGMENTS_FROM = """
FROM {judgment} j JOIN {task} t ON t.id = j.task_id
WHERE t.campaign_id = %s AND j.source = %s AND NOT j.is_repeat
"""
_LENGTH_COLUMNS = [("id", "r.id", "int8"), ("length", "r.length_chars", "int4")]
_LENGTHS_FROM = """
FROM {response} r JOIN {prompt} q ON q.id = r.prompt_id
WHERE q.campaign_id = %s
"""


def _tables() -> dict[str, str]:
    return {
        "preference": Preference._meta.db_table,
        "judgment": Judgment._meta.db_table,
        "task": RankingTask._meta.db_table,
        "response": Response._meta.db_table,
        "prompt": Prompt._meta.db_table,
    }


def _fetch_aggregated(
    columns: list[tuple[str, str, str]], source: str, params: list[Any]
) -> dict[str, np.ndarray]:
    selects = ", ".join(
        f"string_agg({kind}send(({expression})::{kind}), '')" for _, expression, kind in columns
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {selects} {source}", params)
        row = cursor.fetchone()
    return {
        name: np.frombuffer(bytes(raw or b""), dtype=_WIDTH[kind]).astype(_WIDTH[kind][1:])
        for (name, _, kind), raw in zip(columns, row, strict=True)
    }


def _fetch_plain(
    columns: list[tuple[str, str, str]], source: str, params: list[Any]
) -> dict[str, np.ndarray]:
    selects = ", ".join(expression for _, expression, _ in columns).replace(
        "EXTRACT(EPOCH FROM j.submitted_at)", "CAST(strftime('%%s', j.submitted_at) AS REAL)"
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {selects} {source}", params)
        rows = cursor.fetchall()
    values = list(zip(*rows, strict=True)) if rows else [()] * len(columns)
    return {
        name: np.asarray(column, dtype=_WIDTH[kind][1:])
        for (name, _, kind), column in zip(columns, values, strict=True)
    }


def _fetch(
    columns: list[tuple[str, str, str]], source: str, params: list[Any]
) -> dict[str, np.ndarray]:
    if connection.vendor == "postgresql":
        return _fetch_aggregated(columns, source, params)
    return _fetch_plain(columns, source, params)


def _fetch_all(
    jobs: list[tuple[list[tuple[str, str, str]], str, list[Any]]],
) -> list[dict[str, np.ndarray]]:
    """Run the queries; on Postgres outside a transaction, side by side on their own
    connections (one core each: the three queries of a million-judgment campaign take about
    as long together as the longest alone). Inside a transaction they run in it, in turn, so
    they see its uncommitted rows."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return [_fetch(*job) for job in jobs]

    def run(job: tuple[list[tuple[str, str, str]], str, list[Any]]) -> dict[str, np.ndarray]:
        try:
            return _fetch(*job)
        finally:
            connection.close()  # this thread's own connection

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        return list(pool.map(run, jobs))


def load_pairs(campaign_id: int) -> PairArrays:
    """Every preference pair of the campaign's human judgments, with response lengths."""
    tables = _tables()
    pairs, judgments, lengths = _fetch_all(
        [
            (_PAIR_COLUMNS, _PAIRS_FROM.format(**tables), [campaign_id]),
            (
                _JUDGMENT_COLUMNS,
                _JUDGMENTS_FROM.format(**tables),
                [campaign_id, JudgmentSource.HUMAN],
            ),
            (_LENGTH_COLUMNS, _LENGTHS_FROM.format(**tables), [campaign_id]),
        ]
    )
    # Each pair takes its judgment's rater and times; pairs of other judgments drop out.
    by_id = np.argsort(judgments["id"])
    judgment_ids = judgments["id"][by_id]
    at = np.clip(np.searchsorted(judgment_ids, pairs["judgment"]), 0, max(judgment_ids.size - 1, 0))
    keep = (
        judgment_ids[at] == pairs["judgment"]
        if judgment_ids.size
        else np.zeros(pairs["judgment"].size, dtype=bool)
    )
    rows = {name: values[keep] for name, values in pairs.items()}
    source = by_id[at[keep]]
    order = np.argsort(lengths["id"])
    ids, sizes = lengths["id"][order], lengths["length"][order].astype(np.int64)

    def length_of(response_ids: np.ndarray) -> np.ndarray:
        if ids.size == 0:
            return np.zeros(response_ids.shape, dtype=np.int64)
        found = np.clip(np.searchsorted(ids, response_ids), 0, ids.size - 1)
        return np.where(ids[found] == response_ids, sizes[found], 0).astype(np.int64)

    packed = rows["packed"].astype(np.int64)
    return PairArrays(
        judgment=rows["judgment"],
        rater=judgments["rater"][source],
        task=rows["task"],
        chosen=rows["chosen"],
        rejected=rows["rejected"],
        is_tie=(packed & 1).astype(bool),
        chosen_first=(((packed >> 1) & 3) - 1).astype(np.int8),
        is_gold=(packed & 8).astype(bool),
        time_ms=judgments["time_ms"][source],
        submitted_at=judgments["submitted_at"][source].astype(np.float64),
        chosen_length=length_of(rows["chosen"]),
        rejected_length=length_of(rows["rejected"]),
    )


def load_gold(campaign_id: int) -> dict[int, list[list[int]]]:
    """Gold task id -> expected ranking (tiers of response ids)."""
    rows = RankingTask.objects.filter(
        campaign_id=campaign_id, is_gold=True, gold_ranking__isnull=False
    ).values_list("id", "gold_ranking")
    return {task_id: _tiers(ranking) for task_id, ranking in rows}


def _tiers(value: object) -> list[list[int]]:
    tiers = json.loads(value) if isinstance(value, str) else value
    return [list(tier) for tier in tiers] if isinstance(tiers, list) else []


def load_repeats(campaign_id: int) -> dict[int, tuple[int, int, int]]:
    """Rater id -> (repeats, pairs judged the same way both times, pairs compared)."""
    repeats = Judgment.objects.filter(task__campaign_id=campaign_id, is_repeat=True).values_list(
        "rater_id", "task_id", "ranking"
    )
    wanted = {(rater, task): ranking for rater, task, ranking in repeats}
    if not wanted:
        return {}
    firsts = Judgment.objects.filter(
        task__campaign_id=campaign_id,
        is_repeat=False,
        task_id__in={task for _, task in wanted},
        rater_id__in={rater for rater, _ in wanted},
    ).values_list("rater_id", "task_id", "ranking")
    result: dict[int, tuple[int, int, int]] = {}
    for rater, task, first in firsts:
        second = wanted.get((rater, task))
        if second is None:
            continue
        agree, compared = ranking_agreement(_tiers(first), _tiers(second))
        count, agreeing, total = result.get(rater, (0, 0, 0))
        result[rater] = (count + 1, agreeing + agree, total + compared)
    return result


def load_raters(campaign_id: int, rater_ids: np.ndarray) -> RaterInfo:
    """Names, statuses, pools and consented demographics of the raters who judged."""
    ids = [int(i) for i in np.unique(rater_ids)]
    profiles = {
        user_id: (username, status, demographics if consent else {})
        for user_id, username, status, demographics, consent in RaterProfile.objects.filter(
            user_id__in=ids
        ).values_list("user_id", "user__username", "status", "demographics", "demographics_consent")
    }
    pools: dict[int, list[str]] = {}
    memberships = RaterPool.members.through.objects.filter(user_id__in=ids).values_list(
        "user_id", "raterpool__name"
    )
    for user_id, pool_name in memberships:
        pools.setdefault(user_id, []).append(pool_name)
    return RaterInfo(
        ids=ids,
        names={i: profiles.get(i, (str(i), "", {}))[0] for i in ids},
        statuses={i: profiles.get(i, ("", "active", {}))[1] for i in ids},
        pools={i: sorted(pools.get(i, [])) for i in ids},
        demographics={i: dict(profiles.get(i, ("", "", {}))[2] or {}) for i in ids},
    )


def load_campaign(campaign: Campaign) -> CampaignData:
    pairs = load_pairs(campaign.pk)
    return CampaignData(
        pairs=pairs,
        gold=load_gold(campaign.pk),
        repeats=load_repeats(campaign.pk),
        raters=load_raters(campaign.pk, pairs.rater),
        reading_floor_ms_per_char=campaign.reading_floor_ms_per_char,
        gold_threshold=campaign.pause_gold_accuracy_below,
        gold_min_items=campaign.pause_gold_min_items,
        verdicts=load_verdicts(campaign.pk),
    )


def load_verdicts(campaign_id: int) -> VerdictArrays:
    """The campaign's LLM-judge verdicts, with both answers' lengths."""
    rows = list(
        JudgeVerdict.objects.filter(campaign_id=campaign_id).values_list(
            "judge",
            "first_id",
            "second_id",
            "first_shown_first",
            "first_shown_second",
            "first__length_chars",
            "second__length_chars",
        )
    )
    if not rows:
        return VerdictArrays.empty()
    judge, first, second, shown_first, shown_second, first_length, second_length = zip(
        *rows, strict=True
    )
    return VerdictArrays(
        np.array(judge, dtype=object),
        np.array(first, dtype=np.int64),
        np.array(second, dtype=np.int64),
        np.array(shown_first, dtype=float),
        np.array(shown_second, dtype=float),
        np.array(first_length, dtype=np.int64),
        np.array(second_length, dtype=np.int64),
    )


def data_version(campaign_id: int) -> tuple[int, ...]:
    """(judgments, newest judgment id, newest audit event id, verdicts, newest verdict time):
    changes whenever the report's input changes (judgments, an admin action such as a pause,
    an LLM judge's verdicts)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*), COALESCE(MAX(j.id), 0) FROM {Judgment._meta.db_table} j "  # noqa: S608
            f"JOIN {RankingTask._meta.db_table} t ON t.id = j.task_id WHERE t.campaign_id = %s",
            [campaign_id],
        )
        count, newest = cursor.fetchone()
    latest_event = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
    verdicts = JudgeVerdict.objects.filter(campaign_id=campaign_id).aggregate(
        n=Count("id"), newest=Max("created_at")
    )
    stamp = int(verdicts["newest"].timestamp() * 1e6) if verdicts["newest"] else 0
    return int(count), int(newest), int(latest_event or 0), int(verdicts["n"]), stamp
