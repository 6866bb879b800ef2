"""The demo's live stream: forming candles that move through their minute, and 24h rolling tickers."""

import asyncio
import json
from decimal import Decimal

import pytest
import websockets

from fakes.binance_server import FakeBinance
from fakes.binance_stream import ClosedDay, forming_candle, rolling_mini_ticker
from fakes.market import DAY_MS, MINUTE_MS, recorded_market
from tests.fakes.test_market import RECORDED_WEEKS_START_MS

NOW_MS = RECORDED_WEEKS_START_MS + 3 * DAY_MS + 20 * MINUTE_MS + 40_000  # 40 s into a minute
MINUTE_OPEN_MS = NOW_MS - 40_000
TICK, STEP = Decimal("0.01"), Decimal("0.00001")


@pytest.fixture(scope="module")
def market():
    return recorded_market(("BTCUSDT",), clock=lambda: NOW_MS)


def candle(rising: bool) -> list:
    """A minute with a wick on both sides (the derived minutes have none: each is a straight line)."""
    open_, close = ("100.00", "102.00") if rising else ("102.00", "100.00")
    return [MINUTE_OPEN_MS, open_, "103.50", "98.25", close, "10.00000", MINUTE_OPEN_MS + MINUTE_MS - 1,
            "1005.12345678", 61, "4.00003", "402.00000001", "0"]  # fmt: skip


def test_a_forming_candle_opens_with_nothing_traded_and_ends_as_the_candle():
    row = candle(rising=True)

    start = forming_candle(row, 0.0, tick=TICK, step=STEP)

    assert {Decimal(value) for value in start[1:5]} == {Decimal(row[1])}
    assert [Decimal(start[column]) for column in (5, 7, 9, 10)] == [0, 0, 0, 0]
    assert start[8] == 0
    assert forming_candle(row, 1.0, tick=TICK, step=STEP) == row


@pytest.mark.parametrize(("rising", "first", "second"), [(True, 3, 2), (False, 2, 3)])
def test_a_forming_candle_goes_to_the_low_then_the_high_when_rising_and_the_other_way_when_falling(
    rising, first, second
):
    row = candle(rising=rising)

    at_first, at_second = (forming_candle(row, elapsed, tick=TICK, step=STEP) for elapsed in (1 / 3, 2 / 3))

    assert Decimal(at_first[4]) == Decimal(row[first])
    assert Decimal(at_second[4]) == Decimal(row[second])
    assert (Decimal(at_second[2]), Decimal(at_second[3])) == (Decimal(row[2]), Decimal(row[3]))


def test_a_forming_candle_stays_valid_on_the_tick_with_volumes_growing_within_the_candles():
    row = candle(rising=False)
    previous_volume = Decimal(0)
    for step in range(61):
        forming = forming_candle(row, step / 60, tick=TICK, step=STEP)
        open_, high, low, close = (Decimal(value) for value in forming[1:5])
        assert Decimal(row[3]) <= low <= min(open_, close) <= max(open_, close) <= high <= Decimal(row[2])
        assert close % TICK == 0
        volume = Decimal(forming[5])
        assert previous_volume <= volume <= Decimal(row[5]) and volume % STEP == 0
        assert Decimal(forming[9]) <= volume
        previous_volume = volume


def test_the_rolling_ticker_is_the_last_days_closed_minutes_and_the_forming_one(market):
    closed = market.between("BTCUSDT", MINUTE_OPEN_MS - DAY_MS + MINUTE_MS, MINUTE_OPEN_MS - 1)
    forming = forming_candle(market.candle_at("BTCUSDT", MINUTE_OPEN_MS), 2 / 3, tick=TICK, step=STEP)
    rows = [*closed, forming]

    ticker = rolling_mini_ticker("BTCUSDT", ClosedDay.of(closed), forming, NOW_MS)

    assert len(closed) == 1439
    assert ticker["o"] == closed[0][1] and ticker["c"] == forming[4] and ticker["E"] == NOW_MS
    assert Decimal(ticker["h"]) == max(Decimal(row[2]) for row in rows)
    assert Decimal(ticker["l"]) == min(Decimal(row[3]) for row in rows)
    assert Decimal(ticker["v"]) == sum(Decimal(row[5]) for row in rows)
    assert Decimal(ticker["q"]) == sum(Decimal(row[7]) for row in rows)


def test_playing_live_sends_the_forming_candle_and_the_rolling_ticker(market):
    async def first_frames(url: str) -> dict:
        frames = {}
        async with websockets.connect(url) as socket:
            while len(frames) < 2:
                frame = json.loads(await asyncio.wait_for(socket.recv(), 5))
                frames[frame["stream"]] = frame["data"]
        return frames

    with FakeBinance(market) as exchange:
        exchange.play_live()
        frames = asyncio.run(first_frames(f"{exchange.ws_url}/stream?streams=btcusdt@kline_1m/!miniTicker@arr"))

    expected = forming_candle(market.candle_at("BTCUSDT", MINUTE_OPEN_MS), 40 / 60, tick=TICK, step=STEP)
    kline = frames["btcusdt@kline_1m"]["k"]
    assert (kline["t"], kline["x"], kline["c"], kline["v"]) == (MINUTE_OPEN_MS, False, expected[4], expected[5])
    (ticker,) = frames["!miniTicker@arr"]
    assert (ticker["s"], ticker["c"], ticker["E"]) == ("BTCUSDT", expected[4], NOW_MS)
