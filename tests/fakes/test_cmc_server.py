"""The fake CoinMarketCap speaks CMC's wire format: envelopes, the key check, credits, error codes, failures."""

from collections.abc import Iterator

import httpx
import pytest

from fakes.cmc_server import API_KEY, FakeCmc

MAP = "/v1/cryptocurrency/map"
QUOTES = "/v2/cryptocurrency/quotes/latest"
INFO = "/v2/cryptocurrency/info"


@pytest.fixture
def fake() -> Iterator[FakeCmc]:
    with FakeCmc() as fake:
        yield fake


@pytest.fixture
def client(fake) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fake.url, headers={"X-CMC_PRO_API_KEY": API_KEY}) as client:
        yield client


def assert_cmc_error(response: httpx.Response, status: int, code: int) -> None:
    body = response.json()
    assert (response.status_code, body["status"]["error_code"]) == (status, code)
    assert isinstance(body["status"]["error_message"], str) and body["status"]["error_message"]
    assert "data" not in body


def test_answers_come_in_cmcs_envelope_with_the_credits_they_cost(client):
    body = client.get(MAP).json()

    assert set(body) == {"status", "data"}
    assert set(body["status"]) == {"timestamp", "error_code", "error_message", "elapsed", "credit_count", "notice"}
    status = body["status"]
    assert (status["error_code"], status["error_message"], status["credit_count"]) == (0, None, 1)
    assert status["timestamp"].endswith("Z")


def test_the_id_map_lists_active_coins_by_id_with_their_rank(client):
    coins = client.get(MAP).json()["data"]

    assert [coin["id"] for coin in coins] == sorted(coin["id"] for coin in coins)
    btc = next(coin for coin in coins if coin["symbol"] == "BTC")
    assert btc == btc | {"id": 1, "rank": 1, "name": "Bitcoin", "slug": "bitcoin", "is_active": 1, "platform": None}
    assert sorted(coin["rank"] for coin in coins if coin["symbol"] == "SOL") == [5, 4821], "a shared ticker"
    assert client.get(MAP, params={"listing_status": "inactive"}).json()["data"] == []


def test_the_id_map_is_paged_by_start_and_limit(client, fake):
    fake.add_filler(6000)

    first = client.get(MAP, params={"start": 1, "limit": 5000}).json()["data"]
    second = client.get(MAP, params={"start": 5001, "limit": 5000}).json()["data"]

    assert (len(first), len(second)) == (5000, len(fake.coins) - 5000)
    assert first[-1]["id"] < second[0]["id"]
    assert_cmc_error(client.get(MAP, params={"limit": 5001}), 400, 400)


def test_quotes_are_keyed_by_id_with_the_usd_quote(client, fake):
    data = client.get(QUOTES, params={"id": "1,1027"}).json()["data"]

    assert set(data) == {"1", "1027"}
    btc = data["1"]
    assert (btc["symbol"], btc["cmc_rank"], btc["circulating_supply"]) == ("BTC", 1, fake.coins[1].circulating_supply)
    assert btc["quote"]["USD"]["market_cap"] == fake.coins[1].price * fake.coins[1].circulating_supply
    assert {"price", "volume_24h", "percent_change_24h", "fully_diluted_market_cap"} <= set(btc["quote"]["USD"])


def test_quotes_skip_unknown_ids_unless_told_not_to(client):
    assert set(client.get(QUOTES, params={"id": "1,999999"}).json()["data"]) == {"1"}

    refused = client.get(QUOTES, params={"id": "1,999999", "skip_invalid": "false"})

    assert_cmc_error(refused, 400, 400)
    assert refused.json()["status"]["error_message"] == 'Invalid value for "id": "999999"'


def test_info_gives_the_logo_and_the_aux_fields_asked_for(client):
    full = client.get(INFO, params={"id": "5426"}).json()["data"]["5426"]
    logo_only = client.get(INFO, params={"id": "5426", "aux": "logo"}).json()["data"]["5426"]

    assert logo_only == {"id": 5426, "name": "Solana", "symbol": "SOL", "category": "coin", "slug": "solana",
                         "logo": "https://s2.coinmarketcap.com/static/img/coins/64x64/5426.png"}  # fmt: skip
    assert {"urls", "description", "tags", "platform", "date_added", "notice"} <= set(full)


def test_info_refuses_unknown_ids_by_default(client):
    assert_cmc_error(client.get(INFO, params={"id": "999999"}), 400, 400)
    assert client.get(INFO, params={"id": "999999", "skip_invalid": "true"}).json()["data"] == {}


def test_a_missing_or_wrong_key_is_refused(fake):
    assert_cmc_error(httpx.get(f"{fake.url}{MAP}"), 401, 1002)
    assert_cmc_error(httpx.get(f"{fake.url}{MAP}", headers={"X-CMC_PRO_API_KEY": "wrong"}), 401, 1001)
    assert httpx.get(f"{fake.url}{MAP}", params={"CMC_PRO_API_KEY": API_KEY}).status_code == 200


@pytest.mark.parametrize(("code", "status"), [(1008, 429), (1010, 429), (1006, 403), (500, 500)])
def test_the_next_requests_can_fail_with_cmcs_error_codes(client, fake, code, status):
    fake.fail_next(1, code)

    assert_cmc_error(client.get(MAP), status, code)
    assert client.get(MAP).status_code == 200


def test_every_request_naming_a_failing_coin_fails(client, fake):
    fake.fail_ids({5426}, 1008)

    assert_cmc_error(client.get(QUOTES, params={"id": "1,5426"}), 429, 1008)
    assert_cmc_error(client.get(INFO, params={"id": "5426"}), 429, 1008)
    assert client.get(QUOTES, params={"id": "1,1027"}).status_code == 200


def test_credits_are_counted_per_100_coins_up_to_the_daily_limit(client, fake):
    fake.add_filler(150)
    fake.daily_credit_limit = 3
    ids = ",".join(str(coin_id) for coin_id in list(fake.coins)[:150])

    assert client.get(QUOTES, params={"id": ids}).json()["status"]["credit_count"] == 2
    assert client.get(MAP).json()["status"]["credit_count"] == 1
    assert_cmc_error(client.get(MAP), 429, 1009)
    assert fake.credits_used == 3


def test_every_request_is_recorded(client, fake):
    client.get(QUOTES, params={"id": "1"})
    httpx.get(f"{fake.url}{MAP}")

    assert [(r.path, r.params, r.status, r.api_key) for r in fake.requests] == [
        (QUOTES, {"id": "1"}, 200, API_KEY),
        (MAP, {}, 401, None),
    ]
