"""Datasets stored before the `unsafe` option existed had no response flagged unsafe to treat:
they say so explicitly ("ignore"), so their runs read back and re-run as they were; new
datasets put an unsafe response below every safe one by default."""

from typing import Any

from django.db import migrations

OPTION = "unsafe"


def state_the_old_behaviour(apps: Any, schema_editor: Any) -> None:
    for name in ("TrainingRun", "TrainingSchedule"):
        model = apps.get_model("training", name)
        for row in model.objects.exclude(dataset={}).only("pk", "dataset").iterator():
            if OPTION not in row.dataset:
                row.dataset = {**row.dataset, OPTION: "ignore"}
                row.save(update_fields=["dataset"])


class Migration(migrations.Migration):
    dependencies = [("training", "0004_dataset_exclude_all_bad")]

    operations = [migrations.RunPython(state_the_old_behaviour, migrations.RunPython.noop)]
