from datetime import UTC, datetime
from decimal import Decimal

import pytest

from apps.market.intervals import INTERVALS
from apps.market.klines import klines_parse
from apps.market.selectors import klines_aggregate
from apps.market.services.candles import candles_upsert
from fakes.derive import minutes_from_candles
from fakes.recorded import archive_1m, rest_klines
from tests.market.factories import SymbolFactory

pytestmark = [pytest.mark.django_db, pytest.mark.timescaledb]

DAY_MS = 86_400_000


def _store(symbol, rows: list[list]) -> None:
    parsed = klines_parse(symbol_id=symbol.id, raw_rows=rows, source="test")
    assert not parsed.rejected
    candles_upsert(rows=parsed.rows)


def _exact(rows: list[list]) -> list[tuple]:
    return [(int(r[0]), *(Decimal(v) for v in r[1:6]), int(r[6]), Decimal(r[7]), int(r[8]), Decimal(r[9]),
             Decimal(r[10])) for r in rows]  # fmt: skip


def _aggregate(symbol, interval: str, start_ms: int | None = None, end_ms: int | None = None, limit: int = 1000):
    klines = klines_aggregate(
        symbol=symbol, interval=INTERVALS[interval], start_ms=start_ms, end_ms=end_ms, limit=limit
    )
    return [tuple(kline) for kline in klines]


def test_it_aggregates_real_1m_candles_into_binances_own_2h_candles_exactly():
    symbol = SymbolFactory(symbol="BTCUSDT")
    minutes = archive_1m("BTCUSDT")
    _store(symbol, minutes)
    end_ms = int(minutes[-1][0])
    binance_2h = [row for row in rest_klines("BTCUSDT", "2h") if int(row[0]) <= end_ms]

    assert len(binance_2h) == 36
    assert _aggregate(symbol, "2h", start_ms=int(minutes[0][0]), end_ms=end_ms) == _exact(binance_2h)


def test_derived_minutes_aggregate_into_binances_own_1h_candles_exactly():
    symbol = SymbolFactory(symbol="ETHUSDT")
    _store(symbol, minutes_from_candles(rest_klines("ETHUSDT", "15m"), 15 * 60_000))
    first_ms = int(rest_klines("ETHUSDT", "15m")[0][0])
    binance_1h = [row for row in rest_klines("ETHUSDT", "1h") if first_ms <= int(row[0]) < first_ms + 14 * DAY_MS]

    assert len(binance_1h) == 14 * 24
    assert _aggregate(symbol, "1h", start_ms=first_ms, limit=1000) == _exact(binance_1h)


def _flat_minutes(start: datetime, count: int) -> list[list]:
    first = int(start.timestamp() * 1000)
    return [[first + i * 60_000, "10.00", "11.00", "9.00", "10.50", "1.0", first + i * 60_000 + 59_999, "10.5", 1,
             "0.5", "5.25", "0"] for i in range(count)]  # fmt: skip


def test_weekly_candles_open_on_monday():
    symbol = SymbolFactory()
    _store(symbol, _flat_minutes(datetime(2024, 1, 3, tzinfo=UTC), 7 * 1440))  # Wednesday to Wednesday

    open_times = [datetime.fromtimestamp(k[0] / 1000, UTC) for k in _aggregate(symbol, "1w", start_ms=0)]

    assert open_times == [datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 8, tzinfo=UTC)]


def test_three_day_candles_are_aligned_to_the_epoch_like_binances():
    symbol = SymbolFactory()
    _store(symbol, _flat_minutes(datetime(2024, 1, 1, tzinfo=UTC), 6 * 1440))

    open_times = [
        k[0] for k in _aggregate(symbol, "3d", end_ms=int(datetime(2024, 1, 7, tzinfo=UTC).timestamp() * 1000))
    ]

    assert all(open_ms % (3 * DAY_MS) == 0 for open_ms in open_times)
    assert len(open_times) == 3


def test_monthly_candles_follow_the_calendar():
    symbol = SymbolFactory()
    _store(symbol, _flat_minutes(datetime(2024, 2, 28, tzinfo=UTC), 3 * 1440))  # Feb 28, 29, Mar 1

    klines = _aggregate(symbol, "1M", start_ms=int(datetime(2024, 2, 1, tzinfo=UTC).timestamp() * 1000))

    assert [datetime.fromtimestamp(k[0] / 1000, UTC) for k in klines] == [datetime(2024, 2, 1, tzinfo=UTC),
                                                                          datetime(2024, 3, 1, tzinfo=UTC)]  # fmt: skip
    assert klines[0][6] == int(datetime(2024, 3, 1, tzinfo=UTC).timestamp() * 1000) - 1
    assert klines[0][5] == Decimal(2 * 1440)


def test_a_halt_yields_no_phantom_candles_and_partial_buckets_still_aggregate():
    symbol = SymbolFactory()
    minutes = _flat_minutes(datetime(2024, 1, 1, tzinfo=UTC), 24 * 60)
    _store(symbol, minutes[:130] + minutes[16 * 60 :])  # trading stops 02:10 and resumes at 16:00

    klines = _aggregate(symbol, "2h", start_ms=int(minutes[0][0]))

    hours = [datetime.fromtimestamp(k[0] / 1000, UTC).hour for k in klines]
    assert hours == [0, 2, 16, 18, 20, 22]
    assert klines[1][5] == Decimal(10), "the 02:00 bucket holds its 10 minutes"


def test_without_start_it_returns_the_latest_candles_up_to_the_limit():
    symbol = SymbolFactory()
    minutes = _flat_minutes(datetime(2024, 1, 1, tzinfo=UTC), 600)
    _store(symbol, minutes)

    klines = _aggregate(symbol, "1h", end_ms=int(minutes[-1][0]), limit=3)

    assert [datetime.fromtimestamp(k[0] / 1000, UTC).hour for k in klines] == [7, 8, 9]


def _by_bucket(rows: list[list], bucket_ms: int) -> list[tuple]:
    """What Binance's candles of `bucket_ms` are, from the minutes: first open, extremes, last close, sums."""
    buckets = {}
    for row in rows:
        buckets.setdefault(int(row[0]) // bucket_ms * bucket_ms, []).append(row)
    return [
        (start, Decimal(minutes[0][1]), max(Decimal(m[2]) for m in minutes), min(Decimal(m[3]) for m in minutes),
         Decimal(minutes[-1][4]), sum(Decimal(m[5]) for m in minutes), start + bucket_ms - 1,
         sum(Decimal(m[7]) for m in minutes), sum(int(m[8]) for m in minutes), sum(Decimal(m[9]) for m in minutes),
         sum(Decimal(m[10]) for m in minutes))
        for start, minutes in sorted(buckets.items())
    ]  # fmt: skip


@pytest.mark.parametrize("interval", ["15m", "1h"])
def test_minutes_stored_at_different_scales_roll_up_exactly(interval):
    symbol = SymbolFactory(tick_size=Decimal("0.01"), step_size=Decimal("0.00001"))
    minutes = _flat_minutes(datetime(2024, 1, 1, tzinfo=UTC), 120)
    # Values finer than the symbol's grid give their minute a finer scale than its neighbours'.
    minutes[0][1] = "10.005"  # the open of every bucket's first minute is taken from a scale of its own
    minutes[44][4] = "10.4999"  # and so is a close
    minutes[30][2] = "11.125"
    minutes[75][3] = "8.99999999"
    minutes[45][5], minutes[45][9] = "1.00000051", "0.50000001"
    minutes[100][7], minutes[100][10] = "10.12345678", "5.00000009"
    _store(symbol, minutes)

    klines = _aggregate(symbol, interval, start_ms=int(minutes[0][0]))

    assert klines == _by_bucket(minutes, INTERVALS[interval].ms)


def _one_minute_a_bucket(interval: str, first: datetime, count: int) -> list[list]:
    """A minute at the open of each of `count` buckets of `interval` from the one holding `first`."""
    opens = [INTERVALS[interval].bucket_start_ms(int(first.timestamp() * 1000))]
    while len(opens) < count:
        opens.append(INTERVALS[interval].next_bucket_ms(opens[-1]))
    return [[ms, "10.00", "11.00", "9.00", "10.50", "1.0", ms + 59_999, "10.5", 1, "0.5", "5.25", "0"] for ms in opens]


def _with_a_gap(interval: str) -> list[list]:
    """Six buckets with a candle, ten without (a halt), six with, from 2024."""
    buckets = _one_minute_a_bucket(interval, datetime(2024, 1, 1, tzinfo=UTC), 22)
    return buckets[:6] + buckets[16:]


@pytest.mark.parametrize("interval", list(INTERVALS))
def test_from_a_start_limit_counts_stored_candles_not_the_time_slots_of_a_gap(interval):
    symbol = SymbolFactory()
    stored = _with_a_gap(interval)
    _store(symbol, stored)

    klines = _aggregate(symbol, interval, start_ms=stored[0][0], limit=8)

    assert [k[0] for k in klines] == [row[0] for row in stored[:8]]


@pytest.mark.parametrize("interval", list(INTERVALS))
def test_up_to_an_end_limit_counts_stored_candles_not_the_time_slots_of_a_gap(interval):
    symbol = SymbolFactory()
    stored = _with_a_gap(interval)
    _store(symbol, stored)

    klines = _aggregate(symbol, interval, end_ms=stored[-1][0], limit=8)

    assert [k[0] for k in klines] == [row[0] for row in stored[-8:]]


def test_without_start_or_end_limit_counts_back_from_the_newest_stored_candle():
    symbol = SymbolFactory()
    stored = _with_a_gap("1m")
    _store(symbol, stored)

    klines = _aggregate(symbol, "1m", limit=8)

    assert [k[0] for k in klines] == [row[0] for row in stored[-8:]]
