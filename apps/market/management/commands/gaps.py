from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandParser

from apps.market.gaps import ONE_MINUTE, candle_gaps_list, candles_first_open_time
from apps.market.management.commands._arguments import symbol_names, symbols_selected, time_range_checked, utc_time
from apps.market.services.backfill import last_settled_minute


class Command(BaseCommand):
    help = "List the missing 1m candle ranges of each symbol (exchange-side gaps excluded)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--symbols", type=symbol_names, help="Comma-separated; default: every tracked symbol.")
        parser.add_argument("--since", type=utc_time, help="Default: each symbol's first stored candle.")
        parser.add_argument("--until", type=utc_time, help="Default: now.")

    def handle(self, *args: object, symbols: list[str] | None, since: datetime | None, until: datetime | None,
               **options: object) -> None:  # fmt: skip
        until = until or last_settled_minute(datetime.now(UTC))
        time_range_checked(since, until)
        for symbol in symbols_selected(symbols):
            start = since or candles_first_open_time(symbol=symbol)
            if start is None:
                self.stdout.write(f"{symbol}: no candles stored")
                continue
            gaps = candle_gaps_list(symbol=symbol, start=symbol.history_start(start), end=until)
            missing = sum((end - begin) // ONE_MINUTE for begin, end in gaps)
            self.stdout.write(f"{symbol}: {len(gaps)} gap(s), {missing} missing minute(s)")
            for begin, end in gaps:
                self.stdout.write(
                    f"  {begin:%Y-%m-%d %H:%M} .. {end:%Y-%m-%d %H:%M}  ({(end - begin) // ONE_MINUTE} min)"
                )
