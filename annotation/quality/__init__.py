"""Quality statistics for a campaign: agreement, consensus and rater tests. Pure array code.

Nothing here imports Django. Inputs are flat numpy arrays in long format (one row per rating or
per comparison) as the loader in `annotation.services.quality_data` produces them, and every
computation is vectorised (bincount, sorting, stacked linear algebra), so a report over a
million judgments takes seconds.

- `stats`: the `Estimate` every metric returns, binomial tests and intervals, Holm's
  correction, logistic regression (one fit or many at once), bootstrap helpers.
- `metrics`: percent agreement, Krippendorff's alpha, Fleiss' kappa, Kendall's W.
- `consensus`: Bradley–Terry scores per task and the consensus pairs they imply.
"""
