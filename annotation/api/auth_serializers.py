"""Request and response shapes of signing in and out, passwords and API tokens."""

from __future__ import annotations

from rest_framework import serializers


def _encodable(value: str) -> None:
    # A lone surrogate cannot reach the password hasher or the database as UTF-8.
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        raise serializers.ValidationError("Not valid text.", code="invalid_text") from error


class LoginInSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150, validators=[_encodable])
    password = serializers.CharField(
        max_length=200,
        trim_whitespace=False,
        style={"input_type": "password"},
        validators=[_encodable],
    )


class TokenInSerializer(LoginInSerializer):
    name = serializers.CharField(
        max_length=100, required=False, default="", allow_blank=True, validators=[_encodable]
    )


class TokenIssuedSerializer(serializers.Serializer):
    """The key is shown here once; only a digest of it is kept."""

    token = serializers.CharField(help_text="Send as `Authorization: Token <token>`.")
    id = serializers.IntegerField()
    name = serializers.CharField()
    prefix = serializers.CharField()
    expires_at = serializers.DateTimeField()


class TokenRowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    prefix = serializers.CharField()
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(allow_null=True)
    revoked_at = serializers.DateTimeField(allow_null=True)
    revoked_reason = serializers.CharField()
    is_live = serializers.BooleanField()


class TokensRevokedSerializer(serializers.Serializer):
    revoked = serializers.IntegerField(help_text="How many live tokens this call ended.")


class LogoutInSerializer(serializers.Serializer):
    revoke_token = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Revoke the token this call is made with (the default for token calls).",
    )
    revoke_all_tokens = serializers.BooleanField(
        required=False, default=False, help_text="Revoke every token of the caller."
    )


class PasswordChangeInSerializer(serializers.Serializer):
    old_password = serializers.CharField(
        max_length=200,
        trim_whitespace=False,
        style={"input_type": "password"},
        validators=[_encodable],
    )
    new_password = serializers.CharField(
        max_length=200,
        trim_whitespace=False,
        style={"input_type": "password"},
        validators=[_encodable],
    )


class PasswordChangedSerializer(serializers.Serializer):
    tokens_revoked = serializers.IntegerField()


class CsrfOutSerializer(serializers.Serializer):
    csrf_token = serializers.CharField()
