"""Reads about API tokens: a user's list (never the key) and the one a caller may revoke."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User

from annotation.models import ApiToken
from annotation.services.tokens import token_is_live
from common.errors import NotFound
from common.roles import Role, role_of


@dataclass(frozen=True)
class TokenRow:
    id: int
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    revoked_reason: str
    is_live: bool


def _row(token: ApiToken) -> TokenRow:
    return TokenRow(
        id=token.pk,
        name=token.name,
        prefix=token.prefix,
        created_at=token.created_at,
        expires_at=token.expires_at,
        last_used_at=token.last_used_at,
        revoked_at=token.revoked_at,
        revoked_reason=token.revoked_reason,
        is_live=token_is_live(token),
    )


def user_tokens(*, user: User) -> list[TokenRow]:
    """Every token of `user`, newest first, live or not."""
    return [_row(token) for token in ApiToken.objects.filter(user=user).select_related("user")]


def token_for_revoking(*, caller: User, token_id: int) -> ApiToken:
    """The caller's own token, or anyone's for an admin; otherwise as if it did not exist."""
    tokens = ApiToken.objects.select_related("user")
    if role_of(caller) != Role.ADMIN:
        tokens = tokens.filter(user=caller)
    token = tokens.filter(pk=token_id).first()
    if token is None:
        raise NotFound("No such token.", code="token_not_found")
    return token


def token_owner(*, user_id: int) -> User:
    """The user whose tokens an admin asked about."""
    user: User | None = get_user_model().objects.filter(pk=user_id).first()
    if user is None:
        raise NotFound("No such user.", code="user_not_found")
    return user
