"""Indicator shards on two real Celery worker processes over the real Redis broker and PostgreSQL."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection, connections

from apps.indicators.models import IndicatorHistory, Snapshot
from apps.indicators.services import snapshots_compute
from apps.market.klines import klines_parse
from apps.market.services.candles import candles_upsert
from config.celery import app
from tasks.indicators import dispatch
from tests.conftest import eth_minutes_up_to_the_hour, wait_until
from tests.market.factories import SymbolFactory

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
HOUR_MS = 3_600_000
SYMBOLS = 6


@pytest.fixture
def symbols() -> list:
    minutes = eth_minutes_up_to_the_hour()
    created = [SymbolFactory() for _ in range(SYMBOLS)]
    for symbol in created:
        candles_upsert(rows=klines_parse(symbol_id=symbol.id, raw_rows=minutes, source="test").rows)
    return created


@pytest.fixture
def broker():
    """Tasks go to the real broker (the suite otherwise runs them in-process), from an empty queue."""
    app.conf.task_always_eager = False
    with app.connection_for_write() as broker_connection:
        broker_connection.default_channel.queue_purge("indicators")
    yield
    app.conf.task_always_eager = True


@pytest.fixture
def workers(broker, tmp_path):
    database = connection.settings_dict
    environment = os.environ | {
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        "REDIS_URL": django_settings.REDIS_URL,
        "INDICATORS_SHARD_SYMBOLS": "2",  # the dispatch task runs on a worker too: three shards of two
        "INDICATORS_SETTLE_SECONDS": "0",
    }
    processes, logs = [], []
    for name in ("one", "two"):
        log = tmp_path / f"{name}.log"
        logs.append(log)
        with log.open("w") as output:
            processes.append(subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "indicators", "-c", "1",
                 "-n", f"{name}@%h", "--without-gossip", "--without-mingle", "-l", "INFO"],
                cwd=ROOT, env=environment, stdout=output, stderr=subprocess.STDOUT,
            ))  # fmt: skip
    assert wait_until(lambda: all("ready" in log.read_text() for log in logs), 30), "both workers started"
    yield processes, logs
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        process.wait(timeout=30)


def _shards_succeeded(logs: list[Path]) -> int:
    return sum(
        1 for log in logs for line in log.read_text().splitlines() if "compute_shard" in line and "succeeded in" in line
    )


def _single_process_values(symbols, end_ms: int) -> dict:
    """What one process computes for the same symbols and candle, for comparison."""
    snapshots_compute(symbol_ids=[symbol.id for symbol in symbols], timeframe="1h", end_ms=end_ms)
    return {s.symbol_id: s.values for s in Snapshot.objects.all()}


def test_two_workers_compute_every_symbol_exactly_once_per_tick(symbols, workers):
    _, logs = workers

    dispatch.delay("1h")

    assert wait_until(lambda: Snapshot.objects.count() == SYMBOLS, 60)
    assert wait_until(lambda: _shards_succeeded(logs) == SYMBOLS // 2, 10)
    computed = {s.symbol_id: s.values for s in Snapshot.objects.all()}
    Snapshot.objects.all().delete()
    end_ms = (int(time.time() * 1000) // HOUR_MS) * HOUR_MS
    assert computed == _single_process_values(symbols, end_ms)


def test_a_worker_killed_mid_shard_leaves_nothing_missing_and_nothing_doubled(symbols, workers):
    processes, logs = workers
    blocker = connections.create_connection("default")
    with blocker.cursor() as cursor:
        cursor.execute("BEGIN")
        cursor.execute("LOCK TABLE indicators_snapshot IN EXCLUSIVE MODE")  # shards stop at their write
        dispatch.delay("1h")
        assert wait_until(lambda: all("compute_shard" in log.read_text().split("ready.")[-1] for log in logs), 30)
        time.sleep(1.0)  # both are inside a shard, waiting to write
        children = subprocess.run(["pgrep", "-P", str(processes[0].pid)], capture_output=True, text=True)
        for pid in children.stdout.split():
            os.kill(int(pid), signal.SIGKILL)
        time.sleep(1.0)
        cursor.execute("COMMIT")
    blocker.close()

    assert wait_until(lambda: Snapshot.objects.count() == SYMBOLS, 60)
    assert "WorkerLostError" in logs[0].read_text(), "the shard really was killed mid-way"
    history = IndicatorHistory.objects.filter(timeframe="1h")
    per_symbol = {s.id: history.filter(symbol_id=s.id).count() for s in symbols}
    assert len(set(per_symbol.values())) == 1, "every symbol has the same, complete history"
    assert history.values("symbol_id", "open_time").distinct().count() == history.count()
