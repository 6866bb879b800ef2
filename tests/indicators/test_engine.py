import math

import numpy as np
import pandas as pd
import pytest
import talib
from hypothesis import given, settings
from hypothesis import strategies as st
from ta.volume import VolumeWeightedAveragePrice

from apps.indicators.engine import indicators_compute, outputs_step, snapshot_at, state_at_end
from apps.indicators.registry import OUTPUTS, Candles, Series
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


def _step_after(series: Series, count: int) -> dict[str, float]:
    """The incremental step's outputs for candle `count`, from the state of a full computation over the ones before."""
    before = Series(*(values[:count] for values in (series.open, series.high, series.low, series.close,
                                                     series.volume)), series.candles_per_day)  # fmt: skip
    state = state_at_end(before, indicators_compute(before))
    candle = Candles(*(values[count : count + 1] for values in (series.open, series.high, series.low, series.close,
                                                               series.volume)), series.candles_per_day)  # fmt: skip
    return {name: float(column[0]) for name, column in outputs_step({k: np.array([v]) for k, v in state.items()},
                                                                     candle).items()}  # fmt: skip


def _disagreeing(step: dict[str, float], full: dict[str, np.ndarray], count: int) -> list[str]:
    """Outputs where the step's value differs from the full computation's beyond 1e-9 (relative), or where it has a
    value and the full computation none, or none where the full computation has one and had one before: the step's
    state starts with an indicator's first full value, so only that first value may come a candle late."""
    return [
        name for name in OUTPUTS
        if (np.isfinite(step[name]) and not np.isclose(step[name], full[name][count], rtol=1e-9, atol=1e-10))
        or (not np.isfinite(step[name]) and np.isfinite(full[name][count]) and np.isfinite(full[name][count - 1]))
    ]  # fmt: skip


@pytest.mark.parametrize("symbol", ["BTCUSDT", "DOGEUSDT", "XRPUSDT"])
def test_one_step_from_the_state_gives_the_full_computations_next_values(symbol):
    series = _series(rest_klines(symbol, "1h"), candles_per_day=24)
    for count in range(60, len(series.close), 23):
        full = indicators_compute(Series(*(values[: count + 1] for values in (series.open, series.high, series.low,
                                           series.close, series.volume)), 24))  # fmt: skip

        assert _disagreeing(_step_after(series, count), full, count) == [], count


def test_the_step_gives_nothing_where_the_state_has_no_history_yet(eth_hours):
    step = _step_after(eth_hours, 10)

    assert all(np.isnan(step[name]) for name in ("rsi_14", "ema_12", "sma_20", "atr_14", "adx_14", "macd"))


# Moves of at least a ten-thousandth, as candles of 15 minutes and more make: on far smaller ones the stochastic
# RSI divides the rounding noise of two RSIs by a range hardly larger, in either path.
candle_moves = st.lists(st.just(0.0) | st.floats(min_value=1e-4, max_value=0.05) | st.floats(min_value=-0.05,
                        max_value=-1e-4), min_size=60, max_size=300)  # fmt: skip


@settings(max_examples=30, deadline=None)
@given(steps=candle_moves, spread=st.floats(min_value=0.0, max_value=0.03), flat=st.integers(0, 40))
def test_the_step_agrees_with_the_full_computation_on_any_price_path(steps, spread, flat):
    close = 100 * np.exp(np.cumsum(steps + [0.0] * flat))  # flat stretches: zero ranges and no movement
    series = Series(np.roll(close, 1), close * (1 + spread), close * (1 - spread), close,
                    np.full_like(close, 5.0), candles_per_day=24)  # fmt: skip
    count = len(close) - 1

    assert _disagreeing(_step_after(series, count), indicators_compute(series), count) == []
