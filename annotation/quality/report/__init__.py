"""The campaign quality report: agreement, consensus, per-rater quality and bias, with pools
and self-reported groups. Pure array code over one campaign's preference pairs.

- `inputs`: what the report is computed from (`CampaignData`) and with (`ReportSettings`).
- `figures`: what it returns, `QualityReport` and its parts (frozen dataclasses, numpy-free).
- `indexes`: the per-judgment and per-rater indexes every part shares.
- `rater_tests`: each rater test across raters; `rater_rows`: one row of figures per rater.
- `campaign_figures`: agreement, consensus and agreement over time.
- `groups`: pools and self-reported groups pooled and compared.
- `assembly`: `build_report`, which puts them together.

Conventions (stated in docs/quality.md too):
- A *unit* for pairwise agreement is one unordered response pair; its value for a rater is
  +1 when the lower response id won, -1 when it lost, 0 for a tie.
- Each test is run once per rater that has at least `min_judgments` judgments, and the
  p-values of one test are Holm-corrected across raters, so each test holds its family-wise
  error rate at `test_level`.
- Pairs of one K-way judgment are not independent, so tests count judgments, not pairs.
"""
