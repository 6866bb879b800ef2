"""GET /health against the real PostgreSQL, Redis and broker, with a real streamer on our fake exchange."""

import socket
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from apps.indicators.models import Snapshot
from apps.market.services.streamer import Shard, Streamer
from config.celery import app
from tests.conftest import wait_until
from tests.market.factories import SymbolFactory
from tests.market.test_streamer import RunningStreamer
from tests.monitoring.conftest import EMPTY_TICKERS, kline_message, send

# The checks run in their own threads with their own database connections: they see committed rows only.
pytestmark = pytest.mark.django_db(transaction=True)

CLOSED_PORT = 9


def health(client) -> tuple[int, dict]:
    response = client.get("/health")
    return response.status_code, response.json()


@pytest.fixture
def snapshot() -> Snapshot:
    return Snapshot.objects.create(symbol=SymbolFactory(), timeframe="1h", open_time=timezone.now(), values={})


@pytest.fixture
def streaming(binance, streamer, client) -> Streamer:
    """The streamer has heard from Binance and said so."""
    send(binance, EMPTY_TICKERS)
    assert wait_until(lambda: health(client)[1]["checks"]["streamer"]["status"] == "ok", 60)
    return streamer


@pytest.fixture
def healthy(broker, streaming, snapshot) -> None:
    """Everything fine, so that a test can break one thing."""


def test_it_is_200_with_every_check_ok_when_all_is_fine(client, healthy):
    status, body = health(client)

    assert status == 200
    assert body["status"] == "ok"
    assert {name: check["status"] for name, check in body["checks"].items()} == {
        "database": "ok", "redis": "ok", "broker": "ok", "streamer": "ok", "snapshots": "ok",
    }  # fmt: skip


def test_it_is_never_cached(client, healthy):
    response = client.get("/health")

    assert "no-store" in response["Cache-Control"]


@pytest.fixture
def database_unreachable() -> Iterator[None]:
    database = connections.settings["default"]
    port = database["PORT"]
    database["PORT"] = str(CLOSED_PORT)
    yield
    database["PORT"] = port


def test_it_is_503_when_the_database_is_unreachable(client, healthy, database_unreachable):
    status, body = health(client)

    assert status == 503
    assert body["status"] == "degraded"
    assert body["checks"]["database"] == {"status": "failing", "detail": "OperationalError (details in the log)"}


def test_it_is_503_when_redis_is_unreachable(client, healthy, settings):
    settings.REDIS_URL = f"redis://127.0.0.1:{CLOSED_PORT}/0"

    status, body = health(client)

    assert status == 503
    assert body["checks"]["redis"]["status"] == "failing"


def test_redis_is_not_configured_on_the_embedded_default_and_that_is_healthy(client, healthy, settings):
    settings.REDIS_URL = ""

    status, body = health(client)

    assert status == 200
    assert body["checks"]["redis"]["status"] == "not configured"


@pytest.fixture
def broker_unreachable(broker) -> Iterator[None]:
    url = app.conf.broker_url
    app.conf.broker_url = f"redis://127.0.0.1:{CLOSED_PORT}/0"
    yield
    app.conf.broker_url = url


def test_it_is_503_when_the_broker_is_unreachable(client, healthy, broker_unreachable):
    status, body = health(client)

    assert status == 503
    assert body["checks"]["broker"]["status"] == "failing"


def test_the_broker_is_not_configured_when_tasks_run_in_process(client, streaming, snapshot):
    status, body = health(client)

    assert status == 200
    assert body["checks"]["broker"]["status"] == "not configured"


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port that accepts connections and never answers, as a hung Redis does."""
    server = socket.create_server(("127.0.0.1", 0))
    yield server.getsockname()[1]
    server.close()


def test_a_service_that_hangs_is_failing_within_the_timeout(client, healthy, settings, silent_server):
    settings.REDIS_URL = f"redis://127.0.0.1:{silent_server}/0"
    settings.HEALTH_CHECK_TIMEOUT_SECONDS = 0.5

    started = time.monotonic()
    status, body = health(client)

    assert time.monotonic() - started < 1.5
    assert status == 503
    assert body["checks"]["redis"]["status"] == "failing"


def test_it_is_503_when_the_streamer_has_not_heard_from_binance_for_too_long(client, healthy, streaming, settings):
    settings.HEALTH_STREAMER_MAX_AGE_SECONDS = 1.0
    streaming.stop()

    assert wait_until(lambda: health(client)[1]["checks"]["streamer"]["status"] == "stale", 60)
    status, body = health(client)
    assert status == 503
    assert body["checks"]["streamer"]["age_seconds"] > 1.0


def test_it_is_503_when_the_stored_candles_lag_the_exchanges_clock_while_messages_keep_arriving(
    client, broker, snapshot, binance, settings, btc_truth
):
    settings.HEALTH_STREAMER_MAX_CANDLE_LAG_SECONDS = 120
    SymbolFactory(symbol="BTCUSDT")
    minutes = btc_truth[:5]
    with RunningStreamer(Streamer(Shard(0, 1))):
        assert wait_until(lambda: binance.streams.clients, 60)
        # Minute 0 closes, then only forming updates come: minute 4's is 210 s past minute 0's close.
        send(binance, kline_message("BTCUSDT", minutes[0], closed=True))
        send(binance, *(kline_message("BTCUSDT", row, closed=False) for row in minutes[1:]))
        assert wait_until(lambda: health(client)[1]["checks"]["streamer"]["status"] == "stale", 60)

        status, body = health(client)

    assert status == 503
    assert body["checks"]["streamer"]["detail"].startswith("shard 0/1: newest stored closed candle 210.0 s behind")
    assert body["checks"]["streamer"]["age_seconds"] == 210


def test_before_the_first_heartbeat_it_is_503_and_says_so(client, broker, snapshot):
    status, body = health(client)

    assert status == 503
    assert body["checks"]["streamer"] == {"status": "none yet", "detail": "no streamer has reported yet"}


def test_a_streamer_connected_but_not_yet_delivering_is_not_healthy(client, broker, snapshot, streamer):
    assert wait_until(lambda: health(client)[1]["checks"]["streamer"]["detail"].startswith("no message"), 60)

    status, body = health(client)
    assert status == 503
    assert body["checks"]["streamer"] == {"status": "none yet", "detail": "no message from Binance yet on shard 0/1"}


def test_a_shard_that_never_reported_makes_the_streamer_unhealthy(client, broker, snapshot, binance):
    with RunningStreamer(Streamer(Shard(0, 2))):
        assert wait_until(lambda: binance.streams.clients, 60)
        send(binance, EMPTY_TICKERS)
        # Until shard 0's flush publishes the message it got, both shards read as silent.
        only_shard_1 = "no message from Binance yet on shard 1/2"
        assert wait_until(lambda: health(client)[1]["checks"]["streamer"]["detail"] == only_shard_1, 60)

        status, body = health(client)

    assert status == 503
    assert body["checks"]["streamer"] == {"status": "none yet", "detail": only_shard_1}


def test_it_is_503_when_the_newest_snapshot_is_too_old(client, healthy, snapshot, settings):
    settings.HEALTH_SNAPSHOT_MAX_AGE_SECONDS = 300
    Snapshot.objects.update(computed_at=timezone.now() - timedelta(seconds=301))

    status, body = health(client)

    assert status == 503
    assert body["checks"]["snapshots"]["status"] == "stale"
    assert body["checks"]["snapshots"]["age_seconds"] == pytest.approx(301, abs=5)


def test_before_the_first_snapshot_it_is_503_and_says_so(client, broker, streaming):
    status, body = health(client)

    assert status == 503
    assert body["checks"]["snapshots"] == {
        "status": "none yet", "detail": "no indicator snapshot has been computed yet",
    }  # fmt: skip
