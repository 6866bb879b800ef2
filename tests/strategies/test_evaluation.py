"""When strategies are evaluated, and what comes of it: each signal stored and announced once."""

import time

import pytest

from apps.indicators.services import snapshots_compute
from apps.market.intervals import datetime_from_ms
from apps.market.klines import klines_parse
from apps.market.services.candles import candles_upsert
from apps.strategies.events import signals_created
from apps.strategies.models import Signal
from config.celery import app
from tasks.strategies import evaluate as evaluate_task
from tests.conftest import eth_minutes_up_to_the_hour
from tests.market.factories import SymbolFactory
from tests.strategies.factories import CANDLE, FOUR_HOURS, StrategyFactory, evaluate, fired_for, snapshot

pytestmark = [pytest.mark.django_db, pytest.mark.timescaledb]

HOUR_MS = 3_600_000
OVERSOLD = {"rsi_14": 20.0}


@pytest.fixture
def btc():
    return SymbolFactory(symbol="BTCUSDT")


@pytest.fixture
def announced():
    """The ids each `signals_created` carried."""
    calls: list[list[int]] = []

    def receiver(sender, *, signal_ids, **kwargs):
        calls.append(signal_ids)

    signals_created.connect(receiver, dispatch_uid="test.announced")
    yield calls
    signals_created.disconnect(dispatch_uid="test.announced")


def test_evaluating_the_same_candle_again_stores_no_second_signal(btc):
    strategy = StrategyFactory()
    snapshot(btc, OVERSOLD)

    first, again = evaluate(btc), evaluate(btc)

    assert len(first) == 1
    assert again == []
    assert Signal.objects.filter(strategy=strategy).count() == 1


def test_the_next_candle_gets_its_own_signal(btc):
    strategy = StrategyFactory()
    snapshot(btc, OVERSOLD)
    evaluate(btc)

    snapshot(btc, OVERSOLD, open_time=CANDLE + FOUR_HOURS)
    evaluate(btc)

    assert list(Signal.objects.filter(strategy=strategy).values_list("open_time", flat=True).order_by("open_time")) == [
        CANDLE, CANDLE + FOUR_HOURS,
    ]  # fmt: skip


def test_a_forming_candle_that_fired_does_not_fire_again_when_it_closes(btc):
    strategy = StrategyFactory()
    snapshot(btc, OVERSOLD, candle_closed=False)
    evaluate(btc)

    snapshot(btc, OVERSOLD, candle_closed=True)

    assert evaluate(btc) == []
    assert Signal.objects.get(strategy=strategy).candle_closed is False


def test_inactive_strategies_are_not_evaluated(btc):
    strategy = StrategyFactory(is_active=False)
    snapshot(btc, OVERSOLD)

    evaluate(btc)

    assert fired_for(strategy) == []


def test_only_the_timeframes_updated_are_evaluated(btc):
    four_hours, one_day = StrategyFactory(), StrategyFactory(timeframe="1d")
    snapshot(btc, OVERSOLD)
    snapshot(btc, OVERSOLD, timeframe="1d", open_time=CANDLE.replace(hour=0))

    evaluate(btc, timeframes=("4h",))

    assert (fired_for(four_hours), fired_for(one_day)) == (["BTCUSDT"], [])


def test_only_the_symbols_updated_are_evaluated(btc):
    strategy = StrategyFactory()
    eth = SymbolFactory(symbol="ETHUSDT")
    snapshot(btc, OVERSOLD)
    snapshot(eth, OVERSOLD)

    evaluate(eth)

    assert fired_for(strategy) == ["ETHUSDT"]


def test_new_signals_are_announced_once_committed_with_their_ids(btc, announced, django_capture_on_commit_callbacks):
    StrategyFactory()
    snapshot(btc, OVERSOLD)

    with django_capture_on_commit_callbacks() as pending:
        created = evaluate(btc)
        assert announced == []
    for callback in pending:
        callback()

    assert announced == [created]


def test_an_evaluation_that_finds_nothing_new_announces_nothing(btc, announced, django_capture_on_commit_callbacks):
    StrategyFactory()
    snapshot(btc, OVERSOLD)
    evaluate(btc)

    with django_capture_on_commit_callbacks(execute=True):
        evaluate(btc)

    assert announced == []


def test_computed_snapshots_are_evaluated_through_the_strategies_task(django_capture_on_commit_callbacks):
    eth = SymbolFactory(symbol="ETHUSDT")
    candles_upsert(rows=klines_parse(symbol_id=eth.id, raw_rows=eth_minutes_up_to_the_hour(), source="test").rows)
    strategy = StrategyFactory(timeframe="1h", conditions={"kind": "threshold", "field": "rsi_14", "op": "gte",
                                                           "value": 0})  # fmt: skip
    end_ms = (int(time.time() * 1000) // HOUR_MS) * HOUR_MS

    with django_capture_on_commit_callbacks(execute=True):
        snapshots_compute(symbol_ids=[eth.id], timeframe="1h", end_ms=end_ms)

    [signal] = Signal.objects.filter(strategy=strategy)
    assert (signal.symbol, signal.open_time, signal.candle_closed) == (eth, datetime_from_ms(end_ms - HOUR_MS), True)
    assert 0 <= signal.values["rsi_14"] <= 100


def test_the_task_goes_to_the_strategies_queue():
    assert app.amqp.router.route({}, evaluate_task.name)["queue"].name == "strategies"
