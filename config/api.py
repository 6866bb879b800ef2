"""What every API view shares: who may read, how often, how bodies are read and how errors are documented."""

import asyncio
import functools
import math
import time
import weakref
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.utils.http import parse_header_parameters
from rest_framework import parsers
from rest_framework.exceptions import ParseError
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


class JSONParser(parsers.JSONParser):
    """DRF's, with JSON nested deeper than Python's recursion limit refused like any other unreadable body."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deep") from None


class MultiPartParser(parsers.MultiPartParser):
    """DRF's, saying what is missing when the Content-Type names no boundary (Django's words would be "Invalid
    boundary in multipart: None")."""

    def parse(self, stream, media_type=None, parser_context=None):
        if not parse_header_parameters(media_type or "")[1].get("boundary"):
            raise ParseError("Multipart form parse error - no boundary: send Content-Type: multipart/form-data; "
                             "boundary=...")  # fmt: skip
        return super().parse(stream, media_type, parser_context)


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


_async_clients: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _async_redis():
    """A client per event loop: an asyncio connection belongs to the loop that opened it."""
    import redis.asyncio

    loop = asyncio.get_running_loop()
    if loop not in _async_clients:
        _async_clients[loop] = redis.asyncio.Redis.from_url(settings.REDIS_URL)
    return _async_clients[loop]


@dataclass(frozen=True)
class _Window:
    """The current window of a client's allowance: a counter in the cache, shared by every process."""

    key: str
    seconds: int
    limit: int
    retry_after: int

    @classmethod
    def of(cls, scope: str, client: str) -> "_Window":
        count, period = api_settings.DEFAULT_THROTTLE_RATES[scope].split("/")
        seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400}[period[0]]
        now = time.time()
        start = int(now // seconds * seconds)
        return cls(f"throttle:{scope}:{client}:{start}", seconds, int(count), max(1, math.ceil(start + seconds - now)))


def throttle_retry_after(scope: str, client: str) -> int | None:
    """Count a request of `client` against its `scope` rate: None if allowed, else the seconds until it is."""
    window = _Window.of(scope, client)
    if not settings.REDIS_URL:  # the embedded default: one process, the in-memory cache
        cache.add(window.key, 0, timeout=window.seconds + 1)
        count = cache.incr(window.key)
    else:
        # One round trip without MULTI/EXEC: a window key only ever grows and expires, so nothing needs isolating.
        with _redis().pipeline(transaction=False) as pipe:
            count, _ = pipe.incr(window.key).expire(window.key, window.seconds + 1).execute()
    return None if count <= window.limit else window.retry_after


async def throttle_retry_after_async(scope: str, client: str) -> int | None:
    """The same, for code on the event loop: one awaited Redis round trip."""
    if not settings.REDIS_URL:
        return throttle_retry_after(scope, client)
    window = _Window.of(scope, client)
    async with _async_redis().pipeline(transaction=False) as pipe:
        count, _ = await pipe.incr(window.key).expire(window.key, window.seconds + 1).execute()
    return None if count <= window.limit else window.retry_after


class _WindowRateThrottle(BaseThrottle):
    """At most the `scope` rate (REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]) per client in each window: a
    fixed-window counter, O(1) per request (DRF's own keeps a list of every request's time, read and written whole
    each time)."""

    scope = ""
    retry_after = 0

    def client_key(self, request) -> str | None:
        raise NotImplementedError

    def allow_request(self, request, view) -> bool:
        client = self.client_key(request)
        if client is None:
            return True
        self.retry_after = throttle_retry_after(self.scope, client) or 0
        return not self.retry_after

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
