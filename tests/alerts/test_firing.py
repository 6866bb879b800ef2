"""Firing is atomic across processes, and the streamer's flushes reach the alerts."""

import threading

import pytest
from django.db import connection, connections

from apps.alerts.index import Match
from apps.alerts.models import AlertEvent, AlertRule
from apps.alerts.services import alert_rules_fire
from apps.market.services.stream_ingest import Batch
from apps.market.services.streamer import _store
from tests.alerts.conftest import ticker
from tests.alerts.factories import AlertRuleFactory
from tests.conftest import wait_until
from tests.market.factories import SymbolFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _waiting_for_locks() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = %s",
                       [connection.settings_dict["NAME"]])  # fmt: skip
        return cursor.fetchone()[0]


def _racing(rule: AlertRule, symbol_id: int) -> list[list[int]]:
    """Two processes fire the rule for two different tickers at the same moment: while a third holds the rule's row,
    both reach their UPDATE and wait; then it lets go."""
    results: list[list[int]] = []

    def fire(trigger: str) -> None:
        try:
            results.append(
                alert_rules_fire(matches=[Match(rule.id, symbol_id, trigger, {"price": 101.0, "previous_price": 99.0})])
            )
        finally:
            connections.close_all()

    holder = connection.copy()
    try:
        with holder.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute("SELECT id FROM alerts_alertrule WHERE id = %s FOR UPDATE", [rule.id])
            threads = [threading.Thread(target=fire, args=(f"ticker:{n}",)) for n in (1, 2)]
            for thread in threads:
                thread.start()
            assert wait_until(lambda: _waiting_for_locks() == 2, 10)
            cursor.execute("ROLLBACK")
        for thread in threads:
            thread.join(timeout=10)
    finally:
        holder.close()
    return results


@pytest.mark.parametrize("rule_fields", [{"cooldown_seconds": 600}, {"one_time": True}])
def test_two_evaluations_racing_fire_a_rule_once(rule_fields):
    btc = SymbolFactory(symbol="BTCUSDT")
    rule = AlertRuleFactory(symbol=btc, value=100, **rule_fields)

    results = _racing(rule, btc.id)

    assert sorted(len(ids) for ids in results) == [0, 1]
    assert AlertEvent.objects.filter(rule=rule).count() == 1


def test_a_streamer_flush_evaluates_its_tickers():
    btc = SymbolFactory(symbol="BTCUSDT")
    rule = AlertRuleFactory(symbol=btc, value=100)

    _store(Batch(tickers={"BTCUSDT": ticker("BTCUSDT", 99, event_time=1)}), heartbeats={}, status={})
    _store(Batch(tickers={"BTCUSDT": ticker("BTCUSDT", 101, event_time=2)}), heartbeats={}, status={})

    assert AlertEvent.objects.get().rule_id == rule.id
