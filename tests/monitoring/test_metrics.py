"""GET /metrics: each family after real requests, a real streamer's flushes, real task runs (in-process and on a
real worker) and real messages waiting in the Redis broker."""

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.cache import cache

from apps.market.binance.rest import BinanceRest
from apps.market.services.streamer import Shard, Streamer
from apps.market.services.symbols import symbols_sync
from config.celery import app
from config.queues import Queue
from tasks.indicators import compute_shard, dispatch
from tests.conftest import BTC, wait_until
from tests.market.test_streamer import JAN_1_2020_MS, RunningStreamer
from tests.monitoring.conftest import EMPTY_TICKERS, kline_message, sample, scrape, send
from tests.workers import real_broker, running_worker

LATENCY_COUNT = "screener_http_request_duration_seconds_count"
TASK_RUNS = "screener_celery_task_runs_total"
QUEUE_LENGTH = "screener_celery_queue_length"


@pytest.mark.django_db
def test_request_latencies_are_exposed_by_view_method_and_status(client):
    labels = {"view": "klines", "method": "GET", "status": "400"}
    before = sample(scrape(client), LATENCY_COUNT, **labels) or 0

    for _ in range(2):
        client.get("/api/v1/klines/NOSUCHPAIR?interval=1h")

    assert sample(scrape(client), LATENCY_COUNT, **labels) == before + 2


def test_paths_that_match_no_url_share_one_label(client):
    labels = {"view": "unmatched", "method": "GET", "status": "404"}
    before = sample(scrape(client), LATENCY_COUNT, **labels) or 0

    client.get("/no/such/page")
    client.get("/nor/this/one")

    assert sample(scrape(client), LATENCY_COUNT, **labels) == before + 2


@pytest.mark.django_db(transaction=True)
def test_the_streamers_message_counters_are_exposed_after_its_flush(client, binance, streamer):
    send(binance, EMPTY_TICKERS, EMPTY_TICKERS, "{not json")

    def received() -> float | None:
        return sample(scrape(client), "screener_streamer_messages_received_total", shard="0/1")

    assert wait_until(lambda: received() == 3, 60)
    assert sample(scrape(client), "screener_streamer_messages_dropped_total", shard="0/1", reason="invalid") == 1


@pytest.fixture
def btc_on_the_exchange(binance, btc_truth) -> list[list]:
    """BTCUSDT synced from the fake exchange, whose first three recorded minutes have closed; yields them."""
    binance.market.add_symbol(BTC, [list(row) for row in btc_truth])
    binance.market.clock = lambda: JAN_1_2020_MS + 3 * 60_000
    with BinanceRest(base_url=binance.rest_url, sleep=lambda seconds: None) as rest:
        symbols_sync(rest=rest)
    return btc_truth[:3]


@pytest.mark.django_db(transaction=True)
def test_dropped_messages_are_counted_by_reason(client, binance, btc_on_the_exchange):
    first = kline_message("BTCUSDT", btc_on_the_exchange[0], closed=True)
    with RunningStreamer(Streamer(Shard(0, 1))):
        assert wait_until(lambda: binance.streams.clients, 60)
        send(binance, first, first, first, kline_message("FOOUSDT", btc_on_the_exchange[0], closed=True))

        def dropped(reason: str) -> float | None:
            return sample(scrape(client), "screener_streamer_messages_dropped_total", shard="0/1", reason=reason)

        assert wait_until(lambda: dropped("duplicate") == 2, 60)
        assert dropped("unknown_symbol") == 1


@pytest.mark.django_db(transaction=True)
def test_rest_repairs_are_counted_with_the_minutes_they_stored_and_their_duration(client, binance, btc_on_the_exchange):
    rows = btc_on_the_exchange
    with RunningStreamer(Streamer(Shard(0, 1))):
        assert wait_until(lambda: binance.streams.clients, 60)
        # Minute 0's close (the connection's first: its tail is checked from REST), then minute 2's: 1 never closed.
        send(binance, kline_message("BTCUSDT", rows[0], closed=True), kline_message("BTCUSDT", rows[2], closed=True))

        def repairs() -> float | None:
            return sample(scrape(client), "screener_streamer_repair_duration_seconds_count", shard="0/1")

        assert wait_until(lambda: repairs() == 2, 60)
        samples = scrape(client)

    assert sample(samples, "screener_streamer_repaired_minutes_total", shard="0/1") == 1
    assert sample(samples, "screener_streamer_repair_duration_seconds_sum", shard="0/1") > 0


@pytest.mark.django_db
def test_task_runs_in_process_are_counted_by_task_and_outcome(client):
    dispatch.delay("1h")
    dispatch.delay("1h")

    assert sample(scrape(client), TASK_RUNS, task="indicators.dispatch", outcome="success") == 2


@pytest.fixture
def worker(tmp_path) -> Iterator[Path]:
    """One real Celery worker process on the indicators queue; yields its log."""
    log = tmp_path / "worker.log"
    with real_broker(), running_worker(Queue.INDICATORS.value, log):
        yield log


@pytest.mark.django_db(transaction=True)
def test_successes_failures_and_retries_on_a_worker_are_counted(client, worker):
    hour_ms = 3_600_000
    end_ms = (int(time.time() * 1000) // hour_ms) * hour_ms
    lock = f"indicators:shard:1h:{end_ms}:1"
    cache.set(lock, "another-run", 60)  # the shard is busy: the worker retries it

    def runs(task: str, outcome: str) -> float | None:
        return sample(scrape(client), TASK_RUNS, task=task, outcome=outcome)

    dispatch.delay("1h")
    dispatch.delay("7m")  # no such timeframe: fails
    compute_shard.delay([1], "1h", end_ms)
    assert wait_until(lambda: runs("indicators.compute_shard", "retry"), 60)
    cache.delete(lock)
    assert wait_until(lambda: runs("indicators.compute_shard", "success") == 1, 60)

    assert runs("indicators.dispatch", "success") == 1
    assert runs("indicators.dispatch", "failure") == 1
    assert runs("indicators.compute_shard", "retry") == worker.read_text().count("] retry: Retry in"), "one each"


@pytest.fixture
def strategies_queue(broker) -> Iterator[str]:
    """A queue no test worker consumes, emptied before and after."""
    queue = Queue.STRATEGIES.value
    with app.connection_for_write() as broker_connection:
        broker_connection.default_channel.queue_purge(queue)
        yield queue
        broker_connection.default_channel.queue_purge(queue)


def test_queue_lengths_count_the_messages_waiting_in_the_redis_broker(client, strategies_queue):
    for _ in range(3):
        app.send_task("indicators.dispatch", ("1h",), queue=strategies_queue)

    assert sample(scrape(client), QUEUE_LENGTH, queue=strategies_queue) == 3


def test_queue_lengths_are_absent_without_a_redis_broker(client):
    url = app.conf.broker_url
    app.conf.broker_url = "memory://"  # the embedded default's
    try:
        samples = scrape(client)
    finally:
        app.conf.broker_url = url

    assert not [name for name, _ in samples if name == QUEUE_LENGTH]


def test_with_a_token_set_metrics_need_it(client, settings):
    settings.METRICS_TOKEN = "s3cret"

    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert scrape(client, Authorization="Bearer s3cret")
