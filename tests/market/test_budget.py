import time as real_time
import uuid

import pytest
from django.conf import settings

from apps.market.binance.budget import RedisBudgetStore, WeightBudget


class FakeTime:
    """The clock and sleep of a budget: sleeping moves the clock, so waits are visible without waiting."""

    def __init__(self, now: float) -> None:
        self.now = now
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def _minute_start() -> float:
    return int(real_time.time()) // 60 * 60


@pytest.fixture
def store():
    return RedisBudgetStore(settings.REDIS_URL, prefix=f"test:{uuid.uuid4()}")


def _budget(store, time: FakeTime, limit: int = 100) -> WeightBudget:
    return WeightBudget(store, limit_per_minute=limit, clock=time.clock, sleep=time.sleep)


def test_two_processes_share_one_minute_budget_through_redis(store):
    time = FakeTime(now=_minute_start() + 5)
    first, second = _budget(store, time), _budget(store, time)

    first.acquire(60)
    second.acquire(60)

    assert time.now >= _minute_start() + 60, "the second reservation had to wait for the next minute"


def test_it_waits_for_the_next_minute_when_the_exchange_reports_more_weight_used(store):
    start = _minute_start()
    time = FakeTime(now=start + 1)
    budget = _budget(store, time)
    budget.observe(95)

    budget.acquire(10)

    assert start + 60 <= time.now < start + 120


def test_a_pause_after_a_429_holds_every_process(store):
    start = real_time.time()
    time = FakeTime(now=start)
    _budget(store, time).pause(30)

    _budget(store, time).acquire(1)

    assert time.now >= start + 30
