"""Write a PPO run's reward-against-KL chart (proxy and, with a second reward model, gold reward
per step) as an SVG file: `manage.py reward_kl_chart RUN_ID --out chart.svg`. The figure in
docs/training.md was made this way from a `make demo-loop DEMO_ARGS="--gold reward-model"` run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from training.charts import reward_kl_svg
from training.models import REWARD_DRIVEN_KINDS, TrainingRun
from training.selectors import reward_kl_points


class Command(BaseCommand):
    help = "Write a PPO run's reward-against-KL chart (over-optimisation curve) as SVG."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("run", type=int, help="a PPO, GRPO or RLOO run's id")
        parser.add_argument("--out", type=Path, required=True, help="the .svg file to write")
        parser.add_argument("--title", default="", help="default: the run's kind and id")

    def handle(self, *args: Any, **options: Any) -> None:
        run = TrainingRun.objects.filter(pk=options["run"]).first()
        if run is None:
            raise CommandError(f"No run {options['run']}.")
        if run.kind not in REWARD_DRIVEN_KINDS:
            raise CommandError(
                f"Run {run.pk} is a {run.kind} run; the chart is a PPO, GRPO or RLOO round's."
            )
        points = reward_kl_points(run=run)
        if not points:
            raise CommandError(f"Run {run.pk} has logged no steps yet.")
        budget = run.config.get("target_kl")
        title = options["title"] or f"Reward against KL, {run.kind.upper()} run {run.pk}"
        svg = reward_kl_svg(
            points, title=title, budget=float(budget) if budget is not None else None
        )
        options["out"].parent.mkdir(parents=True, exist_ok=True)
        options["out"].write_text(svg, encoding="utf-8")
        drawn = "proxy and gold" if any(p.gold is not None for p in points) else "proxy"
        self.stderr.write(f"reward_kl_chart: {len(points)} steps ({drawn}) -> {options['out']}")
