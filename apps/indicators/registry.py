"""Every indicator, defined once: its name, parameters, warm-up and function, and the output columns it fills.

Storage, the API and the admin read the output columns from here, so adding an indicator is one entry below.
Functions take whole candle series (numpy float64 arrays, oldest first) and return one array per output column,
aligned with the candles, NaN where no value can be had yet. TA-Lib's C does the arithmetic, and the `ta`
library's definition is followed where TA-Lib has none (VWAP).
"""

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

Arrays = dict[str, np.ndarray]


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
class Indicator:
    name: str
    function: Callable[[Series], Arrays]
    outputs: tuple[str, ...]
    warmup: int  # candles before the first value that can be trusted
    params: dict = field(default_factory=dict)


def _bollinger(series: Series) -> Arrays:
    upper, middle, lower = talib.BBANDS(series.close, timeperiod=20, nbdevup=2, nbdevdn=2, matype=0)
    percent_b = (series.close - lower) / (upper - lower)
    bandwidth = (upper - lower) / middle
    return {"bb_upper": upper, "bb_middle": middle, "bb_lower": lower, "bb_percent_b": percent_b,
            "bb_bandwidth": bandwidth}  # fmt: skip


def _macd(series: Series) -> Arrays:
    line, signal, histogram = talib.MACD(series.close, fastperiod=12, slowperiod=26, signalperiod=9)
    return {"macd": line, "macd_signal": signal, "macd_hist": histogram}


def _adx(series: Series) -> Arrays:
    high, low, close = series.high, series.low, series.close
    return {
        "adx_14": talib.ADX(high, low, close, timeperiod=14),
        "plus_di_14": talib.PLUS_DI(high, low, close, timeperiod=14),
        "minus_di_14": talib.MINUS_DI(high, low, close, timeperiod=14),
    }


def _stochastic(series: Series) -> Arrays:
    k, d = talib.STOCH(series.high, series.low, series.close, fastk_period=14, slowk_period=3, slowk_matype=0,
                       slowd_period=3, slowd_matype=0)  # fmt: skip
    return {"stoch_k": k, "stoch_d": d}


def _rsi(series: Series) -> Arrays:
    """RSI(14), and its stochastic oscillator (14, 3) from the same values: TA-Lib's STOCHRSI is exactly the fast
    stochastic of the RSI line, and computing the RSI once saves a pass."""
    rsi = talib.RSI(series.close, timeperiod=14)
    k, d = talib.STOCHF(rsi, rsi, rsi, fastk_period=14, fastd_period=3, fastd_matype=0)
    return {"rsi_14": rsi, "stochrsi_k": k, "stochrsi_d": d}


def _vwap(series: Series) -> Arrays:
    # The `ta` library's VolumeWeightedAveragePrice(window=14): typical price weighted by volume over 14 candles.
    typical = (series.high + series.low + series.close) / 3
    weighted = talib.SUM(typical * series.volume, timeperiod=14)
    return {"vwap_14": weighted / talib.SUM(series.volume, timeperiod=14)}


def _day_shift(values: np.ndarray, candles: int) -> np.ndarray:
    shifted = np.full_like(values, np.nan)
    shifted[candles:] = values[:-candles]
    return shifted


def _change_24h(series: Series) -> Arrays:
    day_ago = _day_shift(series.close, series.candles_per_day)
    return {"change_24h": (series.close / day_ago - 1) * 100}


def _volatility_24h(series: Series) -> Arrays:
    """Realised volatility: the standard deviation of log returns over the last 24 hours, in percent."""
    returns = np.full_like(series.close, np.nan)
    returns[1:] = np.diff(np.log(series.close))
    window = max(2, series.candles_per_day)
    return {"volatility_24h": talib.STDDEV(returns, timeperiod=window, nbdev=1) * np.sqrt(window / (window - 1)) * 100}


def _single(name: str, function: Callable[[Series], np.ndarray]) -> Callable[[Series], Arrays]:
    return lambda series: {name: function(series)}


def _ema(period: int) -> Indicator:
    name = f"ema_{period}"
    return Indicator(name, _single(name, lambda s: talib.EMA(s.close, timeperiod=period)), (name,), period - 1,
                     {"period": period})  # fmt: skip


def _sma(period: int) -> Indicator:
    name = f"sma_{period}"
    return Indicator(name, _single(name, lambda s: talib.SMA(s.close, timeperiod=period)), (name,), period - 1,
                     {"period": period})  # fmt: skip


INDICATORS: tuple[Indicator, ...] = (
    Indicator("rsi", _rsi, ("rsi_14", "stochrsi_k", "stochrsi_d"), 29, {"period": 14, "stoch_k": 14, "stoch_d": 3}),
    Indicator("macd", _macd, ("macd", "macd_signal", "macd_hist"), 33, {"fast": 12, "slow": 26, "signal": 9}),
    *(_ema(period) for period in (9, 12, 21, 26, 50, 200)),
    *(_sma(period) for period in (20, 50, 100, 200)),
    Indicator(
        "bollinger",
        _bollinger,
        ("bb_upper", "bb_middle", "bb_lower", "bb_percent_b", "bb_bandwidth"),
        19,
        {"period": 20, "deviations": 2},
    ),
    Indicator("atr_14", _single("atr_14", lambda s: talib.ATR(s.high, s.low, s.close, timeperiod=14)), ("atr_14",), 14),
    Indicator("adx", _adx, ("adx_14", "plus_di_14", "minus_di_14"), 27, {"period": 14}),
    Indicator("stochastic", _stochastic, ("stoch_k", "stoch_d"), 17, {"k": 14, "k_smoothing": 3, "d": 3}),
    Indicator("obv", _single("obv", lambda s: talib.OBV(s.close, s.volume)), ("obv",), 0),
    Indicator("vwap_14", _vwap, ("vwap_14",), 13, {"window": 14}),
    Indicator(
        "volume_sma_20",
        _single("volume_sma_20", lambda s: talib.SMA(s.volume, timeperiod=20)),
        ("volume_sma_20",),
        19,
        {"period": 20},
    ),
    Indicator("change_24h", _change_24h, ("change_24h",), 0),
    Indicator("volatility_24h", _volatility_24h, ("volatility_24h",), 0),
)

OUTPUTS: tuple[str, ...] = tuple(output for indicator in INDICATORS for output in indicator.outputs)
