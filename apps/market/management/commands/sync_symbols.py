from django.core.management.base import BaseCommand

from apps.market.binance.rest import BinanceRest
from apps.market.services.symbols import symbols_rank_by_volume, symbols_sync


class Command(BaseCommand):
    help = "Sync symbols from Binance exchangeInfo and rank them by 24h quote volume."

    def handle(self, *args: object, **options: object) -> None:
        with BinanceRest() as rest:
            synced = symbols_sync(rest=rest)
            symbols_rank_by_volume(rest=rest)
        self.stdout.write(f"{len(synced)} symbols synced")
