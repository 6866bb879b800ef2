"""`ingest`: candles per second stored into PostgreSQL through the project's writer (COPY + ON CONFLICT upsert),
against Django's bulk_create of the same rows, interleaved in the same run on the same database."""

import statistics
import time
from datetime import UTC, datetime
from decimal import Decimal

from bench.common import bench_database, write_result

SYMBOLS = 100
MINUTES = 2000  # 200,000 candles a round
ROUNDS = 5
START_MS = 1704067200000  # 2024-01-01


def _rows(symbol_ids: list[int]) -> list[tuple]:
    rows = []
    for symbol_id in symbol_ids:
        price = 100.0 + symbol_id
        for minute in range(MINUTES):
            close = price * (1 + ((minute * 7919) % 200 - 100) / 100_000)
            high, low = max(price, close) * 1.0005, min(price, close) * 0.9995
            rows.append((symbol_id, START_MS + minute * 60_000, f"{price:.8f}", f"{high:.8f}", f"{low:.8f}",
                         f"{close:.8f}", "12.34500000", f"{12.345 * close:.8f}", 42, "6.10000000",
                         f"{6.1 * close:.8f}"))  # fmt: skip
            price = close
    return rows


def _bulk_create(rows: list[tuple]) -> None:
    from apps.market.models import Candle

    names = ("open", "high", "low", "close", "volume", "quote_volume")
    Candle.objects.bulk_create(
        [
            Candle(symbol_id=row[0], open_time=datetime.fromtimestamp(row[1] / 1000, UTC),
                   **dict(zip(names, map(Decimal, row[2:8]), strict=True)), trades=row[8],
                   taker_buy_volume=Decimal(row[9]), taker_buy_quote_volume=Decimal(row[10]))
            for row in rows
        ],
        batch_size=5000,
    )  # fmt: skip


def _timed(store, rows: list[tuple]) -> float:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE market_candle, market_hourlycandle")
        cursor.execute("CHECKPOINT")
    started = time.perf_counter()
    store(rows)
    elapsed = time.perf_counter() - started
    return len(rows) / elapsed


def main() -> None:
    bench_database()
    from apps.market.models import Symbol
    from apps.market.services.candles import candles_upsert

    symbols = [
        Symbol.objects.get_or_create(
            symbol=f"BENCH{n}USDT",
            defaults={"base_asset": f"BENCH{n}", "quote_asset": "USDT", "status": "TRADING", "tick_size": "0.01",
                      "step_size": "0.001"},
        )[0].id
        for n in range(SYMBOLS)
    ]  # fmt: skip
    rows = _rows(symbols)
    ours, baseline = [], []
    for _ in range(ROUNDS):
        ours.append(_timed(lambda batch: candles_upsert(rows=batch), rows))
        baseline.append(_timed(_bulk_create, rows))
    ours_median, baseline_median = statistics.median(ours), statistics.median(baseline)
    write_result(
        name="ingest",
        unit="candles/s",
        value=round(ours_median),
        better="higher",
        baselines={"bulk_create": round(baseline_median)},
        params={"candles_per_round": len(rows), "symbols": SYMBOLS, "rounds": ROUNDS, "table": "empty per round"},
        extra={"ours_rounds": [round(r) for r in ours], "bulk_create_rounds": [round(r) for r in baseline]},
    )


if __name__ == "__main__":
    main()
