from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from apps.market.management.commands._arguments import add_server_arguments
from apps.market.models import Symbol
from apps.market.services.metadata import coin_metadata_sync
from fakes.binance_server import FakeBinance
from fakes.cmc_server import API_KEY as CMC_API_KEY
from fakes.cmc_server import FakeCmc, demo_coins
from fakes.market import demo_market
from fakes.telegram_server import FakeTelegram

DEMO_WEBHOOK_SECRET = "demo-webhook-secret"


class Command(BaseCommand):
    help = "Serve like `serve`, against our fake exchange replaying recorded Binance candles (no internet needed)."

    def add_arguments(self, parser: CommandParser) -> None:
        add_server_arguments(parser)

    def handle(self, *args: object, host: str, port: int, **options: object) -> None:
        market = demo_market()
        with FakeBinance(market) as exchange, FakeCmc(demo_coins()) as coinmarketcap, FakeTelegram() as telegram:
            settings.CMC_API_URL, settings.CMC_API_KEY = coinmarketcap.url, CMC_API_KEY
            settings.TELEGRAM_API_URL, settings.TELEGRAM_BOT_TOKEN = telegram.url, telegram.token
            settings.TELEGRAM_WEBHOOK_SECRET = DEMO_WEBHOOK_SECRET
            # Set on the fake directly: Telegram's setWebhook takes HTTPS addresses only.
            telegram.webhook = {"url": f"http://{host}:{port}/telegram/webhook/", "secret_token": DEMO_WEBHOOK_SECRET}
            settings.CMC_REQUESTS_PER_MINUTE = 6000  # our fake has no plan limit to stay under
            settings.BINANCE_REST_URL = exchange.rest_url
            settings.BINANCE_ARCHIVE_URL = exchange.archive_url
            settings.BINANCE_WS_URL = exchange.ws_url
            exchange.play_live()
            self.stdout.write(f"fake exchange on {exchange.rest_url}: {len(market.symbols)} symbols")
            call_command("sync_symbols", stdout=self.stdout)
            Symbol.objects.filter(symbol__in=market.derived_symbols).update(is_derived=True)
            # Now rather than at the daily sync's hour: names, ranks, market caps and logos from the start.
            self.stdout.write(f"metadata from the fake CoinMarketCap: {coin_metadata_sync()}")
            self.stdout.write(
                f"fake Telegram on {telegram.url}: write to the bot as chat N with POST {telegram.url}/chat/N "
                f"(form field text), read what it sent with GET {telegram.url}/chat/N"
            )
            call_command("serve", host=host, port=port)
