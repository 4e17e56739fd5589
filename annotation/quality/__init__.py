"""Quality statistics for a campaign: agreement, consensus and rater tests. Pure array code.

Nothing here imports Django. Inputs are flat numpy arrays in long format (one row per rating or
per comparison) as the loader in `annotation.selectors.quality_arrays` produces them, and every
computation is vectorised (bincount, sorting, stacked linear algebra), so a report over a
million judgments takes seconds.

- `estimate`: the `Estimate` every metric returns (numpy-free), and Wilson shares.
- `stats`: binomial tests and intervals, Holm's correction, shared array helpers.
- `logistic`: logistic regression, one fit or many at once.
- `bootstrap`: the bootstrap over units and its percentile intervals.
- `metrics`: percent agreement, Krippendorff's alpha, Fleiss' kappa, Kendall's W.
- `consensus`: Bradley–Terry scores per task and the consensus pairs they imply.
- `report`: the campaign quality report built from all of these, as typed figures.
"""
