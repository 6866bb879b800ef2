"""The fake's market: what "now" lets clients see, exchange-side gaps, and the recorded and demo markets."""

from datetime import UTC, datetime
from decimal import Decimal
from itertools import pairwise

import pytest

from fakes.market import DAY_MS, MINUTE_MS, WEEK_MS, FakeMarket, FakeSymbol, demo_market, recorded_market
from fakes.recorded import REST_SYMBOLS, archive_1m

JAN_2_2020_MS = 1577923200000
RECORDED_WEEKS_START_MS = 1736121600000  # 2025-01-06 00:00 UTC, a Monday
DEMO_NOW_MS = int(datetime(2026, 11, 25, 12, 34, 56, tzinfo=UTC).timestamp() * 1000)


@pytest.fixture
def btc_market() -> FakeMarket:
    market = FakeMarket(clock=lambda: JAN_2_2020_MS + 30_000)
    market.add_symbol(FakeSymbol("BTCUSDT", "BTC", "USDT"), archive_1m("BTCUSDT"))
    return market


@pytest.fixture(scope="module")
def demo() -> FakeMarket:
    return demo_market(clock=lambda: DEMO_NOW_MS)


def test_only_candles_opened_by_now_are_visible_the_last_one_still_forming(btc_market):
    visible = btc_market.between("BTCUSDT", 0, 2**62)

    assert visible[-1][0] == JAN_2_2020_MS
    assert visible[-1][6] > btc_market.clock(), "its close time is in the future"
    assert len(visible) == 1441
    assert len(btc_market.candles("BTCUSDT")) == 3 * 1440, "the ground truth holds the future too"


def test_between_includes_both_ends(btc_market):
    rows = btc_market.between("BTCUSDT", JAN_2_2020_MS - 10 * MINUTE_MS, JAN_2_2020_MS - 5 * MINUTE_MS)

    assert [row[0] for row in rows] == [JAN_2_2020_MS - minutes * MINUTE_MS for minutes in range(10, 4, -1)]


def test_a_cut_removes_exactly_the_minutes_of_the_span(btc_market):
    btc_market.cut("BTCUSDT", JAN_2_2020_MS - 90 * MINUTE_MS, JAN_2_2020_MS - 30 * MINUTE_MS)

    opens = [row[0] for row in btc_market.between("BTCUSDT", JAN_2_2020_MS - 91 * MINUTE_MS, JAN_2_2020_MS)]
    assert opens[:2] == [JAN_2_2020_MS - 91 * MINUTE_MS, JAN_2_2020_MS - 30 * MINUTE_MS]
    assert len(btc_market.candles("BTCUSDT")) == 3 * 1440 - 60
    assert btc_market.candle_at("BTCUSDT", JAN_2_2020_MS - 60 * MINUTE_MS) is None


def test_the_recorded_market_holds_two_weeks_of_derived_minutes_at_their_real_dates():
    market = recorded_market(symbols=("SOLUSDT", "DOGEUSDT"), clock=lambda: 0)

    rows = market.candles("DOGEUSDT")
    assert (rows[0][0], rows[-1][0], len(rows)) == (RECORDED_WEEKS_START_MS, RECORDED_WEEKS_START_MS + 2 * WEEK_MS
                                                    - MINUTE_MS, 14 * 1440)  # fmt: skip
    assert market.symbols["DOGEUSDT"] == FakeSymbol("DOGEUSDT", "DOGE", "USDT", "TRADING", tick_size="0.00001000",
                                                    step_size="1.00000000", derived=True)  # fmt: skip
    assert market.derived_symbols == ["SOLUSDT", "DOGEUSDT"]


def test_the_demo_has_the_recorded_symbols_and_forty_derived_ones_all_flagged(demo):
    names = [*REST_SYMBOLS, *(f"DRV{number:02d}USDT" for number in range(1, 41))]

    assert list(demo.symbols) == names
    assert demo.derived_symbols == names, "even the recorded symbols' minutes are derived from 15m candles"
    assert demo.symbols["DRV07USDT"].base_asset == "DRV07"


def test_the_demo_is_shifted_by_whole_weeks_about_ten_days_into_the_past(demo):
    for name in demo.symbols:
        rows = demo.candles(name)
        assert (rows[0][0] - RECORDED_WEEKS_START_MS) % WEEK_MS == 0, "weekdays and times of day stay"
        assert 6.5 * DAY_MS <= DEMO_NOW_MS - rows[0][0] <= 13.5 * DAY_MS
        assert rows[-1][0] > DEMO_NOW_MS, "the rest comes minute by minute"


def test_the_demos_recorded_symbols_are_the_recorded_minutes_shifted(demo):
    recorded = recorded_market(symbols=("ETHUSDT",)).candles("ETHUSDT")
    shift = demo.candles("ETHUSDT")[0][0] - recorded[0][0]

    assert demo.candles("ETHUSDT") == [[row[0] + shift, *row[1:6], row[6] + shift, *row[7:]] for row in recorded]


def test_derived_symbols_are_valid_minutes_without_jumps_on_their_own_tick(demo):
    for name in demo.derived_symbols[len(REST_SYMBOLS) :]:
        tick = Decimal(demo.symbols[name].tick_size)
        for previous, row in pairwise(demo.candles(name)):
            open_, high, low, close = (Decimal(row[i]) for i in (1, 2, 3, 4))
            assert 0 < low <= min(open_, close) <= max(open_, close) <= high
            assert open_ % tick == close % tick == 0
            assert Decimal(row[9]) <= Decimal(row[5])
            assert abs(open_ / Decimal(previous[4]) - 1) < Decimal("0.02"), f"{name} jumps at {row[0]}"


def test_derived_symbols_spread_over_orders_of_magnitude_of_price(demo):
    first_prices = [Decimal(demo.candles(name)[0][1]) for name in demo.derived_symbols[len(REST_SYMBOLS) :]]

    assert min(first_prices) < Decimal("0.01") and max(first_prices) > 1000
    assert len(set(first_prices)) == 40
