"""What every API view shares: who may read, how often, and how errors are documented."""

import functools
import math
import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle


class ReadOpenOrAuthenticated(BasePermission):
    """Market data is open to read unless API_READ_REQUIRES_AUTH; anything else needs a signed-in user (views of a
    user's own objects add their owner check)."""

    def has_permission(self, request, view) -> bool:
        if request.method in SAFE_METHODS and not settings.API_READ_REQUIRES_AUTH:
            return True
        return bool(request.user and request.user.is_authenticated)


_ERRORS = {
    "400": "The request is invalid: `fields` says which parameter and why.",
    "401": "No credentials, or wrong ones.",
    "403": "Not allowed.",
    "404": "No such object, or not yours.",
    "429": "Too many requests: wait `Retry-After` seconds.",
}
_ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["status", "code", "message", "fields"],
            "properties": {
                "status": {"type": "integer"},
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {"type": "object", "additionalProperties": True},
            },
        }
    },
}


def error_responses(result: dict, generator, request, public) -> dict:
    """drf-spectacular hook: every operation answers its 4xx in the one error format (apps.market.api.errors)."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = _ERROR_SCHEMA
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path in result["paths"].values():
        for operation in path.values():
            for status, description in _ERRORS.items():
                operation["responses"].setdefault(status, {"description": description, "content": error})
    return result


@functools.cache
def _redis():
    import redis

    return redis.Redis.from_url(settings.REDIS_URL)


def _counted(key: str, timeout: int) -> int:
    """Add one to the counter `key` and return it: on Redis in one round trip, shared by every process."""
    if not settings.REDIS_URL:  # the embedded default: one process, the in-memory cache
        cache.add(key, 0, timeout=timeout)
        return cache.incr(key)
    with _redis().pipeline() as pipe:
        count, _ = pipe.incr(key).expire(key, timeout).execute()
    return count


class _WindowRateThrottle(BaseThrottle):
    """At most `rate` requests per client in each window (a fixed-window counter in the cache, O(1) per request;
    DRF's own keeps a list of every request's time, read and written whole each time). `scope` names the rate in
    REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]."""

    scope = ""

    def __init__(self) -> None:
        rate = api_settings.DEFAULT_THROTTLE_RATES[self.scope]
        count, period = rate.split("/")
        self.limit, self.window = int(count), {"s": 1, "m": 60, "h": 3600, "d": 86400}[period[0]]
        self.retry_after = 0

    def client_key(self, request) -> str | None:
        raise NotImplementedError

    def allow_request(self, request, view) -> bool:
        client = self.client_key(request)
        if client is None:
            return True
        now = time.time()
        window_start = int(now // self.window * self.window)
        if _counted(f"throttle:{self.scope}:{client}:{window_start}", self.window + 1) <= self.limit:
            return True
        self.retry_after = max(1, math.ceil(window_start + self.window - now))
        return False

    def wait(self) -> float:
        return self.retry_after


class AnonRateThrottle(_WindowRateThrottle):
    """Anonymous clients, by address (behind API_NUM_PROXIES proxies, the client's own)."""

    scope = "anon"

    def client_key(self, request) -> str | None:
        return None if request.user.is_authenticated else self.get_ident(request)


class UserRateThrottle(_WindowRateThrottle):
    """Signed-in users, by user, wherever they come from."""

    scope = "user"

    def client_key(self, request) -> str | None:
        return str(request.user.pk) if request.user.is_authenticated else None
