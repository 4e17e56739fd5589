"""Training: model registry, training runs and schedules (issue: training rounds).

`training.pipeline` is pure ML code with no Django import; it is installed with the
optional `train` extra on workers only.
"""
