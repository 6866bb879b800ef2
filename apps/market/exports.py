"""Streaming exports: CSV and Parquet of rows read in chunks, in constant memory whatever the range.

Every source yields its rows as chunks of CSV text without header (times in epoch ms, decimals as stored): candles
straight from PostgreSQL's COPY, so that a year of minutes costs Python a few allocations per chunk, not a few dozen
per row. The CSV writer adds a header; the Parquet writer parses each chunk with the columns' types into a row
group. The higher apps (indicator history, signals) reuse both with row sources of their own (`rows_csv`).
"""

import csv
import io
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import NamedTuple

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from django.db import connection

from apps.market.intervals import Interval, datetime_from_ms
from apps.market.models import Symbol
from apps.market.selectors import klines_aggregate, klines_aggregate_sql, klines_row_window

# Rows per database read, CSV chunk and Parquet row group: 10,000 candles are about 1 MB of CSV.
CHUNK_ROWS = 10_000

TIME = pa.timestamp("ms", tz="UTC")
AMOUNT = pa.decimal128(38, 8)  # NUMERIC(28|32, 8) in the database, exactly


class Column(NamedTuple):
    name: str
    type: pa.DataType


Chunks = Iterable[bytes]

CANDLE_COLUMNS = [
    Column("open_time", TIME),
    *(Column(name, AMOUNT) for name in ("open", "high", "low", "close", "volume")),
    Column("close_time", TIME),
    Column("quote_volume", AMOUNT),
    Column("trades", pa.int64()),
    Column("taker_buy_volume", AMOUNT),
    Column("taker_buy_quote_volume", AMOUNT),
]


def _csv_value(value: object) -> object:
    if isinstance(value, Decimal):
        return f"{value:.8f}"
    if value is None or value != value:  # NaN: an empty cell, as for a missing value
        return ""
    return value


def rows_csv(rows: Iterable[Iterable[object]]) -> bytes:
    """Rows of Python values as CSV lines: decimals with 8 places, None and NaN as empty cells."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([_csv_value(value) for value in row] for row in rows)
    return buffer.getvalue().encode()


def _close_time_sql(interval: Interval) -> str:
    if interval.is_monthly:
        return "CAST(extract(epoch FROM to_timestamp(bucket) + INTERVAL '1 month') AS bigint) * 1000 - 1"
    return f"bucket * 1000 + {interval.ms - 1}"


def _copy_sql(interval: Interval, klines_query: str) -> str:
    """COPY of the klines API's roll-up (with its parameters bound) as Binance's columns, without the last."""
    return f"""
        COPY (
            SELECT bucket * 1000, open, high, low, close, volume, {_close_time_sql(interval)}, quote_volume, trades,
                   taker_buy_volume, taker_buy_quote_volume
            FROM ({klines_query}) AS k (symbol_id, bucket, open, high, low, close, volume, quote_volume, trades,
                                        taker_buy_volume, taker_buy_quote_volume)
        ) TO STDOUT WITH (FORMAT csv)
    """


def _window_csv(symbol: Symbol, interval: Interval, window: tuple[int, int]) -> bytes:
    bounds = [symbol.id, *(datetime_from_ms(ms) for ms in window)]
    if connection.vendor != "postgresql":
        klines = klines_aggregate(symbol=symbol, interval=interval, start_ms=window[0], end_ms=window[1] - 1,
                                  limit=CHUNK_ROWS)  # fmt: skip
        return rows_csv(klines)
    buffer = io.BytesIO()
    with connection.cursor() as cursor:
        klines_query = cursor.mogrify(klines_aggregate_sql(interval, 1), bounds).decode()
        cursor.copy_expert(_copy_sql(interval, klines_query), buffer)
    return buffer.getvalue()


def candle_chunks(*, symbol: Symbol, interval: Interval, start_ms: int, end_ms: int | None) -> Iterator[bytes]:
    """The candles of `interval` opening from `start_ms` to `end_ms` (inclusive), rolled up like the klines API's,
    CHUNK_ROWS buckets a read: each read's window starts at the bucket of the next stored candle (keyset)."""
    cursor = interval.bucket_start_ms(start_ms)
    if cursor < start_ms:
        cursor = interval.next_bucket_ms(cursor)
    # Aligned on a bucket, a window is never empty before the end, however long the gaps.
    while (window := klines_row_window(symbol, interval, cursor, end_ms, CHUNK_ROWS)) and window[0] < window[1]:
        chunk = _window_csv(symbol, interval, window)
        if not chunk:
            return
        yield chunk
        cursor = window[1]


def csv_stream(columns: list[Column], chunks: Chunks) -> Iterator[bytes]:
    """A header line, then the chunks."""
    yield (",".join(column.name for column in columns) + "\n").encode()
    yield from chunks


class _Drain(io.RawIOBase):
    """Where the Parquet writer puts its bytes until they are taken: at most one row group's worth."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.position = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.parts.append(bytes(data))
        self.position += len(data)
        return len(data)

    def tell(self) -> int:
        return self.position

    def take(self) -> bytes:
        data = b"".join(self.parts)
        self.parts.clear()
        return data


def _table(columns: list[Column], chunk: bytes) -> pa.Table:
    # Times come as epoch ms: read as integers, then cast (Arrow's CSV reader takes only text times).
    read_types = {column.name: pa.int64() if column.type == TIME else column.type for column in columns}
    table = pa_csv.read_csv(
        io.BytesIO(chunk),
        read_options=pa_csv.ReadOptions(column_names=[column.name for column in columns]),
        convert_options=pa_csv.ConvertOptions(column_types=read_types, strings_can_be_null=False),
    )
    return table.cast(pa.schema(list(columns)))


def parquet_stream(columns: list[Column], chunks: Chunks) -> Iterator[bytes]:
    """A Parquet file whose row groups are the chunks, each sent as soon as it is written."""
    schema = pa.schema(list(columns))
    drain = _Drain()
    with pq.ParquetWriter(drain, schema, compression="zstd") as writer:
        for chunk in chunks:
            table = _table(columns, chunk)
            writer.write_table(table, row_group_size=table.num_rows)
            yield drain.take()
    yield drain.take()


FORMATS = {"csv": (csv_stream, "text/csv"), "parquet": (parquet_stream, "application/vnd.apache.parquet")}
