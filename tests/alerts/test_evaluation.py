"""Which rules a ticker, a snapshot or a strategy's signal fires, through the index, on the real database."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.alerts.models import AlertRule
from apps.alerts.services import alert_snapshots_evaluate
from apps.indicators.models import Snapshot
from apps.market.klines import klines_parse
from apps.market.services.candles import candles_upsert
from tests.alerts.conftest import START_MS, tick, wait
from tests.alerts.factories import AlertRuleFactory, UserFactory
from tests.market.factories import SymbolFactory

pytestmark = [pytest.mark.django_db, pytest.mark.timescaledb]

Kind = AlertRule.Kind


@pytest.fixture
def btc():
    return SymbolFactory(symbol="BTCUSDT")


@pytest.fixture
def eth():
    return SymbolFactory(symbol="ETHUSDT")


def fired(events) -> list[tuple[int, str]]:
    return [(event.rule_id, event.symbol.symbol) for event in events]


def test_a_price_rising_through_the_value_fires_price_above(btc):
    rule = AlertRuleFactory(symbol=btc, kind=Kind.PRICE_ABOVE, value=100)
    tick(BTCUSDT=99)

    events = tick(BTCUSDT=101)

    assert fired(events) == [(rule.id, "BTCUSDT")]
    assert events[0].values == {"price": 101.0, "previous_price": 99.0}
    assert events[0].message == "BTCUSDT: price rises to or above 100 (now 101)"


def test_reaching_the_value_exactly_counts_as_crossing_it(btc):
    above = AlertRuleFactory(symbol=btc, kind=Kind.PRICE_ABOVE, value="100.01")
    below = AlertRuleFactory(symbol=btc, kind=Kind.PRICE_BELOW, value="99.99")
    tick(BTCUSDT="99.99000001")

    assert fired(tick(BTCUSDT="100.01000000")) == [(above.id, "BTCUSDT")]
    assert fired(tick(BTCUSDT="99.99")) == [(below.id, "BTCUSDT")]


def test_a_price_already_above_the_value_or_falling_does_not_fire_price_above(btc):
    AlertRuleFactory(symbol=btc, kind=Kind.PRICE_ABOVE, value=100)
    tick(BTCUSDT=101)

    assert tick(BTCUSDT=105) == []
    assert tick(BTCUSDT=99) == []


def test_the_first_ticker_a_process_sees_only_sets_where_the_price_starts(btc):
    AlertRuleFactory(symbol=btc, kind=Kind.PRICE_ABOVE, value=100)

    assert tick(BTCUSDT=150) == []


def test_a_price_falling_through_the_value_fires_price_below(btc):
    rule = AlertRuleFactory(symbol=btc, kind=Kind.PRICE_BELOW, value=100)
    tick(BTCUSDT=101)

    assert tick(BTCUSDT=100.5) == []
    assert fired(tick(BTCUSDT=95)) == [(rule.id, "BTCUSDT")]


def test_price_crosses_fires_both_ways(btc):
    rule = AlertRuleFactory(symbol=btc, kind=Kind.PRICE_CROSSES, value=100)
    tick(BTCUSDT=99)

    assert fired(tick(BTCUSDT=101)) == [(rule.id, "BTCUSDT")]
    assert fired(tick(BTCUSDT=98)) == [(rule.id, "BTCUSDT")]


def test_one_jump_fires_every_value_it_passes_and_no_other(btc):
    passed = [AlertRuleFactory(symbol=btc, value=value) for value in (101, 110, 120)]
    AlertRuleFactory(symbol=btc, value=121)
    AlertRuleFactory(symbol=btc, value=100)
    tick(BTCUSDT=100)

    assert sorted(rule_id for rule_id, _ in fired(tick(BTCUSDT=120))) == [rule.id for rule in passed]


def test_a_rule_on_another_symbol_is_not_fired(btc, eth):
    AlertRuleFactory(symbol=eth, value=100)
    tick(BTCUSDT=99, ETHUSDT=50)

    assert tick(BTCUSDT=101, ETHUSDT=51) == []


def test_a_watchlist_rule_fires_for_the_symbols_of_the_list_only(btc, eth):
    from apps.alerts.models import Watchlist

    owner = UserFactory()
    majors = Watchlist.objects.create(owner=owner, name="majors")
    majors.symbols.set([eth])
    rule = AlertRuleFactory(owner=owner, target=AlertRule.Target.WATCHLIST, symbol=None, watchlist=majors, value=100)
    tick(BTCUSDT=99, ETHUSDT=99)

    assert fired(tick(BTCUSDT=101, ETHUSDT=101)) == [(rule.id, "ETHUSDT")]


def test_a_rule_on_all_symbols_fires_for_each_symbol_that_crossed(btc, eth):
    SymbolFactory(symbol="SOLUSDT")
    rule = AlertRuleFactory(target=AlertRule.Target.ALL, symbol=None, value=100)
    tick(BTCUSDT=99, ETHUSDT=99, SOLUSDT=99)

    assert sorted(fired(tick(BTCUSDT=101, ETHUSDT=100, SOLUSDT=99.5))) == [(rule.id, "BTCUSDT"), (rule.id, "ETHUSDT")]


def _candle(symbol, open_ms: int, close: str) -> None:
    row = [open_ms, close, close, close, close, "1", open_ms + 59_999, "1", 1, "0", "0", "0"]
    candles_upsert(rows=klines_parse(symbol_id=symbol.id, raw_rows=[row], source="test").rows)


def test_a_percent_change_fires_when_the_change_over_its_window_reaches_the_value(btc):
    minute = START_MS  # the minute of a test's first ticks
    _candle(btc, minute - 16 * 60_000, "100")  # it ends 15 minutes before the minute begins
    rise = AlertRuleFactory(symbol=btc, kind=Kind.PERCENT_CHANGE, value=5, window_minutes=15)
    fall = AlertRuleFactory(symbol=btc, kind=Kind.PERCENT_CHANGE, value=-3, window_minutes=15)
    tick(BTCUSDT=101)

    assert tick(BTCUSDT=104.9) == []
    events = tick(BTCUSDT=105)
    assert fired(events) == [(rise.id, "BTCUSDT")]
    assert events[0].values == {"price": 105.0, "reference_price": 100.0, "change_percent": 5.0, "window_minutes": 15}
    assert fired(tick(BTCUSDT=96)) == [(fall.id, "BTCUSDT")]


def test_a_percent_change_is_measured_from_the_price_the_process_saw_then(btc):
    rule = AlertRuleFactory(symbol=btc, kind=Kind.PERCENT_CHANGE, value=5, window_minutes=15)
    tick(BTCUSDT=100)
    wait(60)
    tick(BTCUSDT=100)  # the first ticker of the next minute: the price as it began was 100
    wait(15 * 60)

    assert tick(BTCUSDT=104) == []
    assert fired(tick(BTCUSDT=105)) == [(rule.id, "BTCUSDT")]


def test_a_percent_change_without_the_reference_candle_does_not_fire(btc):
    AlertRuleFactory(symbol=btc, kind=Kind.PERCENT_CHANGE, value=5, window_minutes=15)
    tick(BTCUSDT=100)

    assert tick(BTCUSDT=200) == []


def _snapshot(symbol, timeframe: str, **values: float | None) -> None:
    Snapshot.objects.update_or_create(
        symbol=symbol, timeframe=timeframe,
        defaults={"open_time": datetime(2026, 1, 1, tzinfo=UTC), "values": values},
    )  # fmt: skip


@pytest.mark.parametrize(
    ("operator", "rsi", "fires"),
    [("lt", 29.9, True), ("lt", 30, False), ("lte", 30, True), ("lte", 30.1, False),
     ("gt", 30.1, True), ("gt", 30, False), ("gte", 30, True), ("gte", 29.9, False)],
)  # fmt: skip
def test_an_indicator_rule_fires_when_the_snapshot_meets_its_threshold(btc, operator, rsi, fires):
    rule = AlertRuleFactory(symbol=btc, kind=Kind.INDICATOR, field="rsi_1h", operator=operator, value=30)
    _snapshot(btc, "1h", rsi_14=rsi)

    ids = alert_snapshots_evaluate(symbol_ids=[btc.id], timeframes=["1h"])

    assert bool(ids) == fires
    if fires:
        assert AlertRule.objects.get(id=rule.id).events.get().values == {"field": "rsi_1h", "value": rsi}


def test_an_indicator_rule_reads_its_own_timeframe_and_ignores_missing_values(btc, eth):
    AlertRuleFactory(symbol=btc, kind=Kind.INDICATOR, field="rsi_4h", operator="lt", value=30)
    AlertRuleFactory(symbol=eth, kind=Kind.INDICATOR, field="rsi_1h", operator="lt", value=30)
    _snapshot(btc, "1h", rsi_14=10)
    _snapshot(eth, "1h", rsi_14=None)

    assert alert_snapshots_evaluate(symbol_ids=[btc.id, eth.id], timeframes=["1h"]) == []


def test_a_snapshot_update_evaluates_the_indicator_rules(btc):
    from apps.indicators.signals import snapshots_updated

    rule = AlertRuleFactory(symbol=btc, kind=Kind.INDICATOR, field="rsi_1h", operator="lt", value=30)
    _snapshot(btc, "1h", rsi_14=25)

    snapshots_updated.send(Snapshot, symbol_ids=[btc.id], timeframes=["1h"])

    assert rule.events.count() == 1


def test_a_new_signal_of_the_strategy_fires_its_rules(btc, eth):
    from apps.strategies.events import signals_created
    from apps.strategies.models import Signal, Strategy

    strategy = Strategy.objects.create(name="oversold", timeframe="1h", conditions={"all": []})
    rule = AlertRuleFactory(symbol=btc, kind=Kind.STRATEGY_SIGNAL, value=None, strategy="oversold")
    AlertRuleFactory(symbol=eth, kind=Kind.STRATEGY_SIGNAL, value=None, strategy="oversold")
    AlertRuleFactory(symbol=btc, kind=Kind.STRATEGY_SIGNAL, value=None, strategy="another")
    signal = Signal.objects.create(symbol=btc, strategy=strategy, timeframe="1h", candle_closed=True,
                                   open_time=datetime(2026, 1, 1, tzinfo=UTC), values={"rsi_1h": 25.0})  # fmt: skip

    signals_created.send(Signal, signal_ids=[signal.id])

    event = AlertRule.objects.get(id=rule.id).events.get()
    assert event.message == "BTCUSDT: strategy oversold signals (1h)"
    assert event.values["conditions"] == {"rsi_1h": 25.0}
    assert AlertRule.objects.exclude(id=rule.id).filter(events__isnull=False).count() == 0


def test_a_rule_in_its_cooldown_does_not_fire_until_it_is_over(btc):
    rule = AlertRuleFactory(symbol=btc, kind=Kind.PRICE_CROSSES, value=100, cooldown_seconds=600)
    tick(BTCUSDT=99)
    assert len(tick(BTCUSDT=101)) == 1

    assert tick(BTCUSDT=99) == []
    AlertRule.objects.filter(id=rule.id).update(last_fired_at=timezone.now() - timedelta(seconds=601))
    assert len(tick(BTCUSDT=101)) == 1


def test_a_rule_on_many_symbols_fires_once_per_cooldown_with_every_symbol_of_that_update(btc, eth):
    rule = AlertRuleFactory(target=AlertRule.Target.ALL, symbol=None, value=100, cooldown_seconds=600)
    tick(BTCUSDT=99, ETHUSDT=99)

    assert len(tick(BTCUSDT=101, ETHUSDT=101)) == 2
    tick(BTCUSDT=99, ETHUSDT=99)
    assert tick(BTCUSDT=101, ETHUSDT=101) == []
    assert AlertRule.objects.get(id=rule.id).events.count() == 2


def test_a_one_time_rule_switches_off_when_it_fires(btc):
    rule = AlertRuleFactory(symbol=btc, kind=Kind.PRICE_CROSSES, value=100, one_time=True)
    tick(BTCUSDT=99)

    assert len(tick(BTCUSDT=101)) == 1
    assert AlertRule.objects.get(id=rule.id).is_active is False
    assert tick(BTCUSDT=99) == []


def test_an_inactive_rule_never_fires(btc):
    AlertRuleFactory(symbol=btc, value=100, is_active=False)
    tick(BTCUSDT=99)

    assert tick(BTCUSDT=101) == []


def test_the_same_ticker_seen_twice_makes_one_event(btc):
    from apps.alerts.services import alert_tickers_evaluate, live_alerts
    from tests.alerts.conftest import ticker

    AlertRuleFactory(symbol=btc, value=100)
    alert_tickers_evaluate(tickers={"BTCUSDT": ticker("BTCUSDT", 99, event_time=1)})
    first = alert_tickers_evaluate(tickers={"BTCUSDT": ticker("BTCUSDT", 101, event_time=2)})
    live_alerts.cache_clear()  # another process, which saw the same two tickers
    alert_tickers_evaluate(tickers={"BTCUSDT": ticker("BTCUSDT", 99, event_time=1)})
    second = alert_tickers_evaluate(tickers={"BTCUSDT": ticker("BTCUSDT", 101, event_time=2)})

    assert len(first) == 1
    assert second == []


def test_a_rule_created_after_the_index_was_built_is_evaluated(btc, django_capture_on_commit_callbacks):
    tick(BTCUSDT=99)
    with django_capture_on_commit_callbacks(execute=True):
        rule = AlertRuleFactory(symbol=btc, value=100)

    assert fired(tick(BTCUSDT=101)) == [(rule.id, "BTCUSDT")]


def test_a_changed_rule_is_evaluated_as_it_is_now(btc, django_capture_on_commit_callbacks):
    rule = AlertRuleFactory(symbol=btc, value=100)
    tick(BTCUSDT=99)
    rule.value = Decimal(200)
    with django_capture_on_commit_callbacks(execute=True):
        rule.save()

    assert tick(BTCUSDT=101) == []
    assert fired(tick(BTCUSDT=201)) == [(rule.id, "BTCUSDT")]


def test_a_deleted_rule_leaves_the_index(btc, django_capture_on_commit_callbacks):
    from apps.alerts.services import live_alerts

    rule = AlertRuleFactory(symbol=btc, value=100)
    tick(BTCUSDT=99)
    with django_capture_on_commit_callbacks(execute=True):
        rule.delete()

    assert tick(BTCUSDT=101) == []
    assert live_alerts().index.size == 0


def test_a_symbol_added_to_a_watchlist_is_covered_by_its_rules(btc, eth, django_capture_on_commit_callbacks):
    from apps.alerts.models import Watchlist

    majors = Watchlist.objects.create(owner=UserFactory(), name="majors")
    majors.symbols.set([eth])
    rule = AlertRuleFactory(owner=majors.owner, target=AlertRule.Target.WATCHLIST, symbol=None, watchlist=majors,
                            value=100)  # fmt: skip
    tick(BTCUSDT=99)
    with django_capture_on_commit_callbacks(execute=True):
        majors.symbols.add(btc)

    assert fired(tick(BTCUSDT=101)) == [(rule.id, "BTCUSDT")]


def test_rule_changes_are_seen_at_most_every_refresh_interval(btc, settings, django_capture_on_commit_callbacks):
    settings.ALERTS_INDEX_REFRESH_SECONDS = 3600
    tick(BTCUSDT=99)
    with django_capture_on_commit_callbacks(execute=True):
        AlertRuleFactory(symbol=btc, value=100)

    assert tick(BTCUSDT=101) == []
