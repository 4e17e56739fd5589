"""What a GPU worker does with a training run, one module per step:

- `claim`: take the row with one conditional UPDATE, so a duplicate message runs nothing;
- `inputs`: write the run's data or prompts and build the stage's command line;
- `runner`: the pipeline stage as a subprocess (own process group, dies with the worker);
- `streaming`: its progress and metrics into the row while it runs, and "go on?";
- `outcome`: what the stage produced (model versions, generated tasks), then the chain's next run;
- `job`: the whole job for one message, the steps above in order;
- `reconcile`: the beat's side: runs whose worker vanished go back to the queue.

The row is the truth. A run whose worker vanished (no heartbeat) is re-queued by
`reconcile.reconcile_stale_runs`, and the next attempt resumes from the stage's last checkpoint
(PPO keeps them in the run folder). This package imports no Celery task: messages go out by
task name through `training.dispatch`.
"""
