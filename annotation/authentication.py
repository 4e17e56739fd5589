"""`Authorization: Token <key>` against the app's own expiring, revocable tokens."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from annotation.services.tokens import live_token, note_token_use
from common.roles import is_paused


class ApiTokenAuthentication(TokenAuthentication):
    """Keeps DRF's header parsing and its WWW-Authenticate answer (anonymous calls get a 401)."""

    def authenticate_credentials(self, key: str) -> tuple[User, Any]:
        token = live_token(key)
        if token is None or not token.user.is_active:
            raise AuthenticationFailed("Invalid, expired or revoked token.", code="token_invalid")
        # Pausing revokes tokens too; this also covers a pause by the gold checks.
        if is_paused(token.user):
            raise AuthenticationFailed("Your account is paused; ask an admin.", code="rater_paused")
        note_token_use(token)
        return token.user, token
