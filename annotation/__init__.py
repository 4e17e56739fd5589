"""Annotation: campaigns, prompts, responses, ranking tasks, leases, judgments and raters."""
