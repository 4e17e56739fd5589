"""Rater pools: creating, editing and deleting them, and changing who is in them and which
campaigns they may work on. Every change is written with its audit event in one transaction."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import transaction

from annotation.models import Campaign, RaterPool
from annotation.services.audit import record_audit_event
from common.errors import NotFound


def create_pool(*, actor: User, name: str, description: str = "") -> RaterPool:
    """A new, empty pool with its audit event, atomically."""
    with transaction.atomic():
        pool = RaterPool.objects.create(name=name, description=description)
        record_audit_event(actor=actor, action="pool.create", target=pool)
    return pool


def update_pool(*, actor: User, pool: RaterPool, changes: Mapping[str, Any]) -> RaterPool:
    """The pool with `changes` saved and an audit event naming the changed fields, atomically."""
    with transaction.atomic():
        for field, value in changes.items():
            setattr(pool, field, value)
        pool.save()
        record_audit_event(
            actor=actor, action="pool.update", target=pool, details={"fields": sorted(changes)}
        )
    return pool


def delete_pool(*, actor: User, pool: RaterPool) -> None:
    """The pool gone (its raters and campaigns stay) and an audit event keeping its name,
    atomically."""
    with transaction.atomic():
        record_audit_event(
            actor=actor, action="pool.delete", target=pool, details={"name": pool.name}
        )
        pool.delete()


def _users(user_ids: Iterable[int]) -> list[User]:
    ids = sorted(set(user_ids))
    users: list[User] = list(get_user_model().objects.filter(pk__in=ids))
    if len(users) != len(ids):
        found = {user.pk for user in users}
        raise NotFound(
            f"No such users: {', '.join(str(i) for i in ids if i not in found)}.",
            code="user_not_found",
        )
    return users


def _campaigns(campaign_ids: Iterable[int]) -> list[Campaign]:
    ids = sorted(set(campaign_ids))
    campaigns = list(Campaign.objects.filter(pk__in=ids))
    if len(campaigns) != len(ids):
        raise NotFound("No such campaign.", code="campaign_not_found")
    return campaigns


def _change_pool_relation(
    actor: User, pool: RaterPool, relation: str, to_add: list[Any], to_remove: list[Any]
) -> RaterPool:
    """Add and remove rows of one of the pool's many-to-many relations, with an audit event."""
    manager = getattr(pool, relation)
    with transaction.atomic():
        manager.add(*to_add)
        manager.remove(*to_remove)
        record_audit_event(
            actor=actor,
            action=f"pool.{relation}",
            target=pool,
            details={"added": [r.pk for r in to_add], "removed": [r.pk for r in to_remove]},
        )
    return pool


def change_pool_members(
    *, actor: User, pool: RaterPool, add: Iterable[int] = (), remove: Iterable[int] = ()
) -> RaterPool:
    """Add and remove pool members by user id, with an audit event."""
    return _change_pool_relation(actor, pool, "members", _users(add), _users(remove))


def change_pool_campaigns(
    *, actor: User, pool: RaterPool, add: Iterable[int] = (), remove: Iterable[int] = ()
) -> RaterPool:
    """Allow or withdraw campaigns for a pool, with an audit event."""
    return _change_pool_relation(actor, pool, "campaigns", _campaigns(add), _campaigns(remove))
