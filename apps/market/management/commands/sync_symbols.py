import logging

from django.core.management.base import BaseCommand

from apps.market.binance.rest import BinanceRest
from apps.market.services.symbols import symbols_rank_by_volume, symbols_sync
from apps.market.transport import TransportError

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Sync symbols from Binance exchangeInfo and rank them by 24h quote volume."

    def handle(self, *args: object, **options: object) -> None:
        with BinanceRest() as rest:
            synced = symbols_sync(rest=rest)
            try:
                symbols_rank_by_volume(rest=rest)
            except TransportError as error:
                # The ranking only orders the first backfill; the symbols are synced, so start goes on without it.
                logger.warning("symbols not ranked by 24h volume, the hourly sync will retry: %s", error)
        self.stdout.write(f"{len(synced)} symbols synced")
