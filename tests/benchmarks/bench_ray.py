"""What the Ray backend costs (`make bench-ray`): the same tiny reward run executed by the
worker's own code path (`execute_run`) on the local backend and as a Ray job on a real local
Ray head (CPU, started with docker-compose.yml's ray-head command), several times each. For
each run: seconds from the run's creation to its first progress line (what a user waits for
before the first number moves) and to its end. The difference is Ray's overhead: submitting
the job, the job supervisor starting, the entrypoint's shell; the stage itself is the same.

    .venv/bin/python -m tests.benchmarks.bench_ray [--repeats 3]

Uses a throwaway SQLite database and artifacts folder. Prints a table, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import django


def _setup(folder: Path) -> None:
    os.environ["RLHF_VAR_DIR"] = str(folder)
    for queue in ("queue", "processed"):  # the broker without Redis: messages go unread here
        (folder / "celery" / queue).mkdir(parents=True)
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _campaign(pairs: int) -> Any:
    from annotation.services.importing import import_file
    from tests.factories import make_campaign

    campaign = make_campaign(responses_per_task=2, overlap=1)
    rows = [
        {"prompt": f"Greet me ({i})", "chosen": f"Hello, friend {i}!", "rejected": "No."}
        for i in range(pairs)
    ]
    data = "\n".join(json.dumps(row) for row in rows).encode()
    assert import_file(actor=None, campaign=campaign, data=data, filename="pairs.jsonl").is_ok
    return campaign


def _one_run(model: Path, campaign: Any) -> dict[str, float]:
    from training.models import TrainingRun
    from training.services import RunRequest, create_run
    from training.worker.job import execute_run

    request = RunRequest(
        kind="reward",
        base=str(model),
        campaign=campaign,
        dataset={"mode": "all"},
        hyperparameters={"epochs": 1.0, "batch_size": 4, "max_length": 64},
    )
    run = create_run(request=request, actor=None)
    created = run.created_at.timestamp()
    outcome = execute_run(run.pk)
    run = TrainingRun.objects.get(pk=run.pk)
    if outcome != "succeeded":
        sys.exit(f"run {run.pk} {outcome}: {run.error}\n{run.log_tail[-2000:]}")
    lines = (Path(run.artifact_dir) / "progress.jsonl").read_text().splitlines()
    first = min(json.loads(line)["time"] for line in lines)
    assert run.finished_at is not None
    return {"first_line_s": first - created, "end_s": run.finished_at.timestamp() - created}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    options = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-ray-"))
    _setup(folder)
    from django.conf import settings

    from tests.training.ray_head import RayHead
    from training.pipeline.model_loading import write_tiny_model

    model = write_tiny_model(folder / "tiny", seed=0)
    campaign = _campaign(16)
    settings.TRAINING_POLL_S = 0.2
    figures: dict[str, list[dict[str, float]]] = {"local": [], "ray": []}
    head = RayHead(cpus=2)
    try:
        started = time.monotonic()
        head.wait_ready()
        head_s = time.monotonic() - started
        settings.RAY_ADDRESS = head.address
        for _ in range(options.repeats):
            for backend in ("local", "ray"):
                settings.TRAINING_BACKEND = backend
                figures[backend].append(_one_run(model, campaign))
    finally:
        head.stop()
    summary: dict[str, Any] = {"repeats": options.repeats, "head_ready_s": round(head_s, 1)}
    print(f"{'backend':8} {'created -> first line (s)':>28} {'created -> end (s)':>20}")
    for backend, rows in figures.items():
        first = statistics.median(r["first_line_s"] for r in rows)
        end = statistics.median(r["end_s"] for r in rows)
        spread = ", ".join(f"{r['first_line_s']:.1f}" for r in rows)
        print(f"{backend:8} {first:>12.2f} ({spread}) {end:>20.2f}")
        summary[backend] = {"first_line_s": round(first, 2), "end_s": round(end, 2)}
    summary["ray_overhead_first_line_s"] = round(
        summary["ray"]["first_line_s"] - summary["local"]["first_line_s"], 2
    )
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
