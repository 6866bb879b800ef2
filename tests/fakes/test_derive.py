"""Derived minutes roll back up to the recorded candles exactly, on every field (fakes/data/SOURCES.md)."""

from decimal import Decimal
from itertools import pairwise

import pytest

from fakes.derive import minutes_from_candles, price_tick, quantity_step
from fakes.recorded import REST_SYMBOLS, archive_1m, rest_klines
from tests.fakes.rollup import rolled_up

MINUTE_MS = 60_000
QUARTER_MS = 15 * MINUTE_MS
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS
RECORDED_ARCHIVE_END_MS = 1578096000000  # 2020-01-04 00:00 UTC


@pytest.fixture(scope="module")
def derived() -> dict[str, list[list]]:
    return {symbol: minutes_from_candles(rest_klines(symbol, "15m"), QUARTER_MS) for symbol in REST_SYMBOLS}


def test_the_roll_up_of_binances_own_minutes_gives_binances_own_2h_candles():
    binance_2h = [row for row in rest_klines("BTCUSDT", "2h") if row[0] < RECORDED_ARCHIVE_END_MS]

    assert rolled_up(archive_1m("BTCUSDT"), 2 * HOUR_MS) == binance_2h
    assert len(binance_2h) == 36


@pytest.mark.parametrize("symbol", REST_SYMBOLS)
def test_derived_minutes_roll_up_to_the_recorded_15m_candles_exactly(derived, symbol):
    assert rolled_up(derived[symbol], QUARTER_MS) == rest_klines(symbol, "15m")


@pytest.mark.parametrize("symbol", REST_SYMBOLS)
def test_derived_minutes_roll_up_to_binances_own_hourly_candles(derived, symbol):
    minutes = derived[symbol]
    hours = [row for row in rest_klines(symbol, "1h") if minutes[0][0] <= row[0] <= minutes[-1][0]]

    assert rolled_up(minutes, HOUR_MS) == hours
    assert len(hours) == 336


@pytest.mark.parametrize("symbol", REST_SYMBOLS)
def test_minutes_derived_from_binances_hourly_candles_roll_up_to_its_daily_ones(symbol):
    minutes = minutes_from_candles(rest_klines(symbol, "1h"), HOUR_MS)
    days = [row for row in rest_klines(symbol, "1d") if minutes[0][0] <= row[0] <= minutes[-1][0]]

    assert rolled_up(minutes, DAY_MS) == days
    assert len(days) == 31


@pytest.mark.parametrize("symbol", REST_SYMBOLS)
def test_every_derived_minute_is_a_binance_row_on_the_symbols_tick_and_step(derived, symbol):
    source = rest_klines(symbol, "15m")
    tick, step = Decimal(price_tick(source)), Decimal(quantity_step(source))
    for previous, row in pairwise(derived[symbol]):
        open_, high, low, close, volume, taker_base = (Decimal(row[i]) for i in (1, 2, 3, 4, 5, 9))
        assert [type(value) for value in row] == [int, str, str, str, str, str, int, str, int, str, str, str]
        assert (row[0] - previous[0], row[6] - row[0], row[11]) == (MINUTE_MS, MINUTE_MS - 1, "0")
        assert row[1] == previous[4] or row[0] % QUARTER_MS == 0, "within a source candle, a minute opens at the close"
        assert low <= min(open_, close) <= max(open_, close) <= high
        assert all(price % tick == 0 for price in (open_, high, low, close))
        assert volume % step == 0 and 0 <= taker_base <= volume
        assert 0 <= Decimal(row[10]) <= Decimal(row[7])


def test_tick_and_step_are_the_finest_steps_the_candles_use():
    rows = [
        [0, "1.23000000", "1.25000000", "1.20000000", "1.24000000", "10.50000000", 899999, "13.00000000", 3,
         "2.00000000", "2.40000000", "0"],
        [900000, "1.24000000", "1.30000000", "1.24000000", "1.30000000", "7.00000000", 1799999, "9.00000000", 2,
         "1.00000000", "1.30000000", "0"],
    ]  # fmt: skip

    assert (price_tick(rows), quantity_step(rows)) == ("0.01000000", "0.10000000")


def test_a_steady_candle_gives_steady_minutes_with_its_volume_spread_over_them():
    candle = [0, "5.00000000", "5.00000000", "5.00000000", "5.00000000", "15.00000000", 899999, "75.00000000", 15,
              "6.00000000", "30.00000000", "0"]  # fmt: skip

    minutes = minutes_from_candles([candle], QUARTER_MS)

    assert {tuple(minute[1:5]) for minute in minutes} == {("5.00000000",) * 4}
    assert sum(minute[8] for minute in minutes) == 15
    assert len({minute[5] for minute in minutes}) > 1, "an uneven volume profile, not 15 equal minutes"


def test_minutes_are_only_derived_from_candles_of_three_minutes_or_more():
    with pytest.raises(ValueError):
        minutes_from_candles(archive_1m("BTCUSDT")[:2], MINUTE_MS)
