"""The CoinMarketCap metadata sync, against the fake CMC server (the tasks run eagerly)."""

import logging
from collections.abc import Iterator

import pytest
from celery.schedules import crontab

from apps.market.coinmarketcap import CmcAccountError
from apps.market.models import CoinMetadata, Symbol
from apps.market.services.metadata import coin_metadata_sync
from apps.market.signals import metadata_synced
from fakes.cmc_server import API_KEY, FakeCmc, demo_coins
from fakes.market import demo_market
from tasks.market import sync_metadata
from tests.market.factories import SymbolFactory

pytestmark = pytest.mark.django_db

RECORDED = ("BTC", "ETH", "BNB", "SOL", "XRP", "ADA", "DOGE", "AVAX")
QUOTES = "/v2/cryptocurrency/quotes/latest"
INFO = "/v2/cryptocurrency/info"
MAP = "/v1/cryptocurrency/map"


@pytest.fixture
def cmc(settings) -> Iterator[FakeCmc]:
    with FakeCmc() as fake:
        settings.CMC_API_URL = fake.url
        settings.CMC_API_KEY = API_KEY
        settings.CMC_REQUESTS_PER_MINUTE = 60_000  # 1 ms apart: these tests are not about pacing
        yield fake


@pytest.fixture
def recorded_symbols() -> list[Symbol]:
    return [SymbolFactory(symbol=f"{asset}USDT") for asset in RECORDED]


@pytest.fixture
def announced() -> Iterator[list[list[str]]]:
    """The base assets of each `metadata_synced` sent."""
    received = []

    def receiver(sender: object, *, base_assets: list[str], **kwargs: object) -> None:
        received.append(base_assets)

    metadata_synced.connect(receiver, dispatch_uid="test.metadata")
    yield received
    metadata_synced.disconnect(dispatch_uid="test.metadata")


def ids_asked(cmc: FakeCmc, path: str) -> list[list[int]]:
    return [[int(coin_id) for coin_id in r.params["id"].split(",")] for r in cmc.requests_to(path)]


def market_caps() -> dict[str, float]:
    return dict(CoinMetadata.objects.values_list("base_asset", "market_cap"))


def test_it_stores_each_tracked_base_assets_name_rank_market_cap_supply_and_logo(cmc, recorded_symbols):
    sync_metadata.delay()

    assert sorted(CoinMetadata.objects.values_list("base_asset", flat=True)) == sorted(RECORDED)
    btc = CoinMetadata.objects.get(base_asset="BTC")
    coin = cmc.coins[1]
    assert (btc.cmc_id, btc.cmc_symbol, btc.name, btc.rank) == (1, "BTC", "Bitcoin", 1)
    assert (btc.market_cap, btc.circulating_supply) == (coin.price * coin.circulating_supply, coin.circulating_supply)
    assert btc.logo_url == "https://s2.coinmarketcap.com/static/img/coins/64x64/1.png"
    assert btc.synced_at is not None


def test_the_daily_sync_leaves_out_symbols_that_are_not_tracked(cmc):
    SymbolFactory(symbol="BTCUSDT")
    SymbolFactory(symbol="ETHUSDT", is_active=False)
    SymbolFactory(symbol="BNBUSDT", status=Symbol.Status.DELISTED)

    sync_metadata.delay()

    assert list(CoinMetadata.objects.values_list("base_asset", flat=True)) == ["BTC"]


def test_the_sync_runs_once_a_day(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["market-sync-metadata"]

    assert entry["task"] == sync_metadata.name
    assert entry["schedule"] == crontab(minute=30, hour=0)


def test_quotes_and_logos_are_fetched_in_chunks_of_cmc_quotes_chunk(cmc, recorded_symbols, settings):
    settings.CMC_QUOTES_CHUNK = 3

    coin_metadata_sync()

    assert [len(ids) for ids in ids_asked(cmc, QUOTES)] == [3, 3, 2]
    assert ids_asked(cmc, INFO) == ids_asked(cmc, QUOTES)
    assert all(r.params["skip_invalid"] == "true" for r in cmc.requests_to(QUOTES) + cmc.requests_to(INFO))


def test_logos_are_fetched_once_per_coin(cmc, recorded_symbols):
    coin_metadata_sync()
    info_requests = len(cmc.requests_to(INFO))

    coin_metadata_sync()

    assert len(cmc.requests_to(INFO)) == info_requests
    assert CoinMetadata.objects.filter(logo_url="").count() == 0


def test_the_id_map_is_read_page_by_page(cmc, recorded_symbols):
    cmc.add_filler(5000)  # the real map of active coins is about 10,000 long

    report = coin_metadata_sync()

    assert [r.params["start"] for r in cmc.requests_to(MAP)] == ["1", "5001"]
    assert len(report.updated) == len(RECORDED)


def test_an_override_maps_the_exchange_asset_to_its_cmc_ticker(cmc):
    SymbolFactory(symbol="1000SATSUSDT")
    SymbolFactory(symbol="BTTCUSDT")

    coin_metadata_sync()

    rows = {row.base_asset: row for row in CoinMetadata.objects.all()}
    assert (rows["1000SATS"].cmc_symbol, rows["1000SATS"].cmc_id) == ("SATS", 28194)
    assert (rows["BTTC"].cmc_symbol, rows["BTTC"].name) == ("BTT", "BitTorrent [New]")


def test_the_best_ranked_coin_wins_a_ticker_that_several_coins_share(cmc, recorded_symbols):
    coin_metadata_sync()

    sol = CoinMetadata.objects.get(base_asset="SOL")
    assert (sol.cmc_id, sol.name, sol.rank) == (5426, "Solana", 5)


def test_a_non_ascii_base_asset_is_skipped_with_a_log_line(cmc, caplog):
    SymbolFactory(symbol="币安人生USDT")

    with caplog.at_level(logging.INFO, logger="apps.market.services.metadata"):
        report = coin_metadata_sync()

    assert report.skipped == {"币安人生": "not an ASCII ticker"}
    assert not CoinMetadata.objects.exists()
    assert "'币安人生' skipped, not an ASCII ticker" in caplog.text


def test_an_asset_cmc_does_not_list_is_skipped_and_keeps_its_previous_values(cmc):
    SymbolFactory(symbol="GONEUSDT")
    CoinMetadata.objects.create(base_asset="GONE", cmc_id=99, name="Gone Coin", market_cap=1e6)

    report = coin_metadata_sync()

    assert report.skipped == {"GONE": "no active coin GONE on CoinMarketCap"}
    assert CoinMetadata.objects.get(base_asset="GONE").market_cap == 1e6


@pytest.mark.parametrize("code", [1008, 500], ids=["429 minute rate limit", "500"])
def test_a_failing_chunk_keeps_its_previous_values_and_the_other_chunks_are_updated(
    cmc, recorded_symbols, settings, code
):
    settings.CMC_QUOTES_CHUNK = 2  # by id: (BTC, XRP), (DOGE, ETH), (BNB, ADA), (SOL, AVAX)
    coin_metadata_sync()
    before = market_caps()
    for coin_id in (1, 5426):
        cmc.update(coin_id, price=cmc.coins[coin_id].price * 2)
    cmc.fail_ids({5426}, code)

    report = coin_metadata_sync()

    after = market_caps()
    assert after["BTC"] == 2 * before["BTC"]
    assert (after["SOL"], after["AVAX"]) == (before["SOL"], before["AVAX"])
    assert set(report.failed) == {"SOL", "AVAX"}
    assert f"2 failed (SOL, AVAX: {QUOTES}: HTTP" in str(report)
    assert len(ids_asked(cmc, QUOTES)) == 8, "the chunks after the failed one were fetched"


def test_a_credit_limit_ends_the_sync_and_keeps_what_was_fetched(cmc, recorded_symbols, settings):
    settings.CMC_QUOTES_CHUNK = 2
    cmc.daily_credit_limit = 3  # the map, then the quotes and logos of the first chunk (BTC, XRP)

    report = coin_metadata_sync()

    assert sorted(CoinMetadata.objects.values_list("base_asset", flat=True)) == ["BTC", "XRP"]
    assert sorted(report.failed) == sorted(set(RECORDED) - {"BTC", "XRP"})
    assert "1009" in report.failed["ETH"]
    assert [r.status for r in cmc.requests] == [200, 200, 200, 429], "no request after the credits ran out"


def test_an_invalid_key_fails_the_sync_and_changes_nothing(cmc, recorded_symbols, settings):
    settings.CMC_API_KEY = "revoked-key"
    CoinMetadata.objects.create(base_asset="BTC", cmc_id=1, name="Bitcoin", market_cap=1e12)

    with pytest.raises(CmcAccountError) as failure:
        sync_metadata.delay()

    assert (failure.value.code, failure.value.permanent) == (1001, True)
    assert market_caps() == {"BTC": 1e12}
    assert len(cmc.requests) == 1


def test_without_an_api_key_the_sync_is_off_and_asks_nothing(cmc, recorded_symbols, settings, caplog):
    settings.CMC_API_KEY = ""

    with caplog.at_level(logging.INFO, logger="apps.market.services.metadata"):
        sync_metadata.delay()

    assert "metadata sync is off: CMC_API_KEY is not set" in caplog.text
    assert cmc.requests == []
    assert not CoinMetadata.objects.exists()


def test_metadata_synced_names_the_base_assets_whose_metadata_changed(
    cmc, recorded_symbols, announced, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        coin_metadata_sync()
    cmc.update(1, price=110_000.0)
    with django_capture_on_commit_callbacks(execute=True):
        report = coin_metadata_sync()
    with django_capture_on_commit_callbacks(execute=True):
        coin_metadata_sync()

    assert announced == [sorted(RECORDED), ["BTC"]], "nothing is announced after a sync that changed nothing"
    assert str(report) == "1 updated, 7 unchanged"


def test_the_demos_fake_cmc_has_metadata_for_every_demo_symbol(settings):
    for name in demo_market().symbols:
        SymbolFactory(symbol=name)
    with FakeCmc(demo_coins()) as fake:
        settings.CMC_API_URL, settings.CMC_API_KEY, settings.CMC_REQUESTS_PER_MINUTE = fake.url, API_KEY, 60_000

        report = coin_metadata_sync()

    assert (report.skipped, report.failed) == ({}, {})
    assert CoinMetadata.objects.filter(market_cap__gt=0, rank__isnull=False).count() == 48
