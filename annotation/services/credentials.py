"""Signing in and changing a password: the account lockout, the audit of every attempt, and
the end of a user's tokens when their password changes."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest

from annotation.services.audit import record_audit_event
from annotation.services.tokens import revoke_user_tokens
from common.errors import InvalidInput, NotAllowed
from common.throttles import (
    AccountLocked,
    count_failed_sign_in,
    ensure_not_locked,
    forget_failed_sign_ins,
)


@dataclass(frozen=True)
class UnknownAccount:
    """The target of a failed sign-in for a username no user has."""

    username: str
    pk: None = None


def _record_failure(*, username: str, client_address: str, reason: str, via: str) -> None:
    user = get_user_model().objects.filter(username=username).first()
    record_audit_event(
        actor=None,
        action="auth.login_failed",
        target=user or UnknownAccount(username=username[:150]),
        details={
            "username": username[:150],
            "client_address": client_address,
            "reason": reason,
            "via": via,
        },
    )


def sign_in(
    *,
    request: HttpRequest | None,
    username: str,
    password: str,
    client_address: str,
    via: str,
) -> User:
    """The user these credentials name, audited either way. A locked account is refused
    whatever the password, and a wrong password counts toward its lockout, whether or not
    the account exists, so neither answer tells an attacker which usernames are real."""
    try:
        ensure_not_locked(username)
    except AccountLocked:
        _record_failure(
            username=username, client_address=client_address, reason="account_locked", via=via
        )
        raise
    user = authenticate(request, username=username, password=password)
    if not isinstance(user, User) or not user.is_active:
        count_failed_sign_in(username)
        _record_failure(
            username=username, client_address=client_address, reason="bad_credentials", via=via
        )
        raise NotAllowed("Wrong username or password.", code="bad_credentials")
    forget_failed_sign_ins(username)
    record_audit_event(
        actor=user,
        action="auth.login",
        target=user,
        details={"client_address": client_address, "via": via},
    )
    return user


def _checked_new_password(user: User, password: str) -> None:
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise InvalidInput(
            "The new password is not accepted.",
            code="password_rejected",
            errors={"new_password": list(error.messages)},
        ) from error


def change_password(
    *, user: User, old_password: str, new_password: str, client_address: str
) -> int:
    """Set a new password after checking the old one (a wrong one counts toward the lockout)
    and revoke every token of the user; returns how many were revoked. Audited."""
    ensure_not_locked(user.username)
    if not user.check_password(old_password):
        count_failed_sign_in(user.username)
        _record_failure(
            username=user.username,
            client_address=client_address,
            reason="wrong_old_password",
            via="password_change",
        )
        raise InvalidInput(
            "The current password is wrong.",
            code="wrong_password",
            errors={"old_password": ["The current password is wrong."]},
        )
    _checked_new_password(user, new_password)
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        revoked = revoke_user_tokens(user=user, actor=user, reason="password_change")
        record_audit_event(
            actor=user,
            action="auth.password_change",
            target=user,
            details={"client_address": client_address, "tokens_revoked": revoked},
        )
    return revoked
