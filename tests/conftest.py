import time
import uuid
from collections.abc import Iterator

import pytest
import redis
from django.conf import settings

from apps.market.binance.archive import BinanceArchive
from apps.market.binance.budget import RedisBudgetStore, WeightBudget
from apps.market.binance.rest import BinanceRest
from apps.market.services.backfill import Sources
from fakes.binance_server import FakeBinance
from fakes.derive import minutes_from_candles
from fakes.market import FakeMarket, FakeSymbol
from fakes.recorded import archive_1m, rest_klines
from fakes.telegram_server import FakeTelegram

BTC = FakeSymbol(
    symbol="BTCUSDT", base_asset="BTC", quote_asset="USDT", status="TRADING", tick_size="0.01000000",
    step_size="0.00001000",
)  # fmt: skip
# The recorded real candles: 2020-01-01 00:00 to 2020-01-03 23:59 UTC; the fake's "now" is the day after.
RECORDED_END_MS = 1578096000000


def pytest_report_header(config) -> str:
    """Which database this run is on: `make test` runs the suite on PostgreSQL, then its `timescaledb` tests on
    TimescaleDB."""
    database = settings.DATABASES["default"]
    flavour = "TimescaleDB" if settings.TIMESCALEDB else "no TimescaleDB"
    return f"database: {database['ENGINE'].rsplit('.', 1)[-1]} {database['HOST']}:{database['PORT']} ({flavour})"


@pytest.fixture
def btc_truth() -> list[list]:
    return archive_1m("BTCUSDT")


@pytest.fixture
def market(btc_truth) -> FakeMarket:
    market = FakeMarket(clock=lambda: RECORDED_END_MS + 86_400_000)
    market.add_symbol(BTC, [list(row) for row in btc_truth])
    return market


@pytest.fixture
def exchange(market) -> Iterator[FakeBinance]:
    with FakeBinance(market) as fake:
        yield fake


@pytest.fixture
def budget() -> WeightBudget:
    store = RedisBudgetStore(settings.REDIS_URL, prefix=f"test:{uuid.uuid4()}")
    return WeightBudget(store, limit_per_minute=settings.BINANCE_WEIGHT_BUDGET_PER_MINUTE)


@pytest.fixture
def rest(exchange, budget) -> Iterator[BinanceRest]:
    with BinanceRest(base_url=exchange.rest_url, budget=budget, sleep=lambda seconds: None) as client:
        yield client


@pytest.fixture
def sources(exchange, rest) -> Sources:
    return Sources(rest=rest, archive=BinanceArchive(base_url=exchange.archive_url))


def service_pointed_at(exchange: FakeBinance, settings) -> None:
    """The service's Binance base URLs (REST, archive, WebSocket) on our fake exchange."""
    settings.BINANCE_REST_URL = exchange.rest_url
    settings.BINANCE_ARCHIVE_URL = exchange.archive_url
    settings.BINANCE_WS_URL = exchange.ws_url


def wait_until(condition, timeout: float) -> bool:
    """Poll `condition` until it holds or `timeout` seconds pass: for work other processes or threads do."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def eth_minutes_up_to_the_hour() -> list[list]:
    """Two recorded weeks of ETHUSDT as (derived) minutes, moved so that the last one ends at the last full hour:
    the newest hourly candle has just closed."""
    hour_ms = 3_600_000
    minutes = minutes_from_candles(rest_klines("ETHUSDT", "15m"), 15 * 60_000)
    shift = (int(time.time() * 1000) // hour_ms) * hour_ms - (int(minutes[-1][0]) + 60_000)
    return [[row[0] + shift, *row[1:6], row[6] + shift, *row[7:]] for row in minutes]


@pytest.fixture(autouse=True)
def fresh_live_snapshots() -> Iterator[None]:
    """The incremental path's states are per process; each test starts without any."""
    from apps.indicators.services import live_snapshots

    live_snapshots.cache_clear()
    yield
    live_snapshots.cache_clear()


TELEGRAM_WEBHOOK_SECRET = "webhook-secret_1"


@pytest.fixture
def fake_telegram(settings) -> Iterator[FakeTelegram]:
    """Our fake Bot API, the service pointed at it, sending as fast as it likes (the limiter's tests say otherwise)."""
    # A hold a 429 left on a chat in the shared limiter would make a later test wait.
    shared = redis.Redis.from_url(settings.REDIS_URL)
    for key in shared.scan_iter("telegram:rate:*"):
        shared.delete(key)
    with FakeTelegram() as fake:
        settings.TELEGRAM_BOT_TOKEN = fake.token
        settings.TELEGRAM_API_URL = fake.url
        settings.TELEGRAM_WEBHOOK_SECRET = TELEGRAM_WEBHOOK_SECRET
        settings.TELEGRAM_MESSAGES_PER_SECOND = 100_000
        settings.TELEGRAM_MESSAGES_PER_CHAT_PER_SECOND = 100_000
        yield fake
