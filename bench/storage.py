"""`storage`: the candle store at production size (issue 13), on plain PostgreSQL and on TimescaleDB.

Each database gets a fresh `bench_storage` database in a process of its own (Django's settings are per process:
`python -m bench.storage postgresql|timescaledb` prints its figures as JSON, the parent merges them). There:

1. `empty_table`: live batches (one candle per symbol, the next minute) written into the empty tables.
2. Backfill of BENCH_STORAGE_SYMBOLS (450) x BENCH_STORAGE_DAYS (60) of synthetic 1m candles through the project's
   writer, symbol after symbol in the spans the backfill service stores at once (archive months and days, REST pages
   of 1000); the rate at size is that of the last tenth of the symbols.
3. Bytes per candle: candles, hourly roll-up and all their indexes, after VACUUM ANALYZE. TimescaleDB: then every
   chunk but the newest compressed; `bytes_per_candle_compressed` is that of the compressed chunks (both tables).
4. The same live batches as in 1, now at size: each batch's writer call, p99.
5. klines (limit 1000) at 1m, 15m, 1h and 1d for random symbols, from a random minute of the history forwards or
   backwards (so mostly inside compressed chunks on TimescaleDB).

`value` is TimescaleDB's live batch p99 at size; `empty_table` the same on its empty tables. The databases are
dropped at the end. Full size took 17 minutes for both on 2 cores, the loads (about 7 minutes each) most of it.
"""

import json
import os
import random
import subprocess
import sys
import time

from bench.common import (
    DAY_MS,
    HISTORY_END_MS,
    MINUTE_MS,
    backfill_spans,
    bench_database,
    database_drop,
    history_load,
    percentile_ms,
    synthetic_rows,
    synthetic_symbols,
    write_result,
)

DATABASES = {
    "postgresql": "postgres://postgres@127.0.0.1:5432/bench_storage",
    "timescaledb": "postgres://postgres@127.0.0.1:55432/bench_storage",
}
SYMBOLS = int(os.environ.get("BENCH_STORAGE_SYMBOLS", "450"))
DAYS = int(os.environ.get("BENCH_STORAGE_DAYS", "60"))
LIVE_WARMUP = 10  # first batches of a connection (its staging table, plans), not counted
LIVE_BATCHES = 600  # 10 hours: the p99 is not left to the few slowest of a noisy machine
KLINES_WARMUP = 10
KLINES_QUERIES = 300  # per interval
KLINES_INTERVALS = ("1m", "15m", "1h", "1d")
SAMPLE_SHARE = 0.1  # the backfill rate at size: the last tenth of the symbols
TABLES = ("market_candle", "market_hourlycandle")
PREFIX = "STOR"
PRODUCTION_CANDLES = 450 * 730 * 1440  # 2 years of 450 symbols
HOT_CANDLES = 450 * 7 * 1440


def _log(message: str) -> None:
    print(f"[storage {os.environ.get('BENCH_STORAGE_DATABASE')}] {message}", file=sys.stderr, flush=True)


def _sql(statement: str, params: list | None = None) -> list[tuple]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


def _hypertables() -> set[str]:
    from django.conf import settings

    if not settings.TIMESCALEDB:
        return set()
    return {name for (name,) in _sql("SELECT hypertable_name FROM timescaledb_information.hypertables")}


def _live_batches(symbol_ids: list[int]) -> list[list[tuple]]:
    """Minute after minute from the history's end, one candle per symbol continuing its series."""
    history = DAYS * 1440
    tails = [
        synthetic_rows(symbol_id=symbol_id, index=index, start_ms=HISTORY_END_MS - DAYS * DAY_MS,
                       minutes=history + LIVE_WARMUP + LIVE_BATCHES, first=history)
        for index, symbol_id in enumerate(symbol_ids)
    ]  # fmt: skip
    return [list(minute) for minute in zip(*tails, strict=True)]


def _live(batches: list[list[tuple]]) -> dict:
    from apps.market.services.candles import candles_upsert

    seconds = []
    for batch in batches:
        started = time.perf_counter()
        candles_upsert(rows=batch)
        seconds.append(time.perf_counter() - started)
    measured = seconds[LIVE_WARMUP:]
    return {"p99": percentile_ms(measured, 99), "p50": percentile_ms(measured, 50)}


def _bytes(hypertables: set[str]) -> dict[str, int]:
    size = {table: "hypertable_size" if table in hypertables else "pg_total_relation_size" for table in TABLES}
    return {table: _sql(f"SELECT {function}(%s)", [table])[0][0] for table, function in size.items()}


def _compress(hypertables: set[str]) -> dict:
    """Every chunk but the newest (the one live candles go to), as the compression policy would leave them."""
    stats = {}
    for table in sorted(hypertables & set(TABLES)):
        (newest,) = _sql("SELECT max(range_start) FROM timescaledb_information.chunks WHERE hypertable_name = %s",
                         [table])[0]  # fmt: skip
        _sql("SELECT compress_chunk(c, if_not_compressed => true) FROM show_chunks(%s, older_than => %s) c",
             [table, newest])  # fmt: skip
        _sql(f"ANALYZE {table}")
        (row,) = _sql(
            "SELECT total_chunks, number_compressed_chunks, before_compression_total_bytes,"
            " after_compression_total_bytes FROM hypertable_compression_stats(%s)",
            [table],
        )
        stats[table] = dict(zip(("chunks", "compressed_chunks", "bytes_before", "bytes_after"), row, strict=True))
    return stats


def _compressed_bytes_by_column(candles: int) -> dict[str, float]:
    """Bytes per candle of each column of market_candle's compressed chunks: where the compressed size goes."""
    from apps.market.services.candles import STORED_COLUMNS

    chunks = _sql(
        "SELECT format('%I.%I', chunk.schema_name, chunk.table_name) FROM _timescaledb_catalog.chunk chunk"
        " JOIN _timescaledb_catalog.hypertable compressed ON compressed.id = chunk.hypertable_id"
        " JOIN _timescaledb_catalog.hypertable candles ON candles.compressed_hypertable_id = compressed.id"
        " WHERE candles.table_name = 'market_candle' AND NOT chunk.dropped"
    )
    columns = ("open_time", *STORED_COLUMNS)
    sizes = ", ".join(f"coalesce(sum(pg_column_size({column})), 0)" for column in columns)
    totals = [sum(sizes) for sizes in zip(*(_sql(f"SELECT {sizes} FROM {chunk}")[0] for (chunk,) in chunks),
                                          strict=True)]  # fmt: skip
    return {column: round(total / candles, 2) for column, total in zip(columns, totals, strict=True)}


def _compressed_candles() -> int:
    """Candles in compressed chunks: every symbol has every minute up to the newest chunk."""
    (newest,) = _sql("SELECT max(range_start) FROM timescaledb_information.chunks WHERE hypertable_name = %s",
                     ["market_candle"])[0]  # fmt: skip
    return SYMBOLS * (int(newest.timestamp() * 1000) - (HISTORY_END_MS - DAYS * DAY_MS)) // MINUTE_MS


def _sizes(candles: int, *, compress: bool) -> dict:
    """Bytes per candle of the candles, the roll-up and their indexes; TimescaleDB: also once compressed.

    `extrapolated_2y_450_symbols_gb`: TimescaleDB's newest week stays uncompressed (TIMESCALEDB_COMPRESS_AFTER).
    """
    hypertables = _hypertables()
    sizes = _bytes(hypertables)
    figures = {"bytes": sizes, "bytes_per_candle": round(sum(sizes.values()) / candles, 1)}
    if not compress:
        return {
            **figures,
            "extrapolated_2y_450_symbols_gb": round(figures["bytes_per_candle"] * PRODUCTION_CANDLES / 1e9, 1),
        }
    started = time.perf_counter()
    stats = _compress(hypertables)
    seconds = round(time.perf_counter() - started, 1)
    compressed_candles = _compressed_candles()
    compressed = sum(table["bytes_after"] for table in stats.values()) / compressed_candles
    after = _bytes(hypertables)
    extrapolated = compressed * (PRODUCTION_CANDLES - HOT_CANDLES) + figures["bytes_per_candle"] * HOT_CANDLES
    return {
        **figures,
        "bytes_per_candle_compressed": round(compressed, 1),
        "extrapolated_2y_450_symbols_gb": round(extrapolated / 1e9, 1),
        "compression": stats,
        "compressed_bytes_per_candle_by_column": _compressed_bytes_by_column(compressed_candles),
        "compress_seconds": seconds,
        "bytes_after_compression": after,
        "bytes_per_candle_after_compression": round(sum(after.values()) / candles, 1),
    }


def _klines(symbol_ids: list[int]) -> dict:
    """Random symbol, interval order, minute and direction (from the minute forwards, or up to it backwards)."""
    from apps.market.intervals import INTERVALS
    from apps.market.models import Symbol
    from apps.market.selectors import klines_aggregate

    rng = random.Random(13)
    symbols = Symbol.objects.in_bulk(symbol_ids)
    seconds = {name: [] for name in KLINES_INTERVALS}
    for _ in range(KLINES_WARMUP + KLINES_QUERIES):
        for name in rng.sample(KLINES_INTERVALS, len(KLINES_INTERVALS)):
            moment = rng.randrange(HISTORY_END_MS - DAYS * DAY_MS, HISTORY_END_MS, MINUTE_MS)
            forwards = rng.random() < 0.5
            started = time.perf_counter()
            klines = klines_aggregate(symbol=symbols[rng.choice(symbol_ids)], interval=INTERVALS[name],
                                      start_ms=moment if forwards else None, end_ms=None if forwards else moment,
                                      limit=1000)  # fmt: skip
            seconds[name].append(time.perf_counter() - started)
            assert klines, "every range holds candles"
    return {
        quantile: {name: percentile_ms(values[KLINES_WARMUP:], q) for name, values in seconds.items()}
        for quantile, q in (("p99", 99), ("p50", 50))
    }


def _backfill_rates(timings: list[tuple[int, float]], spans_per_symbol: int) -> tuple[float, float]:
    sample = timings[-max(1, round(SYMBOLS * SAMPLE_SHARE)) * spans_per_symbol :]

    def rate(part: list[tuple[int, float]]) -> float:
        return round(sum(rows for rows, _ in part) / sum(seconds for _, seconds in part))

    return rate(sample), rate(timings)


def _load_progress(symbols_loaded: int) -> None:
    if symbols_loaded % max(1, SYMBOLS // 10) == 0:
        _log(f"{symbols_loaded}/{SYMBOLS} symbols loaded")


def _measure_here() -> dict:
    timescale = os.environ["BENCH_STORAGE_DATABASE"] == "timescaledb"
    if timescale:  # compression happens below, when the load is complete, not whenever the policy wakes up
        _sql("SELECT alter_job(job_id, scheduled => false) FROM timescaledb_information.jobs WHERE job_id >= 1000")
    symbol_ids = synthetic_symbols(prefix=PREFIX, count=SYMBOLS)
    live_batches = _live_batches(symbol_ids)
    empty = _live(live_batches)
    _log(f"empty table live batch p99 {empty['p99']} ms")
    _sql("TRUNCATE " + ", ".join(TABLES))

    timings, started = [], time.perf_counter()
    candles = history_load(symbol_ids=symbol_ids, days=DAYS, timings=timings, progress=_load_progress)
    load_seconds = time.perf_counter() - started
    assert candles == SYMBOLS * DAYS * 1440, candles
    at_size, full_load = _backfill_rates(timings, len(backfill_spans(HISTORY_END_MS - DAYS * DAY_MS, HISTORY_END_MS)))
    _log(f"{candles} candles in {load_seconds:.0f} s; backfill at size {at_size}/s")
    _sql("VACUUM ANALYZE " + ", ".join(TABLES))

    sizes = _sizes(candles, compress=timescale)
    _log(f"bytes per candle {sizes['bytes_per_candle']}, compressed {sizes.get('bytes_per_candle_compressed')}")

    live = _live(live_batches)
    klines = _klines(symbol_ids)
    _log(f"live batch p99 {live['p99']} ms; klines p99 {klines['p99']}")
    return {
        "live_batch_p99_ms": live["p99"],
        "empty_table_live_batch_p99_ms": empty["p99"],
        "backfill_candles_per_second": at_size,
        "klines_p99_ms": klines["p99"],
        "candles": candles,
        **sizes,
        "live_batch_p50_ms": live["p50"],
        "empty_table_live_batch_p50_ms": empty["p50"],
        "klines_p50_ms": klines["p50"],
        "backfill_full_load_candles_per_second": full_load,
        "load_seconds": round(load_seconds),
    }


def _measure(database: str) -> dict:
    """In this process: Django on a fresh bench database of `database`, measured, then dropped."""
    url = DATABASES[database]
    os.environ.update(
        BENCH_STORAGE_DATABASE=database, DATABASE_URL=url, TIMESCALEDB=str(database == "timescaledb").lower()
    )
    database_drop(url)
    try:
        bench_database()
        return _measure_here()
    finally:
        from django.db import connections

        connections.close_all()
        database_drop(url)


def _in_subprocess(database: str) -> dict:
    done = subprocess.run([sys.executable, "-m", "bench.storage", database], stdout=subprocess.PIPE, text=True,
                          check=True)  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    if len(sys.argv) > 1:
        print(json.dumps(_measure(sys.argv[1])))
        return
    started = time.perf_counter()
    extra = {database: _in_subprocess(database) for database in DATABASES}
    timescale = extra["timescaledb"]
    spans = backfill_spans(HISTORY_END_MS - DAYS * DAY_MS, HISTORY_END_MS)
    write_result(
        name="storage",
        unit="ms",
        value=timescale["live_batch_p99_ms"],
        better="lower",
        baselines={"empty_table": timescale["empty_table_live_batch_p99_ms"]},
        params={
            "symbols": SYMBOLS, "days": DAYS, "candles": SYMBOLS * DAYS * 1440, "interval": "1m",
            "writer_calls_per_symbol": len(spans),
            "candles_per_writer_call": sorted({(end - start) // MINUTE_MS for start, end in spans}),
            "backfill_rate_sample": f"last {SAMPLE_SHARE:.0%} of the symbols loaded",
            "live_batch": f"{SYMBOLS} candles, one per symbol; {LIVE_BATCHES} batches after {LIVE_WARMUP} warm-up",
            "klines": f"{KLINES_QUERIES} per interval, limit 1000, random symbol, minute and direction",
            "timescaledb_compressed": "every chunk but the newest", "seconds": round(time.perf_counter() - started),
        },
        extra=extra,
    )  # fmt: skip


if __name__ == "__main__":
    main()
