"""Writes of users' credentials: API keys and the legacy `Token`."""

import secrets

from django.contrib.auth.models import AbstractBaseUser
from rest_framework.authtoken.models import Token

from apps.accounts.models import ApiKey, api_key_digest


def api_key_create(*, owner: AbstractBaseUser, name: str, scope: str = ApiKey.Scope.READ) -> tuple[ApiKey, str]:
    """A new key of `owner`'s, and the key itself: the one time it is known (only its digest is stored)."""
    key = secrets.token_urlsafe(30)
    api_key = ApiKey.objects.create(owner=owner, name=name, scope=scope, prefix=key[:8], digest=api_key_digest(key))
    return api_key, key


def api_key_revoke(*, api_key: ApiKey) -> None:
    api_key.delete()


def auth_token_revoke(*, user: AbstractBaseUser) -> bool:
    """Revoke the user's legacy `Token` (`POST /api/v1/auth/token/`); whether they had one."""
    deleted, _ = Token.objects.filter(user=user).delete()
    return bool(deleted)
