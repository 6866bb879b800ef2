"""How fast the bot may send: at most TELEGRAM_MESSAGES_PER_SECOND messages in any clock second and
TELEGRAM_MESSAGES_PER_CHAT_PER_SECOND to any one chat, under Telegram's own limits (about 30 a second, 1 a second
to a chat; beyond them it answers 429).

Each sender reserves the earliest slot that keeps both limits, in one atomic step, and sleeps until it: no polling,
and senders queue in the order they asked. A 429 holds its chat for the `retry_after` Telegram asked for. In
production the slots live in Redis, so every worker and web process shares one limit; on the embedded default
(no REDIS_URL), in process.
"""

import functools
import math
import threading
import time
from collections.abc import Callable
from typing import Protocol

from django.conf import settings


class SlotStore(Protocol):
    def reserve(self, chat_id: int, now: float, chat_interval: float, per_second: int) -> float:
        """Reserve the first time at or after `now` with room in its second and at least `chat_interval` after the
        chat's previous slot; return it."""

    def hold(self, chat_id: int, now: float, until: float) -> None:
        """No slot for the chat before `until`."""


class MemorySlotStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._chat_free: dict[int, float] = {}  # chat: when its next slot may be
        self._second_counts: dict[int, int] = {}  # clock second: slots reserved in it

    def reserve(self, chat_id: int, now: float, chat_interval: float, per_second: int) -> float:
        with self._lock:
            self._forget(now)
            at = max(now, self._chat_free.get(chat_id, now))
            while self._second_counts.get(math.floor(at), 0) >= per_second:
                at = float(math.floor(at) + 1)
            self._second_counts[math.floor(at)] = self._second_counts.get(math.floor(at), 0) + 1
            self._chat_free[chat_id] = at + chat_interval
            return at

    def hold(self, chat_id: int, now: float, until: float) -> None:
        with self._lock:
            self._chat_free[chat_id] = max(until, self._chat_free.get(chat_id, until))

    def _forget(self, now: float) -> None:
        self._chat_free = {chat: free for chat, free in self._chat_free.items() if free > now}
        self._second_counts = {second: n for second, n in self._second_counts.items() if second >= math.floor(now)}


# The per-second counters' keys are derived in the script (which second has room is only known there), so this
# needs one Redis server, not a cluster. Times are Lua doubles: returned as strings, as Redis would truncate a
# number to an integer.
_RESERVE = """
local now = tonumber(ARGV[1])
local at = math.max(now, tonumber(redis.call('GET', KEYS[1]) or '0'))
local limit = tonumber(ARGV[3])
while true do
    local second = math.floor(at)
    local key = ARGV[4] .. ':' .. second
    if tonumber(redis.call('GET', key) or '0') < limit then
        redis.call('INCR', key)
        redis.call('EXPIRE', key, second - math.floor(now) + 2)
        break
    end
    at = second + 1
end
local free = at + tonumber(ARGV[2])
redis.call('SET', KEYS[1], tostring(free), 'PX', math.ceil((free - now) * 1000) + 1000)
return tostring(at)
"""
_HOLD = """
local held_until = tonumber(ARGV[1])
if held_until > tonumber(redis.call('GET', KEYS[1]) or '0') then
    redis.call('SET', KEYS[1], ARGV[1], 'PX', math.ceil((held_until - tonumber(ARGV[2])) * 1000) + 1000)
end
"""


class RedisSlotStore:
    def __init__(self, url: str, prefix: str = "telegram:rate") -> None:
        import redis

        self._redis = redis.Redis.from_url(url)
        self._prefix = prefix
        self._reserve = self._redis.register_script(_RESERVE)
        self._hold = self._redis.register_script(_HOLD)

    def reserve(self, chat_id: int, now: float, chat_interval: float, per_second: int) -> float:
        keys = [f"{self._prefix}:chat:{chat_id}"]
        return float(self._reserve(keys=keys, args=[now, chat_interval, per_second, f"{self._prefix}:second"]))

    def hold(self, chat_id: int, now: float, until: float) -> None:
        self._hold(keys=[f"{self._prefix}:chat:{chat_id}"], args=[until, now])


class SendLimiter:
    def __init__(
        self,
        store: SlotStore,
        *,
        per_second: int,
        per_chat_per_second: float,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.store = store
        self.per_second = per_second
        self.chat_interval = 1 / per_chat_per_second
        self._clock = clock
        self._sleep = sleep

    def wait(self, chat_id: int) -> None:
        """Block until a message to `chat_id` may go."""
        now = self._clock()
        at = self.store.reserve(chat_id, now, self.chat_interval, self.per_second)
        if at > now:
            self._sleep(at - now)

    def hold(self, chat_id: int, seconds: float) -> None:
        now = self._clock()
        self.store.hold(chat_id, now, now + seconds)


@functools.cache
def _store(redis_url: str) -> SlotStore:
    return RedisSlotStore(redis_url) if redis_url else MemorySlotStore()


def shared_limiter() -> SendLimiter:
    """The limiter every sender of this deployment shares: on Redis when REDIS_URL is set, else in process."""
    return SendLimiter(
        _store(settings.REDIS_URL),
        per_second=settings.TELEGRAM_MESSAGES_PER_SECOND,
        per_chat_per_second=settings.TELEGRAM_MESSAGES_PER_CHAT_PER_SECOND,
    )
