"""Every indicator, defined once: its name, parameters, warm-up and functions, and the output columns it fills.

Storage, the API and the admin read the output columns from here, so adding an indicator is one entry below.

Each indicator has two paths, which agree to within rounding:
- `function`, the full computation: whole candle series (numpy float64 arrays, oldest first) in, one array per
  output column out, aligned with the candles, NaN where no value can be had yet. TA-Lib's C does the arithmetic;
  the `ta` library's definition is followed where TA-Lib has none (VWAP).
- `state` and `step`, the incremental one: `state` takes from a full computation what the indicator carries from
  one closed candle to the next (recursive averages, running totals, the sums and extremes of its window), and
  `step` brings the outputs up to date with one newer candle, complete or still forming, for many symbols at once,
  in O(1): TA-Lib's recursions, term for term.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np
import talib as talib_wrapped

# TA-Lib's C functions themselves: `talib` wraps each one to accept pandas and polars series too, a check that
# costs more than the arithmetic on our numpy arrays (measured: 40% of the engine's time).
talib = SimpleNamespace(
    **{name: getattr(getattr(talib_wrapped, name), "__wrapped__", None) or getattr(talib_wrapped, name)
       for name in talib_wrapped.get_functions()}
)  # fmt: skip

# TA-Lib's TA_EPSILON: a sum below it counts as zero (RSI, ADX) and a variance below it as no deviation at all.
EPSILON = 1e-14

Arrays = dict[str, np.ndarray]
State = dict[str, float | list[float]]  # one symbol's, as of its last closed candle
States = dict[str, np.ndarray]  # many symbols' states, one array per name


@dataclass(frozen=True)
class Series:
    """One symbol's candles on one timeframe, oldest first."""

    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    candles_per_day: int


@dataclass(frozen=True)
class Candles:
    """One newer candle for each of many symbols, the next after the one their state is for."""

    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    candles_per_day: int


@dataclass(frozen=True)
class Indicator:
    name: str
    function: Callable[[Series], Arrays]
    outputs: tuple[str, ...]
    warmup: int  # candles before the first value that can be trusted
    state: Callable[[Series, Arrays], State]  # from the series and this indicator's columns
    step: Callable[[States, Candles], Arrays]
    params: dict = field(default_factory=dict)
    # Brings columns computed from the start of a window in line with the state left by an earlier computation,
    # for what keeps a long memory of where it started (see `anchored` in the engine).
    anchor: Callable[[Arrays, State, int], None] | None = None


# -- helpers shared by the states and steps


def _last(values: np.ndarray, back: int = 1) -> float:
    return float(values[-back]) if len(values) >= back else math.nan


def _tail_sum(values: np.ndarray, count: int) -> float:
    """The sum of the last `count` values; NaN when there are fewer (too little history for the window)."""
    return float(values[len(values) - count :].sum()) if len(values) >= count else math.nan


def _tail_extreme(values: np.ndarray, count: int, extreme: Callable[[np.ndarray], float]) -> float:
    return float(extreme(values[len(values) - count :])) if len(values) >= count else math.nan


def _ema_factor(period: int) -> float:
    return 2.0 / (period + 1)


def _ema_step(previous: np.ndarray, value: np.ndarray, period: int) -> np.ndarray:
    return (value - previous) * _ema_factor(period) + previous


def _wilder_step(previous: np.ndarray, value: np.ndarray, period: int) -> np.ndarray:
    return (previous * (period - 1) + value) / period


def _ratio_or_zero(numerator: np.ndarray, denominator: np.ndarray, *, zero: float = EPSILON) -> np.ndarray:
    """TA-Lib's guard: a denominator within `zero` of 0 makes the ratio 0 (a NaN one stays NaN: no history)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.abs(denominator) < zero, 0.0, numerator / denominator)


def _deviation(mean: np.ndarray, mean_of_squares: np.ndarray) -> np.ndarray:
    """TA-Lib's standard deviation from the mean and the mean of squares; below EPSILON a variance counts as 0."""
    variance = mean_of_squares - mean * mean
    with np.errstate(invalid="ignore"):
        return np.where(variance < EPSILON, 0.0, np.sqrt(np.abs(variance)))


def _two_pass(values: np.ndarray) -> tuple[float, float]:
    """The mean and the standard deviation of a few values, exactly: in two passes, with exact sums."""
    items = values.tolist()
    mean = math.fsum(items) / len(items)
    return mean, math.sqrt(math.fsum([(item - mean) ** 2 for item in items]) / len(items))


def _true_range(high: np.ndarray, low: np.ndarray, previous_close: np.ndarray) -> np.ndarray:
    return np.maximum(np.maximum(high - low, np.abs(previous_close - high)), np.abs(previous_close - low))


def _fast_stochastic(close: np.ndarray, highest: np.ndarray, lowest: np.ndarray) -> np.ndarray:
    # TA-Lib's STOCH(F): a range within EPSILON of its extremes' size is none (0), however small the prices.
    span = highest - lowest
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(
            np.abs(span) <= EPSILON * (np.abs(highest) + np.abs(lowest)), 0.0, (close - lowest) / (span / 100.0)
        )


# -- RSI(14) and its stochastic oscillator (14, 3)


def _rsi(series: Series) -> Arrays:
    """RSI(14), and its stochastic oscillator (14, 3) from the same values: TA-Lib's STOCHRSI is exactly the fast
    stochastic of the RSI line, and computing the RSI once saves a pass."""
    rsi = talib.RSI(series.close, timeperiod=14)
    k, d = talib.STOCHF(rsi, rsi, rsi, fastk_period=14, fastd_period=3, fastd_matype=0)
    return {"rsi_14": rsi, "stochrsi_k": k, "stochrsi_d": d}


def _rsi_state(series: Series, columns: Arrays) -> State:
    change = np.diff(series.close, prepend=np.nan)
    gains, losses = np.where(change > 0, change, 0.0), np.where(change < 0, -change, 0.0)
    # The RSI's average gain and loss are Wilder averages that TA-Lib keeps to itself; its ATR runs the very same
    # arithmetic, and the true range of a candle with high x and low and previous close 0 is x.
    zeros = np.zeros_like(series.close)
    average = {name: _last(talib.ATR(values, zeros, zeros, timeperiod=14)) if len(values) > 14 else math.nan
               for name, values in (("gain", gains), ("loss", losses))}  # fmt: skip
    rsi, k = columns["rsi_14"], columns["stochrsi_k"]
    return {"rsi_gain": average["gain"], "rsi_loss": average["loss"],
            "stochrsi_rsi_max": _tail_extreme(rsi, 13, max), "stochrsi_rsi_min": _tail_extreme(rsi, 13, min),
            "stochrsi_k_1": _last(k), "stochrsi_k_2": _last(k, 2)}  # fmt: skip


def _rsi_step(states: States, candles: Candles) -> Arrays:
    change = candles.close - states["last_close"]
    gain = _wilder_step(states["rsi_gain"], np.where(change > 0, change, 0.0), 14)
    loss = _wilder_step(states["rsi_loss"], np.where(change < 0, -change, 0.0), 14)
    rsi = 100.0 * _ratio_or_zero(gain, gain + loss)
    k = _fast_stochastic(rsi, np.maximum(states["stochrsi_rsi_max"], rsi), np.minimum(states["stochrsi_rsi_min"], rsi))
    d = (states["stochrsi_k_2"] + states["stochrsi_k_1"] + k) / 3
    return {"rsi_14": rsi, "stochrsi_k": np.where(np.isnan(d), np.nan, k), "stochrsi_d": d}


# -- MACD(12, 26, 9)


def _macd(series: Series) -> Arrays:
    line, signal, histogram = talib.MACD(series.close, fastperiod=12, slowperiod=26, signalperiod=9)
    return {"macd": line, "macd_signal": signal, "macd_hist": histogram}


def _macd_state(series: Series, columns: Arrays) -> State:
    # TA-Lib seeds MACD's fast EMA on the candle where the slow one starts: the EMA(12) of the closes from 14 on.
    fast = talib.EMA(series.close[26 - 12 :], timeperiod=12) if len(series.close) >= 26 else []
    slow = talib.EMA(series.close, timeperiod=26) if len(series.close) >= 26 else []
    return {"macd_fast": _last(fast), "macd_slow": _last(slow), "macd_signal": _last(columns["macd_signal"])}


def _macd_step(states: States, candles: Candles) -> Arrays:
    line = _ema_step(states["macd_fast"], candles.close, 12) - _ema_step(states["macd_slow"], candles.close, 26)
    signal = _ema_step(states["macd_signal"], line, 9)
    # TA-Lib gives the line only once the signal has its history too.
    line = np.where(np.isnan(signal), np.nan, line)
    return {"macd": line, "macd_signal": signal, "macd_hist": line - signal}


# -- moving averages


def _ema(period: int) -> Indicator:
    name = f"ema_{period}"

    def anchor(columns: Arrays, previous: State, index: int) -> None:
        # An EMA forgets where it started by (1 - k) a candle: the difference to the earlier state fades so.
        column = columns[name]
        difference = previous[name] - column[index]
        if math.isfinite(difference):
            column[index:] += difference * (1 - _ema_factor(period)) ** np.arange(len(column) - index)

    return Indicator(
        name,
        lambda series: {name: talib.EMA(series.close, timeperiod=period)},
        (name,),
        period - 1,
        lambda series, columns: {name: _last(columns[name])},
        lambda states, candles: {name: _ema_step(states[name], candles.close, period)},
        {"period": period},
        anchor,
    )


def _sma(period: int) -> Indicator:
    name = f"sma_{period}"
    return Indicator(
        name,
        lambda series: {name: talib.SMA(series.close, timeperiod=period)},
        (name,),
        period - 1,
        lambda series, columns: {f"{name}_sum": _tail_sum(series.close, period - 1)},
        lambda states, candles: {name: (states[f"{name}_sum"] + candles.close) / period},
        {"period": period},
    )


# -- Bollinger bands (20, 2)


def _bollinger_bands(close: np.ndarray, upper: np.ndarray, middle: np.ndarray, lower: np.ndarray) -> Arrays:
    width = upper - lower
    with np.errstate(divide="ignore", invalid="ignore"):  # bands of zero width: no %B, which means "none"
        percent_b = (close - lower) / width
        bandwidth = width / middle
    return {"bb_upper": upper, "bb_middle": middle, "bb_lower": lower, "bb_percent_b": percent_b,
            "bb_bandwidth": bandwidth}  # fmt: skip


def _bands(middle: np.ndarray, deviation: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    # A deviation within rounding of the prices is none: the window is flat (TA-Lib's scaled test for zero).
    width = 2 * np.where(_flat(middle, deviation), 0.0, deviation)
    return middle + width, middle, middle - width


def _flat(middle: np.ndarray | float, deviation: np.ndarray | float) -> np.ndarray | bool:
    return deviation <= EPSILON * abs(middle)


def _exact_bands(closes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Upper, middle and lower band for each row of 20 closes (oldest first), the deviation in two passes."""
    middle = closes.mean(axis=1)
    return _bands(middle, np.sqrt(((closes - middle[:, None]) ** 2).mean(axis=1)))


def _bollinger(series: Series) -> Arrays:
    close = series.close
    upper, middle, lower = talib.BBANDS(close, timeperiod=20, nbdevup=2, nbdevdn=2, matype=0)
    # TA-Lib's running sums of squares lose digits to cancellation (on BTC's prices a billionth of the width) and
    # keep a residue of wide swings long gone (up to a millionth of a calm window's width). The newest bands, which
    # snapshots and the incremental path carry, are exact.
    if len(close) >= 20:
        mean, deviation = _two_pass(close[-20:])
        width = 0.0 if _flat(mean, deviation) else 2 * deviation
        upper[-1], middle[-1], lower[-1] = mean + width, mean, mean - width
    return _bollinger_bands(close, upper, middle, lower)


def _bollinger_state(series: Series, columns: Arrays) -> State:
    closes = series.close[len(series.close) - 19 :]
    return {"bb_closes": closes.tolist() if len(closes) == 19 else [math.nan] * 19}


def _bollinger_step(states: States, candles: Candles) -> Arrays:
    return _bollinger_bands(candles.close, *_exact_bands(np.column_stack([states["bb_closes"], candles.close])))


# -- ATR(14) and ADX(14) with +DI and -DI


def _atr(series: Series) -> Arrays:
    return {"atr_14": talib.ATR(series.high, series.low, series.close, timeperiod=14)}


def _atr_step(states: States, candles: Candles) -> Arrays:
    true_range = _true_range(candles.high, candles.low, states["last_close"])
    return {"atr_14": _wilder_step(states["atr_14"], true_range, 14)}


def _adx(series: Series) -> Arrays:
    high, low, close = series.high, series.low, series.close
    return {
        "adx_14": talib.ADX(high, low, close, timeperiod=14),
        "plus_di_14": talib.PLUS_DI(high, low, close, timeperiod=14),
        "minus_di_14": talib.MINUS_DI(high, low, close, timeperiod=14),
    }


def _smoothed_true_range(series: Series) -> float:
    ranges = _true_range(series.high[1:], series.low[1:], series.close[:-1]).tolist()
    total = 0.0
    for value in ranges[:13]:  # TA-Lib's seed: the sum of the first 13, added in order
        total += value
    for value in ranges[13:]:
        total = total - total / 14 + value
    return total


def _adx_state(series: Series, columns: Arrays) -> State:
    long_enough = len(series.close) > 14
    plus_dm = _last(talib.PLUS_DM(series.high, series.low, timeperiod=14)) if long_enough else math.nan
    minus_dm = _last(talib.MINUS_DM(series.high, series.low, timeperiod=14)) if long_enough else math.nan
    plus_di, minus_di = _last(columns["plus_di_14"]), _last(columns["minus_di_14"])
    # The smoothed true range behind the DIs, which TA-Lib keeps to itself: DI = 100 * DM / TR.
    if plus_di > 0:
        true_range = 100.0 * plus_dm / plus_di
    elif minus_di > 0:
        true_range = 100.0 * minus_dm / minus_di
    else:  # no directional movement for a long while: nothing to derive it from, so run TA-Lib's recursion
        true_range = _smoothed_true_range(series) if long_enough else math.nan
    return {"adx_plus_dm": plus_dm, "adx_minus_dm": minus_dm, "adx_true_range": true_range,
            "adx_14": _last(columns["adx_14"])}  # fmt: skip


def _adx_step(states: States, candles: Candles) -> Arrays:
    up, down = candles.high - states["last_high"], states["last_low"] - candles.low
    minus_move = (down > 0) & (up < down)
    plus_move = ~minus_move & (up > 0) & (up > down)
    minus_dm = states["adx_minus_dm"] - states["adx_minus_dm"] / 14 + np.where(minus_move, down, 0.0)
    plus_dm = states["adx_plus_dm"] - states["adx_plus_dm"] / 14 + np.where(plus_move, up, 0.0)
    true_range = states["adx_true_range"]
    true_range = true_range - true_range / 14 + _true_range(candles.high, candles.low, states["last_close"])
    minus_di, plus_di = 100.0 * _ratio_or_zero(minus_dm, true_range), 100.0 * _ratio_or_zero(plus_dm, true_range)
    total = minus_di + plus_di
    # TA-Lib leaves ADX where it was when there is no directional movement at all.
    moved = ~(np.abs(true_range) < EPSILON) & ~(np.abs(total) < EPSILON)
    dx = 100.0 * _ratio_or_zero(np.abs(minus_di - plus_di), total)
    adx = np.where(moved, _wilder_step(states["adx_14"], dx, 14), states["adx_14"])
    return {"adx_14": adx, "plus_di_14": plus_di, "minus_di_14": minus_di}


# -- Stochastic (14, 3, 3)


def _stochastic(series: Series) -> Arrays:
    k, d = talib.STOCH(series.high, series.low, series.close, fastk_period=14, slowk_period=3, slowk_matype=0,
                       slowd_period=3, slowd_matype=0)  # fmt: skip
    return {"stoch_k": k, "stoch_d": d}


def _stochastic_state(series: Series, columns: Arrays) -> State:
    fast_k = talib.STOCHF(series.high, series.low, series.close, fastk_period=14, fastd_period=1)[0]
    return {"stoch_high_max": _tail_extreme(series.high, 13, max), "stoch_low_min": _tail_extreme(series.low, 13, min),
            "stoch_fast_k_1": _last(fast_k), "stoch_fast_k_2": _last(fast_k, 2), "stoch_k_1": _last(columns["stoch_k"]),
            "stoch_k_2": _last(columns["stoch_k"], 2)}  # fmt: skip


def _stochastic_step(states: States, candles: Candles) -> Arrays:
    highest, lowest = (
        np.maximum(states["stoch_high_max"], candles.high),
        np.minimum(states["stoch_low_min"], candles.low),
    )
    fast_k = _fast_stochastic(candles.close, highest, lowest)
    k = (states["stoch_fast_k_2"] + states["stoch_fast_k_1"] + fast_k) / 3
    d = (states["stoch_k_2"] + states["stoch_k_1"] + k) / 3
    return {"stoch_k": np.where(np.isnan(d), np.nan, k), "stoch_d": d}  # both once both can be had, as TA-Lib


# -- volume


def _obv(series: Series) -> Arrays:
    return {"obv": talib.OBV(series.close, series.volume)}


def _obv_step(states: States, candles: Candles) -> Arrays:
    change = candles.close - states["last_close"]
    signed = np.where(change > 0, candles.volume, np.where(change < 0, -candles.volume, 0.0))
    return {"obv": states["obv"] + signed}


def _obv_anchor(columns: Arrays, previous: State, index: int) -> None:
    # A running total: where it starts shifts every value by the same amount.
    if math.isfinite(previous["obv"]):
        columns["obv"] += previous["obv"] - columns["obv"][index]


def _vwap(series: Series) -> Arrays:
    # The `ta` library's VolumeWeightedAveragePrice(window=14): typical price weighted by volume over 14 candles.
    weighted = talib.SUM(_typical_price(series) * series.volume, timeperiod=14)
    with np.errstate(divide="ignore", invalid="ignore"):
        return {"vwap_14": weighted / talib.SUM(series.volume, timeperiod=14)}


def _typical_price(candles: Series | Candles) -> np.ndarray:
    return (candles.high + candles.low + candles.close) / 3


def _vwap_state(series: Series, columns: Arrays) -> State:
    weighted = _tail_sum(_typical_price(series) * series.volume, 13)
    return {"vwap_weighted_sum": weighted, "vwap_volume_sum": _tail_sum(series.volume, 13)}


def _vwap_step(states: States, candles: Candles) -> Arrays:
    weighted = states["vwap_weighted_sum"] + _typical_price(candles) * candles.volume
    with np.errstate(divide="ignore", invalid="ignore"):
        return {"vwap_14": weighted / (states["vwap_volume_sum"] + candles.volume)}


# -- the last 24 hours


def _change_24h(series: Series) -> Arrays:
    close, day = series.close, series.candles_per_day
    change = np.full_like(close, np.nan)
    np.divide(close[day:], close[:-day], out=change[day:])
    return {"change_24h": (change - 1) * 100}


def _volatility_window(candles_per_day: int) -> int:
    return max(2, candles_per_day)


def _log_returns(close: np.ndarray) -> np.ndarray:
    returns = np.full_like(close, np.nan)
    returns[1:] = np.diff(np.log(close))
    return returns


def _volatility_24h(series: Series) -> Arrays:
    """Realised volatility: the standard deviation of log returns over the last 24 hours, in percent."""
    window, returns = _volatility_window(series.candles_per_day), _log_returns(series.close)
    deviation = talib.STDDEV(returns, timeperiod=window, nbdev=1)
    # TA-Lib's running sums keep a residue of large returns long gone: after a violent day, a calm one's deviation
    # is off by up to a millionth. The newest value, which snapshots and the incremental path carry, is exact.
    if len(returns) > window:
        deviation[-1] = _two_pass(returns[-window:])[1]
    return {"volatility_24h": deviation * (math.sqrt(window / (window - 1)) * 100)}


def _volatility_state(series: Series, columns: Arrays) -> State:
    returns, window = _log_returns(series.close), _volatility_window(series.candles_per_day)
    return {"return_sum": _tail_sum(returns, window - 1), "return_square_sum": _tail_sum(returns * returns, window - 1)}


def _volatility_step(states: States, candles: Candles) -> Arrays:
    window = _volatility_window(candles.candles_per_day)
    latest = np.log(candles.close) - np.log(states["last_close"])
    mean, mean_of_squares = (states["return_sum"] + latest) / window, (states["return_square_sum"] + latest**2) / window
    return {"volatility_24h": _deviation(mean, mean_of_squares) * np.sqrt(window / (window - 1)) * 100}


INDICATORS: tuple[Indicator, ...] = (
    Indicator("rsi", _rsi, ("rsi_14", "stochrsi_k", "stochrsi_d"), 29, _rsi_state, _rsi_step,
              {"period": 14, "stoch_k": 14, "stoch_d": 3}),
    Indicator("macd", _macd, ("macd", "macd_signal", "macd_hist"), 33, _macd_state, _macd_step,
              {"fast": 12, "slow": 26, "signal": 9}),
    *(_ema(period) for period in (9, 12, 21, 26, 50, 200)),
    *(_sma(period) for period in (20, 50, 100, 200)),
    Indicator("bollinger", _bollinger, ("bb_upper", "bb_middle", "bb_lower", "bb_percent_b", "bb_bandwidth"), 19,
              _bollinger_state, _bollinger_step, {"period": 20, "deviations": 2}),
    Indicator("atr_14", _atr, ("atr_14",), 14, lambda series, columns: {"atr_14": _last(columns["atr_14"])},
              _atr_step, {"period": 14}),
    Indicator("adx", _adx, ("adx_14", "plus_di_14", "minus_di_14"), 27, _adx_state, _adx_step, {"period": 14}),
    Indicator("stochastic", _stochastic, ("stoch_k", "stoch_d"), 17, _stochastic_state, _stochastic_step,
              {"k": 14, "k_smoothing": 3, "d": 3}),
    Indicator("obv", _obv, ("obv",), 0, lambda series, columns: {"obv": _last(columns["obv"])}, _obv_step,
              anchor=_obv_anchor),
    Indicator("vwap_14", _vwap, ("vwap_14",), 13, _vwap_state, _vwap_step, {"window": 14}),
    Indicator("volume_sma_20", lambda series: {"volume_sma_20": talib.SMA(series.volume, timeperiod=20)},
              ("volume_sma_20",), 19, lambda series, columns: {"volume_sum": _tail_sum(series.volume, 19)},
              lambda states, candles: {"volume_sma_20": (states["volume_sum"] + candles.volume) / 20}, {"period": 20}),
    Indicator("change_24h", _change_24h, ("change_24h",), 0,
              lambda series, columns: {"close_day_ago": _last(series.close, series.candles_per_day)},
              lambda states, candles: {"change_24h": (candles.close / states["close_day_ago"] - 1) * 100}),
    Indicator("volatility_24h", _volatility_24h, ("volatility_24h",), 0, _volatility_state, _volatility_step),
)  # fmt: skip

OUTPUTS: tuple[str, ...] = tuple(output for indicator in INDICATORS for output in indicator.outputs)
