"""The incremental path: snapshots brought up to date as each minute closes, from the state the full computation
stored, agreeing with the full computation."""

import numpy as np
import pytest

from apps.indicators.engine import indicators_compute
from apps.indicators.models import Snapshot
from apps.indicators.registry import OUTPUTS, Series
from apps.indicators.services import snapshots_compute, snapshots_update_live
from apps.market.intervals import datetime_from_ms
from apps.market.klines import CandleRow, klines_parse
from apps.market.services.candles import candles_upsert
from fakes.derive import minutes_from_candles
from fakes.recorded import rest_klines
from tests.market.factories import SymbolFactory

pytestmark = [pytest.mark.django_db, pytest.mark.timescaledb]

MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
QUARTER_MS = 15 * MINUTE_MS
AGREEMENT = {"rtol": 1e-9, "atol": 1e-10}  # near zero (a MACD histogram, %B) absolutely


@pytest.fixture(autouse=True)
def timeframes(settings):
    settings.INDICATORS_TIMEFRAMES = ["15m", "1h"]
    # Two recorded weeks are 1344 quarter-hours: every 15m computation slides its window by a candle.
    settings.INDICATORS_HISTORY_CANDLES = 600


@pytest.fixture
def minutes() -> dict[str, list[CandleRow]]:
    """Two recorded weeks of three symbols as stored minutes, by symbol."""
    stored = {}
    for name in ("ETHUSDT", "SOLUSDT", "DOGEUSDT"):
        symbol = SymbolFactory(symbol=name)
        raw = minutes_from_candles(rest_klines(name, "15m"), QUARTER_MS)
        stored[name] = klines_parse(symbol_id=symbol.id, raw_rows=raw, source="test").rows
        candles_upsert(rows=stored[name])
    return stored


def _boundary(minutes: dict[str, list[CandleRow]], hours_before_the_end: int) -> int:
    return minutes["ETHUSDT"][-1][1] + MINUTE_MS - hours_before_the_end * HOUR_MS


def _feed(minutes: dict[str, list[CandleRow]], start_ms: int, end_ms: int) -> None:
    """The streamer's part: each minute in [start, end), all symbols at once, as they close."""
    for open_ms in range(start_ms, end_ms, MINUTE_MS):
        snapshots_update_live(rows=[row for rows in minutes.values() for row in rows if row[1] == open_ms])


def _values(timeframe: str) -> dict[int, dict]:
    return {snapshot.symbol_id: snapshot.values for snapshot in Snapshot.objects.filter(timeframe=timeframe)}


def _assert_agree(live: dict[int, dict], full: dict[int, dict]) -> None:
    assert live.keys() == full.keys()
    for symbol_id in full:
        for name in OUTPUTS:
            ours, theirs = live[symbol_id][name], full[symbol_id][name]
            assert (ours is None) == (theirs is None), name
            if theirs is not None:
                assert np.isclose(ours, theirs, **AGREEMENT), (name, ours, theirs)


@pytest.mark.parametrize(("timeframe", "interval_ms"), [("15m", QUARTER_MS), ("1h", HOUR_MS)])
def test_a_candles_last_minute_gives_the_values_the_full_computation_then_stores(minutes, timeframe, interval_ms):
    boundary = _boundary(minutes, hours_before_the_end=3)
    symbol_ids = [rows[0][0] for rows in minutes.values()]
    snapshots_compute(symbol_ids=symbol_ids, timeframe=timeframe, end_ms=boundary)

    _feed(minutes, boundary, boundary + interval_ms)
    live = _values(timeframe)
    snapshots_compute(symbol_ids=symbol_ids, timeframe=timeframe, end_ms=boundary + interval_ms)

    assert set(Snapshot.objects.filter(timeframe=timeframe).values_list("open_time", "candle_closed")) == {
        (datetime_from_ms(boundary), True)
    }
    _assert_agree(live, _values(timeframe))


def test_the_paths_go_on_agreeing_candle_after_candle(minutes):
    boundary = _boundary(minutes, hours_before_the_end=3)
    symbol_ids = [rows[0][0] for rows in minutes.values()]
    snapshots_compute(symbol_ids=symbol_ids, timeframe="15m", end_ms=boundary)

    for quarter in range(4):
        start = boundary + quarter * QUARTER_MS
        _feed(minutes, start, start + QUARTER_MS)
        live = _values("15m")
        snapshots_compute(symbol_ids=symbol_ids, timeframe="15m", end_ms=start + QUARTER_MS)

        _assert_agree(live, _values("15m"))


def test_each_minute_gives_the_forming_candles_values(minutes):
    boundary = _boundary(minutes, hours_before_the_end=3)
    eth = minutes["ETHUSDT"]
    snapshots_compute(symbol_ids=[eth[0][0]], timeframe="1h", end_ms=boundary)

    _feed({"ETHUSDT": eth}, boundary, boundary + 25 * MINUTE_MS)

    snapshot = Snapshot.objects.get(symbol_id=eth[0][0], timeframe="1h")
    assert (snapshot.open_time, snapshot.candle_closed) == (datetime_from_ms(boundary), False)
    hours = [row for row in rest_klines("ETHUSDT", "1h") if eth[0][1] <= row[0] < boundary]
    forming = [row for row in eth if boundary <= row[1] < boundary + 25 * MINUTE_MS]
    columns = (
        [float(row[column]) for row in hours]
        + [float([forming[0][2], max(r[3] for r in forming), min(r[4] for r in forming), forming[-1][5],
                  sum(float(r[6]) for r in forming)][column - 1])]
        for column in range(1, 6)
    )  # fmt: skip
    reference = indicators_compute(Series(*(np.array(column) for column in columns), candles_per_day=24))
    for name in OUTPUTS:
        if np.isnan(reference[name][-1]):
            assert snapshot.values[name] is None, name
        else:
            assert np.isclose(snapshot.values[name], reference[name][-1], **AGREEMENT), name


def test_without_the_state_of_the_candle_before_nothing_is_made_up(minutes):
    boundary = _boundary(minutes, hours_before_the_end=3)
    eth = minutes["ETHUSDT"]
    snapshots_compute(symbol_ids=[eth[0][0]], timeframe="15m", end_ms=boundary - QUARTER_MS)
    stored = Snapshot.objects.get(timeframe="15m")

    _feed({"ETHUSDT": eth}, boundary, boundary + 3 * MINUTE_MS)

    assert Snapshot.objects.get(timeframe="15m").values == stored.values
    assert Snapshot.objects.get(timeframe="15m").open_time == stored.open_time


def test_a_state_stored_later_is_picked_up_by_the_next_minute(minutes):
    boundary = _boundary(minutes, hours_before_the_end=3)
    eth = minutes["ETHUSDT"]
    snapshots_compute(symbol_ids=[eth[0][0]], timeframe="15m", end_ms=boundary - QUARTER_MS)
    _feed({"ETHUSDT": eth}, boundary, boundary + MINUTE_MS)

    snapshots_compute(symbol_ids=[eth[0][0]], timeframe="15m", end_ms=boundary)
    _feed({"ETHUSDT": eth}, boundary + MINUTE_MS, boundary + 2 * MINUTE_MS)

    snapshot = Snapshot.objects.get(timeframe="15m")
    assert (snapshot.open_time, snapshot.candle_closed) == (datetime_from_ms(boundary), False)


def test_a_minute_seen_twice_counts_once(minutes):
    boundary = _boundary(minutes, hours_before_the_end=3)
    eth = minutes["ETHUSDT"]
    snapshots_compute(symbol_ids=[eth[0][0]], timeframe="15m", end_ms=boundary)
    _feed({"ETHUSDT": eth}, boundary, boundary + 2 * MINUTE_MS)
    once = _values("15m")

    _feed({"ETHUSDT": eth}, boundary + MINUTE_MS, boundary + 2 * MINUTE_MS)

    assert _values("15m") == once


def test_joining_mid_candle_takes_the_stored_minutes_before(minutes):
    boundary = _boundary(minutes, hours_before_the_end=3)
    symbol_ids = [rows[0][0] for rows in minutes.values()]
    snapshots_compute(symbol_ids=symbol_ids, timeframe="15m", end_ms=boundary)

    _feed(minutes, boundary + 10 * MINUTE_MS, boundary + QUARTER_MS)
    live = _values("15m")
    snapshots_compute(symbol_ids=symbol_ids, timeframe="15m", end_ms=boundary + QUARTER_MS)

    _assert_agree(live, _values("15m"))
