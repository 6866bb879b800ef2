import json
from collections.abc import Iterator

import pytest
from django.core.cache import cache
from prometheus_client.parser import text_string_to_metric_families

from apps.market.services.streamer import Shard, Streamer
from config.celery import app
from fakes.binance_server import FakeBinance
from fakes.binance_stream import kline_event
from fakes.market import FakeMarket
from tests.conftest import service_pointed_at, wait_until
from tests.market.test_streamer import JAN_1_2020_MS, RunningStreamer

EMPTY_TICKERS = '{"stream": "!miniTicker@arr", "data": []}'  # valid, and about none of our (no) symbols


@pytest.fixture(autouse=True)
def empty_cache() -> None:
    """Statuses and counters live in the cache (this run's Redis database), which outlives each test."""
    cache.clear()


@pytest.fixture
def binance(settings) -> Iterator[FakeBinance]:
    with FakeBinance(FakeMarket(clock=lambda: JAN_1_2020_MS)) as exchange:
        service_pointed_at(exchange, settings)
        settings.STREAM_FLUSH_SECONDS = 0.2
        yield exchange


def kline_message(symbol: str, row: list, *, closed: bool) -> str:
    return json.dumps({"stream": f"{symbol.lower()}@kline_1m", "data": kline_event(symbol, row, closed=closed)})


def send(exchange: FakeBinance, *texts: str) -> None:
    for text in texts:
        exchange.call(lambda text=text: exchange.streams.send_raw(text))


@pytest.fixture
def streamer(binance) -> Iterator[Streamer]:
    """A streamer (shard 0/1) connected to the fake exchange, which has sent it nothing yet."""
    with RunningStreamer(Streamer(Shard(0, 1))) as running:
        assert wait_until(lambda: binance.streams.clients, 60)
        yield running


@pytest.fixture
def broker() -> Iterator[None]:
    """Celery as in production: tasks go to the Redis broker (the suite otherwise runs them in-process)."""
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = eager


def scrape(client, **headers: str) -> dict[tuple[str, frozenset], float]:
    """Every sample /metrics exposes, by (name, labels)."""
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.content
    families = text_string_to_metric_families(response.content.decode())
    return {(s.name, frozenset(s.labels.items())): s.value for family in families for s in family.samples}


def sample(samples: dict[tuple[str, frozenset], float], name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))
