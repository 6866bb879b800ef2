import argparse
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.market.management.commands._arguments import symbols_selected
from apps.market.services.candle_import import UnreadableFile, candles_import, columns_parse


def column_mapping(value: str) -> dict[str, str]:
    try:
        return columns_parse(value)
    except UnreadableFile as error:
        raise argparse.ArgumentTypeError(str(error)) from None


class Command(BaseCommand):
    help = (
        "Import 1m candles from a CSV file (Binance's kline CSV, with or without header, or any file with a time, "
        "open, high, low and close column). All or nothing unless --skip-bad; importing twice changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("symbol", help="e.g. BTCUSDT (must exist: run `manage.py sync_symbols` first)")
        parser.add_argument("file", type=Path)
        parser.add_argument("--skip-bad", action="store_true", help="Store the good rows even if some are bad.")
        parser.add_argument(
            "--columns",
            type=column_mapping,
            default={},
            help="field=column pairs, e.g. open_time=Date,open=Open: a header name, or a column number (1 = first).",
        )

    def handle(self, *args: object, symbol: str, file: Path, skip_bad: bool, columns: dict[str, str],
               **options: object) -> None:  # fmt: skip
        (found,) = symbols_selected([symbol.upper()])
        try:
            with file.open(encoding="utf-8-sig", newline="") as lines:
                report = candles_import(symbol=found, lines=lines, columns=columns, skip_bad=skip_bad)
        except OSError as error:
            raise CommandError(f"cannot read {file}: {error}") from error
        except UnreadableFile as error:
            raise CommandError(f"{file}: {error}") from error
        for bad in report.bad:
            self.stderr.write(f"{file}: {bad}")
        if not report.stored:
            raise CommandError(f"{found}: {report}")
        self.stdout.write(f"{found}: {report}")
