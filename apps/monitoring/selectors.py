"""Reads for /health and /metrics: each health check, and what other processes (streamers, Celery workers) publish
through the cache or the broker."""

import asyncio
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from urllib.parse import urlparse

import redis
from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Max

from apps.indicators.models import Snapshot
from apps.market.services.streamer import SHARD_COUNT_KEY, STATUS_KEY, Shard
from apps.monitoring.services import TASK_RUNS_KEY, Outcome
from config.celery import app
from config.queues import Queue

logger = logging.getLogger(__name__)


class Status(StrEnum):
    OK = "ok"
    NOT_CONFIGURED = "not configured"
    FAILING = "failing"
    STALE = "stale"
    NONE_YET = "none yet"


@dataclass(frozen=True)
class Check:
    status: Status
    detail: str
    age_seconds: float | None = None

    @property
    def healthy(self) -> bool:
        return self.status in (Status.OK, Status.NOT_CONFIGURED)


async def health_checks() -> dict[str, Check]:
    """Every check at once, each in its own thread and given up on after HEALTH_CHECK_TIMEOUT_SECONDS, so that
    one service that hangs neither delays the answer nor holds up the thread that serves sync views."""
    checks = {
        "database": database_check,
        "redis": redis_check,
        "broker": broker_check,
        "streamer": streamer_check,
        "snapshots": snapshots_check,
    }
    results = await asyncio.gather(*(_bounded(check) for check in checks.values()))
    return dict(zip(checks, results, strict=True))


async def _bounded(check: Callable[[], Check]) -> Check:
    timeout = settings.HEALTH_CHECK_TIMEOUT_SECONDS
    try:
        return await asyncio.wait_for(sync_to_async(check, thread_sensitive=False)(), timeout)
    except TimeoutError:
        return Check(Status.FAILING, f"no answer within {timeout:g} s")
    except Exception as error:
        # The endpoint has no authentication: the message (hosts, users) goes to the log only.
        logger.warning("health check %s failed: %r", check.__name__, error)
        return Check(Status.FAILING, f"{error.__class__.__name__} (details in the log)")


def database_check() -> Check:
    with _own_connection(), connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return Check(Status.OK, "SELECT 1 answered")


def redis_check() -> Check:
    if not settings.REDIS_URL:
        return Check(Status.NOT_CONFIGURED, "no REDIS_URL: cache and channel layer are in-process")
    with _redis(settings.REDIS_URL) as client:
        client.ping()
    return Check(Status.OK, "PING answered")


def broker_check() -> Check:
    if app.conf.task_always_eager:
        return Check(Status.NOT_CONFIGURED, "tasks run in-process: no broker")
    timeout = settings.HEALTH_CHECK_TIMEOUT_SECONDS
    # The Redis transport takes its socket timeouts from the transport options; without them it waits for the OS.
    options = {"socket_connect_timeout": timeout, "socket_timeout": timeout}
    with app.connection_for_write(transport_options=options) as broker:
        broker.ensure_connection(max_retries=0)
    return Check(Status.OK, "connected")


def streamer_check() -> Check:
    statuses = streamer_statuses()
    if not statuses:
        return Check(Status.NONE_YET, "no streamer has reported yet")
    silent = [shard for shard, status in statuses.items() if status is None or status["heartbeat"] is None]
    if silent:
        return Check(Status.NONE_YET, f"no message from Binance yet on shard {', '.join(silent)}")
    # Each shard streams its own symbols: the one that heard from Binance longest ago speaks for the streamer.
    shard, heartbeat = min(((shard, status["heartbeat"]) for shard, status in statuses.items()), key=lambda s: s[1])
    heard = _aged(time.time() - heartbeat, settings.HEALTH_STREAMER_MAX_AGE_SECONDS, f"shard {shard}: last message")
    if not heard.healthy:
        return heard
    # Messages arriving are not enough: the shard whose stored candles lag furthest behind the exchange's clock
    # speaks for them.
    shard, lag = max(((shard, _candle_lag_seconds(status)) for shard, status in statuses.items()), key=lambda s: s[1])
    limit = settings.HEALTH_STREAMER_MAX_CANDLE_LAG_SECONDS
    if lag > limit:
        detail = f"shard {shard}: newest stored closed candle {lag:.1f} s behind the exchange's clock (max {limit:g} s)"
        return Check(Status.STALE, detail, age_seconds=round(lag, 3))
    return heard


def _candle_lag_seconds(status: dict) -> float:
    """How far the shard's newest stored closed candle lags the exchange's newest event time (0 until both known)."""
    exchange_ms, stored_through_ms = status.get("exchange_ms"), status.get("stored_through_ms")
    if exchange_ms is None or stored_through_ms is None:
        return 0.0
    return max(0.0, (exchange_ms - stored_through_ms) / 1000)


def snapshots_check() -> Check:
    with _own_connection():
        newest = Snapshot.objects.aggregate(newest=Max("computed_at"))["newest"]
    if newest is None:
        return Check(Status.NONE_YET, "no indicator snapshot has been computed yet")
    age = time.time() - newest.timestamp()
    return _aged(age, settings.HEALTH_SNAPSHOT_MAX_AGE_SECONDS, "newest indicator snapshot computed")


def _aged(age: float, max_age: float, what: str) -> Check:
    status = Status.OK if age <= max_age else Status.STALE
    return Check(status, f"{what} {age:.1f} s ago (max {max_age:g} s)", age_seconds=round(age, 3))


@contextmanager
def _own_connection() -> Iterator[None]:
    """Checks run in pool threads, outside any request: a connection left open there would never be closed, and a
    broken one would be used again by the next check."""
    try:
        yield
    finally:
        connection.close()


def _redis(url: str) -> redis.Redis:
    timeout = settings.HEALTH_CHECK_TIMEOUT_SECONDS
    return redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)


def streamer_statuses() -> dict[str, dict | None]:
    """Each streamer shard's last published status (None for a shard that has not published one), by shard."""
    count = cache.get(SHARD_COUNT_KEY)
    if count is None:
        return {}
    keys = {STATUS_KEY.format(shard=Shard(index, count)): str(Shard(index, count)) for index in range(count)}
    found = cache.get_many(list(keys))
    return {shard: found.get(key) for key, shard in keys.items()}


def task_runs() -> dict[tuple[str, Outcome], int]:
    """Finished runs of each task, counted by every worker, by (task name, outcome)."""
    keys = {TASK_RUNS_KEY.format(task=name, outcome=outcome): (name, outcome)
            for name in _task_names() for outcome in Outcome}  # fmt: skip
    return {keys[key]: runs for key, runs in cache.get_many(list(keys)).items()}


@lru_cache
def _task_names() -> tuple[str, ...]:
    # A worker imports the task modules (CELERY_IMPORTS) at start; a web process must do it itself to know every
    # task. Not through import_default_modules: its Django fixup runs the system checks each time.
    for module in app.loader.default_modules:
        app.loader.import_task_module(module)
    return tuple(sorted(name for name in app.tasks if not name.startswith("celery.")))


def queue_lengths() -> dict[str, int] | None:
    """Messages waiting in each Celery queue; None when the broker is not Redis (the embedded default's memory)."""
    url = app.conf.broker_url
    if urlparse(url).scheme not in ("redis", "rediss"):
        return None
    # Kombu's Redis transport keeps each queue as a list under the queue's name (priorities, unused here, would
    # add sub-lists).
    with _redis(url) as client, client.pipeline(transaction=False) as pipeline:
        for queue in Queue:
            pipeline.llen(queue.value)
        return dict(zip((queue.value for queue in Queue), pipeline.execute(), strict=True))
