"""One name per hyperparameter in every layer (issue 11): the app's `lr`, `value_lr` and
`probe_head` become the pipeline's `learning_rate`, `value_learning_rate` and `head_init`, in
stored run configs and in schedules' overrides, so queued runs and schedules keep working."""

from __future__ import annotations

from typing import Any

from django.db import migrations

RENAMED = {"lr": "learning_rate", "value_lr": "value_learning_rate"}


def _forward(config: dict[str, Any]) -> dict[str, Any]:
    renamed = {RENAMED.get(key, key): value for key, value in config.items()}
    if "probe_head" in renamed:
        renamed["head_init"] = "probe" if renamed.pop("probe_head") else "random"
    return renamed


def _backward(config: dict[str, Any]) -> dict[str, Any]:
    old_names = {new: old for old, new in RENAMED.items()}
    renamed = {old_names.get(key, key): value for key, value in config.items()}
    if "head_init" in renamed:
        renamed["probe_head"] = renamed.pop("head_init") == "probe"
    return renamed


def _rename(apps: Any, change: Any) -> None:
    run_model = apps.get_model("training", "TrainingRun")
    for run in run_model.objects.exclude(config={}).only("pk", "config").iterator():
        if isinstance(run.config, dict):
            run_model.objects.filter(pk=run.pk).update(config=change(run.config))
    schedule_model = apps.get_model("training", "TrainingSchedule")
    for schedule in schedule_model.objects.only("pk", "hyperparameters").iterator():
        overrides = schedule.hyperparameters
        if isinstance(overrides, dict) and overrides:
            renamed = {
                kind: change(values) if isinstance(values, dict) else values
                for kind, values in overrides.items()
            }
            schedule_model.objects.filter(pk=schedule.pk).update(hyperparameters=renamed)


def forward(apps: Any, schema_editor: Any) -> None:
    _rename(apps, _forward)


def backward(apps: Any, schema_editor: Any) -> None:
    _rename(apps, _backward)


class Migration(migrations.Migration):
    dependencies = [("training", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
