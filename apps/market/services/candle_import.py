"""Import of historical 1m candles from CSV or Parquet: columns found from a header (or mapped), every bad row
reported.

Rows go through the same validation (`klines_parse`) and writer (`candles_upsert`) as backfilled candles, so that
importing a file twice changes nothing. All or nothing by default: one bad row and nothing is stored.
"""

import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import BinaryIO, NamedTuple, TextIO

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from django.db import transaction

from apps.market.klines import klines_parse
from apps.market.models import Symbol
from apps.market.services.candles import candles_upsert

BATCH_ROWS = 10_000
REQUIRED = ("open_time", "open", "high", "low", "close")
OPTIONAL = ("volume", "quote_volume", "trades", "taker_buy_volume", "taker_buy_quote_volume")
FIELDS = REQUIRED + OPTIONAL
# Binance's kline CSV (archive files have no header): open time, open, high, low, close, volume, close time, quote
# volume, trades, taker buy base volume, taker buy quote volume, ignore.
BINANCE_POSITIONS = {"open_time": 0, "open": 1, "high": 2, "low": 3, "close": 4, "volume": 5, "quote_volume": 7,
                     "trades": 8, "taker_buy_volume": 9, "taker_buy_quote_volume": 10}  # fmt: skip
ALIASES = {
    "open_time": ("open_time", "opentime", "timestamp", "time", "date", "datetime", "date_time", "ts", "unix"),
    "open": ("open", "o", "open_price"),
    "high": ("high", "h", "high_price"),
    "low": ("low", "l", "low_price"),
    "close": ("close", "c", "close_price"),
    "volume": ("volume", "vol", "v", "base_volume", "volume_base", "base_asset_volume"),
    "quote_volume": ("quote_volume", "quote_asset_volume", "qav", "quote_vol"),
    "trades": ("trades", "count", "number_of_trades", "num_trades", "trade_count"),
    "taker_buy_volume": ("taker_buy_volume", "taker_buy_base_asset_volume", "taker_buy_base_volume"),
    "taker_buy_quote_volume": ("taker_buy_quote_volume", "taker_buy_quote_asset_volume"),
}
SECONDS_BELOW = 10**11  # epoch seconds reach 10**11 in the year 5138; milliseconds passed it in 1973
PARQUET_MAGIC = b"PAR1"
# A kline row takes about 150 characters. Longer lines are refused before they are read whole: csv would hold one
# string per cell of a line however long it is.
LINE_MAX_CHARS = 10_000


class UnreadableFile(ValueError):
    """The file as a whole cannot be read (no usable columns): nothing is imported."""


@dataclass(frozen=True)
class BadRow:
    number: int  # a CSV file's line, a Parquet file's row (1 = first)
    reason: str
    unit: str = "line"

    def __str__(self) -> str:
        return f"{self.unit} {self.number}: {self.reason}"


@dataclass
class ImportReport:
    rows: int = 0
    written: int = 0
    bad: list[BadRow] = field(default_factory=list)
    stored: bool = False

    def __str__(self) -> str:
        if not self.stored:
            return f"{self.rows} rows read, {len(self.bad)} bad: nothing stored (fix them, or skip them)"
        skipped = f", {len(self.bad)} bad rows skipped" if self.bad else ""
        return f"{self.rows} rows read{skipped}; {self.written} candles new or changed, the rest already stored"


def columns_parse(text: str) -> dict[str, str]:
    """`open_time=Date,open=Open`: our field -> the file's column name, or its number (1 = first) without header."""
    mapping = {}
    for pair in filter(None, (part.strip() for part in text.split(","))):
        name, _, column = pair.partition("=")
        name = name.strip()
        if name not in FIELDS or not column.strip():
            raise UnreadableFile(f"bad column mapping {pair!r}: give field=column, fields: {', '.join(FIELDS)}")
        mapping[name] = column.strip()
    return mapping


def _normal(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _positions(header: list[str] | None, mapping: dict[str, str]) -> dict[str, int]:
    """Where each field is: the mapping first, then the header's names, or Binance's layout without a header."""
    names = {_normal(name): index for index, name in enumerate(header or [])}
    positions = dict(BINANCE_POSITIONS) if header is None and not mapping else {}
    for name, aliases in ALIASES.items():
        found = next((names[alias] for alias in aliases if alias in names), None)
        if found is not None:
            positions[name] = found
    for name, column in mapping.items():
        if column.isdigit():
            positions[name] = int(column) - 1
        elif _normal(column) in names:
            positions[name] = names[_normal(column)]
        else:
            raise UnreadableFile(f"no column {column!r} in the header for {name}")
    missing = [name for name in REQUIRED if name not in positions]
    if missing:
        raise UnreadableFile(f"no column found for {', '.join(missing)}: name them with --columns")
    return positions


def open_ms(text: str) -> int:
    """Epoch seconds, milliseconds or microseconds, or an ISO 8601 time (UTC unless it says otherwise)."""
    if _is_number(text):
        number = float(text)
        return round(number * 1000) if abs(number) < SECONDS_BELOW else int(text.partition(".")[0])
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"open time {text!r} is not epoch s, ms or an ISO time") from None
    return int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp() * 1000)


def _kline(cells: list[str], positions: dict[str, int]) -> list:
    """The row as Binance's 12 kline fields; absent volumes and counts are 0."""
    value = {name: cells[index].strip() for name, index in positions.items()}
    return [open_ms(value["open_time"]), value["open"], value["high"], value["low"], value["close"],
            value.get("volume", "0"), 0, value.get("quote_volume", "0"), value.get("trades", "0"),
            value.get("taker_buy_volume", "0"), value.get("taker_buy_quote_volume", "0"), "0"]  # fmt: skip


class _Table(NamedTuple):
    header: list[str] | None  # None: a CSV file without header
    rows: Iterator[tuple[int, list[str]]]  # (line or row number, cells as text)
    unit: str


def _lines(text: TextIO) -> Iterator[str]:
    number = 0
    while line := text.readline(LINE_MAX_CHARS + 1):
        number += 1
        if len(line) > LINE_MAX_CHARS:
            raise UnreadableFile(f"line {number} is longer than {LINE_MAX_CHARS} characters: not a candle CSV")
        yield line


def _csv_rows(lines: Iterable[str]) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of each record; csv's own errors (a field over its size limit...) end the import."""
    reader = csv.reader(lines)
    try:
        for cells in reader:
            yield reader.line_num, cells
    except csv.Error as error:
        raise UnreadableFile(f"line {reader.line_num}: {error}") from None


def _csv_table(text: TextIO) -> _Table:
    records = _csv_rows(_lines(text))
    first_line, first = next(records, (0, None))
    header = None if first is None or any(_is_number(cell) for cell in first) else first

    def rows() -> Iterator[tuple[int, list[str]]]:
        if first is not None and header is None:
            yield first_line, first
        for number, cells in records:
            if any(cell.strip() for cell in cells):
                yield number, cells

    return _Table(header, rows(), "line")


def _plain(number: Decimal | float) -> str:
    # Arrow spells a decimal zero 0E-8 and Python a small float 1e-05: the validation takes plain decimals only.
    return format(number if isinstance(number, Decimal) else Decimal(repr(number)), "f")


def _texts(column: pa.Array) -> list[str]:
    """A column as a CSV file would hold it: times as epoch microseconds, numbers as plain decimals, nulls empty."""
    if pa.types.is_decimal(column.type) or pa.types.is_floating(column.type):
        return ["" if value is None else _plain(value) for value in column.to_pylist()]
    if pa.types.is_timestamp(column.type):
        column = column.cast(pa.timestamp("us", tz=column.type.tz)).cast(pa.int64())
    return ["" if value is None else value for value in pc.cast(column, pa.string()).to_pylist()]


def _parquet_table(file: BinaryIO) -> _Table:
    try:
        parquet = pq.ParquetFile(file)
    except (pa.ArrowException, OSError) as error:
        raise UnreadableFile(f"not a readable Parquet file: {error}") from None

    def rows() -> Iterator[tuple[int, list[str]]]:
        number = 0
        for batch in parquet.iter_batches(batch_size=BATCH_ROWS):
            try:
                columns = [_texts(column) for column in batch.columns]
            except pa.ArrowException as error:
                raise UnreadableFile(f"rows {number + 1} to {number + batch.num_rows}: {error}") from None
            for cells in zip(*columns, strict=True):
                number += 1
                yield number, list(cells)

    return _Table(parquet.schema_arrow.names, rows(), "row")


def _table(file: BinaryIO) -> _Table:
    """Parquet if the file says so (its first bytes), else CSV in UTF-8 (a byte order mark is skipped)."""
    if file.read(len(PARQUET_MAGIC)) == PARQUET_MAGIC:
        file.seek(0)
        return _parquet_table(file)
    file.seek(0)
    return _csv_table(io.TextIOWrapper(file, encoding="utf-8-sig", newline=""))


def _batches(table: _Table, mapping: dict[str, str], report: ImportReport) -> Iterator[list[tuple[int, list]]]:
    positions = _positions(table.header, mapping)
    needed = max(positions.values()) + 1
    batch = []
    for number, cells in table.rows:
        report.rows += 1
        if len(cells) < needed:
            report.bad.append(BadRow(number, f"expected at least {needed} columns, got {len(cells)}", table.unit))
            continue
        try:
            batch.append((number, _kline(cells, positions)))
        except ValueError as error:
            report.bad.append(BadRow(number, str(error), table.unit))
        if len(batch) == BATCH_ROWS:
            yield batch
            batch = []
    if batch:
        yield batch


def candles_import(*, symbol: Symbol, file: BinaryIO, columns: dict[str, str], skip_bad: bool) -> ImportReport:
    """Read 1m candles from a CSV or Parquet file into `symbol`'s history, a batch at a time in one transaction."""
    report = ImportReport()
    table = _table(file)
    with transaction.atomic():
        for batch in _batches(table, columns, report):
            number_of = {id(raw): number for number, raw in batch}
            parsed = klines_parse(symbol_id=symbol.id, raw_rows=[raw for _, raw in batch], source="file import")
            report.bad.extend(BadRow(number_of[id(rejected.row)], rejected.reason, table.unit)
                              for rejected in parsed.rejected)  # fmt: skip
            if skip_bad or not report.bad:  # once a row is bad, the rest is only checked
                report.written += candles_upsert(rows=parsed.rows)
        report.stored = skip_bad or not report.bad
        if not report.stored:
            transaction.set_rollback(True)
    report.bad.sort(key=lambda bad: bad.number)
    return report
