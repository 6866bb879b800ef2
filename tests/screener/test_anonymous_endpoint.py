"""Anonymous `GET /api/v1/screener/` is answered on the event loop (apps/screener/asgi.py), with the same answers,
limits and errors as the DRF view that serves everyone else."""

import gzip
import json

import pytest
from asgiref.sync import async_to_sync
from channels.testing import HttpCommunicator
from django.contrib.auth.models import User

from apps.market.live import live_tickers_set
from config.asgi import application
from tests.conftest import wait_until
from tests.screener.conftest import coin, ticker

pytestmark = pytest.mark.django_db(transaction=True)  # the table is read in a thread of its own


def get(path: str, **headers: str) -> dict:
    """The answer of the whole ASGI application, as a server would pass it on."""
    encoded = [
        (name.replace("_", "-").encode(), value.encode()) for name, value in ({"host": "127.0.0.1"} | headers).items()
    ]

    async def request() -> dict:
        return await HttpCommunicator(application, "GET", path, headers=encoded).get_response()

    response = async_to_sync(request)()
    response["headers"] = {name.decode().lower(): value.decode() for name, value in response["headers"]}
    return response


@pytest.fixture
def market():
    coin("BTCUSDT", price=97000, market_cap=1.9e12, snapshots={"1h": {"rsi_14": 25.0}})
    coin("ETHUSDT", price=3500, market_cap=4e11, snapshots={"1h": {"rsi_14": 55.0}})


def test_anonymous_clients_get_what_the_view_gives_a_signed_in_user(client, market):
    client.force_login(User.objects.create_user("alice"))
    signed_in = client.get("/api/v1/screener/?rsi_1h__lt=30", headers={"Host": "127.0.0.1"})

    anonymous = get("/api/v1/screener/?rsi_1h__lt=30")

    assert anonymous["status"] == 200
    assert json.loads(anonymous["body"]) == signed_in.json()
    assert anonymous["headers"]["etag"] == signed_in["ETag"]


def test_the_body_is_gzipped_for_clients_that_accept_it():
    for number in range(20):
        coin(f"C{number}USDT", price=1, snapshots={"1h": {"rsi_14": 50.0, "macd": 1.5}})

    response = get("/api/v1/screener/", accept_encoding="gzip")

    assert response["headers"]["content-encoding"] == "gzip"
    assert json.loads(gzip.decompress(response["body"]))["count"] == 20


def test_an_unchanged_answer_is_a_304(market):
    etag = get("/api/v1/screener/")["headers"]["etag"]

    assert get("/api/v1/screener/", if_none_match=etag)["status"] == 304


def test_a_bad_query_is_a_400_in_the_error_format(market):
    response = get("/api/v1/screener/?rsi_1h__lt=low")

    assert response["status"] == 400
    assert json.loads(response["body"])["error"]["fields"] == {"rsi_1h__lt": ["'low' is not a number."]}


def test_an_address_over_its_rate_gets_429_with_retry_after(market, settings):
    settings.REST_FRAMEWORK = settings.REST_FRAMEWORK | {"DEFAULT_THROTTLE_RATES": {"anon": "2/day", "user": "9/day"}}
    statuses = [get("/api/v1/screener/")["status"] for _ in range(2)]

    response = get("/api/v1/screener/")

    assert (statuses, response["status"]) == ([200, 200], 429)
    assert int(response["headers"]["retry-after"]) > 0
    assert json.loads(response["body"])["error"]["code"] == "throttled"


def test_an_unknown_host_is_refused(market):
    assert get("/api/v1/screener/", host="evil.example")["status"] == 400


def test_answers_carry_the_security_headers(market):
    headers = get("/api/v1/screener/")["headers"]

    assert (headers["x-content-type-options"], headers["x-frame-options"]) == ("nosniff", "DENY")


def test_requests_with_credentials_go_through_django(market):
    response = get("/api/v1/screener/", authorization="Token not-a-token")

    assert response["status"] == 401  # DRF's token authentication refused it


def test_closed_reads_go_through_django(market, settings):
    settings.API_READ_REQUIRES_AUTH = True

    assert get("/api/v1/screener/")["status"] == 401


def test_requests_are_answered_from_the_table_as_it_is_while_it_is_refreshed(screener):
    coin("BTCUSDT", price=100)
    get("/api/v1/screener/")  # the first table
    live_tickers_set({"BTCUSDT": ticker("BTCUSDT", price=101, event_time=2)})
    first = screener.table_as_is()

    during = get("/api/v1/screener/")
    assert wait_until(lambda: screener.table_as_is() is not first, timeout=10)
    after = get("/api/v1/screener/")

    assert json.loads(during["body"])["results"][0]["price"] == 100
    assert json.loads(after["body"])["results"][0]["price"] == 101
