import functools
from datetime import datetime, timedelta
from decimal import Decimal
from typing import NamedTuple

import numpy as np
from django.conf import settings
from django.db import connection
from django.db.models import F, Max, Min, Window
from django.db.models.functions import Lead

from apps.market import timescale
from apps.market.candle_values import decoded_sql, rollup_sql
from apps.market.intervals import HOUR_MS, Interval, datetime_from_ms
from apps.market.models import Candle, ExchangeGap, Symbol

EIGHT_PLACES = Decimal("1e-8")
MAX_MS = 253402300799000  # 9999-12-31


class Kline(NamedTuple):
    open_time: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    close_time: int
    quote_volume: Decimal
    trades: int
    taker_buy_volume: Decimal
    taker_buy_quote_volume: Decimal


def _origin(interval: Interval) -> str:
    return datetime_from_ms(interval.origin_ms).isoformat()


def _bucket_sql(interval: Interval) -> str:
    """PostgreSQL's timestamp at which the candle's bucket opens, aligned as Binance aligns its candles."""
    if interval.is_monthly:
        return "date_trunc('month', open_time AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"
    if settings.TIMESCALEDB:
        return timescale.time_bucket_sql(width=f"{interval.ms} milliseconds", column="open_time",
                                         origin=_origin(interval))  # fmt: skip
    return f"date_bin(INTERVAL '{interval.ms} milliseconds', open_time, TIMESTAMPTZ '{_origin(interval)}')"


def _bucket_epoch_sql(interval: Interval) -> str:
    """SQL for the epoch second at which the candle's bucket opens."""
    if connection.vendor == "sqlite":
        if interval.is_monthly:
            return "CAST(strftime('%%s', strftime('%%Y-%%m-01', open_time)) AS INTEGER)"
        epoch = "CAST(strftime('%%s', open_time) AS INTEGER)"
        return f"({epoch} - (({epoch} - {interval.origin_ms // 1000}) %% {interval.ms // 1000}))"
    return _epoch_sql(_bucket_sql(interval))


def _epoch_sql(timestamp: str) -> str:
    return f"CAST(extract(epoch FROM {timestamp}) AS bigint)"


SOURCE_ROW_MS = {"market_candle": 60_000, "market_hourlycandle": HOUR_MS}


def _source_table(interval: Interval) -> str:
    """PostgreSQL keeps an hourly roll-up (see HourlyCandle): every interval from 1h up is made of whole hours."""
    whole_hours = interval.ms is None or interval.ms % HOUR_MS == 0
    return "market_hourlycandle" if connection.vendor == "postgresql" and whole_hours else "market_candle"


def _value_sql(table: str, column: str, *, as_float: bool = False) -> str:
    """A value column of the source table: the hourly roll-up keeps NUMERIC sums, candles scaled integers."""
    if table == "market_candle":
        return decoded_sql(column, vendor=connection.vendor, as_float=as_float)
    return f"{column}::float8" if as_float else column


def _minutes_aggregate_sql(interval: Interval, symbols: str) -> str:
    """PostgreSQL's buckets of stored minutes: their integers aggregated, then decoded (candle_values.rollup_sql).

    TimescaleDB's first() and last() take each bucket's open and close in the same pass. Plain PostgreSQL looks them up
    afterwards by primary key (the outer query): far cheaper than ordering every bucket's rows. Grouped by timestamp,
    each bucket's epoch is computed once, not for each of its minutes.
    """
    rolled_up = rollup_sql(
        keys={"symbol_id": "symbol_id", "bucket_start": _bucket_sql(interval)},
        rows=f"market_candle WHERE symbol_id IN ({symbols}) AND open_time >= %s AND open_time < %s",
        open_close="first_last" if settings.TIMESCALEDB else None,
    )
    return f"SELECT rolled_up.*, {_epoch_sql('bucket_start')} AS bucket FROM ({rolled_up}) rolled_up"


def _buckets_sql(table: str, interval: Interval, symbols: str) -> str:
    """Each bucket's aggregates (with first_time and last_time on plain PostgreSQL: where its open and close are)."""
    if table == "market_candle" and connection.vendor == "postgresql":
        return _minutes_aggregate_sql(interval, symbols)
    value = functools.partial(_value_sql, table)
    open_close = (
        f"first({value('open')}, open_time) AS open, last({value('close')}, open_time) AS close"
        if settings.TIMESCALEDB
        else "min(open_time) AS first_time, max(open_time) AS last_time"
    )
    return f"""
        SELECT symbol_id, {_bucket_epoch_sql(interval)} AS bucket, {open_close}, max({value("high")}) AS high,
               min({value("low")}) AS low, sum({value("volume")}) AS volume,
               sum({value("quote_volume")}) AS quote_volume, sum(trades) AS trades,
               sum({value("taker_buy_volume")}) AS taker_buy_volume,
               sum({value("taker_buy_quote_volume")}) AS taker_buy_quote_volume
        FROM {table}
        WHERE symbol_id IN ({symbols}) AND open_time >= %s AND open_time < %s
        GROUP BY 1, 2
    """


def _open_close_sql(table: str) -> tuple[str, str]:
    """A bucket's open and close: aggregated with it on TimescaleDB; on plain PostgreSQL its first and last rows,
    looked up by primary key (a correlated subquery, so that no planner estimate can turn it into a scan). On a
    hypertable each of those lookups would pay run-time chunk exclusion over every chunk, seconds for 1000 candles.
    """
    if settings.TIMESCALEDB:
        return "b.open", "b.close"
    open_, close = _value_sql(table, "open"), _value_sql(table, "close")
    return (
        f"(SELECT {open_} FROM {table} WHERE symbol_id = b.symbol_id AND open_time = b.first_time)",
        f"(SELECT {close} FROM {table} WHERE symbol_id = b.symbol_id AND open_time = b.last_time)",
    )


def klines_aggregate_sql(interval: Interval, symbol_count: int) -> str:
    """Candles of `interval` for some symbols between two open times; parameters: the symbol ids, start, end."""
    table = _source_table(interval)
    open_, close = _open_close_sql(table)
    return f"""
        WITH buckets AS ({_buckets_sql(table, interval, ", ".join(["%s"] * symbol_count))})
        SELECT b.symbol_id, b.bucket, {open_}, b.high, b.low, {close}, b.volume, b.quote_volume, b.trades,
               b.taker_buy_volume, b.taker_buy_quote_volume
        FROM buckets b
        ORDER BY b.symbol_id, b.bucket
    """


def first_bucket_at_or_after_ms(interval: Interval, time_ms: int) -> int:
    bucket = interval.bucket_start_ms(time_ms)
    return bucket if bucket >= time_ms else interval.next_bucket_ms(bucket)


def bucket_steps_ms(interval: Interval, bucket_ms: int, count: int, *, forward: bool) -> int:
    if interval.ms is not None:
        return bucket_ms + (count if forward else -count) * interval.ms
    for _ in range(count):
        bucket_ms = interval.next_bucket_ms(bucket_ms) if forward else interval.bucket_start_ms(bucket_ms - 1)
    return bucket_ms


def _rows_per_bucket(table: str, interval: Interval) -> int:
    """The most source rows one bucket can hold (a month: 31 days of them)."""
    bucket_ms = interval.ms if interval.ms is not None else 31 * 1440 * 60_000
    return bucket_ms // SOURCE_ROW_MS[table]


def _stored_buckets_sql(table: str, interval: Interval, *, forward: bool) -> str:
    """The first and last of the first `limit` stored buckets met walking the rows from one end of a range (epoch
    seconds); parameters: symbol id, from, to, rows to read at most, limit.

    The walk follows the primary key and stops at the limit-th bucket (a bucket starts where the row before it
    belongs to another). The rows it reads are capped: `limit` buckets never hold more than `limit` times a bucket's
    rows, so the cap only bounds SQLite, which may compute the window over every row it is given.
    """
    order = "ASC" if forward else "DESC"
    # PostgreSQL compares the buckets as timestamps: an epoch for each row (a NUMERIC) doubled the walk's time.
    if connection.vendor == "postgresql":
        bucket, first_last = _bucket_sql(interval), f"{_epoch_sql('min(bucket)')}, {_epoch_sql('max(bucket)')}"
    else:
        bucket, first_last = _bucket_epoch_sql(interval), "min(bucket), max(bucket)"
    return f"""
        SELECT {first_last} FROM (
            SELECT bucket FROM (
                SELECT bucket, lag(bucket) OVER (ORDER BY open_time {order}) AS previous FROM (
                    SELECT {bucket} AS bucket, open_time FROM {table}
                    WHERE symbol_id = %s AND open_time >= %s AND open_time < %s
                    ORDER BY open_time {order} LIMIT %s
                ) source_rows
            ) walked
            WHERE previous IS NULL OR bucket <> previous
            LIMIT %s
        ) bucket_starts
    """


def klines_row_window(
    symbol: Symbol, interval: Interval, start_ms: int | None, end_ms: int | None, limit: int
) -> tuple[int, int] | None:
    """The 1m open times [from, to) of the buckets asked for, so that the query scans nothing more; None if none.

    Like Binance, `limit` counts candles that exist (halts and gaps take no place in it): with a start, the first
    `limit` stored buckets from it; otherwise the last `limit` up to `end`.
    """
    lowest = first_bucket_at_or_after_ms(interval, start_ms) if start_ms is not None else 0
    highest = interval.next_bucket_ms(interval.bucket_start_ms(end_ms)) if end_ms is not None else MAX_MS
    if lowest >= highest:
        return None
    table = _source_table(interval)
    bounds = [connection.ops.adapt_datetimefield_value(datetime_from_ms(ms)) for ms in (lowest, highest)]
    with connection.cursor() as cursor:
        cursor.execute(
            _stored_buckets_sql(table, interval, forward=start_ms is not None),
            [symbol.id, *bounds, limit * _rows_per_bucket(table, interval), limit],
        )
        first, last = cursor.fetchone()
    if first is None:
        return None
    return int(first) * 1000, interval.next_bucket_ms(int(last) * 1000)


def _decimal(value: object) -> Decimal:
    # PostgreSQL sums NUMERIC exactly; SQLite hands back floats, rounded here to the exchange's 8 places.
    return value if isinstance(value, Decimal) else Decimal(str(value)).quantize(EIGHT_PLACES)


def klines_aggregate(
    *, symbol: Symbol, interval: Interval, start_ms: int | None, end_ms: int | None, limit: int
) -> list[Kline]:
    """Candles of `interval` rolled up in the database from stored 1m candles, oldest first, like Binance's klines:
    with a start, the first `limit` buckets from it; otherwise the last `limit` up to `end` (or now)."""
    window = klines_row_window(symbol, interval, start_ms, end_ms, limit)
    if window is None:
        return []
    bounds = [connection.ops.adapt_datetimefield_value(datetime_from_ms(ms)) for ms in window]
    with connection.cursor() as cursor:
        cursor.execute(klines_aggregate_sql(interval, 1), [symbol.id, *bounds])
        rows = [row[1:] for row in cursor.fetchall()]
    rows = rows[:limit] if start_ms is not None else rows[-limit:]
    return [_kline(interval, row) for row in rows]


def _kline(interval: Interval, row: tuple) -> Kline:
    open_ms = int(row[0]) * 1000
    open_, high, low, close, volume, quote_volume = map(_decimal, row[1:7])
    return Kline(open_ms, open_, high, low, close, volume, interval.next_bucket_ms(open_ms) - 1, quote_volume,
                 int(row[7]), _decimal(row[8]), _decimal(row[9]))  # fmt: skip


ONE_MINUTE = timedelta(minutes=1)
TimeRange = tuple[datetime, datetime]  # [start, end)


def _holes_between_candles(symbol: Symbol, start: datetime, end: datetime) -> list[TimeRange]:
    holes = (
        Candle.objects.filter(symbol=symbol, open_time__gte=start, open_time__lt=end)
        .annotate(next_open_time=Window(Lead("open_time"), order_by=F("open_time").asc()))
        .filter(next_open_time__gt=F("open_time") + ONE_MINUTE)
        .values_list("open_time", "next_open_time")
    )
    return [(open_time + ONE_MINUTE, next_open_time) for open_time, next_open_time in holes]


def _subtract(ranges: list[TimeRange], known: list[TimeRange]) -> list[TimeRange]:
    remaining = []
    for start, end in ranges:
        for known_start, known_end in known:
            if known_start <= start < known_end:
                start = known_end
            elif start < known_start < end:
                remaining.append((start, known_start))
                start = min(end, known_end)
        if start < end:
            remaining.append((start, end))
    return remaining


def candle_gaps_list(*, symbol: Symbol, start: datetime, end: datetime) -> list[TimeRange]:
    """Minute ranges in [start, end) with no stored candle, less the exchange's own known gaps.

    `start` should already be the symbol's history start (Symbol.history_start): nothing before a listing is missing.
    """
    bounds = Candle.objects.filter(symbol=symbol, open_time__gte=start, open_time__lt=end).aggregate(
        first=Min("open_time"), last=Max("open_time")
    )
    if bounds["first"] is None:
        missing = [(start, end)]
    else:
        missing = _holes_between_candles(symbol, start, end)
        if bounds["first"] > start:
            missing.insert(0, (start, bounds["first"]))
        if bounds["last"] + ONE_MINUTE < end:
            missing.append((bounds["last"] + ONE_MINUTE, end))
    known = ExchangeGap.objects.filter(symbol=symbol, end__gt=start, start__lt=end).order_by("start")
    return _subtract(missing, list(known.values_list("start", "end")))


def candles_first_open_time(*, symbol: Symbol) -> datetime | None:
    return Candle.objects.filter(symbol=symbol).aggregate(first=Min("open_time"))["first"]


def candles_last_open_time(*, symbol: Symbol, before: datetime) -> datetime | None:
    return Candle.objects.filter(symbol=symbol, open_time__lt=before).aggregate(last=Max("open_time"))["last"]


class ClosedCandles(NamedTuple):
    """One symbol's candles on one interval as float64 arrays, oldest first, for indicator arithmetic."""

    open_times: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray


def _closed_candles_sql(interval: Interval, symbol_count: int) -> str:
    if connection.vendor != "postgresql":
        return klines_aggregate_sql(interval, symbol_count)  # SQLite hands back floats already
    # Buckets of a few source rows each (hours into 4h, say): ordering inside them costs nothing, and double
    # precision spares Python a Decimal per number.
    symbols = ", ".join(["%s"] * symbol_count)
    table = _source_table(interval)
    value = functools.partial(_value_sql, table, as_float=True)
    if interval.ms == SOURCE_ROW_MS[table]:  # the stored rows are the candles asked for: nothing to roll up
        return f"""
            SELECT symbol_id, CAST(extract(epoch FROM open_time) AS bigint), {value("open")}, {value("high")},
                   {value("low")}, {value("close")}, {value("volume")}
            FROM {table}
            WHERE symbol_id IN ({symbols}) AND open_time >= %s AND open_time < %s
            ORDER BY 1, 2
        """
    return f"""
        SELECT symbol_id, {_bucket_epoch_sql(interval)} AS bucket,
               (array_agg({value("open")} ORDER BY open_time))[1], max({value("high")}), min({value("low")}),
               (array_agg({value("close")} ORDER BY open_time DESC))[1], sum({_value_sql(table, "volume")})::float8
        FROM {table}
        WHERE symbol_id IN ({symbols}) AND open_time >= %s AND open_time < %s
        GROUP BY 1, 2
        ORDER BY 1, 2
    """


def candles_many(*, symbol_ids: list[int], interval: Interval, start_ms: int, end_ms: int) -> dict[int, ClosedCandles]:
    """The candles of `interval` made of the stored 1m candles opened in [start_ms, end_ms), for many symbols in one
    query; a bucket the range ends inside comes with the minutes it has."""
    bounds = [connection.ops.adapt_datetimefield_value(datetime_from_ms(ms)) for ms in (start_ms, end_ms)]
    with connection.cursor() as cursor:
        cursor.execute(_closed_candles_sql(interval, len(symbol_ids)), [*symbol_ids, *bounds])
        rows = [row[:7] for row in cursor.fetchall()]
    if not rows:
        return {}
    table = np.array(rows, dtype=np.float64)
    starts = np.flatnonzero(np.diff(table[:, 0])) + 1
    return {
        int(rows_of_symbol[0, 0]): ClosedCandles(
            (rows_of_symbol[:, 1] * 1000).astype(np.int64), *rows_of_symbol[:, 2:7].T
        )
        for rows_of_symbol in np.split(table, starts)
    }


def closed_candles_many(
    *, symbol_ids: list[int], interval: Interval, count: int, end_ms: int
) -> dict[int, ClosedCandles]:
    """The last `count` candles of `interval` that closed by `end_ms`, for many symbols in one query."""
    start_ms = bucket_steps_ms(interval, interval.bucket_start_ms(end_ms), count, forward=False)
    closed = {}
    for symbol_id, candles in candles_many(symbol_ids=symbol_ids, interval=interval, start_ms=start_ms,
                                           end_ms=end_ms).items():  # fmt: skip
        if interval.next_bucket_ms(int(candles.open_times[-1])) > end_ms:  # a bucket still forming is left out
            candles = ClosedCandles(*(column[:-1] for column in candles))
        if len(candles.open_times):
            closed[symbol_id] = candles
    return closed
