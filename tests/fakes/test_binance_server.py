"""The fake exchange's REST side speaks Binance's wire format: answers, errors, weights, 429 then 418, mishaps."""

import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import httpx
import pytest

from fakes.binance_server import FakeBinance, RecordedRequest
from fakes.market import DAY_MS, MINUTE_MS, FakeMarket, FakeSymbol
from fakes.recorded import archive_1m

JAN_3_2020_MS = 1578009600000
NOW_MS = JAN_3_2020_MS + 12 * 3_600_000 + 30_000  # 2020-01-03 12:00:30 UTC: the 12:00 candle is forming
BTC = FakeSymbol("BTCUSDT", "BTC", "USDT", "TRADING", tick_size="0.01000000", step_size="0.00001000")
ETH = FakeSymbol("ETHUSDT", "ETH", "USDT", "TRADING", tick_size="0.01000000", step_size="0.00010000")


@pytest.fixture
def btc_market() -> FakeMarket:
    market = FakeMarket(clock=lambda: NOW_MS)
    market.add_symbol(BTC, archive_1m("BTCUSDT"))
    market.add_symbol(ETH, archive_1m("BTCUSDT"))
    return market


@pytest.fixture
def fake(btc_market) -> Iterator[FakeBinance]:
    with FakeBinance(btc_market) as fake:
        yield fake


@pytest.fixture
def client(fake) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fake.rest_url) as client:
        yield client


def klines(client: httpx.Client, **params: object) -> httpx.Response:
    return client.get("/api/v3/klines", params={"symbol": "BTCUSDT", "interval": "1m", **params})


def assert_binance_error(response: httpx.Response, status: int, code: int) -> None:
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert isinstance(response.json()["msg"], str)


@pytest.fixture
def fresh_minute() -> None:
    """Weight counts reset at each wall-clock minute: start a test that counts with the minute far from its end."""
    seconds_left = 60 - time.time() % 60
    if seconds_left < 5:
        time.sleep(seconds_left + 0.05)


def test_ping_and_time(client):
    assert client.get("/api/v3/ping").json() == {}
    assert client.get("/api/v3/time").json() == {"serverTime": NOW_MS}


def test_exchange_info_describes_each_symbol_as_binance_does(client):
    info = client.get("/api/v3/exchangeInfo").json()

    assert (info["timezone"], info["serverTime"], info["exchangeFilters"]) == ("UTC", NOW_MS, [])
    assert info["rateLimits"][0] == {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1,
                                     "limit": 6000}  # fmt: skip
    assert {limit["rateLimitType"] for limit in info["rateLimits"]} == {"REQUEST_WEIGHT", "ORDERS", "RAW_REQUESTS"}
    btc = info["symbols"][0]
    assert (btc["symbol"], btc["status"], btc["baseAsset"], btc["quoteAsset"]) == ("BTCUSDT", "TRADING", "BTC", "USDT")
    assert (btc["isSpotTradingAllowed"], btc["permissions"], btc["permissionSets"]) == (True, [], [["SPOT"]])
    filters = {entry["filterType"]: entry for entry in btc["filters"]}
    assert (filters["PRICE_FILTER"]["tickSize"], filters["LOT_SIZE"]["stepSize"]) == ("0.01000000", "0.00001000")
    assert "minNotional" in filters["NOTIONAL"]
    assert "derived" not in btc


def test_exchange_info_answers_for_the_symbols_asked_for(client):
    def names(params: dict) -> list[str]:
        return [entry["symbol"] for entry in client.get("/api/v3/exchangeInfo", params=params).json()["symbols"]]

    assert names({}) == ["BTCUSDT", "ETHUSDT"]
    assert names({"symbol": "ETHUSDT"}) == ["ETHUSDT"]
    assert names({"symbols": '["ETHUSDT","BTCUSDT"]'}) == ["ETHUSDT", "BTCUSDT"]
    assert_binance_error(client.get("/api/v3/exchangeInfo", params={"symbol": "NOPEUSDT"}), 400, -1121)
    assert_binance_error(client.get("/api/v3/exchangeInfo", params={"symbols": '["BTCUSDT","NOPE"]'}), 400, -1121)
    assert_binance_error(client.get("/api/v3/exchangeInfo", params={"symbols": "BTCUSDT"}), 400, -1100)


def test_klines_rows_are_binances_twelve_columns(client, btc_market):
    rows = klines(client, startTime=JAN_3_2020_MS, limit=2).json()

    assert rows == btc_market.candles("BTCUSDT")[2 * 1440 : 2 * 1440 + 2]
    assert [type(value) for value in rows[0]] == [int, str, str, str, str, str, int, str, int, str, str, str]


def test_without_times_klines_are_the_most_recent_ones_up_to_the_forming_candle(client):
    rows = klines(client).json()

    assert len(rows) == 500
    assert rows[-1][0] == NOW_MS - 30_000
    assert rows[-1][6] > NOW_MS, "the forming candle closes in the future"
    assert rows[0][0] == rows[-1][0] - 499 * MINUTE_MS


def test_with_a_start_time_klines_are_the_oldest_from_it(client):
    rows = klines(client, startTime=JAN_3_2020_MS - 1, limit=3).json()

    assert [row[0] for row in rows] == [JAN_3_2020_MS, JAN_3_2020_MS + MINUTE_MS, JAN_3_2020_MS + 2 * MINUTE_MS]


def test_with_an_end_time_only_klines_are_the_most_recent_up_to_it(client):
    rows = klines(client, endTime=JAN_3_2020_MS, limit=2).json()

    assert [row[0] for row in rows] == [JAN_3_2020_MS - MINUTE_MS, JAN_3_2020_MS]


def test_with_both_times_klines_start_at_the_start_and_stop_at_the_end(client):
    end_ms = JAN_3_2020_MS + 9 * MINUTE_MS
    assert len(klines(client, startTime=JAN_3_2020_MS, endTime=end_ms).json()) == 10
    assert [row[0] for row in klines(client, startTime=JAN_3_2020_MS, endTime=end_ms, limit=2).json()] == [
        JAN_3_2020_MS, JAN_3_2020_MS + MINUTE_MS,
    ]  # fmt: skip


def test_no_kline_from_after_now_is_served(client):
    assert klines(client, startTime=NOW_MS).json() == []
    assert len(klines(client, startTime=NOW_MS - 30_000, limit=1000).json()) == 1


def test_klines_skip_a_gap_the_exchange_has(client, btc_market):
    btc_market.cut("BTCUSDT", JAN_3_2020_MS + MINUTE_MS, JAN_3_2020_MS + 3 * MINUTE_MS)

    rows = klines(client, startTime=JAN_3_2020_MS, limit=2).json()

    assert [row[0] for row in rows] == [JAN_3_2020_MS, JAN_3_2020_MS + 3 * MINUTE_MS]


def test_klines_limit_is_500_by_default_and_at_most_1000(client):
    assert len(klines(client, limit=1000).json()) == 1000
    assert_binance_error(klines(client, limit=1001), 400, -1130)
    assert_binance_error(klines(client, limit=0), 400, -1130)


def test_klines_parameters_are_checked_as_binance_does(client):
    assert_binance_error(client.get("/api/v3/klines", params={"interval": "1m"}), 400, -1102)
    assert_binance_error(client.get("/api/v3/klines", params={"symbol": "BTCUSDT"}), 400, -1102)
    assert_binance_error(klines(client, interval="7m"), 400, -1120)
    assert_binance_error(klines(client, interval="1h"), 400, -1120)  # the fake keeps 1m candles only
    assert_binance_error(klines(client, symbol="NOPEUSDT"), 400, -1121)
    assert_binance_error(klines(client, startTime="yesterday"), 400, -1100)
    assert client.get("/api/v3/klines", params={"interval": "1m"}).json() == {
        "code": -1102, "msg": "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed."
    }  # fmt: skip
    assert klines(client, symbol="NOPEUSDT").json() == {"code": -1121, "msg": "Invalid symbol."}


def test_the_24hr_ticker_sums_up_the_last_24_hours_of_minutes(client, btc_market):
    window = btc_market.between("BTCUSDT", NOW_MS - DAY_MS, NOW_MS)

    ticker = client.get("/api/v3/ticker/24hr", params={"symbol": "BTCUSDT"}).json()

    volume, quote_volume = (sum(Decimal(row[column]) for row in window) for column in (5, 7))
    assert ticker["symbol"] == "BTCUSDT"
    assert (ticker["openPrice"], ticker["lastPrice"]) == (window[0][1], window[-1][4])
    assert ticker["prevClosePrice"] == btc_market.candle_at("BTCUSDT", window[0][0] - MINUTE_MS)[4]
    assert Decimal(ticker["highPrice"]) == max(Decimal(row[2]) for row in window)
    assert Decimal(ticker["lowPrice"]) == min(Decimal(row[3]) for row in window)
    assert (Decimal(ticker["volume"]), Decimal(ticker["quoteVolume"])) == (volume, quote_volume)
    assert Decimal(ticker["priceChange"]) == Decimal(window[-1][4]) - Decimal(window[0][1])
    assert abs(Decimal(ticker["weightedAvgPrice"]) - quote_volume / volume) < Decimal("0.00000001")
    assert Decimal(ticker["bidPrice"]) < Decimal(ticker["askPrice"])
    assert (ticker["openTime"], ticker["closeTime"]) == (NOW_MS - DAY_MS, NOW_MS)
    assert ticker["count"] == sum(row[8] for row in window) == ticker["lastId"] - ticker["firstId"] + 1
    assert set(ticker) == {
        "symbol", "priceChange", "priceChangePercent", "weightedAvgPrice", "prevClosePrice", "lastPrice", "lastQty",
        "bidPrice", "bidQty", "askPrice", "askQty", "openPrice", "highPrice", "lowPrice", "volume", "quoteVolume",
        "openTime", "closeTime", "firstId", "lastId", "count",
    }  # fmt: skip


def test_the_24hr_ticker_of_a_symbol_with_no_trade_for_a_day_is_zeros(client, btc_market):
    btc_market.cut("ETHUSDT", NOW_MS - 2 * DAY_MS, NOW_MS + 1)

    ticker = client.get("/api/v3/ticker/24hr", params={"symbol": "ETHUSDT"}).json()

    assert (ticker["volume"], ticker["count"], ticker["firstId"]) == ("0.00000000", 0, -1)


def test_the_24hr_ticker_of_every_symbol_is_a_list_and_weighs_80(client):
    response = client.get("/api/v3/ticker/24hr")

    assert [ticker["symbol"] for ticker in response.json()] == ["BTCUSDT", "ETHUSDT"]
    assert response.headers["X-MBX-USED-WEIGHT-1M"] == "80"
    assert_binance_error(client.get("/api/v3/ticker/24hr", params={"symbol": "NOPEUSDT"}), 400, -1121)


def test_the_24hr_ticker_of_some_symbols_is_a_list_weighed_by_their_count(client, fresh_minute):
    response = client.get("/api/v3/ticker/24hr", params={"symbols": '["ETHUSDT","BTCUSDT"]'})

    assert [ticker["symbol"] for ticker in response.json()] == ["ETHUSDT", "BTCUSDT"]
    assert response.headers["X-MBX-USED-WEIGHT-1M"] == "2"


def test_every_answer_carries_the_minutes_used_weight(client, fake, fresh_minute):
    answers = [client.get("/api/v3/ping"), klines(client), client.get("/api/v3/exchangeInfo"),
               client.get("/api/v3/ticker/24hr", params={"symbol": "BTCUSDT"}), klines(client, limit=5000)]  # fmt: skip

    assert [answer.headers["X-MBX-USED-WEIGHT-1M"] for answer in answers] == ["1", "3", "23", "25", "27"]
    assert [answer.headers["X-MBX-USED-WEIGHT"] for answer in answers] == ["1", "3", "23", "25", "27"]
    assert fake.used_weight == 27
    assert fake.requests[1] == RecordedRequest("/api/v3/klines", {"symbol": "BTCUSDT", "interval": "1m"}, 200, 2)
    assert [request.weight for request in fake.requests] == [1, 2, 20, 2, 2]


def test_past_the_weight_limit_it_answers_429_with_retry_after(client, fake, fresh_minute):
    fake.weight_limit, fake.retry_after = 3, 7
    assert klines(client).status_code == 200

    refused = klines(client)

    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "7"
    assert refused.json() == {"code": -1003, "msg": "Too many requests; current limit of IP is 3 requests per minute. "
                              "Please use the websocket for live updates to avoid polling the API."}  # fmt: skip
    assert fake.used_weight == 2, "a refused request adds no weight"
    assert not fake.banned


def test_a_request_within_retry_after_of_a_429_gets_the_ip_banned_until_it_ends(client, fake, fresh_minute):
    fake.weight_limit, fake.retry_after = 2, 1
    klines(client)
    assert klines(client).status_code == 429
    fake.weight_limit = 6000

    banned = client.get("/api/v3/ping")

    assert (banned.status_code, banned.headers["Retry-After"], fake.banned) == (418, "1", True)
    until_ms = int(banned.json()["msg"].split("banned until ")[1].split(".")[0])
    assert banned.json() == {"code": -1003, "msg": f"Way too much request weight used; IP banned until {until_ms}. "
                             "Please use WebSocket Streams for live updates to avoid bans."}  # fmt: skip
    time.sleep(0.3)
    assert klines(client).status_code == 418, "every request, while the ban lasts"
    time.sleep(until_ms / 1000 - time.time() + 0.05)
    assert klines(client).status_code == 200


def test_injected_server_errors_answer_binances_body_and_still_weigh(client, fake, fresh_minute):
    fake.fail_next(2)
    fake.fail_next(1, status=500)

    statuses = [klines(client).status_code for _ in range(4)]

    assert statuses == [503, 503, 500, 200]
    assert klines(client, limit=1).status_code == 200
    assert [request.status for request in fake.requests] == [503, 503, 500, 200, 200]
    assert fake.used_weight == 10
    fake.fail_next(1)
    assert klines(client).json() == {"code": -1001, "msg": "Internal error; unable to process your request. "
                                     "Please try again."}  # fmt: skip


def test_an_injected_418_bans_the_ip(client, fake):
    fake.fail_next(1, status=418)

    assert klines(client).status_code == 418
    assert fake.banned


def test_a_dropped_request_gets_no_response_at_all(client, fake):
    fake.drop_next(1)

    with pytest.raises(httpx.RemoteProtocolError):
        klines(client)
    assert klines(client).status_code == 200
    assert [request.status for request in fake.requests] == [0, 200]


def test_a_garbled_answer_is_an_html_page_with_status_200(client, fake):
    fake.garble_next(1)

    response = klines(client)

    assert (response.status_code, response.headers["Content-Type"].split(";")[0]) == (200, "text/html")
    assert klines(client).json()[0][0] == NOW_MS - 30_000 - 499 * MINUTE_MS


def test_it_serves_concurrent_requests(fake, fresh_minute):
    def fetch(index: int) -> int:
        params = {"symbol": "BTCUSDT", "interval": "1m", "startTime": JAN_3_2020_MS + index * MINUTE_MS}
        return httpx.get(f"{fake.rest_url}/api/v3/klines", params=params).json()[0][0]

    with ThreadPoolExecutor(max_workers=16) as pool:
        first_opens = list(pool.map(fetch, range(32)))

    assert first_opens == [JAN_3_2020_MS + index * MINUTE_MS for index in range(32)]
    assert len(fake.requests) == 32
    assert fake.used_weight == 64


def test_it_starts_and_stops_cleanly_many_times(btc_market):
    threads_before = threading.active_count()
    ports = set()
    for _ in range(10):
        with FakeBinance(btc_market) as fake:
            assert httpx.get(f"{fake.rest_url}/api/v3/ping").json() == {}
            ports.add(fake.rest_url)

    assert threading.active_count() == threads_before
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{ports.pop()}/api/v3/ping")


def test_it_runs_standalone_until_interrupted():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "fakes.binance_server", "--port", str(port)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as server:
        try:
            assert f"http://127.0.0.1:{port}" in server.stdout.readline()
            assert httpx.get(f"http://127.0.0.1:{port}/api/v3/exchangeInfo").json()["symbols"][0]["symbol"] == "BTCUSDT"
            server.send_signal(signal.SIGINT)
            assert server.wait(timeout=30) == 0
        finally:
            server.kill()  # still running only when the interrupt did not stop it
