import numpy as np
import pytest
import talib

from apps.indicators.models import IndicatorHistory, Snapshot
from apps.indicators.services import snapshots_compute
from apps.market.intervals import datetime_from_ms
from apps.market.klines import klines_parse
from apps.market.services.candles import candles_upsert
from fakes.derive import minutes_from_candles
from fakes.recorded import rest_klines
from tests.market.factories import SymbolFactory

pytestmark = [pytest.mark.django_db, pytest.mark.timescaledb]

HOUR_MS = 3_600_000


@pytest.fixture
def eth():
    """Two weeks of ETHUSDT minutes that roll up exactly into Binance's own 1h candles."""
    symbol = SymbolFactory(symbol="ETHUSDT")
    minutes = minutes_from_candles(rest_klines("ETHUSDT", "15m"), 15 * 60_000)
    candles_upsert(rows=klines_parse(symbol_id=symbol.id, raw_rows=minutes, source="test").rows)
    return symbol


@pytest.fixture
def binance_hours() -> list[list]:
    first = int(rest_klines("ETHUSDT", "15m")[0][0])
    return [row for row in rest_klines("ETHUSDT", "1h") if first <= int(row[0]) < first + 14 * 24 * HOUR_MS]


def test_the_snapshot_holds_ta_lib_values_of_binances_own_hourly_candles(eth, binance_hours):
    end_ms = int(binance_hours[-1][0]) + HOUR_MS
    close = np.asarray([float(row[4]) for row in binance_hours])

    snapshots_compute(symbol_ids=[eth.id], timeframe="1h", end_ms=end_ms)

    snapshot = Snapshot.objects.get(symbol=eth, timeframe="1h")
    assert snapshot.open_time == datetime_from_ms(int(binance_hours[-1][0]))
    assert snapshot.values["rsi_14"] == pytest.approx(talib.RSI(close, 14)[-1], rel=1e-6)
    assert snapshot.values["ema_200"] == pytest.approx(talib.EMA(close, 200)[-1], rel=1e-6)


def test_a_candle_still_forming_is_left_out(eth, binance_hours):
    half_past = int(binance_hours[-1][0]) + HOUR_MS // 2

    snapshots_compute(symbol_ids=[eth.id], timeframe="1h", end_ms=half_past)

    assert Snapshot.objects.get().open_time == datetime_from_ms(int(binance_hours[-2][0]))


def test_computing_twice_writes_each_snapshot_and_history_row_once(eth, binance_hours):
    end_ms = int(binance_hours[-1][0]) + HOUR_MS
    snapshots_compute(symbol_ids=[eth.id], timeframe="1h", end_ms=end_ms)
    first = list(IndicatorHistory.objects.order_by("open_time").values_list("open_time", "values"))

    snapshots_compute(symbol_ids=[eth.id], timeframe="1h", end_ms=end_ms)

    assert Snapshot.objects.count() == 1
    assert list(IndicatorHistory.objects.order_by("open_time").values_list("open_time", "values")) == first
    assert len(first) == len(binance_hours)


def test_the_next_candle_adds_one_history_row(eth, binance_hours):
    end_ms = int(binance_hours[-1][0]) + HOUR_MS
    snapshots_compute(symbol_ids=[eth.id], timeframe="1h", end_ms=end_ms - HOUR_MS)
    before = IndicatorHistory.objects.count()

    snapshots_compute(symbol_ids=[eth.id], timeframe="1h", end_ms=end_ms)

    assert IndicatorHistory.objects.count() == before + 1


def test_going_on_from_the_stored_state_gives_what_the_whole_history_gives(eth, settings):
    settings.INDICATORS_HISTORY_CANDLES = 2000  # two recorded weeks are 1344 quarter-hours: all of them
    quarter_ms = 15 * 60_000
    end_ms = int(rest_klines("ETHUSDT", "15m")[-1][0]) + quarter_ms
    snapshots_compute(symbol_ids=[eth.id], timeframe="15m", end_ms=end_ms - 8 * quarter_ms)
    snapshots_compute(symbol_ids=[eth.id], timeframe="15m", end_ms=end_ms)  # reads 400 candles, goes on from there
    going_on = Snapshot.objects.get(timeframe="15m").values

    Snapshot.objects.all().delete()
    snapshots_compute(symbol_ids=[eth.id], timeframe="15m", end_ms=end_ms)
    whole = Snapshot.objects.get(timeframe="15m").values

    assert going_on.keys() == whole.keys()
    for name, value in whole.items():
        assert (value is None and going_on[name] is None) or going_on[name] == pytest.approx(value, rel=1e-9), name
