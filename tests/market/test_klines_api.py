import pytest
from rest_framework.test import APIClient

from apps.market.klines import klines_parse
from apps.market.services.candles import candles_upsert
from fakes.recorded import archive_1m
from tests.market.factories import SymbolFactory

pytestmark = [pytest.mark.django_db, pytest.mark.timescaledb]

JAN_1_2020_MS = 1577836800000


@pytest.fixture
def client() -> APIClient:
    symbol = SymbolFactory(symbol="BTCUSDT")
    candles_upsert(rows=klines_parse(symbol_id=symbol.id, raw_rows=archive_1m()[:180], source="test").rows)
    return APIClient()


def _error(response) -> dict:
    assert response.status_code == 400
    return response.json()["error"]


def test_it_answers_in_binances_12_column_kline_format(client):
    response = client.get("/api/v1/klines/BTCUSDT", {"interval": "1h", "start": JAN_1_2020_MS})

    assert response.status_code == 200
    first = response.json()[0]
    assert first[0] == JAN_1_2020_MS and first[6] == JAN_1_2020_MS + 3_600_000 - 1
    assert all(isinstance(first[i], str) for i in (1, 2, 3, 4, 5, 7, 9, 10)) and isinstance(first[8], int)
    assert len(response.json()) == 3


def test_it_accepts_iso_times_and_a_trailing_slash(client):
    response = client.get("/api/v1/klines/BTCUSDT/", {"interval": "1h", "start": "2020-01-01T01:00:00Z", "limit": 1})

    assert [row[0] for row in response.json()] == [JAN_1_2020_MS + 3_600_000]


def test_an_unknown_symbol_is_a_400_naming_it(client):
    assert _error(client.get("/api/v1/klines/NOPEUSDT"))["fields"] == {"symbol": ["Unknown symbol 'NOPEUSDT'."]}


def test_a_symbol_with_a_nul_byte_is_an_unknown_symbol(client):
    assert _error(client.get("/api/v1/klines/BTC%00USDT"))["fields"] == {"symbol": ["Unknown symbol 'BTC\\x00USDT'."]}


def test_an_unknown_interval_is_a_400(client):
    assert "interval" in _error(client.get("/api/v1/klines/BTCUSDT", {"interval": "7m"}))["fields"]


def test_start_after_end_is_a_400(client):
    error = _error(client.get("/api/v1/klines/BTCUSDT", {"start": JAN_1_2020_MS + 1, "end": JAN_1_2020_MS}))

    assert error["message"] == "start: start is after end."


@pytest.mark.parametrize("limit", ["0", "1001", "ten"])
def test_a_limit_out_of_range_is_a_400(client, limit):
    assert "limit" in _error(client.get("/api/v1/klines/BTCUSDT", {"limit": limit}))["fields"]


def test_an_unreadable_time_is_a_400(client):
    assert "end" in _error(client.get("/api/v1/klines/BTCUSDT", {"end": "yesterday"}))["fields"]


def test_a_client_paging_until_a_short_page_gets_every_stored_candle_across_gaps():
    symbol = SymbolFactory(symbol="ETHUSDT")
    minutes = archive_1m()[:180]
    stored = minutes[:35] + minutes[101:]  # 66 minutes missing, from the middle of a page
    candles_upsert(rows=klines_parse(symbol_id=symbol.id, raw_rows=stored, source="test").rows)
    client, start, received = APIClient(), JAN_1_2020_MS, []

    while page := client.get("/api/v1/klines/ETHUSDT", {"interval": "1m", "start": start, "limit": 10}).json():
        received += [row[0] for row in page]
        if len(page) < 10:
            break
        start = page[-1][0] + 1

    assert received == [int(row[0]) for row in stored]
