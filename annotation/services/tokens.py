"""API tokens: issued with an expiry, stored as a digest, listed and revoked by their owner or
an admin, and dead once the user's password changes."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from annotation.models import ApiToken, RaterProfile
from annotation.services.audit import record_audit_event
from common.errors import NotAllowed

KEY_PREFIX = "rlhf_"
# last_used_at is this precise: a busy script costs one write a minute, not one per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def password_marker(user: User) -> str:
    """Changes whenever the password does, by any path (API, admin, changepassword)."""
    return hashlib.sha256(f"{settings.SECRET_KEY}:{user.password}".encode()).hexdigest()


def token_is_live(token: ApiToken) -> bool:
    """Not revoked, not expired, and issued under the user's current password."""
    return token.is_live and token.password_marker == password_marker(token.user)


def issue_token(*, user: User, actor: User | None = None, name: str = "") -> tuple[ApiToken, str]:
    """A new token for `user` (returns the row and the key, which is never stored), audited.
    A paused user gets none: their tokens would be refused anyway."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    lifetime = timedelta(days=settings.API_TOKEN_LIFETIME_DAYS)
    with transaction.atomic():
        # Read under the profile's lock, which pausing holds while it revokes: a token issued
        # while a pause is under way would otherwise outlive it and work after a resume.
        profile = RaterProfile.objects.select_for_update().filter(user=user).first()
        if profile is not None and profile.is_paused:
            raise NotAllowed("Your account is paused; ask an admin.", code="rater_paused")
        token = ApiToken.objects.create(
            user=user,
            name=name[:100],
            key_digest=key_digest(key),
            prefix=key[: len(KEY_PREFIX) + 4],
            password_marker=password_marker(user),
            expires_at=timezone.now() + lifetime,
        )
        record_audit_event(
            actor=actor or user,
            action="token.issue",
            target=user,
            details={
                "token_id": token.pk,
                "prefix": token.prefix,
                "expires_at": str(token.expires_at),
            },
        )
    return token, key


def live_token(key: str) -> ApiToken | None:
    """The token for a key if it may still be used: not revoked, not expired, password unchanged."""
    token = (
        ApiToken.objects.select_related("user", "user__rater_profile")
        .filter(key_digest=key_digest(key), revoked_at__isnull=True, expires_at__gt=timezone.now())
        .first()
    )
    if token is None or token.password_marker != password_marker(token.user):
        return None
    return token


def note_token_use(token: ApiToken) -> None:
    """Record when a token was last used, at most once per LAST_USED_RESOLUTION."""
    now = timezone.now()
    stale = now - LAST_USED_RESOLUTION
    if token.last_used_at is not None and token.last_used_at > stale:
        return
    # The filter repeats the check, so concurrent requests write once between them.
    ApiToken.objects.filter(pk=token.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lte=stale)
    ).update(last_used_at=now)
    token.last_used_at = now


def revoke_token(*, token: ApiToken, actor: User | None, reason: str) -> None:
    """End one token now, audited. Revoking a revoked token changes nothing."""
    with transaction.atomic():
        updated = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now(), revoked_reason=reason[:64]
        )
        if updated:
            record_audit_event(
                actor=actor,
                action="token.revoke",
                target=token.user,
                details={"token_id": token.pk, "prefix": token.prefix, "reason": reason},
            )


def revoke_user_tokens(*, user: User, actor: User | None, reason: str) -> int:
    """End every live token of a user (on pause, password change, or at their request)."""
    with transaction.atomic():
        ids = list(
            ApiToken.objects.filter(user=user, revoked_at__isnull=True).values_list("pk", flat=True)
        )
        ApiToken.objects.filter(pk__in=ids).update(
            revoked_at=timezone.now(), revoked_reason=reason[:64]
        )
        if ids:
            record_audit_event(
                actor=actor,
                action="token.revoke",
                target=user,
                details={"token_ids": ids, "reason": reason},
            )
    return len(ids)
