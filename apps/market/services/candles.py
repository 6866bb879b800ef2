"""The candle writer: the one way candles get into the database.

PostgreSQL: COPY into a session-local staging table, then one set-based INSERT (Zulip measured this kind of write at
15x the ORM; ON CONFLICT only when some of the batch may be stored already) that turns the exchange's decimals into
the stored integers and scales (apps.market.candle_values), and the hourly roll-up of the hours it wrote brought up
to date in the same transaction. SQLite (the embedded default): executemany of the upsert, the integers computed in
Python, no roll-up.
Both only rewrite a row whose values differ, so writing the same candles twice changes nothing.
"""

import io
from collections.abc import Iterable
from datetime import UTC, datetime

from django.db import IntegrityError, connection, transaction

from apps.market import candle_values
from apps.market.candle_values import SCALES, rollup_sql, scales_sql, units_sql
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
# Writers of one symbol take turns. Each rolls its hours up from the minutes it can see, and another writer's
# uncommitted minutes are invisible to it (a REST repair beside the stream, two catch-ups): side by side, one minute
# of the hour was lost or the hour's open and close taken from the wrong minute. A lock until commit per group of
# symbols (id modulo LOCK_GROUPS: a live batch of 450 symbols takes 64 locks, not 450, and streamer shards 0/2 and 1/2
# take different ones), in order so that two batches cannot deadlock; the key's first half keeps them apart from
# other locks.
_LOCK_SYMBOL_GROUPS = "SELECT pg_advisory_xact_lock(%s, symbol_group) FROM unnest(%s::integer[]) AS symbol_group"
CANDLE_WRITER_LOCK = 1_000_001
LOCK_GROUPS = 64
_SCALES = scales_sql(tick_size="symbol.tick_size", step_size="symbol.step_size")
# Every statement on the candles carries the batch's own bounds as constants, so that TimescaleDB excludes every
# other chunk while planning.
_IN_BATCH = "{alias}.open_time >= %(first_hour)s AND {alias}.open_time < %(after_last_hour)s"


def _staging_insert(on_conflict: str) -> str:
    """The staged candles into market_candle. Returns what it wrote (inserted or changed) per symbol-hour: how many
    minutes, whether that was one new minute (see _HOURLY_APPEND) and the last of them."""
    return f"""
    WITH written AS (
        INSERT INTO market_candle (symbol_id, open_time, {_STORED})
        SELECT symbol_id, TIMESTAMPTZ 'epoch' + open_ms * INTERVAL '1 millisecond',
               {", ".join(column if column == "trades" else units_sql(column) for column in VALUE_COLUMNS)},
               {", ".join(SCALES)}
        FROM (
            SELECT staged.*, {", ".join(f"{sql} AS {scale}" for scale, sql in _SCALES.items())}
            FROM candle_staging staged LEFT JOIN market_symbol symbol ON symbol.id = staged.symbol_id
            OFFSET 0  -- computed once a row: flattened, each scale would be computed for every value that uses it
        ) scaled
        {on_conflict}
        RETURNING symbol_id, open_time, xmax = 0 AS inserted
    )
    SELECT symbol_id, date_bin(INTERVAL '1 hour', open_time, TIMESTAMPTZ 'epoch'), count(*),
           count(*) = 1 AND bool_and(inserted), max(open_time)
    FROM written
    GROUP BY 1, 2
    """


_STAGING_UPSERT = _staging_insert(_on_conflict("market_candle", STORED_COLUMNS))
_STAGING_INSERT = _staging_insert("")
# Whether the database may hold a candle of the batch already: one primary-key range probe per symbol.
#
# Every probe of the candles below is a subquery with LIMIT: the planner has to run it for each row, by primary key,
# whatever it estimates. As EXISTS or a join, a table that grew since its last ANALYZE (a fresh database fills
# minutes before autovacuum looks) was hashed whole, hundreds of milliseconds a batch.
_ANY_STORED = f"""
SELECT EXISTS (
    SELECT FROM (
        SELECT symbol_id, TIMESTAMPTZ 'epoch' + min(open_ms) * INTERVAL '1 millisecond' AS first_time,
               TIMESTAMPTZ 'epoch' + max(open_ms) * INTERVAL '1 millisecond' AS last_time
        FROM candle_staging
        GROUP BY 1
    ) batch
    WHERE (
        SELECT true FROM market_candle stored
        WHERE stored.symbol_id = batch.symbol_id AND stored.open_time >= batch.first_time
          AND stored.open_time <= batch.last_time AND {_IN_BATCH.format(alias="stored")}
        LIMIT 1
    )
)
"""


# The live case: an hour that got one new minute, later than every minute it held, takes it into its stored roll-up
# (or starts with it): the cost of the batch, not of the hour's 60 minutes, and the minute's values straight from the
# batch. Returns the hours it folded.
_HOURLY_APPEND = f"""
INSERT INTO market_hourlycandle (symbol_id, open_time, {_VALUES})
SELECT staged.symbol_id, appended.hour, {", ".join(f"staged.{column}" for column in VALUE_COLUMNS)}
FROM unnest(%(symbol_ids)s::integer[], %(hours)s::timestamptz[], %(minutes)s::timestamptz[])
     AS appended(symbol_id, hour, minute)
JOIN candle_staging staged ON staged.symbol_id = appended.symbol_id
     AND TIMESTAMPTZ 'epoch' + staged.open_ms * INTERVAL '1 millisecond' = appended.minute
CROSS JOIN LATERAL (
    SELECT max(other.open_time) AS open_time FROM market_candle other
    WHERE other.symbol_id = appended.symbol_id AND other.open_time >= appended.hour
      AND other.open_time < appended.hour + INTERVAL '1 hour' AND other.open_time <> appended.minute
      AND {_IN_BATCH.format(alias="other")}
) last_other
WHERE CASE
    WHEN last_other.open_time IS NULL THEN true  -- the hour's first minute
    ELSE last_other.open_time < appended.minute AND (
        SELECT true FROM market_hourlycandle stored  -- else minutes were stored without their roll-up
        WHERE stored.symbol_id = appended.symbol_id AND stored.open_time = appended.hour
          AND {_IN_BATCH.format(alias="stored")}
        LIMIT 1
    )
END
ON CONFLICT (symbol_id, open_time) DO UPDATE SET
    high = greatest(market_hourlycandle.high, excluded.high), low = least(market_hourlycandle.low, excluded.low),
    close = excluded.close, {", ".join(f"{column} = market_hourlycandle.{column} + excluded.{column}"
                                       for column in ("volume", "quote_volume", "trades", "taker_buy_volume",
                                                      "taker_buy_quote_volume"))}
RETURNING symbol_id, open_time
"""  # fmt: skip

# Any other hour the batch wrote is rolled up again from all its stored minutes. LATERAL makes every hour one
# primary-key range read of at most 60 rows, whatever the planner estimates. A batch re-reads rows it just wrote,
# still in buffers.
_HOUR_MINUTES = f"""
    market_candle minute
    WHERE minute.symbol_id = touched.symbol_id AND minute.open_time >= touched.open_time
      AND minute.open_time < touched.open_time + INTERVAL '1 hour' AND {_IN_BATCH.format(alias="minute")}
"""
_HOURLY_REFRESH = f"""
INSERT INTO market_hourlycandle (symbol_id, open_time, {_VALUES})
SELECT touched.symbol_id, touched.open_time, {", ".join(f"hour.{column}" for column in VALUE_COLUMNS)}
FROM unnest(%(symbol_ids)s::integer[], %(hours)s::timestamptz[]) AS touched(symbol_id, open_time)
CROSS JOIN LATERAL ({rollup_sql(keys={}, rows=_HOUR_MINUTES, open_close="ordered")}) hour
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
        cursor.execute(_LOCK_SYMBOL_GROUPS, [CANDLE_WRITER_LOCK, sorted({row[0] % LOCK_GROUPS for row in rows})])
        cursor.execute(_STAGING_CREATE)
        # ON COMMIT empties it only when this is the outermost transaction; inside a caller's, rows would linger.
        cursor.execute("TRUNCATE candle_staging")
        cursor.copy_expert("COPY candle_staging FROM STDIN", _copy_text(rows))
        bounds = _touched_hours(rows)
        written_hours = _staged_write(cursor, bounds)
        if written_hours:
            _hourly_roll_up(cursor, written_hours, bounds)
        return sum(minutes for _, _, minutes, _, _ in written_hours)


def _staged_write(cursor, bounds: dict[str, datetime]) -> list[tuple]:
    """Writes the staged candles; returns what _staging_insert returns.

    A batch of which nothing is stored (a backfill's, the next minute's) is inserted without ON CONFLICT: its
    speculative insertion cost a third more on TimescaleDB, a quarter on PostgreSQL. Should another writer store one
    of the candles in between, the insert fails on the primary key and the batch is upserted after all.
    """
    cursor.execute(_ANY_STORED, bounds)
    if not cursor.fetchone()[0]:
        try:
            with transaction.atomic():
                cursor.execute(_STAGING_INSERT)
                return cursor.fetchall()
        except IntegrityError:
            pass
    cursor.execute(_STAGING_UPSERT)
    return cursor.fetchall()


def _hourly_roll_up(cursor, written_hours: list[tuple], bounds: dict[str, datetime]) -> None:
    """Brings the roll-up of every hour the batch wrote up to date: appended minutes folded in, the rest rolled up."""
    appended = [(symbol_id, hour, last) for symbol_id, hour, _, one_new_minute, last in written_hours if one_new_minute]
    folded = set()
    if appended:
        symbol_ids, hours, minutes = zip(*appended, strict=True)
        cursor.execute(_HOURLY_APPEND, {**bounds, "symbol_ids": list(symbol_ids), "hours": list(hours),
                                        "minutes": list(minutes)})  # fmt: skip
        folded = set(cursor.fetchall())
    touched = [(symbol_id, hour) for symbol_id, hour, *_ in written_hours if (symbol_id, hour) not in folded]
    if touched:
        symbol_ids, hours = zip(*touched, strict=True)
        cursor.execute(_HOURLY_REFRESH, {**bounds, "symbol_ids": list(symbol_ids), "hours": list(hours)})


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
