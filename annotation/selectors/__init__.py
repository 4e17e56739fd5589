"""Reads of annotation data, one module per concern. `training` reads annotation data only
through this package, as frozen dataclasses; no selector calls a service.

- `preferences`: `PreferenceFilter`, the matching preferences and their rows for export.
- `consensus`: Bradley-Terry consensus pairs instead of every judgment.
- `snapshots`: a training run's frozen set of preference ids, and reading it back.
- `campaigns`: a campaign's agreement figures, prompts and judgment count.
- `quality`: a campaign's quality report (typed, cached); `quality_arrays` loads its input.
"""
