"""The fake's market: what "now" lets clients see, exchange-side gaps, and the recorded and demo markets."""

import tracemalloc
from datetime import UTC, datetime
from decimal import Decimal
from itertools import pairwise

import pytest
from django.conf import settings

from fakes.derive import minutes_from_candles
from fakes.market import (
    DAY_MS,
    HOUR_MS,
    MINUTE_MS,
    QUARTER_MS,
    WEEK_MS,
    FakeMarket,
    FakeSymbol,
    Stretch,
    demo_market,
    recorded_market,
)
from fakes.recorded import REST_SYMBOLS, archive_1m, rest_klines
from tests.fakes.rollup import rolled_up

JAN_2_2020_MS = 1577923200000
RECORDED_HOURS_START_MS = 1735689600000  # 2025-01-01 00:00 UTC: the hours before the 15m weeks
RECORDED_WEEKS_START_MS = 1736121600000  # 2025-01-06 00:00 UTC, a Monday
DEMO_NOW_MS = int(datetime(2026, 11, 25, 12, 34, 56, tzinfo=UTC).timestamp() * 1000)
DEMO_SHIFT_MS = 97 * WEEK_MS  # puts the 15m weeks' start on Monday 2026-11-16, 9.5 days before DEMO_NOW_MS
DEMO_HOURS_START_MS = RECORDED_HOURS_START_MS + DEMO_SHIFT_MS
DEMO_WEEKS_START_MS = RECORDED_WEEKS_START_MS + DEMO_SHIFT_MS


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


@pytest.mark.parametrize("newest", [False, True])
def test_a_limited_read_gives_the_oldest_or_the_newest_candles_of_the_range(newest):
    market = recorded_market(symbols=("SOLUSDT",), clock=lambda: RECORDED_WEEKS_START_MS + DAY_MS)
    start, end = RECORDED_WEEKS_START_MS + 7 * MINUTE_MS, RECORDED_WEEKS_START_MS + 2 * DAY_MS
    everything = market.between("SOLUSDT", start, end)

    limited = market.between("SOLUSDT", start, end, limit=20, newest=newest)

    assert limited == (everything[-20:] if newest else everything[:20])
    assert (everything[0][0], everything[-1][0]) == (start, RECORDED_WEEKS_START_MS + DAY_MS)


def test_the_recorded_market_holds_two_weeks_of_derived_minutes_at_their_real_dates():
    market = recorded_market(symbols=("SOLUSDT", "DOGEUSDT"), clock=lambda: 0)

    rows = market.candles("DOGEUSDT")
    assert rows == minutes_from_candles(rest_klines("DOGEUSDT", "15m"), QUARTER_MS)
    assert (rows[0][0], rows[-1][0]) == (RECORDED_WEEKS_START_MS, RECORDED_WEEKS_START_MS + 2 * WEEK_MS - MINUTE_MS)
    assert market.symbols["DOGEUSDT"] == FakeSymbol("DOGEUSDT", "DOGE", "USDT", "TRADING", tick_size="0.00001000",
                                                    step_size="1.00000000", derived=True)  # fmt: skip
    assert market.derived_symbols == ["SOLUSDT", "DOGEUSDT"]


def test_the_demo_has_the_recorded_symbols_and_forty_derived_ones_all_flagged(demo):
    names = [*REST_SYMBOLS, *(f"DRV{number:02d}USDT" for number in range(1, 41))]

    assert list(demo.symbols) == names
    assert demo.derived_symbols == names, "even the recorded symbols' minutes are derived from recorded candles"
    assert demo.symbols["DRV07USDT"].base_asset == "DRV07"


def test_the_demos_15m_weeks_are_the_recorded_minutes_moved_by_whole_weeks_to_about_ten_days_ago(demo):
    moved = _moved(recorded_market(symbols=("ETHUSDT",)).candles("ETHUSDT"))

    assert demo.between("ETHUSDT", DEMO_WEEKS_START_MS, DEMO_NOW_MS) == [row for row in moved if row[0] <= DEMO_NOW_MS]


def test_the_rest_of_the_demo_comes_minute_by_minute(demo):
    last_open_ms = DEMO_WEEKS_START_MS + 2 * WEEK_MS - MINUTE_MS
    for name in demo.symbols:
        assert demo.between(name, DEMO_NOW_MS - MINUTE_MS, last_open_ms)[-1][0] == DEMO_NOW_MS - DEMO_NOW_MS % MINUTE_MS
        assert demo.candle_at(name, last_open_ms) is not None


def test_every_demo_symbols_history_reaches_beyond_the_first_backfill_window(demo):
    first_opens = {demo.between(name, 0, DEMO_NOW_MS, limit=1)[0][0] for name in demo.symbols}

    assert DEMO_NOW_MS - max(first_opens) > (settings.MARKET_RECENT_WINDOW_DAYS + 10) * DAY_MS


def test_the_phase_shifted_symbols_begin_together(demo):
    first_opens = {demo.between(name, 0, DEMO_NOW_MS, limit=1)[0][0] for name in demo.symbols if name.startswith("DRV")}

    assert len(first_opens) == 1


def test_the_recorded_symbols_history_reaches_over_a_year_back(demo):
    for name in REST_SYMBOLS:
        first_open_ms = demo.between(name, 0, DEMO_NOW_MS, limit=1)[0][0]
        assert DEMO_NOW_MS - first_open_ms > 370 * DAY_MS
        assert first_open_ms == _moved(rest_klines(name, "1d"))[0][0]


def test_the_demos_minutes_before_the_15m_weeks_roll_up_to_the_recorded_daily_then_hourly_candles(demo):
    minutes = demo.between("ETHUSDT", 0, DEMO_WEEKS_START_MS - 1)
    days = [row for row in _moved(rest_klines("ETHUSDT", "1d")) if minutes[0][0] <= row[0] < DEMO_HOURS_START_MS]
    hours = [row for row in _moved(rest_klines("ETHUSDT", "1h")) if row[0] < DEMO_WEEKS_START_MS]

    assert rolled_up([row for row in minutes if row[0] < DEMO_HOURS_START_MS], DAY_MS) == days
    assert rolled_up([row for row in minutes if row[0] >= DEMO_HOURS_START_MS], HOUR_MS) == hours
    assert len(hours) == 5 * 24


def test_every_demo_symbol_goes_on_minute_after_minute_across_the_seams_without_a_jump(demo):
    for name in demo.symbols:
        for seam_ms in (DEMO_HOURS_START_MS, DEMO_WEEKS_START_MS):
            rows = demo.between(name, seam_ms - DAY_MS, seam_ms + DAY_MS - MINUTE_MS)
            assert [row[0] for row in rows] == list(range(seam_ms - DAY_MS, seam_ms + DAY_MS, MINUTE_MS))
            for previous, row in pairwise(rows):
                assert abs(Decimal(row[1]) / Decimal(previous[4]) - 1) < Decimal("0.02"), f"{name} at {row[0]}"


# Under a cent, from AVAXUSDT 8 days in; hundreds of USDT, from XRPUSDT 13 days in.
@pytest.mark.parametrize("name", ["DRV07USDT", "DRV12USDT"])
def test_a_derived_symbols_whole_history_is_valid_minutes_without_jumps_on_its_own_tick(demo, name):
    tick = Decimal(demo.symbols[name].tick_size)
    for previous, row in pairwise(demo.between(name, 0, DEMO_NOW_MS)):
        open_, high, low, close = (Decimal(row[i]) for i in (1, 2, 3, 4))
        assert row[0] - previous[0] == MINUTE_MS
        assert 0 < low <= min(open_, close) <= max(open_, close) <= high
        assert open_ % tick == close % tick == 0
        assert Decimal(row[9]) <= Decimal(row[5])
        assert abs(open_ / Decimal(previous[4]) - 1) < Decimal("0.02"), f"{name} jumps at {row[0]}"


def test_derived_symbols_spread_over_orders_of_magnitude_of_price(demo):
    first_prices = [Decimal(demo.between(name, 0, DEMO_NOW_MS, limit=1)[0][1])
                    for name in demo.derived_symbols[len(REST_SYMBOLS) :]]  # fmt: skip

    assert min(first_prices) < Decimal("0.01") and max(first_prices) > 1000
    assert len(set(first_prices)) == 40


def test_the_demo_market_of_48_symbols_and_225_days_is_built_in_little_memory():
    tracemalloc.start()
    try:
        demo_market(clock=lambda: DEMO_NOW_MS)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert peak < 150 * 2**20, f"{peak / 2**20:.0f} MB (as rows, its 15 million minutes would take about 8 GB)"


def test_a_derived_symbol_keeps_only_the_minutes_of_the_last_source_candles_read():
    market = FakeMarket(clock=lambda: DEMO_NOW_MS)
    market.add_derived(FakeSymbol("BTCUSDT", "BTC", "USDT"), [Stretch(DAY_MS, rest_klines("BTCUSDT", "1d")[:30])])
    first_ms = market.between("BTCUSDT", 0, DEMO_NOW_MS, limit=1)[0][0]
    tracemalloc.start()
    try:
        for day in range(30):
            market.between("BTCUSDT", first_ms + day * DAY_MS, first_ms + (day + 1) * DAY_MS - MINUTE_MS)
        kept = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()

    assert kept < 3 * 2**20, f"{kept / 2**20:.1f} MB kept: a day's minutes take about 1 MB"


def _moved(rows: list[list]) -> list[list]:
    return [[row[0] + DEMO_SHIFT_MS, *row[1:6], row[6] + DEMO_SHIFT_MS, *row[7:]] for row in rows]
