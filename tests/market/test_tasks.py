"""The market tasks, run eagerly (these tests are about what the tasks do, not about Celery's delivery)."""

import time

import pytest

from apps.market.models import Candle, Symbol
from fakes.binance_server import FakeBinance
from fakes.market import FakeMarket, FakeSymbol
from tasks.market import catch_up, sync_symbols
from tests.conftest import BTC, service_pointed_at

pytestmark = [pytest.mark.django_db, pytest.mark.timescaledb]

MINUTE_MS = 60_000


@pytest.fixture
def live_market(btc_truth) -> FakeMarket:
    """The recorded day of candles moved so that its last minute closed a moment ago, like a live exchange."""
    now_ms = int(time.time() * 1000)
    shift = (now_ms // MINUTE_MS - 1) * MINUTE_MS - int(btc_truth[1439][0])
    market = FakeMarket()
    market.add_symbol(BTC, [[r[0] + shift, *r[1:6], r[6] + shift, *r[7:]] for r in btc_truth[:1440]])
    market.add_symbol(FakeSymbol("ETHUSDT", "ETH", "USDT"), [[r[0] + shift, *r[1:6], r[6] + shift, *r[7:]]
                                                            for r in btc_truth[:1440]])  # fmt: skip
    return market


@pytest.fixture
def live_exchange(live_market, settings):
    with FakeBinance(live_market) as exchange:
        service_pointed_at(exchange, settings)
        settings.MARKET_RECENT_WINDOW_DAYS = 1
        yield exchange


def test_sync_symbols_stores_the_exchanges_symbols_with_their_liquidity(live_exchange):
    sync_symbols.delay()

    assert sorted(Symbol.objects.values_list("symbol", flat=True)) == ["BTCUSDT", "ETHUSDT"]
    assert all(symbol.quote_volume_24h > 0 for symbol in Symbol.objects.all())


def test_catch_up_completes_the_recent_window_of_every_tracked_symbol(live_exchange):
    sync_symbols.delay()
    Symbol.objects.filter(symbol="ETHUSDT").update(is_active=False)

    catch_up.delay()

    stored = Candle.objects.filter(symbol__symbol="BTCUSDT").count()
    assert 1438 <= stored <= 1440, "the day, less the minutes that had not settled yet"
    assert not Candle.objects.filter(symbol__symbol="ETHUSDT").exists(), "an inactive symbol is left alone"


def test_catch_up_fetches_only_missing_tails_and_leaves_older_holes_to_the_history_backfill(live_exchange):
    sync_symbols.delay()
    catch_up.delay()
    btc = Candle.objects.filter(symbol__symbol="BTCUSDT").order_by("open_time")
    newest = btc.last().open_time
    hole = btc[100].open_time
    Candle.objects.filter(symbol__symbol="BTCUSDT", open_time__in=[hole, newest]).delete()
    requests_before = len(live_exchange.requests)

    catch_up.delay()

    assert btc.filter(open_time=newest).exists()
    assert not btc.filter(open_time=hole).exists()
    klines = [r for r in live_exchange.requests[requests_before:] if r.path == "/api/v3/klines"]
    assert [r.params["symbol"] for r in klines] == ["BTCUSDT"], "one request for the tail missing, none for ETHUSDT's"
