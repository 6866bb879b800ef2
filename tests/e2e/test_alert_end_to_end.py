"""End to end on the demo's replay: recorded ETHUSDT candles -> a 1h snapshot -> a strategy's signal -> a user's
strategy-signal rule -> exactly one Telegram message in the user's linked chat, also when the notification worker
is SIGKILLed mid-delivery."""

import math
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection, connections

from apps.alerts.models import AlertDelivery, AlertEvent, AlertRule
from apps.alerts.services import live_alerts
from apps.indicators.models import Snapshot
from apps.indicators.services import snapshots_compute
from apps.market.klines import klines_parse
from apps.market.models import Symbol
from apps.market.services.candles import candles_upsert
from apps.strategies.models import Signal, Strategy
from apps.strategies.services import signals_evaluate
from apps.telegram.models import TelegramChat
from config.queues import Queue
from tests.alerts.factories import AlertRuleFactory, UserFactory
from tests.conftest import eth_minutes_up_to_the_hour, wait_until
from tests.market.factories import SymbolFactory
from tests.strategies.factories import StrategyFactory
from tests.workers import real_broker, running_worker, worker_environment

ROOT = Path(__file__).resolve().parents[2]
HOUR_MS = 3_600_000
CHAT = 7001


@pytest.fixture
def fresh_alerts(settings) -> Iterator[None]:
    """This process sees rule changes at once, from an index built anew."""
    settings.ALERTS_INDEX_REFRESH_SECONDS = 0
    live_alerts.cache_clear()
    yield
    live_alerts.cache_clear()


def eth_snapshot() -> tuple[Symbol, Snapshot]:
    """ETHUSDT's recorded candles stored (the newest hour just closed) and its 1h snapshot computed from them."""
    eth = SymbolFactory(symbol="ETHUSDT")
    minutes = eth_minutes_up_to_the_hour()
    candles_upsert(rows=klines_parse(symbol_id=eth.id, raw_rows=minutes, source="test").rows)
    end_ms = int(minutes[-1][0]) + 60_000
    assert snapshots_compute(symbol_ids=[eth.id], timeframe="1h", end_ms=end_ms) == 1
    return eth, Snapshot.objects.get(symbol=eth, timeframe="1h")


def strategy_met_by(snapshot: Snapshot) -> Strategy:
    """A 1h strategy whose threshold the snapshot's RSI(14) meets (just)."""
    rsi = snapshot.values["rsi_14"]
    assert rsi is not None and 0 < rsi < 100, snapshot.values
    conditions = {"kind": "threshold", "field": "rsi_14", "op": "lte", "value": math.ceil(rsi)}
    return StrategyFactory(name="E2E RSI at most", timeframe="1h", conditions=conditions)


def user_alerted_on_telegram(symbol: Symbol, strategy: Strategy) -> AlertRule:
    """A user with a linked Telegram chat and a rule on the strategy's signals for the symbol, sent to Telegram."""
    user = UserFactory()
    TelegramChat.objects.create(user=user, chat_id=CHAT)
    return AlertRuleFactory(owner=user, symbol=symbol, kind=AlertRule.Kind.STRATEGY_SIGNAL, value=None,
                            strategy=strategy.name, telegram=True, websocket=False)  # fmt: skip


@pytest.mark.django_db
def test_a_signal_on_recorded_candles_reaches_the_users_telegram_chat_once(
    fake_telegram, fresh_alerts, django_capture_on_commit_callbacks
):
    eth, snapshot = eth_snapshot()
    strategy = strategy_met_by(snapshot)
    rule = user_alerted_on_telegram(eth, strategy)

    with django_capture_on_commit_callbacks(execute=True):
        created = signals_evaluate(symbol_ids=[eth.id], timeframes=["1h"])

    signal_ = Signal.objects.get(strategy=strategy)
    assert signal_.id in created
    assert (signal_.symbol_id, signal_.open_time) == (eth.id, snapshot.open_time)
    texts = fake_telegram.texts_to(CHAT)
    assert len(texts) == 1, texts
    assert "ETHUSDT" in texts[0] and strategy.name in texts[0]
    delivery = AlertDelivery.objects.get(event__rule=rule)
    assert (delivery.channel, delivery.destination, delivery.status) == ("telegram", str(CHAT), "sent")

    with django_capture_on_commit_callbacks(execute=True):
        assert signals_evaluate(symbol_ids=[eth.id], timeframes=["1h"]) == []  # the same candle again

    assert len(fake_telegram.texts_to(CHAT)) == 1
    assert AlertEvent.objects.filter(rule=rule).count() == 1


@pytest.fixture
def notifications_worker(fake_telegram, tmp_path) -> Iterator[tuple[subprocess.Popen, Path]]:
    """A real worker of the `notifications` queue (one pool process) over the real Redis broker, on this test's
    database and fake Telegram; this process sends its tasks there too."""
    environment = worker_environment(
        TELEGRAM_BOT_TOKEN=fake_telegram.token, TELEGRAM_API_URL=fake_telegram.url,
        TELEGRAM_MESSAGES_PER_SECOND="100000", TELEGRAM_MESSAGES_PER_CHAT_PER_SECOND="100000",
        ALERTS_INDEX_REFRESH_SECONDS="0",
    )  # fmt: skip
    log = tmp_path / "worker.log"
    # The broker's keys are this test's: the strategies' evaluation the snapshot queues, which no worker here takes,
    # is deleted after.
    with real_broker(), running_worker(Queue.NOTIFICATIONS.value, log, environment=environment) as process:
        yield process, log


def _waiting_for_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


def _pool_processes(worker: subprocess.Popen) -> list[int]:
    children = subprocess.run(["pgrep", "-P", str(worker.pid)], capture_output=True, text=True)
    return [int(pid) for pid in children.stdout.split()]


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_delivery_still_sends_exactly_one_telegram_message(fake_telegram, notifications_worker):
    worker, log = notifications_worker
    eth, snapshot = eth_snapshot()
    strategy = strategy_met_by(snapshot)
    rule = user_alerted_on_telegram(eth, strategy)
    fake_telegram.fail_next(1, 500)  # the first send fails for now: the delivery task goes on as a retry

    signals_evaluate(symbol_ids=[eth.id], timeframes=["1h"])  # committed: its tasks go to the worker

    assert wait_until(lambda: len(fake_telegram.requests_of("sendMessage")) == 1, 60), log.read_text()
    delivery = AlertDelivery.objects.filter(event=AlertEvent.objects.get(rule=rule))  # no join: see the lock below
    blocker = connections.create_connection("default")
    with blocker.cursor() as cursor:
        cursor.execute("BEGIN")
        # TRICKY: the retry (due a second or more after the failure) then stops at its first read of the event,
        # before it claims the delivery; a claim left waiting by a killed process would still be made by its
        # orphaned PostgreSQL backend once the lock is gone.
        cursor.execute("LOCK TABLE alerts_alertevent IN ACCESS EXCLUSIVE MODE")
        assert wait_until(_waiting_for_a_lock, 60), log.read_text()
        assert delivery.get().status == AlertDelivery.Status.PENDING
        for pid in _pool_processes(worker):
            os.kill(pid, signal.SIGKILL)
        assert wait_until(lambda: "WorkerLostError" in log.read_text(), 30), log.read_text()
        cursor.execute("COMMIT")
    blocker.close()

    assert wait_until(lambda: delivery.get().status == AlertDelivery.Status.SENT, 60), log.read_text()
    texts = fake_telegram.texts_to(CHAT)
    assert len(texts) == 1, texts
    assert "ETHUSDT" in texts[0]
    assert delivery.get().attempts == 2, "one failed send, one sent: the killed run never sent"
    assert "Retry in" in log.read_text()
