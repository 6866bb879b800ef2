"""`indicators_celery`: from a beat tick (the dispatch task) to all 500 symbols' snapshots written, by real Celery
workers on real Redis: with 1 worker and with 2 (`value`, in ms). A first tick stores the history of earlier candles
and each symbol's state (from its 1000 hourly candles), so that a tick measures steady state: each shard reads its
symbols' last 400 candles (their stored state carries the rest), computes and writes one candle."""

import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import bench_database, write_result

SYMBOLS = 500
CANDLES = 1000
ROUNDS = 3
HOUR_MS = 3_600_000
ROOT = Path(__file__).resolve().parent.parent


def _hourly_candles(symbol_ids: list[int]) -> None:
    """Hourly roll-up rows straight into the table the 1h computation reads (1000 hours for each symbol)."""
    from django.db import connection

    last_hour = (int(time.time() * 1000) // HOUR_MS) * HOUR_MS - HOUR_MS
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE market_hourlycandle, indicators_indicatorhistory, indicators_snapshot")
        cursor.execute(
            """
            INSERT INTO market_hourlycandle (symbol_id, open_time, open, high, low, close, volume, quote_volume,
                                             trades, taker_buy_volume, taker_buy_quote_volume)
            SELECT s.id, TIMESTAMPTZ 'epoch' + (%s - h::bigint * %s) * INTERVAL '1 millisecond',
                   100 + sin(h / 7.0 + s.id), 101 + sin(h / 7.0 + s.id), 99 + sin(h / 7.0 + s.id),
                   100 + sin((h + 1) / 7.0 + s.id), 50 + h %% 13, 5000, 100, 25, 2500
            FROM unnest(%s::int[]) AS s(id), generate_series(0, %s - 1) AS h
            """,
            [last_hour, HOUR_MS, symbol_ids, CANDLES],
        )


def _symbols() -> list[int]:
    from apps.market.models import Symbol

    Symbol.objects.exclude(symbol__startswith="CEL").update(is_active=False)
    return [
        Symbol.objects.update_or_create(
            symbol=f"CEL{n}USDT",
            defaults={"base_asset": f"CEL{n}", "quote_asset": "USDT", "status": "TRADING", "tick_size": "0.01",
                      "step_size": "0.001", "is_active": True},
        )[0].id
        for n in range(SYMBOLS)
    ]  # fmt: skip


def _workers(count: int) -> list[subprocess.Popen]:
    from django.conf import settings

    environment = os.environ | {"CELERY_TASK_ALWAYS_EAGER": "false", "INDICATORS_SETTLE_SECONDS": "0",
                                "REDIS_URL": settings.REDIS_URL}  # fmt: skip
    processes = []
    for number in range(count):
        log = Path(tempfile.gettempdir()) / f"bench-indicators_celery-worker{number}.log"
        with log.open("w") as output:
            processes.append(subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "indicators", "-c", "1",
                 "-n", f"bench{number}@%h", "--without-gossip", "--without-mingle", "-l", "WARNING"],
                cwd=ROOT, env=environment, stdout=output, stderr=subprocess.STDOUT,
            ))  # fmt: skip
    time.sleep(6)  # the workers are up and listening
    return processes


def _tick_ms() -> float:
    from django.utils import timezone

    from apps.indicators.models import Snapshot
    from tasks.indicators import dispatch

    since = timezone.now()
    started = time.perf_counter()
    dispatch.apply_async(("1h",))
    while Snapshot.objects.filter(computed_at__gte=since).count() < SYMBOLS:
        time.sleep(0.01)
    return (time.perf_counter() - started) * 1000


def _measure(worker_count: int) -> list[float]:
    processes = _workers(worker_count)
    try:
        _tick_ms()  # the first tick stores the history of every earlier candle
        return [_tick_ms() for _ in range(ROUNDS)]
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(timeout=60)


def main() -> None:
    bench_database()
    from config.celery import app

    app.conf.task_always_eager = False
    with app.connection_for_write() as connection:
        connection.default_channel.queue_purge("indicators")
    _hourly_candles(_symbols())
    one, two = _measure(1), _measure(2)
    write_result(
        name="indicators_celery",
        unit="ms",
        value=round(statistics.median(two), 1),
        better="lower",
        baselines={"one_worker": round(statistics.median(one), 1)},
        params={
            "symbols": SYMBOLS,
            "candles_stored": CANDLES,
            "candles_read_per_tick": 400,
            "timeframe": "1h",
            "rounds": ROUNDS,
            "shard_symbols": 50,
        },
        extra={
            "two_workers_ms": [round(v, 1) for v in two],
            "one_worker_ms": [round(v, 1) for v in one],
            "target_ms": 2000,
        },
    )


if __name__ == "__main__":
    main()
