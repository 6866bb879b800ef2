import math

import numpy as np
import pandas as pd
import pytest
import talib
from hypothesis import given, settings
from hypothesis import strategies as st
from ta.volume import VolumeWeightedAveragePrice

from apps.indicators.engine import indicators_compute, snapshot_at
from apps.indicators.registry import OUTPUTS, Series
from fakes.recorded import rest_klines

RELATIVE = 1e-6


def _series(rows: list[list], candles_per_day: int) -> Series:
    def column(index: int) -> np.ndarray:
        return np.asarray([float(row[index]) for row in rows])

    return Series(column(1), column(2), column(3), column(4), column(5), candles_per_day)


@pytest.fixture(scope="module")
def eth_hours() -> Series:
    return _series(rest_klines("ETHUSDT", "1h"), candles_per_day=24)


def _same(ours: np.ndarray, reference: np.ndarray) -> bool:
    known = ~np.isnan(reference)
    return bool(np.array_equal(np.isnan(ours), ~known) and np.allclose(ours[known], reference[known], rtol=RELATIVE))


@pytest.mark.parametrize(
    ("output", "reference"),
    [
        ("rsi_14", lambda s: talib.RSI(s.close, 14)),
        ("macd_signal", lambda s: talib.MACD(s.close, 12, 26, 9)[1]),
        ("ema_200", lambda s: talib.EMA(s.close, 200)),
        ("sma_100", lambda s: talib.SMA(s.close, 100)),
        ("bb_lower", lambda s: talib.BBANDS(s.close, 20, 2, 2)[2]),
        ("atr_14", lambda s: talib.ATR(s.high, s.low, s.close, 14)),
        ("adx_14", lambda s: talib.ADX(s.high, s.low, s.close, 14)),
        ("stoch_d", lambda s: talib.STOCH(s.high, s.low, s.close, 14, 3, 0, 3, 0)[1]),
        ("stochrsi_k", lambda s: talib.STOCHRSI(s.close, 14, 14, 3)[0]),
        ("obv", lambda s: talib.OBV(s.close, s.volume)),
    ],
)
def test_indicators_on_recorded_binance_candles_match_ta_lib(eth_hours, output, reference):
    assert _same(indicators_compute(eth_hours)[output], reference(eth_hours))


def test_vwap_matches_the_ta_librarys_definition(eth_hours):
    frame = pd.DataFrame({"high": eth_hours.high, "low": eth_hours.low, "close": eth_hours.close,
                          "volume": eth_hours.volume})  # fmt: skip
    reference = VolumeWeightedAveragePrice(frame.high, frame.low, frame.close, frame.volume, window=14).vwap

    ours = indicators_compute(eth_hours)["vwap_14"]

    assert np.allclose(ours[13:], reference.to_numpy()[13:], rtol=RELATIVE)


def test_24h_change_and_volatility_follow_their_definitions(eth_hours):
    close = pd.Series(eth_hours.close)
    columns = indicators_compute(eth_hours)

    assert _same(columns["change_24h"], (close.pct_change(24) * 100).to_numpy())
    assert _same(columns["volatility_24h"], (np.log(close).diff().rolling(24).std() * 100).to_numpy())


def test_too_little_history_gives_null_never_a_made_up_number(eth_hours):
    short = Series(*(values[:30] for values in (eth_hours.open, eth_hours.high, eth_hours.low, eth_hours.close,
                                                 eth_hours.volume)), candles_per_day=24)  # fmt: skip

    snapshot = snapshot_at(indicators_compute(short), -1)

    assert snapshot["ema_200"] is None and snapshot["sma_50"] is None and snapshot["change_24h"] is not None
    assert snapshot["rsi_14"] is not None
    assert set(snapshot) == set(OUTPUTS)


random_walks = st.lists(st.floats(min_value=-0.05, max_value=0.05), min_size=60, max_size=300)


@settings(max_examples=40, deadline=None)
@given(steps=random_walks, spread=st.floats(min_value=0.0, max_value=0.03))
def test_invariants_hold_on_any_price_path(steps, spread):
    close = 100 * np.exp(np.cumsum(steps))
    series = Series(np.roll(close, 1), close * (1 + spread), close * (1 - spread), close,
                    np.full_like(close, 5.0), candles_per_day=24)  # fmt: skip

    columns = {name: values[~np.isnan(values)] for name, values in indicators_compute(series).items()}

    assert np.all((columns["rsi_14"] >= 0) & (columns["rsi_14"] <= 100))
    assert np.all((columns["stoch_k"] >= -1e-9) & (columns["stoch_k"] <= 100 + 1e-9))
    assert np.all(columns["atr_14"] >= 0)
    bands = indicators_compute(series)
    known = ~np.isnan(bands["bb_middle"])
    assert np.all(bands["bb_lower"][known] <= bands["bb_middle"][known] + 1e-9)
    assert np.all(bands["bb_middle"][known] <= bands["bb_upper"][known] + 1e-9)
    assert all(math.isfinite(value) for value in columns["ema_50"])
