"""Pairs and correlation statistics on log prices, as plain float64 arrays: no database, no HTTP.

Rolling series have the length of their input, NaN where the window is not full yet or the value is undefined (a
constant window): the API turns NaN into null.
"""

from dataclasses import dataclass

import numpy as np
import statsmodels.api as sm
from numpy.lib.stride_tricks import sliding_window_view
from statsmodels.regression.rolling import RollingOLS
from statsmodels.tsa.stattools import adfuller

# Rows of windows handled at once: bounds the temporary arrays to about 16 MB whatever the window.
_CHUNK_VALUES = 2_000_000


class AnalysisError(ValueError):
    """The input cannot give a defined answer; `field` names the request parameter at fault."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Adf:
    statistic: float
    p_value: float
    lags: int
    observations: int
    critical_values: dict[str, float]  # "1%", "5%", "10%"


@dataclass(frozen=True)
class PairStatistics:
    alpha: float
    beta: float
    spread: np.ndarray
    beta_rolling: np.ndarray
    zscore: np.ndarray
    correlation: np.ndarray  # of log returns; the first value has no return
    adf: Adf
    half_life: float | None  # in candles; None when the spread does not revert


def _rolling(function, window: int, *series: np.ndarray) -> np.ndarray:
    """`function` of each full window (a 2-D array per series, one window a row), NaN-padded in front."""
    result = np.full(len(series[0]), np.nan)
    if len(series[0]) < window:
        return result
    views = [sliding_window_view(values, window) for values in series]
    step = max(1, _CHUNK_VALUES // window)
    for first in range(0, len(views[0]), step):
        result[window - 1 + first : window - 1 + first + step] = function(
            *(view[first : first + step] for view in views)
        )
    return result


def _deviations(windows: np.ndarray) -> np.ndarray:
    return windows - windows.mean(axis=1, keepdims=True)


def _where_varies(values: np.ndarray, *windows: np.ndarray) -> np.ndarray:
    # A constant window has no defined z-score, slope or correlation; its mean's rounding must not make up one.
    varies = np.logical_and.reduce([np.ptp(w, axis=1) > 0 for w in windows])
    return np.where(varies, values, np.nan)


def _zscore(windows: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        values = (windows[:, -1] - windows.mean(axis=1)) / windows.std(axis=1, ddof=1)
    return _where_varies(values, windows)


def _correlation(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    dx, dy = _deviations(x), _deviations(y)
    with np.errstate(divide="ignore", invalid="ignore"):
        values = (dx * dy).sum(axis=1) / np.sqrt((dx * dx).sum(axis=1) * (dy * dy).sum(axis=1))
    return _where_varies(values, x, y)


def rolling_zscore(values: np.ndarray, window: int) -> np.ndarray:
    """(last - mean) / sample standard deviation (ddof 1) of each window."""
    return _rolling(_zscore, window, values)


def rolling_correlation(x: np.ndarray, y: np.ndarray, window: int) -> np.ndarray:
    """Pearson correlation of each pair of windows."""
    return _rolling(_correlation, window, x, y)


def rolling_hedge_ratio(log_a: np.ndarray, log_b: np.ndarray, window: int) -> np.ndarray:
    """The slope of log_a on log_b with an intercept, by OLS over each window (statsmodels' RollingOLS)."""
    exog = sm.add_constant(log_b, has_constant="add")
    beta = RollingOLS(log_a, exog, window=window).fit(method="pinv", params_only=True).params[:, 1]
    return np.where(_rolling(lambda b: np.ptp(b, axis=1) > 0, window, log_b) == 1, beta, np.nan)


def log_returns(log_prices: np.ndarray) -> np.ndarray:
    return np.diff(log_prices, axis=-1)


def half_life(spread: np.ndarray) -> float | None:
    """-ln 2 / lambda from OLS of the spread's change on its lagged level (with an intercept), in candles."""
    lagged = sm.add_constant(spread[:-1], has_constant="add")
    speed = sm.OLS(np.diff(spread), lagged).fit().params[1]
    return float(-np.log(2) / speed) if np.isfinite(speed) and speed < 0 else None


def adf_test(spread: np.ndarray) -> Adf:
    statistic, p_value, lags, observations, critical, _ = adfuller(spread, autolag="AIC", result_object=False)
    return Adf(
        float(statistic), float(p_value), int(lags), int(observations), {k: float(v) for k, v in critical.items()}
    )


def _require_variation(log_prices: np.ndarray, field: str) -> None:
    if not np.ptp(log_prices) > 0:  # NaN too: a close of zero has no log
        raise AnalysisError(field, "The close is constant over the range: no hedge ratio or correlation exists.")


def pair_statistics(log_a: np.ndarray, log_b: np.ndarray, window: int) -> PairStatistics:
    """Everything about a pair, given aligned log closes (at least `window`, and `window` >= 2)."""
    _require_variation(log_a, "a")
    _require_variation(log_b, "b")
    alpha, beta = sm.OLS(log_a, sm.add_constant(log_b, has_constant="add")).fit().params
    spread = log_a - beta * log_b - alpha
    # TRICKY: when a is exactly a power of b the spread is rounding noise, and ADF would find "stationarity" in it.
    if np.ptp(spread) <= 1e-10 * max(1.0, float(np.abs(log_a).max())):
        raise AnalysisError("b", "The spread is constant: a and b move exactly together.")
    correlation = np.concatenate([[np.nan], rolling_correlation(log_returns(log_a), log_returns(log_b), window)])
    return PairStatistics(
        alpha=float(alpha),
        beta=float(beta),
        spread=spread,
        beta_rolling=rolling_hedge_ratio(log_a, log_b, window),
        zscore=rolling_zscore(spread, window),
        correlation=correlation,
        adf=adf_test(spread),
        half_life=half_life(spread),
    )


def correlation_matrix(log_prices: np.ndarray) -> np.ndarray:
    """Pearson correlations of the log returns of each row of log closes (one row per symbol): symmetric, exactly 1 on
    the diagonal (corrcoef's rounding leaves 0.9999999999999999 there and halves that differ in the last bit)."""
    matrix = np.corrcoef(log_returns(log_prices))
    matrix = (matrix + matrix.T) / 2
    np.fill_diagonal(matrix, 1.0)
    return matrix
