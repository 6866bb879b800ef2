import logging
import sys
import time
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from apps.market.binance.archive import BinanceArchive
from apps.market.binance.rest import Banned, BinanceRest
from apps.market.management.commands._arguments import add_selection_arguments, symbols_selected, time_range_checked
from apps.market.models import Symbol
from apps.market.selectors import ONE_MINUTE, candle_gaps_list, candles_first_open_time
from apps.market.services.backfill import Sources, last_settled_minute, symbol_backfill
from apps.market.transport import TransportError

logger = logging.getLogger(__name__)
LOG_EVERY_SECONDS = 10


class PlainProgress:
    """Progress for logs (no terminal): a line with rate and ETA every few seconds."""

    def __init__(self, total: int) -> None:
        self.total, self.done, self.started, self.logged = total, 0, time.monotonic(), 0.0

    def update(self, minutes: int) -> None:
        self.done += minutes
        elapsed = time.monotonic() - self.started
        if elapsed - self.logged >= LOG_EVERY_SECONDS:
            self.logged = elapsed
            rate = self.done / elapsed
            eta = (self.total - self.done) / rate if rate else float("inf")
            logger.info("backfill: %d/%d minutes, %.0f candles/s, ETA %.0fs", self.done, self.total, rate, eta)

    def close(self) -> None:
        logger.info("backfill: %d minutes covered in %.0fs", self.done, time.monotonic() - self.started)


class Command(BaseCommand):
    help = "Fetch missing 1m candles: the archive for whole past months and days, REST for the rest. Resumable."

    def add_arguments(self, parser: CommandParser) -> None:
        add_selection_arguments(parser, since_help="Default: MARKET_HISTORY_DAYS ago (2 years).")
        parser.add_argument(
            "--fill-gaps", action="store_true", help="Only the holes after each symbol's first stored candle."
        )

    def handle(self, *args: object, symbols: list[str] | None, since: datetime | None, until: datetime | None,
               fill_gaps: bool, **options: object) -> None:  # fmt: skip
        until = until or last_settled_minute(datetime.now(UTC))
        if since is None and not fill_gaps:
            since = until - timedelta(days=settings.MARKET_HISTORY_DAYS)
        time_range_checked(since, until)
        plan = self._plan(symbols_selected(symbols), since, until)
        total = sum(minutes for _, _, minutes in plan)
        progress = tqdm(total=total, unit="candle", unit_scale=True) if sys.stdout.isatty() else PlainProgress(total)
        sources = Sources(rest=BinanceRest(), archive=BinanceArchive())
        try:
            for symbol, start, _ in plan:
                report = symbol_backfill(
                    symbol=symbol, since=start, until=until, sources=sources, progress=progress.update
                )
                self.stdout.write(str(report))
        except Banned as error:
            raise CommandError(f"stopped: {error}") from error
        except TransportError as error:
            raise CommandError(f"stopped, run again to resume: {error}") from error
        finally:
            progress.close()
            sources.rest.close()
            sources.archive.close()

    def _plan(
        self, symbols: list[Symbol], since: datetime | None, until: datetime
    ) -> list[tuple[Symbol, datetime, int]]:
        plan = []
        for symbol in symbols:
            start = since or candles_first_open_time(symbol=symbol)
            if start is None:
                self.stdout.write(f"{symbol}: no candles stored, no gaps to fill")
                continue
            gaps = candle_gaps_list(symbol=symbol, start=symbol.history_start(start), end=until)
            plan.append((symbol, start, sum((end - begin) // ONE_MINUTE for begin, end in gaps)))
        return plan
