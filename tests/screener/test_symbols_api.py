from datetime import UTC, datetime, timedelta

import pytest

from apps.indicators.models import IndicatorHistory
from apps.market.live import live_klines_set
from tests.market.factories import SymbolFactory
from tests.screener.conftest import coin

pytestmark = pytest.mark.django_db

START = datetime(2026, 1, 1, tzinfo=UTC)


def test_symbols_lists_the_tracked_ones_with_their_metadata(client):
    coin("BTCUSDT", price=1, name="Bitcoin", rank=1, market_cap=1.9e12)
    SymbolFactory(symbol="OLDUSDT", is_active=False)

    [btc] = client.get("/api/v1/symbols/").json()["results"]

    assert (btc["symbol"], btc["name"], btc["rank"], btc["market_cap"]) == ("BTCUSDT", "Bitcoin", 1, 1.9e12)


def test_symbols_before_any_metadata_sync_have_empty_metadata(client):
    SymbolFactory(symbol="BTCUSDT")

    [btc] = client.get("/api/v1/symbols/").json()["results"]

    assert (btc["name"], btc["rank"], btc["logo_url"]) == ("", None, "")


def test_symbols_search_matches_symbol_or_base_asset(client):
    SymbolFactory(symbol="BTCUSDT")
    SymbolFactory(symbol="ETHUSDT")

    assert [row["symbol"] for row in client.get("/api/v1/symbols/?search=eth").json()["results"]] == ["ETHUSDT"]


def test_a_search_with_a_null_character_is_a_400(client):
    response = client.get("/api/v1/symbols/?search=bt%00c")

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["search"]


def test_a_symbol_has_its_live_ticker_forming_candle_and_snapshots(client):
    coin("BTCUSDT", price=97000, snapshots={"1h": {"rsi_14": 61.5}})
    live_klines_set({"BTCUSDT": {"t": 1, "c": "97000.00", "x": False}})

    btc = client.get("/api/v1/symbols/btcusdt/").json()

    assert btc["live"]["ticker"]["c"] == "97000"
    assert btc["live"]["forming_candle"] == {"t": 1, "c": "97000.00", "x": False}
    assert btc["snapshots"]["1h"]["values"] == {"rsi_14": 61.5}


def test_an_unknown_symbol_is_not_found(client):
    response = client.get("/api/v1/symbols/NOPEUSDT/")

    assert response.status_code == 404
    assert response.json()["error"]["message"] == "Unknown symbol 'NOPEUSDT'."


@pytest.fixture
def history():
    btc = SymbolFactory(symbol="BTCUSDT")
    IndicatorHistory.objects.bulk_create(
        IndicatorHistory(symbol=btc, timeframe="1h", open_time=START + timedelta(hours=hour), values={"rsi_14": hour})
        for hour in range(10)
    )
    return btc


def test_indicator_history_without_a_start_is_the_latest_rows_oldest_first(client, history):
    rows = client.get("/api/v1/indicators/BTCUSDT/?timeframe=1h&limit=3").json()

    assert [row["values"]["rsi_14"] for row in rows] == [7, 8, 9]


def test_indicator_history_from_a_start_to_an_end(client, history):
    query = "timeframe=1h&start=2026-01-01T02:00:00Z&end=2026-01-01T04:00:00Z"

    rows = client.get(f"/api/v1/indicators/BTCUSDT/?{query}").json()

    assert [row["open_time"] for row in rows] == [f"2026-01-01T0{hour}:00:00Z" for hour in (2, 3, 4)]


@pytest.mark.parametrize(
    ("query", "field"),
    [("timeframe=2h", "timeframe"), ("", "timeframe"), ("timeframe=1h&start=yesterday", "start"),
     ("timeframe=1h&start=2026-01-02T00:00:00Z&end=2026-01-01T00:00:00Z", "start"),
     ("timeframe=1h&limit=0", "limit")],
)  # fmt: skip
def test_indicator_history_rejects_a_bad_query_naming_the_parameter(client, history, query, field):
    response = client.get(f"/api/v1/indicators/BTCUSDT/?{query}")

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]
