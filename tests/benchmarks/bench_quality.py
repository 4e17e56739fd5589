"""make bench-quality: a pairwise campaign with BENCH_JUDGMENTS (1,000,000) judgments, bulk-
generated inside Postgres, then the time and peak memory of the whole quality report
(loading included), and Krippendorff's alpha against the `krippendorff` package.

    python -m tests.benchmarks.bench_quality --judgments 1000000 --raters 300

Needs DATABASE_URL pointing at a throwaway database (scripts/bench_quality.sh makes one).
The last line of output is one JSON object:
{"judgments", "report_s", "peak_mib", "alpha_s", "alpha_reference_s", ...}.

The synthetic raters: each response has a hidden quality; a rater follows it with their
accuracy, except a few with a position bias, a length bias, or spam (random choices), so the
report has real work to do. Display order is random per assignment.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from typing import Any

import django

OVERLAP = 3


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


_TABLES = {
    "prompt": "annotation_prompt",
    "response": "annotation_response",
    "task": "annotation_rankingtask",
    "assignment": "annotation_assignment",
    "judgment": "annotation_judgment",
    "preference": "annotation_preference",
}
# 1 in 20 raters position-biased, 1 in 20 length-biased, 1 in 20 spammers.
_TRAITS_SQL = """CREATE TEMP TABLE bench_rater AS
            SELECT row_number() OVER () - 1 AS slot, id AS rater_id,
              CASE WHEN ord %% 20 = 1 THEN 0.5 ELSE 0 END AS position_bias,
              CASE WHEN ord %% 20 = 2 THEN 0.5 ELSE 0 END AS length_bias,
              ord %% 20 = 3 AS spam, 0.85 AS accuracy
            FROM unnest(%s::bigint[]) WITH ORDINALITY AS u(id, ord)"""
_PROMPTS_SQL = """INSERT INTO {prompt} (campaign_id, conversation, metadata, source, external_id,
                created_at)
            SELECT %s, jsonb_build_array(jsonb_build_object('role', 'user', 'content',
                'Question ' || g)), '{{}}', 'bench', g::text, now()
            FROM generate_series(1, %s) g"""
_RESPONSES_SQL = """INSERT INTO {response} (prompt_id, text, generator, metadata, created_at)
            SELECT p.id, 'Answer ' || s || ' ' || repeat('word ', 10 + (random() * 120)::int),
                'bench', jsonb_build_object('quality', random()), now()
            FROM {prompt} p CROSS JOIN generate_series(1, 2) s WHERE p.campaign_id = %s"""
_TASKS_SQL = """INSERT INTO {task} (campaign_id, prompt_id, response_ids, required_judgments,
                submitted_count, status, is_gold, created_at)
            SELECT %s, r.prompt_id, jsonb_build_array(min(r.id), max(r.id)), 3, 3,
                'complete', false, now()
            FROM {response} r JOIN {prompt} p ON p.id = r.prompt_id
            WHERE p.campaign_id = %s GROUP BY r.prompt_id"""
_PLAN_SQL = """CREATE TEMP TABLE bench_plan AS
            SELECT t.id AS task_id, br.rater_id, ra.id AS a, rb.id AS b,
              (ra.metadata->>'quality')::float AS qa, (rb.metadata->>'quality')::float AS qb,
              length(ra.text) AS la, length(rb.text) AS lb, random() < 0.5 AS a_first,
              br.position_bias, br.length_bias, br.spam, br.accuracy,
              random() AS u1, random() AS u2, random() AS u3, random() AS u4,
              now() - (random() * interval '30 days') AS at,
              (CASE WHEN br.spam THEN 800 + random() * 1500
                    ELSE 8000 + random() * 40000 END)::int AS ms
            FROM (SELECT id, (response_ids->>0)::bigint AS ra_id, (response_ids->>1)::bigint
                    AS rb_id, row_number() OVER (ORDER BY id) AS n
                  FROM {task} WHERE campaign_id = %s) t
            CROSS JOIN generate_series(0, 2) AS k(overlap_slot)
            JOIN {response} ra ON ra.id = t.ra_id
            JOIN {response} rb ON rb.id = t.rb_id
            JOIN bench_rater br ON br.slot = (t.n * 3 + k.overlap_slot) %% %s"""
_CHOICES_SQL = """ALTER TABLE bench_plan ADD COLUMN tie boolean, ADD COLUMN a_wins boolean;
            UPDATE bench_plan SET tie = (NOT spam AND u4 < 0.03),
              a_wins = CASE
                WHEN u1 < position_bias THEN a_first
                WHEN u2 < length_bias THEN la > lb
                WHEN spam THEN u3 < 0.5
                WHEN u3 < accuracy THEN qa > qb
                ELSE qa <= qb END"""
_ASSIGNMENTS_SQL = """INSERT INTO {assignment} (task_id, rater_id, status, display_order, leased_at,
                expires_at, finished_at, skip_reason, is_repeat)
            SELECT task_id, rater_id, 'submitted',
              CASE WHEN a_first THEN jsonb_build_array(a, b) ELSE jsonb_build_array(b, a) END,
              at - make_interval(secs => ms / 1000.0), at + interval '1 hour', at, '', false
            FROM bench_plan"""
_JUDGMENTS_SQL = """INSERT INTO {judgment} (assignment_id, task_id, rater_id, ranking, strength,
                flags, rationale, idempotency_key, is_surplus, was_late, source,
                server_time_ms, client_time_ms, submitted_at, is_repeat)
            SELECT s.id, p.task_id, p.rater_id,
              CASE WHEN p.tie THEN jsonb_build_array(jsonb_build_array(p.a, p.b))
                   WHEN p.a_wins THEN jsonb_build_array(jsonb_build_array(p.a),
                     jsonb_build_array(p.b))
                   ELSE jsonb_build_array(jsonb_build_array(p.b), jsonb_build_array(p.a)) END,
              CASE WHEN p.tie THEN 'about_same' ELSE 'better' END, '[]', '',
              'bench-' || s.id, false, false, 'human', p.ms + 40, p.ms, p.at, false
            FROM bench_plan p JOIN {assignment} s
              ON s.task_id = p.task_id AND s.rater_id = p.rater_id"""
_PREFERENCES_SQL = """INSERT INTO {preference} (judgment_id, task_id, chosen_id, rejected_id, is_tie,
                margin, chosen_shown_first)
            SELECT j.id, p.task_id,
              CASE WHEN p.a_wins OR p.tie THEN p.a ELSE p.b END,
              CASE WHEN p.a_wins OR p.tie THEN p.b ELSE p.a END,
              p.tie, CASE WHEN p.tie THEN 0 ELSE 1 END,
              CASE WHEN p.a_wins OR p.tie THEN p.a_first ELSE NOT p.a_first END
            FROM bench_plan p JOIN {judgment} j
              ON j.task_id = p.task_id AND j.rater_id = p.rater_id"""  # noqa: E501


def _create_campaign(raters: int) -> tuple[int, list[int]]:
    """The campaign, its raters (with profiles and a self-reported region) and their pool."""
    from django.contrib.auth.models import User
    from django.db import transaction

    from annotation.models import Campaign, JudgmentMode, RaterPool, RaterProfile
    from common.roles import Role

    with transaction.atomic():
        campaign = Campaign.objects.create(
            name=f"bench-quality-{int(time.time())}",
            responses_per_task=2,
            overlap=OVERLAP,
            judgment_mode=JudgmentMode.PAIRWISE,
        )
        users = User.objects.bulk_create(
            [User(username=f"q{campaign.pk}-{i:04d}", password="!") for i in range(raters)]
        )
        RaterProfile.objects.bulk_create(
            [
                RaterProfile(
                    user=u,
                    role=Role.ANNOTATOR,
                    demographics={"region": ["north", "south", "east"][i % 3]},
                    demographics_consent=True,
                )
                for i, u in enumerate(users)
            ]
        )
        pool = RaterPool.objects.create(name=f"bench pool {campaign.pk}")
        pool.members.add(*users)
        pool.campaigns.add(campaign)
    return campaign.pk, [u.pk for u in users]


def _steps(
    campaign_id: int, rater_ids: list[int], tasks: int, seed: int
) -> list[tuple[str, str, list[Any] | None]]:
    """The SQL statements that write the campaign's data, in order, with their parameters."""
    return [
        ("seed", "SELECT setseed(%s)", [seed / 2**31]),
        ("traits", _TRAITS_SQL, [rater_ids]),
        ("prompts", _PROMPTS_SQL, [campaign_id, tasks]),
        ("responses", _RESPONSES_SQL, [campaign_id]),
        ("tasks", _TASKS_SQL, [campaign_id, campaign_id]),
        ("plan", _PLAN_SQL, [campaign_id, len(rater_ids)]),
        ("choices", _CHOICES_SQL, None),
        ("assignments", _ASSIGNMENTS_SQL, None),
        ("judgments", _JUDGMENTS_SQL, None),
        ("preferences", _PREFERENCES_SQL, None),
        # What autovacuum does soon after such a load (hint bits, visibility map, statistics);
        # without it the first read of a million fresh rows pays for writing hint bits.
        ("vacuum analyze", "VACUUM ANALYZE", None),
    ]


def generate(judgments: int, raters: int, seed: int) -> int:
    """Write the campaign with SQL set operations; returns its id."""
    from django.db import connection

    campaign_id, rater_ids = _create_campaign(raters)
    with connection.cursor() as cursor:
        for name, sql, params in _steps(campaign_id, rater_ids, judgments // OVERLAP, seed):
            started = time.perf_counter()
            cursor.execute(sql.format(**_TABLES), params)
            print(f"  {name}: {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return campaign_id


def alpha_timings(campaign_id: int) -> dict[str, Any]:
    """Ours on the long arrays vs the package on its fastest input (value counts per unit),
    same data; building the package's input is not timed."""
    import krippendorff
    import numpy as np

    from annotation.models import Campaign
    from annotation.quality.metrics import krippendorff_alpha
    from annotation.quality.report.indexes import CampaignIndex
    from annotation.selectors.quality_arrays import load_campaign

    c = CampaignIndex(load_campaign(Campaign.objects.get(pk=campaign_id)))
    unit, value = c.unit[c.regular], c.value[c.regular]
    started = time.perf_counter()
    ours = krippendorff_alpha(unit, value, level="ordinal", n_boot=0).value
    ours_s = time.perf_counter() - started
    counts = np.zeros((int(unit.max()) + 1, 3))
    np.add.at(counts, (unit, value.astype(np.int64) + 1), 1)
    started = time.perf_counter()
    reference = krippendorff.alpha(
        value_counts=counts, value_domain=[-1, 0, 1], level_of_measurement="ordinal"
    )
    reference_s = time.perf_counter() - started
    return {
        "alpha": ours,
        "alpha_reference": float(reference),
        "alpha_s": round(ours_s, 3),
        "alpha_reference_s": round(reference_s, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--judgments", type=int, default=1_000_000)
    parser.add_argument("--raters", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1234)
    args = parser.parse_args()
    _setup()
    from annotation.models import Campaign

    started = time.perf_counter()
    campaign_id = generate(args.judgments, args.raters, args.seed)
    from annotation.quality.report.assembly import build_report
    from annotation.selectors.quality_arrays import load_campaign

    generate_s = time.perf_counter() - started
    campaign = Campaign.objects.get(pk=campaign_id)
    import numpy  # noqa: F401 - loaded before the baseline, as a web worker has it loaded
    import scipy.stats  # noqa: F401

    baseline = _rss_mib()
    started = time.perf_counter()
    data = load_campaign(campaign)
    load_s = time.perf_counter() - started
    report = build_report(data)
    report_s = time.perf_counter() - started
    peak = _rss_mib()
    flagged = len(report.flagged_raters)
    print(
        f"generated in {generate_s:.0f} s; report {report_s:.2f} s (loading {load_s:.2f} s); "
        f"peak {peak:.0f} MiB (process baseline {baseline:.0f}); {flagged} raters flagged; "
        f"agreement {json.dumps(vars(report.agreement.percent_agreement))}",
        file=sys.stderr,
    )
    result = {
        "judgments": report.judgments,
        "report_s": round(report_s, 2),
        "load_s": round(load_s, 2),
        "peak_mib": round(peak),
        "baseline_mib": round(baseline),
        "raters_flagged": flagged,
        **alpha_timings(campaign_id),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
