"""`indicators`: the full indicator set for 500 symbols x 1000 candles on one timeframe through the engine, against a
per-symbol TA-Lib loop (`talib_loop`) and a per-symbol `ta` library loop (`ta_loop`) over the same data, same run;
each loop computes the same set (the 24h change and volatility with TA-Lib's ROC and STDDEV, and with pandas for
`ta`, which has neither). `value` is the engine's time in ms."""

import os
import statistics
import time

import numpy as np

SYMBOLS = 500
CANDLES = 1000
ROUNDS = 5
TA_LOOP_SYMBOLS = 25  # the `ta` loop is a hundred times slower: timed on 25 symbols, scaled to 500


def _series_set():
    from apps.indicators.registry import Series

    generator = np.random.default_rng(7)
    series = []
    for _ in range(SYMBOLS):
        close = 100 * np.exp(np.cumsum(generator.normal(0, 0.004, CANDLES)))
        spread = np.abs(generator.normal(0, 0.002, CANDLES))
        series.append(Series(np.roll(close, 1), close * (1 + spread), close * (1 - spread), close,
                             generator.uniform(10, 1000, CANDLES), candles_per_day=24))  # fmt: skip
    return series


def _engine(series_set) -> None:
    from apps.indicators.engine import indicators_compute, snapshot_at

    for series in series_set:
        snapshot_at(indicators_compute(series), -1)


def _talib_loop(series_set) -> None:
    import talib

    for s in series_set:
        talib.RSI(s.close, 14), talib.MACD(s.close, 12, 26, 9)
        upper, middle, lower = talib.BBANDS(s.close, 20, 2, 2)
        (s.close - lower) / (upper - lower), (upper - lower) / middle
        for period in (9, 12, 21, 26, 50, 200):
            talib.EMA(s.close, period)
        for period in (20, 50, 100, 200):
            talib.SMA(s.close, period)
        talib.ATR(s.high, s.low, s.close, 14), talib.ADX(s.high, s.low, s.close, 14)
        talib.PLUS_DI(s.high, s.low, s.close, 14), talib.MINUS_DI(s.high, s.low, s.close, 14)
        talib.STOCH(s.high, s.low, s.close, 14, 3, 0, 3, 0), talib.STOCHRSI(s.close, 14, 14, 3)
        talib.OBV(s.close, s.volume), talib.SMA(s.volume, 20)
        talib.SUM((s.high + s.low + s.close) / 3 * s.volume, 14) / talib.SUM(s.volume, 14)
        talib.ROC(s.close, s.candles_per_day), talib.STDDEV(np.diff(np.log(s.close)), s.candles_per_day)


def _ta_loop(series_set) -> None:
    import pandas as pd
    import ta

    for s in series_set:
        high, low, close, volume = (pd.Series(values) for values in (s.high, s.low, s.close, s.volume))
        ta.momentum.RSIIndicator(close, 14).rsi()
        macd = ta.trend.MACD(close, 26, 12, 9)
        macd.macd(), macd.macd_signal(), macd.macd_diff()
        for period in (9, 12, 21, 26, 50, 200):
            ta.trend.EMAIndicator(close, period).ema_indicator()
        for period in (20, 50, 100, 200):
            ta.trend.SMAIndicator(close, period).sma_indicator()
        bands = ta.volatility.BollingerBands(close, 20, 2)
        bands.bollinger_hband(), bands.bollinger_mavg(), bands.bollinger_lband(), bands.bollinger_pband()
        bands.bollinger_wband()
        ta.volatility.AverageTrueRange(high, low, close, 14).average_true_range()
        adx = ta.trend.ADXIndicator(high, low, close, 14)
        adx.adx(), adx.adx_pos(), adx.adx_neg()
        stochastic = ta.momentum.StochasticOscillator(high, low, close, 14, 3)
        stochastic.stoch(), stochastic.stoch_signal()
        stoch_rsi = ta.momentum.StochRSIIndicator(close, 14, 3, 3)
        stoch_rsi.stochrsi_k(), stoch_rsi.stochrsi_d()
        ta.volume.OnBalanceVolumeIndicator(close, volume).on_balance_volume()
        ta.volume.VolumeWeightedAveragePrice(high, low, close, volume, 14).volume_weighted_average_price()
        volume.rolling(20).mean()
        close.pct_change(s.candles_per_day), np.log(close).diff().rolling(s.candles_per_day).std()


def _ms(run, series_set) -> float:
    started = time.perf_counter()
    run(series_set)
    return (time.perf_counter() - started) * 1000


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()
    from bench.common import write_result

    series_set = _series_set()
    engine, talib_loop, ta_loop = [], [], []
    for _ in range(ROUNDS):
        engine.append(_ms(_engine, series_set))
        talib_loop.append(_ms(_talib_loop, series_set))
        ta_loop.append(_ms(_ta_loop, series_set[:TA_LOOP_SYMBOLS]) * SYMBOLS / TA_LOOP_SYMBOLS)
    write_result(
        name="indicators",
        unit="ms",
        value=round(statistics.median(engine), 1),
        better="lower",
        baselines={
            "talib_loop": round(statistics.median(talib_loop), 1),
            "ta_loop": round(statistics.median(ta_loop), 1),
        },
        params={"symbols": SYMBOLS, "candles": CANDLES, "rounds": ROUNDS, "ta_loop_timed_on": TA_LOOP_SYMBOLS},
        extra={
            "engine_ms": [round(v, 1) for v in engine],
            "talib_loop_ms": [round(v, 1) for v in talib_loop],
            "ta_loop_ms_scaled": [round(v, 1) for v in ta_loop],
            "targets": {"talib_loop": "within 2x (ratio >= 0.5)", "ta_loop": ">= 100x"},
        },
    )


if __name__ == "__main__":
    main()
