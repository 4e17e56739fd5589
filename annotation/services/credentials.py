"""Signing in and changing a password: the account lockout, the audit of every attempt, and
the end of a user's tokens when their password changes."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest

from annotation.services.audit import record_audit_event
from annotation.services.tokens import revoke_user_tokens
from common.errors import InvalidInput, NotAllowed
from common.throttles import (
    AccountLocked,
    account_digest,
    forget_failed_sign_ins,
    reserve_sign_in_attempt,
)

# While an account is locked, its refusals are recorded once per this many seconds: enough to
# see the attack, without letting a flood of guesses fill the audit table.
LOCKED_AUDIT_WINDOW_S = 60


@dataclass(frozen=True)
class UnknownAccount:
    """The target of a failed sign-in for a username no user has."""

    name: str
    pk: None = None


def _name_tried(username: str, user: User | None) -> tuple[Any, dict[str, Any]]:
    """The target and what the event says about the name. A name no account has is often a
    password typed into the wrong box, so it is kept only as a short digest and its length:
    enough to see the same name tried again, never what was typed."""
    if user is not None:
        return user, {"username": username[:150]}
    digest = hashlib.sha256(username.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    details = {"unknown_account": True, "username_sha256_prefix": digest, "length": len(username)}
    return UnknownAccount(name=f"unknown account {digest}"), details


def _record_failure(*, username: str, client_address: str, reason: str, via: str) -> None:
    user = get_user_model().objects.filter(username=username).first()
    target, name_details = _name_tried(username, user if isinstance(user, User) else None)
    record_audit_event(
        actor=None,
        action="auth.login_failed",
        target=target,
        details={**name_details, "client_address": client_address, "reason": reason, "via": via},
    )


def _record_locked_refusal(*, username: str, client_address: str, via: str) -> None:
    """At most one event per locked account per LOCKED_AUDIT_WINDOW_S (whatever the address)."""
    if cache.add(f"audit-locked:{account_digest(username)}", 1, LOCKED_AUDIT_WINDOW_S):
        _record_failure(
            username=username, client_address=client_address, reason="account_locked", via=via
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
        # Counted before the (slow) password check, so parallel guesses cannot all pass it.
        reserve_sign_in_attempt(username)
    except AccountLocked:
        _record_locked_refusal(username=username, client_address=client_address, via=via)
        raise
    user = authenticate(request, username=username, password=password)
    if not isinstance(user, User) or not user.is_active:
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
    try:
        reserve_sign_in_attempt(user.username)
    except AccountLocked:
        _record_locked_refusal(
            username=user.username, client_address=client_address, via="password_change"
        )
        raise
    if not user.check_password(old_password):
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
    forget_failed_sign_ins(user.username)
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
