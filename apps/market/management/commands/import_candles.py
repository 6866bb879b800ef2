import argparse
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from apps.market.management.commands._arguments import symbols_selected
from apps.market.models import Symbol
from apps.market.services.candle_import import UnreadableFile, candles_import, columns_parse
from apps.market.services.symbols import InvalidSymbolEntry, symbol_create_unlisted


def column_mapping(value: str) -> dict[str, str]:
    try:
        return columns_parse(value)
    except UnreadableFile as error:
        raise argparse.ArgumentTypeError(str(error)) from None


class Command(BaseCommand):
    help = (
        "Import 1m candles from a CSV file (Binance's kline CSV, with or without header, or any file with a time, "
        "open, high, low and close column) or a Parquet file (such as the export's). All or nothing unless "
        "--skip-bad; importing twice changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("symbol", help="e.g. BTCUSDT (must exist: run `manage.py sync_symbols` first, or --create)")
        parser.add_argument("file", type=Path)
        parser.add_argument("--skip-bad", action="store_true", help="Store the good rows even if some are bad.")
        parser.add_argument(
            "--columns",
            type=column_mapping,
            default={},
            help="field=column pairs, e.g. open_time=Date,open=Open: a header name, or a column number (1 = first).",
        )
        parser.add_argument(
            "--create",
            action="store_true",
            help="Create the symbol if it is not stored (into a database the exchange's symbols were never synced "
            "to); the next `sync_symbols` brings in the exchange's own fields, or marks it DELISTED.",
        )

    def handle(self, *args: object, symbol: str, file: Path, skip_bad: bool, columns: dict[str, str], create: bool,
               **options: object) -> None:  # fmt: skip
        try:
            # One transaction: a symbol created for a file that is refused is not kept either.
            with file.open("rb") as opened, transaction.atomic():
                found = self._symbol(symbol.upper(), create)
                report = candles_import(symbol=found, file=opened, columns=columns, skip_bad=skip_bad)
                for bad in report.bad:
                    self.stderr.write(f"{file}: {bad}")
                if not report.stored:
                    raise CommandError(f"{found}: {report}")
        except OSError as error:
            raise CommandError(f"cannot read {file}: {error}") from error
        except (UnreadableFile, UnicodeDecodeError) as error:
            raise CommandError(f"{file}: {error}") from error
        self.stdout.write(f"{found}: {report}")

    def _symbol(self, name: str, create: bool) -> Symbol:
        # A NUL byte, which PostgreSQL text cannot hold, is in no stored name (and the creation refuses it).
        if create and ("\x00" in name or not Symbol.objects.filter(symbol=name).exists()):
            try:
                created = symbol_create_unlisted(name=name)
            except InvalidSymbolEntry as error:
                raise CommandError(str(error)) from error
            self.stdout.write(f"{created}: created ({created.base_asset}/{created.quote_asset})")
            return created
        (found,) = symbols_selected([name])
        return found
