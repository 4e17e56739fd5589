"""A PPO or DPO round may name a second reward model for its reward-hacking watch."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("training", "0005_dataset_unsafe"),
    ]

    operations = [
        migrations.AddField(
            model_name="trainingrun",
            name="check_reward_version",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="check_reward_runs",
                to="training.modelversion",
            ),
        ),
    ]
