"""The annotation REST API under /api/v1/: views only translate between HTTP and services."""
