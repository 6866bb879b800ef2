"""`indicators_incremental`: one closed 1m candle for each of 500 symbols through the incremental path, which
brings the snapshot of every timeframe (15m, 1h, 4h, 1d) up to date from the stored states. `value` is the p99 of
that step's time in ms over every timed minute; the baseline is the full computation of the same 2000 snapshots
from 1000 candles each (`full_recompute`), same run, same data. `extra` has what writing the 2000 snapshots to
PostgreSQL adds."""

import statistics
import time

import numpy as np

SYMBOLS = 500
CANDLES = 1000
TIMEFRAMES = ["15m", "1h", "4h", "1d"]
ROUNDS = 5
MINUTES_PER_ROUND = 14  # every minute of a quarter-hour after its first: all four timeframes keep their state
DAY_MS = 86_400_000
MINUTE_MS = 60_000
BUCKET_MS = 1_767_225_600_000  # 2026-01-01 00:00 UTC: a candle of every timeframe opens


def _series(generator: np.random.Generator, candles_per_day: int):
    from apps.indicators.registry import Series

    close = 100 * np.exp(np.cumsum(generator.normal(0, 0.004, CANDLES)))
    spread = np.abs(generator.normal(0, 0.002, CANDLES))
    return Series(np.roll(close, 1), close * (1 + spread), close * (1 - spread), close,
                  generator.uniform(10, 1000, CANDLES), candles_per_day)  # fmt: skip


def _full_computation(series_by_timeframe):
    """The scheduled path's work for the same snapshots: all indicators over each series, then the state."""
    from apps.indicators.engine import indicators_compute, snapshot_at, state_at_end

    states = {}
    for timeframe, series_set in series_by_timeframe.items():
        for symbol_id, series in enumerate(series_set, start=1):
            columns = indicators_compute(series)
            snapshot_at(columns, -1)
            states[timeframe, symbol_id] = state_at_end(series, columns)
    return states


def _minutes(generator: np.random.Generator, open_ms: int):
    from apps.indicators.live import Minutes

    close = 100 * np.exp(generator.normal(0, 0.004, SYMBOLS))
    spread = np.abs(generator.normal(0, 0.001, SYMBOLS))
    return Minutes(open_ms, np.arange(1, SYMBOLS + 1), close, close * (1 + spread), close * (1 - spread), close,
                   generator.uniform(1, 20, SYMBOLS))  # fmt: skip


def _live(states):
    from apps.indicators.live import LiveSnapshots
    from apps.market.intervals import INTERVALS

    def stored_states(timeframe: str, symbol_ids: list[int]):
        open_ms = BUCKET_MS - INTERVALS[timeframe].ms
        return {symbol_id: (open_ms, states[timeframe, symbol_id]) for symbol_id in symbol_ids}

    return LiveSnapshots(TIMEFRAMES, stored_states=stored_states, stored_candles=lambda *args: {})


def _timed_rounds(states, generator) -> list[float]:
    """Per round: a fresh incremental path takes the quarter-hour's first minute (reading the states), then each
    later minute is timed."""
    timings = []
    for _ in range(ROUNDS):
        live = _live(states)
        live.update(_minutes(generator, BUCKET_MS))
        for minute in range(1, MINUTES_PER_ROUND + 1):
            minutes = _minutes(generator, BUCKET_MS + minute * MINUTE_MS)
            started = time.perf_counter()
            live.update(minutes)
            timings.append((time.perf_counter() - started) * 1000)
    return timings


def _write_ms(states, generator) -> list[float]:
    """The same minutes through `snapshots_update_live`, which reads the states stored in PostgreSQL and writes
    the snapshots there."""
    from apps.indicators.models import Snapshot
    from apps.indicators.services import live_snapshots, snapshots_update_live
    from apps.market.intervals import INTERVALS, datetime_from_ms
    from apps.market.models import Symbol

    Symbol.objects.filter(symbol__startswith="BENCHINC").delete()
    symbols = Symbol.objects.bulk_create([
        Symbol(symbol=f"BENCHINC{n}USDT", base_asset=f"BENCHINC{n}", quote_asset="USDT", tick_size="0.01",
               step_size="0.001") for n in range(1, SYMBOLS + 1)
    ])  # fmt: skip
    Snapshot.objects.bulk_create([
        Snapshot(symbol=symbol, timeframe=timeframe, open_time=datetime_from_ms(BUCKET_MS), values={},
                 state_open_time=datetime_from_ms(BUCKET_MS - INTERVALS[timeframe].ms), state=states[timeframe, n])
        for n, symbol in enumerate(symbols, start=1) for timeframe in TIMEFRAMES
    ])  # fmt: skip
    live_snapshots.cache_clear()
    timings = []
    for minute in range(MINUTES_PER_ROUND + 1):
        minutes = _minutes(generator, BUCKET_MS + minute * MINUTE_MS)
        numbers = np.column_stack([minutes.open, minutes.high, minutes.low, minutes.close, minutes.volume]).tolist()
        rows = [
            (symbol.id, minutes.open_ms, *map(str, row), "0", 0, "0", "0")
            for symbol, row in zip(symbols, numbers, strict=True)
        ]
        started = time.perf_counter()
        snapshots_update_live(rows=rows)
        if minute:  # the first reads the states
            timings.append((time.perf_counter() - started) * 1000)
    Symbol.objects.filter(symbol__startswith="BENCHINC").delete()  # their snapshots go with them
    return timings


def main() -> None:
    from bench.common import bench_database, write_result

    bench_database()
    from django.conf import settings

    settings.INDICATORS_TIMEFRAMES = TIMEFRAMES
    generator = np.random.default_rng(11)
    series_by_timeframe = {timeframe: [_series(generator, DAY_MS // (60_000 * minutes)) for _ in range(SYMBOLS)]
                           for timeframe, minutes in (("15m", 15), ("1h", 60), ("4h", 240), ("1d", 1440))}  # fmt: skip
    started = time.perf_counter()
    states = _full_computation(series_by_timeframe)
    full_ms = (time.perf_counter() - started) * 1000
    timings = _timed_rounds(states, generator)
    with_write = _write_ms(states, generator)
    write_result(
        name="indicators_incremental",
        unit="ms",
        value=round(float(np.percentile(timings, 99)), 2),
        better="lower",
        baselines={"full_recompute": round(full_ms, 1)},
        params={
            "symbols": SYMBOLS,
            "timeframes": TIMEFRAMES,
            "state_from_candles": CANDLES,
            "minutes_timed": len(timings),
        },
        extra={
            "median_ms": round(statistics.median(timings), 2),
            "max_ms": round(max(timings), 2),
            "with_postgresql_write_median_ms": round(statistics.median(with_write), 1),
            "target": "under 5 ms for one candle of each of 500 symbols",
        },
    )


if __name__ == "__main__":
    main()
