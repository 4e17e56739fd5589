"""Datasets stored before `exclude_all_bad` existed kept judgments flagged "all responses are
bad": they say so explicitly (false), so their runs read back and re-run as they were; new
datasets leave such judgments out by default."""

from typing import Any

from django.db import migrations

OPTION = "exclude_all_bad"


def state_the_old_behaviour(apps: Any, schema_editor: Any) -> None:
    for name in ("TrainingRun", "TrainingSchedule"):
        model = apps.get_model("training", name)
        for row in model.objects.exclude(dataset={}).only("pk", "dataset").iterator():
            if OPTION not in row.dataset:
                row.dataset = {**row.dataset, OPTION: False}
                row.save(update_fields=["dataset"])


class Migration(migrations.Migration):
    dependencies = [("training", "0003_training_workers")]

    operations = [migrations.RunPython(state_the_old_behaviour, migrations.RunPython.noop)]
