"""Simulated raters for demos, load tests and checking the bias report.

- traits: what a simulated rater does, and its answer to one assignment (pure);
- prompts: synthetic prompts whose responses hide a true quality (pure);
- setup: the campaign, the raters with their tokens and pool, the hidden qualities (ORM);
- driver: raters taking turns through the rater API, in process or over HTTP.

`manage.py simulate_raters` puts them together.
"""
