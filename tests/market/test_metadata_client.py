"""The CoinMarketCap client against the fake CMC server: the key, pacing, and what each error means."""

from collections.abc import Iterator

import pytest

from apps.market.coinmarketcap import CmcAccountError, CmcError, CoinMarketCap
from fakes.cmc_server import API_KEY, FakeCmc


@pytest.fixture
def fake() -> Iterator[FakeCmc]:
    with FakeCmc() as fake:
        yield fake


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
def cmc(fake, waits, settings) -> Iterator[CoinMarketCap]:
    settings.CMC_REQUESTS_PER_MINUTE = 30
    with CoinMarketCap(api_key=API_KEY, base_url=fake.url, sleep=waits.append) as client:
        yield client


def test_every_request_carries_the_api_key(cmc, fake):
    cmc.id_map()
    cmc.quotes_latest(ids=[1])

    assert [request.api_key for request in fake.requests] == [API_KEY, API_KEY]


def test_requests_are_spaced_to_stay_under_the_plans_minute_limit(cmc, waits):
    for _ in range(3):
        cmc.info(ids=[1])

    assert len(waits) == 2
    assert all(1.9 < wait <= 2.0 for wait in waits), "30 a minute: one every 2 seconds"


def test_quotes_and_info_are_keyed_by_id(cmc):
    assert set(cmc.quotes_latest(ids=[1, 1027, 999_999])) == {"1", "1027"}
    assert cmc.info(ids=[52])["52"]["logo"].endswith("/52.png")


@pytest.mark.parametrize(
    ("code", "error", "permanent"),
    [
        (1001, CmcAccountError, True),  # invalid key
        (1006, CmcAccountError, True),  # endpoint not in the plan
        (1009, CmcAccountError, True),  # the day's credits are used up
        (1011, CmcAccountError, False),  # IP rate limit
        (1008, CmcError, False),  # the minute's limit: over at the next minute
        (500, CmcError, False),
        (400, CmcError, True),
    ],
)
def test_each_cmc_error_code_says_whether_the_request_or_the_whole_run_can_succeed(cmc, fake, code, error, permanent):
    fake.fail_next(1, code)

    with pytest.raises(CmcError) as failure:
        cmc.id_map()

    assert type(failure.value) is error
    assert (failure.value.code, failure.value.permanent) == (code, permanent)


def test_an_unreachable_server_is_a_transient_error(settings):
    settings.CMC_REQUESTS_PER_MINUTE = 60_000
    with CoinMarketCap(api_key=API_KEY, base_url="http://127.0.0.1:9") as client, pytest.raises(CmcError) as failure:
        client.id_map()

    assert not failure.value.permanent
