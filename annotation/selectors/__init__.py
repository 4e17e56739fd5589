"""Reads of annotation data, one module per concern. `training` reads annotation data only
through this package, as frozen dataclasses; no selector calls a service.

- `preferences`: `PreferenceFilter`, the matching preferences and their rows for export.
- `consensus`: Bradley-Terry consensus pairs instead of every judgment.
- `snapshots`: a training run's frozen set of preference ids, and reading it back.
- `campaigns`: campaigns with their progress, the judgment list, and a campaign's agreement
  figures, prompts and judgment count.
- `assignments`: allowed campaigns, live leases, an assignment as its rater sees it.
- `raters`: the admin's rater list, who the user is, a rater's own figures.
- `quality`: a campaign's quality report (typed, cached); `quality_arrays` loads its input.
"""
