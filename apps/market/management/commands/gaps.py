from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandParser

from apps.market.management.commands._arguments import add_selection_arguments, symbols_selected, time_range_checked
from apps.market.selectors import ONE_MINUTE, candle_gaps_list, candles_first_open_time
from apps.market.services.backfill import last_settled_minute


class Command(BaseCommand):
    help = "List the missing 1m candle ranges of each symbol (exchange-side gaps excluded)."

    def add_arguments(self, parser: CommandParser) -> None:
        add_selection_arguments(parser, since_help="Default: each symbol's first stored candle.")

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
