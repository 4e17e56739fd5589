"""The model registry's writes: base models and the versions runs produce, each registration
with its audit event in the same transaction."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.db import transaction

from annotation.services.audit import record_audit_event
from training.models import ModelVersion, TrainingRun, VersionKind

DEFAULT_BASE = "smollm2"


def register_base_version(*, base: str) -> ModelVersion:
    """The registry's entry for a base model ("smollm2", a Hugging Face id or a path), as a
    reference version named `base:<base>`, so runs can start from it and versions trained
    from it can be compared with it; registering it again returns the same row."""
    with transaction.atomic():
        version, created = ModelVersion.objects.get_or_create(
            name=f"base:{base}"[:200],
            defaults={"kind": VersionKind.REFERENCE, "base": base, "artifact_path": base},
        )
        if created:
            _record_version(version)
    return version


def _record_version(version: ModelVersion) -> None:
    record_audit_event(
        actor=None,
        action="model_version.register",
        target=version,
        details={
            "kind": version.kind,
            "base": version.base,
            "produced_by": version.produced_by_id,
            "artifact_path": version.artifact_path,
        },
    )


def register_run_version(
    run: TrainingRun, *, kind: str, path: Path, metrics: dict[str, Any], promotion: str = ""
) -> ModelVersion:
    """The version a run produced, audited; registering twice (a retried finish) finds the
    first and records nothing more. A policy a promotion gate will judge starts `pending`."""
    with transaction.atomic():
        version, created = ModelVersion.objects.get_or_create(
            name=f"{run.kind}-run-{run.pk}",
            defaults={
                "kind": kind,
                "base": lineage_base(run),
                "artifact_path": str(path),
                "parent": run.parent_version,
                "produced_by": run,
                "campaign_id": run.campaign_id,
                "snapshot_hash": run.snapshot_hash,
                "metrics": metrics,
                "promotion": promotion,
            },
        )
        if created:
            _record_version(version)
    return version


def lineage_base(run: TrainingRun) -> str:
    """The base model the run's lineage started from (what its version records as `base`)."""
    return run.parent_version.base if run.parent_version else (run.base or DEFAULT_BASE)
