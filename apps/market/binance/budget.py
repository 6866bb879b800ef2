"""One request-weight budget per IP, shared by every process that talks to Binance's REST API.

Binance counts weight per IP in fixed clock minutes (X-MBX-USED-WEIGHT-1M) and bans IPs that keep going after a
429. Every request first reserves its weight in the current minute; when the minute is spent, the caller sleeps
until the next one. The exchange's own count, read from each response, only ever raises ours (other programs on
the same IP count too). A 429/418 sets a pause that every process honours. In production the counters live in
Redis, so any number of workers and streamers stay under one limit; on the embedded default, in process.
"""

import random
import threading
import time
from collections.abc import Callable
from typing import Protocol

from django.conf import settings

MINUTE_SECONDS = 60


class BudgetStore(Protocol):
    def add(self, minute: int, weight: int) -> int: ...
    def raise_to(self, minute: int, used: int) -> None: ...
    def pause_until(self, until: float) -> None: ...
    def paused_until(self) -> float: ...


class MemoryBudgetStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._used: dict[int, int] = {}
        self._paused_until = 0.0

    def add(self, minute: int, weight: int) -> int:
        with self._lock:
            self._used = {minute: self._used.get(minute, 0) + weight}
            return self._used[minute]

    def raise_to(self, minute: int, used: int) -> None:
        with self._lock:
            self._used = {minute: max(self._used.get(minute, 0), used)}

    def pause_until(self, until: float) -> None:
        with self._lock:
            self._paused_until = max(self._paused_until, until)

    def paused_until(self) -> float:
        return self._paused_until


_SET_IF_GREATER = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > current then redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2]) end
"""


class RedisBudgetStore:
    def __init__(self, url: str, prefix: str = "binance:weight") -> None:
        import redis

        self._redis = redis.Redis.from_url(url)
        self._prefix = prefix
        self._set_if_greater = self._redis.register_script(_SET_IF_GREATER)

    def _key(self, minute: int) -> str:
        return f"{self._prefix}:{minute}"

    def add(self, minute: int, weight: int) -> int:
        pipe = self._redis.pipeline()
        pipe.incrby(self._key(minute), weight)
        pipe.expire(self._key(minute), 2 * MINUTE_SECONDS)
        return int(pipe.execute()[0])

    def raise_to(self, minute: int, used: int) -> None:
        self._set_if_greater(keys=[self._key(minute)], args=[used, 2 * MINUTE_SECONDS])

    def pause_until(self, until: float) -> None:
        ttl = max(1, int(until - time.time()) + 1)
        self._set_if_greater(keys=[f"{self._prefix}:paused_until"], args=[until, ttl])

    def paused_until(self) -> float:
        value = self._redis.get(f"{self._prefix}:paused_until")
        return float(value) if value else 0.0


class WeightBudget:
    def __init__(
        self,
        store: BudgetStore,
        *,
        limit_per_minute: int,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.store = store
        self.limit_per_minute = limit_per_minute
        self._clock = clock
        self._sleep = sleep

    def acquire(self, weight: int) -> None:
        """Block until `weight` fits in the current minute and the exchange has not asked us to pause."""
        while True:
            now = self._clock()
            paused_until = self.store.paused_until()
            if paused_until > now:
                self._sleep(paused_until - now)
                continue
            minute = int(now // MINUTE_SECONDS)
            if self.store.add(minute, weight) <= self.limit_per_minute:
                return
            self.store.add(minute, -weight)
            # Jitter spreads the processes that all waited for the same minute over its first second.
            self._sleep((minute + 1) * MINUTE_SECONDS - now + random.uniform(0, 1))

    def observe(self, used_weight: int) -> None:
        self.store.raise_to(int(self._clock() // MINUTE_SECONDS), used_weight)

    def pause(self, seconds: float) -> None:
        self.store.pause_until(self._clock() + seconds)


_shared_budget: WeightBudget | None = None
_shared_lock = threading.Lock()


def shared_budget() -> WeightBudget:
    """The process's budget: on Redis when REDIS_URL is set (shared by every process), else in memory."""
    global _shared_budget
    with _shared_lock:
        if _shared_budget is None:
            store = RedisBudgetStore(settings.REDIS_URL) if settings.REDIS_URL else MemoryBudgetStore()
            _shared_budget = WeightBudget(store, limit_per_minute=settings.BINANCE_WEIGHT_BUDGET_PER_MINUTE)
        return _shared_budget
