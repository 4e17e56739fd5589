"""A training worker reports, when it starts, whether its pipeline's Python has the ML stack,
so the dashboard can say so before anyone starts a run on it."""

from __future__ import annotations

import json
import logging
import subprocess

from django.conf import settings
from django.utils import timezone

from training.models import TrainingWorker
from training.worker.runner import pipeline_python, training_world_size

logger = logging.getLogger(__name__)

# What the pipeline imports (pyproject's `train` extra), by module name.
TRAINING_MODULES = ("torch", "transformers", "trl", "accelerate", "peft", "gguf", "safetensors")
PROBE = (
    "import importlib.util, json, sys\n"
    "print(json.dumps([m for m in sys.argv[1:] if importlib.util.find_spec(m) is None]))"
)


def missing_training_modules(python: str) -> list[str]:
    """The ML packages `python` cannot import (found without importing them: fast and safe)."""
    try:
        found = subprocess.run(  # noqa: S603 - the configured interpreter, no shell
            [python, "-c", PROBE, *TRAINING_MODULES],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        missing = json.loads(found.stdout)
    except (OSError, subprocess.SubprocessError, ValueError) as error:
        logger.warning("Could not probe %s for the training stack: %s", python, error)
        return list(TRAINING_MODULES)
    return [str(name) for name in missing]


def record_training_worker(*, hostname: str) -> TrainingWorker:
    """Probe this worker's pipeline Python and store what it found under its hostname."""
    python = pipeline_python()
    worker, _ = TrainingWorker.objects.update_or_create(
        hostname=hostname[:200],
        defaults={
            "python": python[:500],
            "missing": missing_training_modules(python),
            "processes": training_world_size(),
            "strategies": list(settings.TRAINING_STRATEGY),
            "seen_at": timezone.now(),
        },
    )
    if worker.missing:
        logger.warning(
            "Worker %s cannot train: %s lacks %s (make install-train)",
            hostname,
            python,
            ", ".join(worker.missing),
        )
    return worker
