"""Figures for the ranking UI, printed (not asserted):

- built JS size: what loads with the page and what loads on demand, gzip -9 (whitenoise serves
  the files compressed);
- time to interactive on localhost: navigation start until the first task is on screen with
  its keyboard handler attached (the app's `rlhf:interactive` mark), cold cache, median of 7,
  against pytest-django's live server (Django's threaded server, static files uncompressed);
- keystrokes to rank a K = 4 task: a demo annotator ranks 12 tasks towards random rankings
  (ties included) by keyboard in real Chromium; the database is checked to hold each one.

    make bench-frontend      (Postgres via DATABASE_URL; the last line is one JSON object)
"""

from __future__ import annotations

import gzip
import json
import random
import statistics
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import Browser
from tests.browser.helpers import log_in, stored_tiers, task_id, wait_for_next_task

pytestmark = [pytest.mark.postgres, pytest.mark.browser]

DIST = Path(__file__).resolve().parents[2] / "frontend" / "dist"
LABELS = ["A", "B", "C", "D"]


def gzip_size(path: Path) -> int:
    return len(gzip.compress(path.read_bytes(), compresslevel=9))


def bundle_sizes() -> dict[str, int]:
    """JS loaded with the page (the entry index.html names) and JS loaded later on demand."""
    index = (DIST / "index.html").read_text()
    scripts = sorted((DIST / "assets").glob("*.js"))
    initial = [f for f in scripts if f"assets/{f.name}" in index]
    lazy = [f for f in scripts if f not in initial]
    return {
        "js_initial_bytes": sum(f.stat().st_size for f in initial),
        "js_initial_gzip_bytes": sum(gzip_size(f) for f in initial),
        "js_lazy_gzip_bytes": sum(gzip_size(f) for f in lazy),
        "css_gzip_bytes": sum(gzip_size(f) for f in (DIST / "assets").glob("*.css")),
    }


def time_to_interactive(browser: Browser, runs: int = 7) -> list[tuple[float, float]]:
    """(DOMContentLoaded, interactive) in ms after navigation start, per cold load."""
    page = browser.page()
    log_in(page, "annotator2")
    state = page.context.storage_state()  # the session cookie and the draft: a returning rater
    timings = []
    for _ in range(runs):
        cold = browser.page(storage_state=state)  # a new context: nothing cached
        cold.goto("/annotate")
        cold.wait_for_function("() => performance.getEntriesByName('rlhf:interactive').length > 0")
        timings.append(
            tuple(
                cold.evaluate(
                    """() => [performance.getEntriesByType('navigation')[0]
                                .domContentLoadedEventEnd,
                              performance.getEntriesByName('rlhf:interactive')[0].startTime]"""
                )
            )
        )
        cold.context.close()
    return timings


def random_ranking(rng: random.Random) -> list[list[str]]:
    """A random ranking of A..D, ties included (each boundary is a tie with p = 0.25)."""
    order = LABELS[:]
    rng.shuffle(order)
    tiers = [[order[0]]]
    for label in order[1:]:
        if rng.random() < 0.25:
            tiers[-1].append(label)
        else:
            tiers.append([label])
    return [sorted(tier) for tier in tiers]


def keys_for(tiers: list[list[str]]) -> list[str]:
    place, position = {}, 1
    for tier in tiers:
        for label in tier:
            place[label] = position
        position += len(tier)
    return [str(place[label]) for label in LABELS] + ["Enter"]


def keystrokes_per_task(browser: Browser, tasks: int = 12) -> list[int]:
    rng = random.Random(3)
    page = browser.page()
    log_in(page, "annotator1")
    current = task_id(page)
    counts = []
    for _ in range(tasks):
        target = random_ranking(rng)
        keys = keys_for(target)
        for key in keys:
            page.keyboard.press(key)
        following = wait_for_next_task(page, current)
        assert stored_tiers(current) == target
        counts.append(len(keys))
        current = following
    return counts


def test_frontend_figures(browser: Browser) -> None:
    sizes = bundle_sizes()
    loads = time_to_interactive(browser)
    tti = [interactive for _, interactive in loads]
    dcl = [loaded for loaded, _ in loads]
    strokes = keystrokes_per_task(browser)
    figures: dict[str, Any] = {
        **sizes,
        "tti_ms_median": round(statistics.median(tti), 1),
        "tti_ms_min": round(min(tti), 1),
        "tti_ms_max": round(max(tti), 1),
        "dom_content_loaded_ms_median": round(statistics.median(dcl), 1),
        "keystrokes_k4_mean": statistics.mean(strokes),
        "keystrokes_k4_tasks": len(strokes),
    }
    print()
    kib = {key: value / 1024 for key, value in sizes.items()}
    print(
        f"Built JS loaded with the page: {kib['js_initial_bytes']:.1f} KiB, "
        f"{kib['js_initial_gzip_bytes']:.1f} KiB gzip; code highlighting on demand: "
        f"{kib['js_lazy_gzip_bytes']:.1f} KiB gzip; CSS {kib['css_gzip_bytes']:.1f} KiB gzip"
    )
    print(
        f"Time to interactive (localhost, cold cache): median {figures['tti_ms_median']} ms "
        f"(min {figures['tti_ms_min']}, max {figures['tti_ms_max']}, {len(tti)} loads; "
        f"DOMContentLoaded median {figures['dom_content_loaded_ms_median']} ms)"
    )
    print(
        f"Keystrokes to rank a K=4 task: mean {figures['keystrokes_k4_mean']:.2f} "
        f"over {len(strokes)} tasks in Chromium (digits + Enter), each checked in the database"
    )
    print(json.dumps(figures))
