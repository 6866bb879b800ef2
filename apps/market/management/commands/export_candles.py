from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.market.exports import CANDLE_COLUMNS, FORMATS, candle_chunks
from apps.market.intervals import INTERVALS, ms_from_datetime
from apps.market.management.commands._arguments import symbols_selected, utc_time


class Command(BaseCommand):
    help = (
        "Write one symbol's candles of any interval to a CSV or Parquet file (by its extension), as the export API "
        "does: the same columns, in constant memory."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("symbol", help="e.g. BTCUSDT")
        parser.add_argument("file", type=Path, help="ends in .csv or .parquet")
        parser.add_argument("--interval", choices=list(INTERVALS), default="1m")
        parser.add_argument("--start", type=utc_time, help="Candles opening at or after this time (default: the first)")
        parser.add_argument("--end", type=utc_time, help="Candles opening at or before this time (default: the last)")

    def handle(self, *args: object, symbol: str, file: Path, interval: str, start: datetime | None,
               end: datetime | None, **options: object) -> None:  # fmt: skip
        fmt = file.suffix.removeprefix(".").lower()
        if fmt not in FORMATS:
            raise CommandError(f"{file}: name the file .csv or .parquet")
        if start is not None and end is not None and start > end:
            raise CommandError(f"--start {start:%Y-%m-%d %H:%M} is after --end {end:%Y-%m-%d %H:%M}")
        (found,) = symbols_selected([symbol.upper()])
        chunks = candle_chunks(
            symbol=found,
            interval=INTERVALS[interval],
            start_ms=ms_from_datetime(start) if start else 0,
            end_ms=ms_from_datetime(end) if end else None,
        )
        counted = _Counted(chunks)
        write, _ = FORMATS[fmt]
        # Written beside it, then renamed: a run that fails half-way leaves no half file (nor clobbers a whole one).
        partial = file.with_name(f".{file.name}.partial")
        try:
            with partial.open("wb") as out:
                for part in write(CANDLE_COLUMNS, counted):
                    out.write(part)
            partial.replace(file)
        except OSError as error:
            raise CommandError(f"cannot write {file}: {error}") from error
        finally:
            partial.unlink(missing_ok=True)
        self.stdout.write(f"{found}: {counted.rows} {interval} candles written to {file}")


class _Counted:
    """The CSV chunks, counting their rows (a line each) on the way."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks = chunks
        self.rows = 0

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.chunks:
            self.rows += chunk.count(b"\n")
            yield chunk
