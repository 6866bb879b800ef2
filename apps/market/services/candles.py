"""The candle writer: the one way candles get into the database.

PostgreSQL: COPY into a session-local staging table, then one INSERT ... ON CONFLICT upsert (Zulip measured this
kind of set-based write at 15x the ORM) that turns the exchange's decimals into the stored integers and scales
(apps.market.candle_values), and the hourly roll-up of the touched hours refreshed in the same transaction.
SQLite (the embedded default): executemany of the same upsert, the integers computed in Python, no roll-up.
Both only rewrite a row whose values differ, so writing the same candles twice changes nothing.
"""

import io
from collections.abc import Iterable
from datetime import UTC, datetime

from django.db import connection, transaction

from apps.market import candle_values
from apps.market.candle_values import SCALES, decoded_sql, scales_sql, units_sql
from apps.market.intervals import HOUR_MS, datetime_from_ms
from apps.market.klines import CandleRow
from apps.market.models import Symbol

VALUE_COLUMNS = (
    "open",
    "high",
    "low",
    "close",
    "volume",
    "quote_volume",
    "trades",
    "taker_buy_volume",
    "taker_buy_quote_volume",
)
_VALUES = ", ".join(VALUE_COLUMNS)
STORED_COLUMNS = (*VALUE_COLUMNS, *SCALES)
_STORED = ", ".join(STORED_COLUMNS)


def _on_conflict(table: str, columns: tuple[str, ...]) -> str:
    """Update a stored row only when a value differs: writing the same candles twice changes nothing."""
    stored = ", ".join(f"{table}.{column}" for column in columns)
    incoming = ", ".join(f"excluded.{column}" for column in columns)
    assignments = ", ".join(f"{column} = excluded.{column}" for column in columns)
    return (
        f"ON CONFLICT (symbol_id, open_time) DO UPDATE SET {assignments} WHERE ({stored}) IS DISTINCT FROM ({incoming})"
    )


_STAGING_CREATE = """
CREATE TEMPORARY TABLE IF NOT EXISTS candle_staging (
    symbol_id integer, open_ms bigint, open numeric, high numeric, low numeric, close numeric, volume numeric,
    quote_volume numeric, trades integer, taker_buy_volume numeric, taker_buy_quote_volume numeric
) ON COMMIT DELETE ROWS
"""
_SCALES = scales_sql(tick_size="symbol.tick_size", step_size="symbol.step_size")
_STAGING_UPSERT = f"""
INSERT INTO market_candle (symbol_id, open_time, {_STORED})
SELECT symbol_id, TIMESTAMPTZ 'epoch' + open_ms * INTERVAL '1 millisecond',
       {", ".join(column if column == "trades" else units_sql(column) for column in VALUE_COLUMNS)}, {", ".join(SCALES)}
FROM (
    SELECT staged.*, {", ".join(f"{sql} AS {scale}" for scale, sql in _SCALES.items())}
    FROM candle_staging staged LEFT JOIN market_symbol symbol ON symbol.id = staged.symbol_id
    OFFSET 0  -- computed once a row: flattened, each scale would be computed again for every value that uses it
) scaled
{_on_conflict("market_candle", STORED_COLUMNS)}
"""


def _minute(column: str) -> str:
    return decoded_sql(column, vendor="postgresql", alias="minute.")


# The hours this batch touched, each rolled up again from all its stored minutes. LATERAL makes every hour one
# primary-key range read of at most 60 rows, whatever the planner estimates; the batch's own bounds, as constants,
# let TimescaleDB exclude every other chunk while planning. A batch re-reads rows it just wrote, still in buffers.
_HOURLY_REFRESH = f"""
INSERT INTO market_hourlycandle (symbol_id, open_time, {_VALUES})
SELECT touched.symbol_id, touched.open_time, hour.open, hour.high, hour.low, hour.close, hour.volume,
       hour.quote_volume, hour.trades, hour.taker_buy_volume, hour.taker_buy_quote_volume
FROM (
    SELECT DISTINCT symbol_id, TIMESTAMPTZ 'epoch' + (open_ms / 3600000) * INTERVAL '1 hour' AS open_time
    FROM candle_staging
) touched
CROSS JOIN LATERAL (
    SELECT (array_agg({_minute("open")} ORDER BY minute.open_time))[1] AS open, max({_minute("high")}) AS high,
           min({_minute("low")}) AS low, (array_agg({_minute("close")} ORDER BY minute.open_time DESC))[1] AS close,
           sum({_minute("volume")}) AS volume, sum({_minute("quote_volume")}) AS quote_volume,
           sum(minute.trades) AS trades, sum({_minute("taker_buy_volume")}) AS taker_buy_volume,
           sum({_minute("taker_buy_quote_volume")}) AS taker_buy_quote_volume
    FROM market_candle minute
    WHERE minute.symbol_id = touched.symbol_id AND minute.open_time >= touched.open_time
      AND minute.open_time < touched.open_time + INTERVAL '1 hour'
      AND minute.open_time >= %(first_hour)s AND minute.open_time < %(after_last_hour)s
) hour
{_on_conflict("market_hourlycandle", VALUE_COLUMNS)}
"""
_SQLITE_UPSERT = f"""
INSERT INTO market_candle (symbol_id, open_time, {_STORED}) VALUES ({", ".join(["%s"] * (2 + len(STORED_COLUMNS)))})
{_on_conflict("market_candle", STORED_COLUMNS)}
"""
SQLITE_BATCH = 5000


def _unique_by_key(rows: Iterable[CandleRow]) -> list[CandleRow]:
    # One statement may not touch a row twice (PostgreSQL refuses); the last version of a candle wins.
    return list({(row[0], row[1]): row for row in rows}.values())


def candles_upsert(*, rows: Iterable[CandleRow]) -> int:
    """Store validated candles; returns how many rows were inserted or changed."""
    unique_rows = _unique_by_key(rows)
    if not unique_rows:
        return 0
    if connection.vendor == "postgresql":
        return _upsert_postgresql(unique_rows)
    return _upsert_sqlite(unique_rows)


# Validated decimal text holds no tab, newline or backslash, so it goes into COPY's text format as it is.
_COPY_LINE = "%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n"


def _copy_text(rows: list[CandleRow]) -> io.StringIO:
    return io.StringIO("".join([_COPY_LINE % row for row in rows]))


def _touched_hours(rows: list[CandleRow]) -> dict[str, datetime]:
    open_times = [row[1] for row in rows]
    first_ms = min(open_times) // HOUR_MS * HOUR_MS
    after_last_ms = (max(open_times) // HOUR_MS + 1) * HOUR_MS
    return {"first_hour": datetime_from_ms(first_ms), "after_last_hour": datetime_from_ms(after_last_ms)}


def _upsert_postgresql(rows: list[CandleRow]) -> int:
    with transaction.atomic(), connection.cursor() as cursor:
        # Candles can always be fetched again and the gap detector finds any lost: a crash may cost the last
        # fraction of a second of writes, never consistency, and the commit need not wait for the disk.
        cursor.execute("SET LOCAL synchronous_commit = off")
        cursor.execute(_STAGING_CREATE)
        # ON COMMIT empties it only when this is the outermost transaction; inside a caller's, rows would linger.
        cursor.execute("TRUNCATE candle_staging")
        cursor.copy_expert("COPY candle_staging FROM STDIN", _copy_text(rows))
        cursor.execute(_STAGING_UPSERT)
        written = cursor.rowcount
        if written:
            cursor.execute(_HOURLY_REFRESH, _touched_hours(rows))
        return written


def _sqlite_time(open_ms: int) -> str:
    # Django keeps aware datetimes in SQLite as naive UTC ISO text; the writer must store the same text.
    return datetime.fromtimestamp(open_ms / 1000, UTC).replace(tzinfo=None).isoformat(" ")


def grid_places(symbol_ids: set[int]) -> dict[int, tuple[int, int]]:
    """Each symbol's (tick size places, step size places): what scales its candles' values in Python."""
    grids = Symbol.objects.filter(id__in=symbol_ids).values_list("id", "tick_size", "step_size")
    return {
        symbol_id: (candle_values.places(tick_size), candle_values.places(step_size))
        for symbol_id, tick_size, step_size in grids
    }


def _stored_sqlite(row: CandleRow, grid: tuple[int, int]) -> tuple:
    stored = candle_values.stored_row(row[2:], tick_places=grid[0], step_places=grid[1])
    return (row[0], _sqlite_time(row[1]), *stored)


def _upsert_sqlite(rows: list[CandleRow]) -> int:
    written = 0
    grids = grid_places({row[0] for row in rows})
    with transaction.atomic(), connection.cursor() as cursor:
        for start in range(0, len(rows), SQLITE_BATCH):
            batch = [_stored_sqlite(row, grids.get(row[0], (0, 0))) for row in rows[start : start + SQLITE_BATCH]]
            cursor.executemany(_SQLITE_UPSERT, batch)
            written += cursor.rowcount
    return written
