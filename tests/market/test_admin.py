"""The admin console of the market app. Operations run as eager tasks once the action's transaction commits,
against the fake exchange and the fake CoinMarketCap."""

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.market.models import Candle, CmcSymbolOverride, CoinMetadata, ExchangeGap, OperationRun, Symbol
from apps.market.services.candles import candles_upsert
from fakes.binance_server import FakeBinance
from fakes.cmc_server import API_KEY, FakeCmc
from fakes.market import FakeMarket
from tests.conftest import BTC, service_pointed_at
from tests.market.factories import SymbolFactory

pytestmark = [pytest.mark.django_db, pytest.mark.timescaledb]

CHANGELIST = "/admin/market/symbol/"
OVERRIDES = "/admin/market/cmcsymboloverride/"
OPERATIONS = "/admin/market/operationrun/"
MINUTE_MS = 60_000


@pytest.fixture
def live_exchange(btc_truth, settings) -> Iterator[FakeBinance]:
    """A recorded day of BTCUSDT moved so that its last minute closed a moment ago; the history is that day."""
    now_ms = int(time.time() * 1000)
    shift = (now_ms // MINUTE_MS - 1) * MINUTE_MS - int(btc_truth[1439][0])
    market = FakeMarket()
    market.add_symbol(BTC, [[r[0] + shift, *r[1:6], r[6] + shift, *r[7:]] for r in btc_truth[:1440]])
    with FakeBinance(market) as exchange:
        service_pointed_at(exchange, settings)
        settings.MARKET_HISTORY_DAYS = 1
        yield exchange


@pytest.fixture
def cmc(settings) -> Iterator[FakeCmc]:
    with FakeCmc() as fake:
        settings.CMC_API_URL, settings.CMC_API_KEY, settings.CMC_REQUESTS_PER_MINUTE = fake.url, API_KEY, 60_000
        yield fake


def run_action(admin_client, capture, action: str, symbols: list[Symbol]):
    """Post a changelist action; the task it queues runs when the action's transaction commits."""
    with capture(execute=True):
        return admin_client.post(CHANGELIST, {"action": action, "_selected_action": [s.pk for s in symbols]})


def candle_row(symbol: Symbol, open_ms: int) -> tuple:
    return (symbol.id, open_ms, "1.0", "1.0", "1.0", "1.0", "1.0", "1.0", 1, "0.5", "0.5")


def listed(admin_client, **params: str) -> list[str]:
    return [symbol.symbol for symbol in admin_client.get(CHANGELIST, params).context["cl"].result_list]


def test_the_symbol_list_shows_each_symbols_last_candle_time(admin_client):
    symbol = SymbolFactory(symbol="BTCUSDT")
    candles_upsert(rows=[candle_row(symbol, 1577836800000), candle_row(symbol, 1577836860000)])

    response = admin_client.get(CHANGELIST)

    assert response.status_code == 200
    assert "Jan. 1, 2020, 12:01 a.m." in response.content.decode()


def test_the_symbol_list_shows_exchange_gaps_rank_and_market_cap(admin_client):
    symbol = SymbolFactory(symbol="BTCUSDT")
    for day in (1, 2):
        start = datetime(2020, 1, day, tzinfo=UTC)
        ExchangeGap.objects.create(symbol=symbol, start=start, end=start + timedelta(minutes=5))
    CoinMetadata.objects.create(base_asset="BTC", rank=1, market_cap=2.02e12)

    row = admin_client.get(CHANGELIST).context["cl"].result_list[0]

    assert (row.exchange_gap_count, row.coin_rank, row.coin_market_cap) == (2, 1, 2.02e12)
    assert "$2,020,000,000,000" in admin_client.get(CHANGELIST).content.decode()


def test_the_symbol_list_costs_as_many_queries_for_many_symbols_as_for_one(admin_client):
    def list_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(CHANGELIST).status_code == 200
        return len(queries)

    SymbolFactory()
    one = list_queries()
    for _ in range(20):
        symbol = SymbolFactory()
        candles_upsert(rows=[candle_row(symbol, 1577836800000)])
        ExchangeGap.objects.create(symbol=symbol, start=datetime(2020, 1, 1, tzinfo=UTC),
                                   end=datetime(2020, 1, 2, tzinfo=UTC))  # fmt: skip
        CoinMetadata.objects.create(base_asset=symbol.base_asset, rank=symbol.id)

    assert list_queries() == one


def test_symbols_can_be_searched_and_filtered(admin_client):
    SymbolFactory(symbol="BTCUSDT")
    SymbolFactory(symbol="ETHUSDT", is_active=False)

    assert listed(admin_client, q="ETH") == listed(admin_client, is_active__exact="0") == ["ETHUSDT"]


def test_symbols_can_be_filtered_by_status_quote_asset_and_derivation(admin_client):
    SymbolFactory(symbol="BTCUSDT")
    SymbolFactory(symbol="ETHUSDT", status=Symbol.Status.HALT)
    SymbolFactory(symbol="ETHBTC", base_asset="ETH", quote_asset="BTC")
    SymbolFactory(symbol="SYNUSDT", is_derived=True)

    assert listed(admin_client, status__exact="HALT") == ["ETHUSDT"]
    assert listed(admin_client, quote_asset__exact="BTC") == ["ETHBTC"]
    assert listed(admin_client, is_derived__exact="1") == ["SYNUSDT"]


def test_a_symbols_page_shows_its_coin_metadata(admin_client):
    symbol = SymbolFactory(symbol="SOLUSDT")
    coin = CoinMetadata.objects.create(base_asset="SOL", cmc_id=5426, cmc_symbol="SOL", name="Solana", rank=5,
                                       market_cap=1.05e11, logo_url="https://example.com/5426.png")  # fmt: skip

    page = admin_client.get(f"{CHANGELIST}{symbol.pk}/change/").content.decode()

    assert f'<a href="/admin/market/coinmetadata/{coin.pk}/change/">Solana (SOL)</a>: rank 5' in page
    assert "market cap $105,000,000,000" in page
    assert 'src="https://example.com/5426.png"' in page


def test_a_bulk_action_deactivates_the_selected_symbols(admin_client):
    chosen, other = SymbolFactory(), SymbolFactory()

    admin_client.post(CHANGELIST, {"action": "deactivate", "_selected_action": [chosen.pk]})

    assert list(Symbol.objects.filter(is_active=True)) == [other]


def test_a_bulk_action_activates_the_selected_symbols(admin_client):
    chosen, _ = SymbolFactory(is_active=False), SymbolFactory(is_active=False)

    admin_client.post(CHANGELIST, {"action": "activate", "_selected_action": [chosen.pk]})

    assert list(Symbol.objects.filter(is_active=True)) == [chosen]


def test_symbols_cannot_be_deleted_because_their_candles_keep_the_id(admin_client):
    symbol = SymbolFactory()

    assert admin_client.post(f"{CHANGELIST}{symbol.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Symbol.objects.filter(pk=symbol.pk).exists()


def test_the_backfill_action_runs_a_task_that_records_its_outcome(
    admin_client, live_exchange, django_capture_on_commit_callbacks
):
    btc = SymbolFactory(symbol="BTCUSDT", base_asset="BTC")

    run_action(admin_client, django_capture_on_commit_callbacks, "backfill", [btc])

    operation = OperationRun.objects.get()
    assert (operation.kind, operation.symbols, operation.status) == ("backfill", ["BTCUSDT"], "succeeded")
    assert operation.started_at <= operation.finished_at
    assert operation.message.startswith("BTCUSDT: 14")  # the day, less the minutes not settled yet
    assert 1438 <= Candle.objects.filter(symbol=btc).count() <= 1440


def test_the_action_says_it_queued_the_operation_and_links_to_it(
    admin_client, live_exchange, django_capture_on_commit_callbacks
):
    btc = SymbolFactory(symbol="BTCUSDT", base_asset="BTC")

    response = run_action(admin_client, django_capture_on_commit_callbacks, "backfill", [btc])

    operation = OperationRun.objects.get()
    [message] = [str(message) for message in get_messages(response.wsgi_request)]
    assert message == f'Backfill of 1 symbol(s): queued. See <a href="{OPERATIONS}{operation.pk}/change/">Backfill ' \
                      f"#{operation.pk}</a>."  # fmt: skip


def test_the_gap_fill_action_fills_the_holes_after_the_first_stored_candle(
    admin_client, live_exchange, django_capture_on_commit_callbacks
):
    btc = SymbolFactory(symbol="BTCUSDT", base_asset="BTC")
    run_action(admin_client, django_capture_on_commit_callbacks, "backfill", [btc])
    candles = Candle.objects.filter(symbol=btc).order_by("open_time")
    first, hole = candles[0].open_time, candles[500].open_time
    Candle.objects.filter(symbol=btc, open_time__in=[first, hole]).delete()

    run_action(admin_client, django_capture_on_commit_callbacks, "fill_gaps", [btc])

    assert candles.filter(open_time=hole).exists()
    assert not candles.filter(open_time=first).exists(), "before the first stored candle is not a gap"
    assert OperationRun.objects.filter(kind="gap_fill", status="succeeded").exists()


def test_a_failed_backfill_is_recorded_with_its_error(
    admin_client, live_exchange, django_capture_on_commit_callbacks, settings
):
    settings.BINANCE_MAX_RETRIES = 0
    live_exchange.fail_next(10, 503)
    btc = SymbolFactory(symbol="BTCUSDT", base_asset="BTC")

    run_action(admin_client, django_capture_on_commit_callbacks, "backfill", [btc])

    operation = OperationRun.objects.get()
    assert operation.status == "failed"
    assert operation.message.startswith("BTCUSDT: failed: /api/v3/klines failed after 1 attempts: HTTP 503")


def test_the_metadata_action_syncs_the_selected_symbols_base_assets(
    admin_client, cmc, django_capture_on_commit_callbacks
):
    btc, _ = SymbolFactory(symbol="BTCUSDT"), SymbolFactory(symbol="ETHUSDT")

    run_action(admin_client, django_capture_on_commit_callbacks, "sync_metadata", [btc])

    assert list(CoinMetadata.objects.values_list("base_asset", flat=True)) == ["BTC"]
    assert OperationRun.objects.values_list("status", "message").get() == ("succeeded", "1 updated, 0 unchanged")


def test_the_metadata_action_fails_without_an_api_key(admin_client, settings, django_capture_on_commit_callbacks):
    settings.CMC_API_KEY = ""

    run_action(admin_client, django_capture_on_commit_callbacks, "sync_metadata", [SymbolFactory()])

    assert OperationRun.objects.values_list("status", "message").get() == (
        "failed", "metadata sync is off: CMC_API_KEY is not set"
    )  # fmt: skip


def test_operations_are_listed_read_only(admin_client):
    operation = OperationRun.objects.create(kind="backfill", symbols=["BTCUSDT"], status="failed", message="boom")

    listing = admin_client.get(OPERATIONS)
    change = admin_client.post(f"{OPERATIONS}{operation.pk}/change/", {"status": "succeeded"})

    assert listing.status_code == 200 and "boom" in listing.content.decode()
    assert change.status_code == 403
    assert OperationRun.objects.get().status == "failed"
    assert admin_client.get(f"{OPERATIONS}add/").status_code == 403


def test_the_default_overrides_are_listed(admin_client):
    page = admin_client.get(OVERRIDES, {"q": "1000SATS"}).content.decode()

    assert "1000SATS" in page and "SATS" in page
    assert CmcSymbolOverride.objects.get(exchange_asset="BTTC").cmc_symbol == "BTT"


def test_an_override_can_be_added(admin_client):
    response = admin_client.post(f"{OVERRIDES}add/", {"exchange_asset": "1000WHY", "cmc_symbol": "WHY"})

    assert response.status_code == 302
    assert CmcSymbolOverride.objects.get(exchange_asset="1000WHY").cmc_symbol == "WHY"


@pytest.mark.parametrize(
    ("exchange_asset", "cmc_symbol", "field"),
    [
        ("1000why", "WHY", "exchange_asset"),  # Binance's assets are capitals and digits
        ("1000WHY", "WHY COIN", "cmc_symbol"),
        ("WHY", "WHY", "cmc_symbol"),  # maps to itself
        ("1000SATS", "SATS", "exchange_asset"),  # one override per asset
    ],
)
def test_an_invalid_override_is_refused(admin_client, exchange_asset, cmc_symbol, field):
    count = CmcSymbolOverride.objects.count()

    response = admin_client.post(f"{OVERRIDES}add/", {"exchange_asset": exchange_asset, "cmc_symbol": cmc_symbol})

    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert CmcSymbolOverride.objects.count() == count


def test_coin_metadata_is_listed_read_only(admin_client):
    coin = CoinMetadata.objects.create(base_asset="BTC", name="Bitcoin", rank=1)

    assert "Bitcoin" in admin_client.get("/admin/market/coinmetadata/").content.decode()
    assert admin_client.post(f"/admin/market/coinmetadata/{coin.pk}/change/", {"name": "x"}).status_code == 403


def test_the_console_manages_users_and_api_tokens_too(admin_client):
    assert admin_client.get("/admin/auth/user/").status_code == 200
    assert admin_client.get("/admin/authtoken/tokenproxy/").status_code == 200
