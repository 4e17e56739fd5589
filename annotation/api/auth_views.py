"""Signing in and out, the CSRF cookie, passwords and API tokens (a user's own, and any
user's for admins). Sign-in calls are limited per client address and per account."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth.models import User
from django.middleware.csrf import get_token
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_protect, ensure_csrf_cookie
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import Throttled
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation.api import auth_serializers as s
from annotation.api.rater_serializers import MeSerializer
from annotation.models import ApiToken
from annotation.selectors.raters import me
from annotation.selectors.tokens import token_for_revoking, token_owner, user_tokens
from annotation.services.credentials import change_password, sign_in
from annotation.services.tokens import issue_token, revoke_token, revoke_user_tokens
from common.client_address import client_address
from common.permissions import IsAdmin, acting_user
from common.throttles import AccountLocked, SignInRateThrottle

LOCKED = OpenApiResponse(description="Too many attempts: from this address, or for this account.")


def _locked(locked: AccountLocked) -> Throttled:
    """The lockout as DRF's 429, which sets Retry-After."""
    return Throttled(wait=locked.retry_after, detail=locked.detail, code=locked.code)


def _signed_in(request: Request, data: dict[str, Any], *, via: str) -> User:
    try:
        return sign_in(
            request=request._request,
            username=data["username"],
            password=data["password"],
            client_address=client_address(request),
            via=via,
        )
    except AccountLocked as locked:
        raise _locked(locked) from locked


@method_decorator(ensure_csrf_cookie, name="dispatch")
class CsrfView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        responses={
            200: OpenApiResponse(s.CsrfOutSerializer, description="Sets the csrftoken cookie.")
        }
    )
    def get(self, request: Request) -> Response:
        return Response(s.CsrfOutSerializer({"csrf_token": get_token(request)}).data)


@method_decorator(csrf_protect, name="dispatch")
class LoginView(APIView):
    """Session login for the browser (send the csrftoken cookie's value as X-CSRFToken)."""

    permission_classes = [AllowAny]
    throttle_classes = [SignInRateThrottle]

    @extend_schema(request=s.LoginInSerializer, responses={200: MeSerializer, 429: LOCKED})
    def post(self, request: Request) -> Response:
        data = s.LoginInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = _signed_in(request, data.validated_data, via="session")
        login(request._request, user)
        return Response(MeSerializer(me(user)).data)


class LogoutView(APIView):
    """Ends the session; a call made with a token also revokes that token unless told not to."""

    @extend_schema(request=s.LogoutInSerializer, responses={204: None})
    def post(self, request: Request) -> Response:
        data = s.LogoutInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user, used = acting_user(request), request.auth
        revoke_used = data.validated_data["revoke_token"]
        if isinstance(used, ApiToken) and revoke_used is not False:
            revoke_token(token=used, actor=user, reason="logout")
        if data.validated_data["revoke_all_tokens"]:
            revoke_user_tokens(user=user, actor=user, reason="logout")
        logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TokenView(APIView):
    """A new token for scripts on every call: send it as `Authorization: Token <token>`."""

    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []
    throttle_classes = [SignInRateThrottle]

    @extend_schema(
        request=s.TokenInSerializer, responses={200: s.TokenIssuedSerializer, 429: LOCKED}
    )
    def post(self, request: Request) -> Response:
        data = s.TokenInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = _signed_in(request, data.validated_data, via="token")
        token, key = issue_token(user=user, name=data.validated_data["name"])
        issued = {
            "token": key,
            "id": token.pk,
            "name": token.name,
            "prefix": token.prefix,
            "expires_at": token.expires_at,
        }
        return Response(s.TokenIssuedSerializer(issued).data)


class MyTokensView(APIView):
    @extend_schema(responses=s.TokenRowSerializer(many=True))
    def get(self, request: Request) -> Response:
        rows = user_tokens(user=acting_user(request))
        return Response(s.TokenRowSerializer(rows, many=True).data)


class MyTokenView(APIView):
    """Revoke one token: the caller's own (admins: anyone's). Others' ids answer 404."""

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        caller = acting_user(request)
        revoke_token(
            token=token_for_revoking(caller=caller, token_id=pk), actor=caller, reason="revoked"
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordView(APIView):
    """Change your password: this session stays signed in, every token of yours is revoked."""

    throttle_classes = [SignInRateThrottle]

    @extend_schema(
        request=s.PasswordChangeInSerializer,
        responses={200: s.PasswordChangedSerializer, 429: LOCKED},
    )
    def post(self, request: Request) -> Response:
        data = s.PasswordChangeInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = acting_user(request)
        try:
            revoked = change_password(
                user=user, client_address=client_address(request), **data.validated_data
            )
        except AccountLocked as locked:
            raise _locked(locked) from locked
        update_session_auth_hash(request._request, user)
        return Response(s.PasswordChangedSerializer({"tokens_revoked": revoked}).data)


class RaterTokensView(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(responses=s.TokenRowSerializer(many=True))
    def get(self, request: Request, pk: int) -> Response:
        rows = user_tokens(user=token_owner(user_id=pk))
        return Response(s.TokenRowSerializer(rows, many=True).data)


class RaterTokensRevokeView(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(request=None, responses=s.TokensRevokedSerializer)
    def post(self, request: Request, pk: int) -> Response:
        revoked = revoke_user_tokens(
            user=token_owner(user_id=pk), actor=acting_user(request), reason="revoked_by_admin"
        )
        return Response(s.TokensRevokedSerializer({"revoked": revoked}).data)
