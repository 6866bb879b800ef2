import gzip
import json

import pytest
from django.core.cache import cache

from apps.indicators.models import Snapshot
from apps.indicators.services import snapshots_compute
from apps.market.klines import klines_parse
from apps.market.live import live_tickers_set
from apps.market.services.candles import candles_upsert
from tests.conftest import eth_minutes_up_to_the_hour
from tests.market.factories import SymbolFactory
from tests.screener.conftest import coin, ticker
from tests.strategies.factories import StrategyFactory, evaluate, snapshot

pytestmark = [pytest.mark.django_db, pytest.mark.timescaledb]

URL = "/api/v1/screener/"


def rows(client, query: str = "") -> list[dict]:
    response = client.get(f"{URL}?{query}")
    assert response.status_code == 200, response.content
    return response.json()["results"]


def symbols(client, query: str = "") -> list[str]:
    return [row["symbol"] for row in rows(client, query)]


def test_a_row_holds_the_live_price_the_metadata_and_every_timeframes_snapshot(client):
    coin("BTCUSDT", price=97000.5, change=2.5, quote_volume=3e9, market_cap=1.9e12, rank=1, name="Bitcoin",
         snapshots={"1h": {"rsi_14": 61.5}, "4h": {"rsi_14": 55.0}})  # fmt: skip

    [row] = rows(client)

    assert row["symbol"] == "BTCUSDT"
    assert (row["name"], row["rank"], row["market_cap"]) == ("Bitcoin", 1, 1.9e12)
    assert row["logo_url"] == "https://example.com/BTC.png"
    assert row["price"] == 97000.5
    assert row["change_24h"] == pytest.approx(2.5)
    assert row["quote_volume_24h"] == 3e9
    assert row["indicators"]["1h"]["values"] == {"rsi_14": 61.5}
    assert row["indicators"]["4h"]["values"] == {"rsi_14": 55.0}


def test_before_any_symbol_is_tracked_the_screener_is_empty(client):
    assert client.get(URL).json() == {"count": 0, "next": None, "previous": None, "results": []}


def test_only_tracked_symbols_are_rows(client):
    coin("BTCUSDT", price=1)
    eth = coin("ETHUSDT", price=1)
    eth.is_active = False
    eth.save()

    assert symbols(client) == ["BTCUSDT"]


def test_filters_on_an_indicator_of_one_timeframe(client):
    coin("BTCUSDT", price=1, snapshots={"1h": {"rsi_14": 25.0}, "4h": {"rsi_14": 70.0}})
    coin("ETHUSDT", price=1, snapshots={"1h": {"rsi_14": 45.0}, "4h": {"rsi_14": 20.0}})

    assert symbols(client, "rsi_1h__lt=30") == ["BTCUSDT"]
    assert symbols(client, "rsi_14_4h__lt=30") == ["ETHUSDT"]


def test_filters_combine(client):
    coin("BTCUSDT", price=1, change=6, quote_volume=5e6)
    coin("ETHUSDT", price=1, change=8, quote_volume=1e5)
    coin("SOLUSDT", price=1, change=1, quote_volume=9e6)

    assert symbols(client, "change_24h__gte=5&quote_volume_24h__gte=1000000") == ["BTCUSDT"]


def test_an_exact_text_filter_ignores_case(client):
    coin("BTCUSDT", price=1)
    coin("ETHBTC", price=1, base_asset="ETH", quote_asset="BTC")

    assert symbols(client, "quote_asset=usdt") == ["BTCUSDT"]


def test_a_missing_value_matches_no_filter_and_sorts_last_both_ways(client):
    coin("BTCUSDT", price=1, snapshots={"1h": {"rsi_14": 40.0}})
    coin("ETHUSDT", price=1, snapshots={"1h": {"rsi_14": None}})
    coin("SOLUSDT", price=1, snapshots={"1h": {"rsi_14": 60.0}})

    assert symbols(client, "rsi_1h__gte=0") == ["BTCUSDT", "SOLUSDT"]
    assert symbols(client, "ordering=rsi_1h") == ["BTCUSDT", "SOLUSDT", "ETHUSDT"]
    assert symbols(client, "ordering=-rsi_1h") == ["SOLUSDT", "BTCUSDT", "ETHUSDT"]


def test_rows_come_by_market_cap_largest_first_unless_ordered(client):
    coin("ETHUSDT", price=1, market_cap=4e11)
    coin("BTCUSDT", price=1, market_cap=1.9e12)
    coin("NEWUSDT", price=1, market_cap=None)

    assert symbols(client) == ["BTCUSDT", "ETHUSDT", "NEWUSDT"]
    assert symbols(client, "ordering=symbol") == ["BTCUSDT", "ETHUSDT", "NEWUSDT"]
    assert symbols(client, "ordering=-symbol") == ["NEWUSDT", "ETHUSDT", "BTCUSDT"]


def test_orders_by_several_fields(client):
    coin("AUSDT", price=1, rank=2, change=1)
    coin("BUSDT", price=1, rank=1, change=1)
    coin("CUSDT", price=1, rank=3, change=5)

    assert symbols(client, "ordering=-change_24h,rank") == ["CUSDT", "BUSDT", "AUSDT"]


def test_search_matches_the_symbol_or_the_name(client):
    coin("BTCUSDT", price=1, name="Bitcoin")
    coin("WBTCUSDT", price=1, name="Wrapped Bitcoin")
    coin("ETHUSDT", price=1, name="Ethereum")

    assert sorted(symbols(client, "search=bitcoin")) == ["BTCUSDT", "WBTCUSDT"]
    assert symbols(client, "search=eth") == ["ETHUSDT"]


def test_pages_link_to_each_other(client):
    for number in range(5):
        coin(f"C{number}USDT", price=1, rank=number + 1)

    first = client.get(f"{URL}?ordering=rank&page_size=2").json()
    second = client.get(first["next"]).json()

    assert first["count"] == 5
    assert [row["symbol"] for row in second["results"]] == ["C2USDT", "C3USDT"]
    assert client.get(second["previous"]).json() == first


def test_a_page_past_the_last_is_not_found(client):
    coin("BTCUSDT", price=1)

    assert client.get(f"{URL}?page=2").status_code == 404


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("rsi_1d__lt=30&volume=1", "volume"),
        ("rsi_1h__lt=low", "rsi_1h__lt"),
        ("rsi_1h__lt=nan", "rsi_1h__lt"),
        ("price__between=1", "price__between"),
        ("symbol__gte=B", "symbol__gte"),
        ("ordering=-popularity", "ordering"),
        ("page=0", "page"),
        ("page_size=5000", "page_size"),
    ],
)
def test_a_bad_query_is_a_400_naming_the_parameter(client, query, field):
    coin("BTCUSDT", price=1)

    response = client.get(f"{URL}?{query}")

    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["status"], error["code"]) == (400, "invalid")
    assert list(error["fields"]) == [field]


def test_an_unchanged_table_answers_if_none_match_with_304(client):
    coin("BTCUSDT", price=1)
    first = client.get(URL)

    again = client.get(URL, headers={"If-None-Match": first["ETag"]})

    assert again.status_code == 304
    assert again["ETag"] == first["ETag"]


def test_a_new_ticker_changes_the_etag_and_the_price(client):
    coin("BTCUSDT", price=100)
    first = client.get(URL)

    live_tickers_set({"BTCUSDT": ticker("BTCUSDT", price=101, event_time=2)})
    again = client.get(URL, headers={"If-None-Match": first["ETag"]})

    assert again.status_code == 200
    assert again.json()["results"][0]["price"] == 101


def test_the_same_query_on_an_unchanged_table_reads_nothing_from_the_database(client, django_assert_num_queries):
    coin("BTCUSDT", price=1)
    client.get(f"{URL}?rsi_1h__lt=30")

    with django_assert_num_queries(0):
        client.get(f"{URL}?rsi_1h__lt=30")


def test_the_body_is_gzipped_for_clients_that_accept_it(client):
    for number in range(20):
        coin(f"C{number}USDT", price=1, snapshots={"1h": {"rsi_14": 50.0, "macd": 1.5}})

    response = client.get(URL, headers={"Accept-Encoding": "gzip"})

    assert response["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(response.content))["count"] == 20


def test_snapshots_computed_by_the_pipeline_show_once_committed(client, django_capture_on_commit_callbacks):
    eth = SymbolFactory(symbol="ETHUSDT")
    minutes = eth_minutes_up_to_the_hour()
    candles_upsert(rows=klines_parse(symbol_id=eth.id, raw_rows=minutes, source="test").rows)
    assert rows(client)[0]["indicators"] == {}

    with django_capture_on_commit_callbacks(execute=True):
        snapshots_compute(symbol_ids=[eth.id], timeframe="1h", end_ms=int(minutes[-1][0]) + 60_000)

    stored = Snapshot.objects.get(symbol=eth, timeframe="1h").values
    assert rows(client)[0]["indicators"]["1h"]["values"] == stored


def test_the_sparkline_is_the_hourly_closes_of_the_last_24_hours(client):
    eth = SymbolFactory(symbol="ETHUSDT")
    minutes = eth_minutes_up_to_the_hour()  # the hour now forming has no minute yet
    candles_upsert(rows=klines_parse(symbol_id=eth.id, raw_rows=minutes, source="test").rows)
    hourly_closes = [float(row[4]) for row in minutes if row[0] // 60_000 % 60 == 59]

    [row] = rows(client)

    assert row["sparkline_24h"] == hourly_closes[-23:]


def test_without_a_live_ticker_the_price_is_the_last_stored_close(client):
    eth = SymbolFactory(symbol="ETHUSDT")
    minutes = eth_minutes_up_to_the_hour()
    candles_upsert(rows=klines_parse(symbol_id=eth.id, raw_rows=minutes, source="test").rows)
    cache.clear()

    [row] = rows(client)

    assert row["price"] == float(minutes[-1][4])


def test_a_row_holds_its_symbols_newest_signals(client, django_capture_on_commit_callbacks):
    btc = coin("BTCUSDT", price=1)
    assert rows(client)[0]["signals"] == []
    StrategyFactory(name="Oversold")
    snapshot(btc, {"rsi_14": 25.0})

    with django_capture_on_commit_callbacks(execute=True):
        evaluate(btc)

    [signal] = rows(client)[0]["signals"]
    assert (signal["strategy_name"], signal["timeframe"]) == ("Oversold", "4h")
