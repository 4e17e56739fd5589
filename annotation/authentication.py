"""`Authorization: Token <key>` against the app's own expiring, revocable tokens."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from annotation.models import ApiToken
from annotation.services.tokens import key_digest, live_token, note_token_use
from common.roles import is_paused


class TokenRefused(AuthenticationFailed):
    """A refused token, with what the audit of the refusal may name: the token's prefix when
    the key is one of ours (revoked, expired or paused), and its owner when the token is still
    theirs to use (a pause) — never the key itself."""

    def __init__(
        self, detail: str, *, code: str, token: ApiToken | None, user: User | None = None
    ) -> None:
        super().__init__(detail, code=code)
        self.token = token
        self.user = user


class ApiTokenAuthentication(TokenAuthentication):
    """Keeps DRF's header parsing and its WWW-Authenticate answer (anonymous calls get a 401)."""

    def authenticate_credentials(self, key: str) -> tuple[User, Any]:
        token = live_token(key)
        if token is None or not token.user.is_active:
            # Only on refusal: which of our tokens it was, if any, for the audit log.
            known = token or ApiToken.objects.filter(key_digest=key_digest(key)).first()
            raise TokenRefused(
                "Invalid, expired or revoked token.", code="token_invalid", token=known
            )
        # Pausing revokes tokens too; this also covers a pause by the gold checks.
        if is_paused(token.user):
            raise TokenRefused(
                "Your account is paused; ask an admin.",
                code="rater_paused",
                token=token,
                user=token.user,
            )
        note_token_use(token)
        return token.user, token
