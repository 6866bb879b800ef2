"""How much of the webhook workers one destination (a URL's host and port) may take, so that a user's webhook that
hangs or fails holds up nobody else's: at most ALERTS_WEBHOOK_CONCURRENCY_PER_DESTINATION sends to it at once, and
after ALERTS_WEBHOOK_BREAKER_FAILURES failures in a row (no answer, or a 5xx) it is paused for
ALERTS_WEBHOOK_BREAKER_SECONDS: its deliveries wait without trying, then the next one tries again (one more failure
pauses it again). The counts live in the cache, which is Redis (shared by every worker) wherever workers run."""

import hashlib
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache

from apps.alerts.destinations import DEFAULT_PORTS

# A slot outlives any send (httpx's timeout applies to connecting, writing and reading each), so that a worker that
# died mid-send frees its slot in the end.
SLOT_SENDS = 4
FAILURES_KEPT_SECONDS = 3600


def _key(kind: str, url: str) -> str:
    parts = urlsplit(url)
    destination = f"{parts.hostname}:{parts.port or DEFAULT_PORTS.get(parts.scheme)}"
    return f"alerts:webhook:{kind}:{hashlib.sha256(destination.encode()).hexdigest()[:32]}"


@contextmanager
def destination_slot(url: str) -> Iterator[bool]:
    """Whether a send to the URL's destination may start now; the slot is held until the block ends."""
    token = uuid.uuid4().hex
    ttl = int(SLOT_SENDS * settings.ALERTS_WEBHOOK_TIMEOUT_SECONDS) + 10
    slots = [f"{_key('slot', url)}:{index}" for index in range(settings.ALERTS_WEBHOOK_CONCURRENCY_PER_DESTINATION)]
    held = next((slot for slot in slots if cache.add(slot, token, ttl)), None)
    try:
        yield held is not None
    finally:
        if held is not None and cache.get(held) == token:
            cache.delete(held)


def destination_paused_seconds(url: str) -> float:
    """How much longer the URL's destination is paused (0: it is not)."""
    until = cache.get(_key("paused", url))
    return max(0.0, until - time.time()) if until else 0.0


def destination_failed(url: str) -> None:
    failures_key = _key("failures", url)
    cache.add(failures_key, 0, FAILURES_KEPT_SECONDS)
    try:
        failures = cache.incr(failures_key)
    except ValueError:  # expired in between
        return
    if failures >= settings.ALERTS_WEBHOOK_BREAKER_FAILURES:
        pause = settings.ALERTS_WEBHOOK_BREAKER_SECONDS
        cache.set(_key("paused", url), time.time() + pause, pause)


def destination_answered(url: str) -> None:
    cache.delete(_key("failures", url))
