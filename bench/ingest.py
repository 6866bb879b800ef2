"""`ingest`: candles per second stored into PostgreSQL through the project's writer (COPY + ON CONFLICT upsert),
against Django's bulk_create of the same rows, interleaved in the same run on the same database.

The table is of realistic size (bench.common.history_database: 450 symbols x 60 days of 1m candles): each round
writes 2000 new minutes of 100 of its symbols after the stored history, as a backfill catching up would; the rounds'
rows are deleted at the end.
"""

import statistics
import time
from datetime import UTC, datetime

from bench.common import (
    DAY_MS,
    HISTORY_DAYS,
    HISTORY_END_MS,
    HISTORY_SYMBOLS,
    history_database,
    synthetic_rows,
    write_result,
)

SYMBOLS = 100
MINUTES = 2000  # 200,000 candles a round
ROUNDS = 5


def _rows(symbol_ids: list[int], block: int) -> list[tuple]:
    """The `block`th run of MINUTES minutes after the history of the first SYMBOLS symbols."""
    history = HISTORY_DAYS * 1440
    return [
        row
        for index, symbol_id in enumerate(symbol_ids[:SYMBOLS])
        for row in synthetic_rows(symbol_id=symbol_id, index=index, start_ms=HISTORY_END_MS - HISTORY_DAYS * DAY_MS,
                                  minutes=history + (block + 1) * MINUTES, first=history + block * MINUTES)
    ]  # fmt: skip


def _bulk_create(rows: list[tuple]) -> None:
    """Model instances with the writer's integer values and scales (apps.market.candle_values' Python rule)."""
    from apps.market import candle_values
    from apps.market.models import Candle
    from apps.market.services.candles import STORED_COLUMNS, grid_places

    places = grid_places({row[0] for row in rows})

    def candle(row: tuple) -> Candle:
        tick_places, step_places = places[row[0]]
        stored = candle_values.stored_row(row[2:], tick_places=tick_places, step_places=step_places)
        open_time = datetime.fromtimestamp(row[1] / 1000, UTC)
        return Candle(symbol_id=row[0], open_time=open_time, **dict(zip(STORED_COLUMNS, stored, strict=True)))

    Candle.objects.bulk_create([candle(row) for row in rows], batch_size=5000)


def _timed(store, rows: list[tuple]) -> float:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")
    started = time.perf_counter()
    store(rows)
    elapsed = time.perf_counter() - started
    return len(rows) / elapsed


def _delete_after_history(symbol_ids: list[int]) -> None:
    from django.db import connection

    deleted = 0
    with connection.cursor() as cursor:
        for table in ("market_candle", "market_hourlycandle"):
            cursor.execute(f"DELETE FROM {table} WHERE symbol_id = ANY(%s) AND open_time >= %s",
                           [symbol_ids[:SYMBOLS], datetime.fromtimestamp(HISTORY_END_MS / 1000, UTC)])  # fmt: skip
            deleted += cursor.rowcount
        if deleted:  # the next run's rounds write the same keys again
            cursor.execute("VACUUM market_candle, market_hourlycandle")


def main() -> None:
    symbol_ids = history_database()
    from apps.market.services.candles import candles_upsert

    _delete_after_history(symbol_ids)  # what an interrupted run left
    ours, baseline = [], []
    for round_ in range(ROUNDS):
        ours.append(_timed(lambda batch: candles_upsert(rows=batch), _rows(symbol_ids, 2 * round_)))
        baseline.append(_timed(_bulk_create, _rows(symbol_ids, 2 * round_ + 1)))
    _delete_after_history(symbol_ids)
    ours_median, baseline_median = statistics.median(ours), statistics.median(baseline)
    write_result(
        name="ingest",
        unit="candles/s",
        value=round(ours_median),
        better="higher",
        baselines={"bulk_create": round(baseline_median)},
        params={"candles_per_round": SYMBOLS * MINUTES, "symbols": SYMBOLS, "rounds": ROUNDS,
                "table": f"{HISTORY_SYMBOLS} symbols x {HISTORY_DAYS} days of 1m candles stored"},
        extra={"ours_rounds": [round(r) for r in ours], "bulk_create_rounds": [round(r) for r in baseline]},
    )  # fmt: skip


if __name__ == "__main__":
    main()
