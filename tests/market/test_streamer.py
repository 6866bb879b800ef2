"""The streamer against our fake exchange's WebSocket, replaying recorded candles faster than real time."""

import asyncio
import json
import logging
import threading
import time
from collections import Counter
from contextlib import contextmanager

import pytest

from apps.market.models import Candle, ExchangeGap
from apps.market.services.streamer import Shard, Streamer, stream_plan
from apps.market.services.symbols import symbols_sync
from fakes.binance_server import FakeBinance
from fakes.binance_stream import kline_event
from fakes.market import FakeMarket, FakeSymbol
from tests.conftest import BTC, service_pointed_at, wait_until

pytestmark = pytest.mark.timescaledb

JAN_1_2020_MS = 1577836800000
MINUTE_MS = 60_000


class RunningStreamer:
    """A Streamer on its own event loop in a thread, as `manage.py stream` runs it in its own process."""

    def __init__(self, streamer: Streamer) -> None:
        self.streamer = streamer
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_until_complete, args=(streamer.run(),), daemon=True)

    def __enter__(self) -> Streamer:
        self.thread.start()
        return self.streamer

    def __exit__(self, *exc_info: object) -> None:
        self.loop.call_soon_threadsafe(self.streamer.stop)
        self.thread.join(timeout=20)


@pytest.fixture
def stream_market(btc_truth) -> FakeMarket:
    market = FakeMarket(clock=lambda: JAN_1_2020_MS)
    market.add_symbol(BTC, [list(row) for row in btc_truth])
    market.add_symbol(FakeSymbol("ETHUSDT", "ETH", "USDT"), [list(row) for row in btc_truth])
    return market


@pytest.fixture
def stream_exchange(stream_market, settings):
    with FakeBinance(stream_market) as exchange:
        service_pointed_at(exchange, settings)
        settings.STREAM_SILENCE_SECONDS = 1.0
        settings.STREAM_FLUSH_SECONDS = 0.2
        settings.STREAM_SYMBOLS_REFRESH_SECONDS = 0.5
        settings.STREAM_ROTATE_SECONDS = 2.5
        settings.MARKET_RECENT_WINDOW_DAYS = 1
        exchange.streams.ping_interval = 1.0
        yield exchange


def _stored(symbol: str) -> list[tuple]:
    rows = Candle.objects.filter(symbol__symbol=symbol).order_by("open_time")
    return [
        (
            int(c.open_time.timestamp() * 1000),
            str(c.decimals()["close"].normalize()),
            str(c.decimals()["volume"].normalize()),
        )
        for c in rows
    ]


def _truth(rows: list[list]) -> list[tuple]:
    from decimal import Decimal

    return [(int(r[0]), str(Decimal(r[4]).normalize()), str(Decimal(r[5]).normalize())) for r in rows]


def test_connections_carry_the_tickers_then_klines_at_most_per_connection():
    plan = stream_plan(["ETHUSDT", "BTCUSDT", "SOLUSDT"], per_connection=2)

    assert plan == [["!miniTicker@arr", "btcusdt@kline_1m"], ["ethusdt@kline_1m", "solusdt@kline_1m"]]


@pytest.mark.django_db
def test_shards_split_the_tracked_symbols_between_them():
    from tests.market.factories import SymbolFactory

    symbols = [SymbolFactory() for _ in range(5)]

    shares = [Shard(index, 2).symbols() for index in range(2)]

    assert sorted([*shares[0].values(), *shares[1].values()]) == sorted(s.id for s in symbols)
    assert not set(shares[0]) & set(shares[1])


@pytest.mark.django_db(transaction=True)
def test_after_drops_a_silence_and_cuts_the_stored_candles_equal_the_recording_exactly(stream_exchange, btc_truth):
    exchange = stream_exchange
    symbols_sync(rest=_rest(exchange))
    minutes = 480
    exchange.streams.max_lifetime = 4.0  # the "24-hour" cut, which rotation at 2.5 s must beat
    with RunningStreamer(Streamer()) as streamer:
        assert wait_until(lambda: exchange.streams.clients, 10), "the streamer connected"
        replay = exchange.replay(start_ms=JAN_1_2020_MS, minutes=minutes, minutes_per_second=40)
        for pause, chaos in ((1.3, "drop"), (1.7, "silence"), (2.1, "drop"), (1.9, "shutdown"), (0.9, "drop")):
            time.sleep(pause)
            if chaos == "drop":
                exchange.call(exchange.streams.drop_all)
            elif chaos == "silence":
                exchange.call(lambda: exchange.streams.silence(2.0))
            else:
                exchange.call(exchange.streams.shut_down_all)
        assert wait_until(replay.done.is_set, 60)
        truth = _truth(btc_truth[:minutes])
        wait_until(lambda: _stored("BTCUSDT") == truth and _stored("ETHUSDT") == truth, 60)

    assert _stored("BTCUSDT") == truth
    assert _stored("ETHUSDT") == truth
    assert not ExchangeGap.objects.exists()
    assert exchange.streams.connections_opened >= 6
    assert streamer.ingest.counters.dropped["invalid"] == 0


def _rest(exchange):
    from apps.market.binance.rest import BinanceRest

    return BinanceRest(base_url=exchange.rest_url, sleep=lambda s: None)


def _kline_message(symbol: str, row: list, *, closed: bool = True, **changes) -> str:
    event = kline_event(symbol, row, closed=closed)
    event["k"].update(changes)
    return json.dumps({"stream": f"{symbol.lower()}@kline_1m", "data": event})


@pytest.mark.django_db(transaction=True)
def test_bad_events_are_counted_and_dropped_and_the_streamer_keeps_going(stream_exchange, btc_truth):
    exchange = stream_exchange
    symbols_sync(rest=_rest(exchange))
    first, second = btc_truth[0], btc_truth[1]
    junk = [
        ("invalid", "{not json"),  # bad JSON
        ("invalid", json.dumps(["stream", "data"])),  # not a combined-stream message
        ("invalid", json.dumps({"stream": "btcusdt@kline_1m", "data": {"e": "kline"}})),  # not a kline event
        ("unknown_symbol", _kline_message("FOOUSDT", first)),
        ("invalid", _kline_message("BTCUSDT", first, h="7000.00")),  # high below low
        ("invalid", _kline_message("BTCUSDT", first, l="0")),
        ("invalid", _kline_message("BTCUSDT", first, o="NaN")),
        ("invalid", _kline_message("BTCUSDT", first, n="many")),
        ("error_reply", json.dumps({"code": 2, "msg": "Invalid request: unknown variant"})),
    ]
    with RunningStreamer(Streamer()) as streamer:
        assert wait_until(lambda: exchange.streams.clients, 60)
        for _, text in junk:
            exchange.call(lambda text=text: exchange.streams.send_raw(text))
        for text in (_kline_message("BTCUSDT", second), _kline_message("BTCUSDT", second)):
            exchange.call(lambda text=text: exchange.streams.send_raw(text))
        assert wait_until(lambda: _stored("BTCUSDT") == _truth([first, second]), 60)

    assert streamer.ingest.counters.dropped == Counter(reason for reason, _ in junk) + Counter(duplicate=1)
    assert _stored("BTCUSDT") == _truth([first, second]), "nothing stored was corrupted"


def _send(exchange, *texts: str) -> None:
    for text in texts:
        exchange.call(lambda text=text: exchange.streams.send_raw(text))


@pytest.mark.django_db(transaction=True)
def test_a_close_that_comes_after_the_next_minutes_first_update_is_stored(stream_exchange, btc_truth):
    exchange = stream_exchange
    symbols_sync(rest=_rest(exchange))
    rows = btc_truth[:3]
    with RunningStreamer(Streamer()) as streamer:
        assert wait_until(lambda: exchange.streams.clients, 60)
        _send(exchange, _kline_message("BTCUSDT", rows[0]), _kline_message("BTCUSDT", rows[1], closed=False),
              _kline_message("BTCUSDT", rows[2], closed=False), _kline_message("BTCUSDT", rows[1]))  # fmt: skip
        assert wait_until(lambda: _stored("BTCUSDT") == _truth(rows[:2]), 60)

    assert not streamer.ingest.counters.dropped
    assert streamer.repair_totals.minutes == 0, "stored as streamed, not repaired"


@pytest.mark.django_db(transaction=True)
def test_a_minute_whose_close_never_came_is_repaired_from_rest_while_the_connection_stays_up(
    stream_exchange, stream_market, btc_truth, caplog
):
    caplog.set_level(logging.INFO, logger="apps.market.services.streamer")
    exchange = stream_exchange
    stream_market.clock = lambda: JAN_1_2020_MS + 3 * MINUTE_MS  # minutes 0 to 2 have closed on the exchange
    symbols_sync(rest=_rest(exchange))
    rows = btc_truth[:3]
    with RunningStreamer(Streamer()) as streamer:
        assert wait_until(lambda: exchange.streams.clients, 60)
        _send(exchange, _kline_message("BTCUSDT", rows[0]), _kline_message("BTCUSDT", rows[1], closed=False),
              _kline_message("BTCUSDT", rows[2], closed=False), _kline_message("BTCUSDT", rows[2]))  # fmt: skip
        assert wait_until(lambda: _stored("BTCUSDT") == _truth(rows), 60)

    assert exchange.streams.connections_opened == 1
    assert streamer.repair_totals.minutes == 1
    assert "repaired BTCUSDT from 2020-01-01T00:01:00+00:00 to 2020-01-01T00:02:00+00:00 from REST: 1 candles" in (
        caplog.text
    )


@pytest.mark.django_db(transaction=True)
def test_live_state_and_heartbeat_follow_the_stream(stream_exchange, btc_truth):
    from django.core.cache import cache

    from apps.market.live import live_kline_get, live_tickers_get

    exchange = stream_exchange
    symbols_sync(rest=_rest(exchange))
    with RunningStreamer(Streamer()):
        assert wait_until(lambda: exchange.streams.clients, 60)
        exchange.replay(start_ms=JAN_1_2020_MS, minutes=3, minutes_per_second=10)
        assert wait_until(lambda: (live_kline_get("BTCUSDT") or {}).get("t") == btc_truth[2][0], 60)

        # Live state outlives a test (its cache entries expire later): wait for this replay's tickers.
        def closes() -> dict[str, str]:
            return {symbol: ticker["c"] for symbol, ticker in live_tickers_get(["BTCUSDT", "ETHUSDT"]).items()}

        assert wait_until(lambda: closes() == {"BTCUSDT": btc_truth[2][4], "ETHUSDT": btc_truth[2][4]}, 60)

    assert time.time() - cache.get("streamer:heartbeat:0/1:0") < 30


@pytest.mark.django_db(transaction=True)
def test_symbols_switched_off_and_on_in_the_admin_are_followed_without_a_restart(stream_exchange):
    from apps.market.models import Symbol

    exchange = stream_exchange
    symbols_sync(rest=_rest(exchange))

    def subscribed() -> set[str]:
        return {stream for client in exchange.streams.clients for stream in client.streams}

    with RunningStreamer(Streamer()):
        assert wait_until(lambda: "ethusdt@kline_1m" in subscribed(), 60)
        Symbol.objects.filter(symbol="ETHUSDT").update(is_active=False)
        exchange.replay(start_ms=JAN_1_2020_MS, minutes=100, minutes_per_second=10)  # the new connection delivers

        assert wait_until(lambda: subscribed() == {"!miniTicker@arr", "btcusdt@kline_1m"}, 60)
        Symbol.objects.filter(symbol="ETHUSDT").update(is_active=True)
        assert wait_until(lambda: "ethusdt@kline_1m" in subscribed(), 60)


@contextmanager
def _candle_writes_blocked():
    """While held, the candle table is locked, and new connections give up waiting for it after 300 ms."""
    from django.db import connection

    name = connection.settings_dict["NAME"]
    locker = connection.copy()
    with connection.cursor() as cursor:
        cursor.execute(f'ALTER DATABASE "{name}" SET lock_timeout = 300')
    try:
        with locker.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute("LOCK TABLE market_candle IN ACCESS EXCLUSIVE MODE")
            yield
            cursor.execute("ROLLBACK")
    finally:
        locker.close()
        with connection.cursor() as cursor:
            cursor.execute(f'ALTER DATABASE "{name}" RESET lock_timeout')


@pytest.mark.django_db(transaction=True)
def test_candles_of_a_failed_flush_are_kept_and_written_by_the_next(stream_exchange, btc_truth, caplog):
    exchange = stream_exchange
    symbols_sync(rest=_rest(exchange))
    with RunningStreamer(Streamer()):
        assert wait_until(lambda: exchange.streams.clients, 60)
        with _candle_writes_blocked():
            exchange.replay(start_ms=JAN_1_2020_MS, minutes=20, minutes_per_second=20)
            assert wait_until(lambda: "flush failed" in caplog.text, 60)
        assert wait_until(lambda: _stored("BTCUSDT") == _truth(btc_truth[:20]), 60)


@pytest.mark.django_db(transaction=True)
def test_each_closed_minute_brings_the_snapshots_up_to_date(stream_exchange, btc_truth, settings):
    import numpy as np

    from apps.indicators.engine import indicators_compute
    from apps.indicators.models import Snapshot
    from apps.indicators.registry import Series
    from apps.indicators.services import snapshots_compute
    from apps.market.intervals import datetime_from_ms
    from apps.market.klines import klines_parse
    from apps.market.models import Symbol
    from apps.market.services.candles import candles_upsert

    settings.INDICATORS_TIMEFRAMES = ["15m"]
    exchange = stream_exchange
    symbols_sync(rest=_rest(exchange))
    btc = Symbol.objects.get(symbol="BTCUSDT")
    quarter_ms = 15 * 60_000
    candles_upsert(rows=klines_parse(symbol_id=btc.id, raw_rows=btc_truth[:45], source="test").rows)
    snapshots_compute(symbol_ids=[btc.id], timeframe="15m", end_ms=JAN_1_2020_MS + 3 * quarter_ms)

    quarters = [btc_truth[start : start + 15] for start in range(0, 45, 15)] + [btc_truth[45:47]]
    columns = (
        [float(rows[0][1]) for rows in quarters], [max(float(r[2]) for r in rows) for rows in quarters],
        [min(float(r[3]) for r in rows) for rows in quarters], [float(rows[-1][4]) for rows in quarters],
        [sum(float(r[5]) for r in rows) for rows in quarters],
    )  # fmt: skip
    reference = indicators_compute(Series(*(np.array(column) for column in columns), candles_per_day=96))

    def snapshot() -> Snapshot:
        return Snapshot.objects.get(symbol=btc, timeframe="15m")

    with RunningStreamer(Streamer()):
        assert wait_until(lambda: exchange.streams.clients, 60)
        exchange.replay(start_ms=JAN_1_2020_MS + 3 * quarter_ms, minutes=2, minutes_per_second=10)
        assert wait_until(lambda: snapshot().values["obv"] == pytest.approx(reference["obv"][-1], rel=1e-9), 60)

    assert (snapshot().open_time, snapshot().candle_closed) == (datetime_from_ms(JAN_1_2020_MS + 3 * quarter_ms), False)
    assert {name for name, value in snapshot().values.items() if value is None} == {
        name for name, column in reference.items() if np.isnan(column[-1])
    }
