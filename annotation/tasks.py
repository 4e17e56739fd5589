"""Celery tasks of the annotation app. They only translate: call one service."""

from __future__ import annotations

from celery import shared_task
from django.db import close_old_connections

from annotation.services.assignments import expire_stale_leases as expire_service


@shared_task(name="annotation.tasks.expire_stale_leases", time_limit=120, soft_time_limit=100)
def expire_stale_leases() -> int:
    """Mark leases past their expiry (idempotent: an expired lease is expired once)."""
    close_old_connections()
    try:
        return expire_service()
    finally:
        close_old_connections()
