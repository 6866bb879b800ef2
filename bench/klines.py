"""`klines`: 1d candles over 2 years of 1m candles of one symbol (about 1.05M rows) through the API's query path,
against fetching the 1m rows through the ORM and resampling them in pandas (`orm_pandas`), interleaved.

The symbol's candles sit in a table of realistic size (bench.common.history_database: 450 other symbols x 60 days).
"""

import statistics
import time

from bench.common import HISTORY_DAYS, HISTORY_SYMBOLS, history_database, write_result

START_MS = 1672531200000  # 2023-01-01
DAYS = 730
ROUNDS = 5
PRICES = ("open", "high", "low", "close")


def _synthetic_minutes(symbol_id: int) -> list[tuple]:
    rows, price = [], 20000.0
    for minute in range(DAYS * 1440):
        close = price * (1 + ((minute * 7919) % 201 - 100) / 200_000)
        rows.append((symbol_id, START_MS + minute * 60_000, f"{price:.2f}", f"{max(price, close) + 1:.2f}",
                     f"{min(price, close) - 1:.2f}", f"{close:.2f}", "1.50000000", f"{1.5 * close:.8f}", 10,
                     "0.70000000", f"{0.7 * close:.8f}"))  # fmt: skip
        price = close
    return rows


def _symbol():
    from apps.market.models import Candle, HourlyCandle, Symbol
    from apps.market.services.candles import candles_upsert

    symbol, _ = Symbol.objects.get_or_create(
        symbol="KLINESBENCHUSDT",
        defaults={"base_asset": "KLINESBENCH", "quote_asset": "USDT", "status": "TRADING", "tick_size": "0.01",
                  "step_size": "0.001"},
    )  # fmt: skip
    loaded = (Candle.objects.filter(symbol=symbol).count(), HourlyCandle.objects.filter(symbol=symbol).count())
    if loaded != (DAYS * 1440, DAYS * 24):
        rows = _synthetic_minutes(symbol.id)
        for start in range(0, len(rows), 100_000):
            candles_upsert(rows=rows[start : start + 100_000])
    return symbol


def _ours(symbol) -> list[tuple]:
    from apps.market.intervals import INTERVALS
    from apps.market.selectors import klines_aggregate

    klines = klines_aggregate(symbol=symbol, interval=INTERVALS["1d"], start_ms=START_MS, end_ms=None, limit=1000)
    return [(k.open_time, k.open, k.high, k.low, k.close, k.volume) for k in klines]


def _orm_pandas(symbol) -> list[tuple]:
    import pandas as pd

    from apps.market.candle_values import units_decimal
    from apps.market.models import Candle

    rows = (
        Candle.objects.filter(symbol=symbol)
        .order_by("open_time")
        .values_list("open_time", "open", "high", "low", "close", "volume", "price_scale", "volume_scale")
    )
    frame = pd.DataFrame.from_records(list(rows), columns=["time", *PRICES, "volume", "price_scale", "volume_scale"])
    # Stored integers at each row's scale, brought to one scale (the exchange's 8 places) so that pandas aggregates
    # integers, vectorised; only the days' results become decimals.
    for column, scale in (*((price, "price_scale") for price in PRICES), ("volume", "volume_scale")):
        frame[column] *= 10 ** (8 - frame[scale])
    daily = frame.set_index("time").resample("1D").agg(
        {"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"}
    ).dropna()  # fmt: skip
    days = zip(daily.index, daily.itertuples(index=False), strict=True)
    return [(int(day.timestamp() * 1000), *(units_decimal(int(value), 8) for value in row)) for day, row in days]


def _timed_ms(run, symbol) -> tuple[float, list]:
    started = time.perf_counter()
    result = run(symbol)
    return (time.perf_counter() - started) * 1000, result


def main() -> None:
    history_database()
    symbol = _symbol()
    ours, baseline = [], []
    for _ in range(ROUNDS):
        elapsed, ours_result = _timed_ms(_ours, symbol)
        ours.append(elapsed)
        elapsed, baseline_result = _timed_ms(_orm_pandas, symbol)
        baseline.append(elapsed)
    assert [row[0] for row in ours_result] == [row[0] for row in baseline_result], "both paths give the same days"
    assert [row[1:5] for row in ours_result] == [row[1:5] for row in baseline_result], "and the same prices"
    write_result(
        name="klines",
        unit="ms",
        value=round(statistics.median(ours), 1),
        better="lower",
        baselines={"orm_pandas": round(statistics.median(baseline), 1)},
        params={
            "rows_1m": DAYS * 1440,
            "days": DAYS,
            "interval": "1d",
            "rounds": ROUNDS,
            "database": "PostgreSQL",
            "table": f"also {HISTORY_SYMBOLS} symbols x {HISTORY_DAYS} days of 1m candles",
        },
        extra={
            "ours_ms": [round(v, 1) for v in ours],
            "orm_pandas_ms": [round(v, 1) for v in baseline],
            "candles": len(ours_result),
        },
    )


if __name__ == "__main__":
    main()
