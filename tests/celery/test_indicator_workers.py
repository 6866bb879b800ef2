"""Indicator shards on two real Celery worker processes over the real Redis broker and PostgreSQL."""

import os
import signal
import subprocess
import time
from contextlib import ExitStack
from pathlib import Path

import pytest
from django.db import connections

from apps.indicators.models import IndicatorHistory, Snapshot
from apps.indicators.services import snapshots_compute
from apps.market.klines import klines_parse
from apps.market.services.candles import candles_upsert
from tasks.indicators import dispatch
from tests.conftest import eth_minutes_up_to_the_hour, wait_until
from tests.market.factories import SymbolFactory
from tests.workers import real_broker, running_worker, worker_environment

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timescaledb]

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
def workers(tmp_path):
    # The dispatch task runs on a worker too: three shards of two.
    environment = worker_environment(INDICATORS_SHARD_SYMBOLS="2", INDICATORS_SETTLE_SECONDS="0")
    logs = [tmp_path / f"{name}.log" for name in ("one", "two")]
    with real_broker(), ExitStack() as stack:
        processes = [
            stack.enter_context(running_worker("indicators", log, name=log.stem, environment=environment))
            for log in logs
        ]
        yield processes, logs


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
