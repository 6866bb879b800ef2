"""Reads of users' credentials."""

from django.db.models import QuerySet

from apps.accounts.models import ApiKey, api_key_digest


def api_key_list(*, owner_id: int) -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(owner_id=owner_id)


def api_key_find(*, key: str) -> ApiKey | None:
    """The key of an active user that `key` is, with its owner; None if there is none."""
    return ApiKey.objects.select_related("owner").filter(digest=api_key_digest(key), owner__is_active=True).first()
