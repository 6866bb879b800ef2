"""The send limiter: at most so many messages in a second overall and to one chat, shared by every process through
Redis. Its clock is fake: what the tests read is how long each sender was made to wait."""

import uuid

import pytest
from django.conf import settings as django_settings

from apps.telegram.ratelimit import MemorySlotStore, RedisSlotStore, SendLimiter, shared_limiter
from tests.telegram.clock import FakeClock


def redis_store() -> RedisSlotStore:
    return RedisSlotStore(django_settings.REDIS_URL, prefix=f"test:{uuid.uuid4()}")


@pytest.fixture(params=["redis", "memory"])
def store(request):
    return redis_store() if request.param == "redis" else MemorySlotStore()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(now=1_000_000.25)


def limiter(store, clock: FakeClock, *, per_second: int = 30, per_chat_per_second: float = 1.0) -> SendLimiter:
    return SendLimiter(
        store, per_second=per_second, per_chat_per_second=per_chat_per_second, clock=clock, sleep=clock.sleep
    )


def test_messages_to_one_chat_go_one_a_second(store, clock):
    sender = limiter(store, clock)

    for _ in range(3):
        sender.wait(1)

    assert clock.slept == [1.0, 1.0]


def test_messages_to_different_chats_do_not_wait_for_each_other(store, clock):
    sender = limiter(store, clock)

    for chat in range(10):
        sender.wait(chat)

    assert clock.slept == []


def test_beyond_the_overall_limit_a_message_waits_for_the_next_second(store, clock):
    sender = limiter(store, clock, per_second=30)

    for chat in range(31):
        sender.wait(chat)

    assert clock.slept == [0.75], "the 31st waits from 1_000_000.25 to the next second"


def test_a_held_chat_waits_until_the_hold_ends(store, clock):
    sender = limiter(store, clock)

    sender.hold(1, 17)
    sender.wait(1)
    sender.wait(2)

    assert clock.slept == [17.0]


def test_a_message_keeps_both_limits_at_once(store, clock):
    sender = limiter(store, clock, per_second=2)
    sender.wait(1)
    sender.wait(2)  # this second is full

    sender.wait(3)  # the start of the next second
    sender.wait(1)  # a second after its last: the other place of that second
    sender.wait(4)  # the second after

    assert clock.slept == [0.75, 0.25, 0.75]


def test_every_process_shares_one_limit_through_redis(clock):
    prefix = f"test:{uuid.uuid4()}"
    one, other = (limiter(RedisSlotStore(django_settings.REDIS_URL, prefix=prefix), clock) for _ in range(2))

    one.wait(1)
    other.wait(1)

    assert clock.slept == [1.0]


def test_the_embedded_default_keeps_the_slots_in_process(settings):
    settings.REDIS_URL = ""

    assert isinstance(shared_limiter().store, MemorySlotStore)


def test_with_redis_the_slots_are_shared(settings):
    assert isinstance(shared_limiter().store, RedisSlotStore)
