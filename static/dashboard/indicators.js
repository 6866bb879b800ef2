/* The chart's indicators computed in the browser, for the intervals that have no stored history: TA-Lib's
   definitions, as apps/indicators/registry.py computes them on the server, with the same output names and null
   until an indicator's warm-up is over. Each function takes the closes (oldest first) and returns aligned arrays. */
"use strict";

const Indicators = (() => {
  // TA-Lib's TA_EPSILON: RSI's sum of average gain and loss below it counts as no movement.
  const EPSILON = 1e-14;

  function sma(values, period) {
    const out = values.map(() => null);
    let sum = 0;
    values.forEach((value, i) => {
      sum += value - (i >= period ? values[i - period] : 0);
      if (i >= period - 1) out[i] = sum / period;
    });
    return out;
  }

  /* TA-Lib's EMA: seeded with the mean of its first `period` values (after any leading nulls). */
  function ema(values, period) {
    const out = values.map(() => null);
    const first = values.findIndex((value) => value !== null);
    if (first < 0 || values.length - first < period) return out;
    const factor = 2 / (period + 1);
    let average = values.slice(first, first + period).reduce((sum, value) => sum + value, 0) / period;
    out[first + period - 1] = average;
    for (let i = first + period; i < values.length; i++) {
      average += (values[i] - average) * factor;
      out[i] = average;
    }
    return out;
  }

  /* Bollinger (20, 2): the mean of the window and twice its population deviation, in two passes. */
  function bollinger(closes) {
    const upper = closes.map(() => null);
    const lower = closes.map(() => null);
    const middle = sma(closes, 20);
    for (let i = 19; i < closes.length; i++) {
      const window = closes.slice(i - 19, i + 1);
      const deviation = Math.sqrt(window.reduce((sum, close) => sum + (close - middle[i]) ** 2, 0) / 20);
      upper[i] = middle[i] + 2 * deviation;
      lower[i] = middle[i] - 2 * deviation;
    }
    return { bb_upper: upper, bb_middle: middle, bb_lower: lower };
  }

  /* RSI(14) with Wilder's averages, seeded with the plain means of the first 14 changes. */
  function rsi(closes) {
    const out = closes.map(() => null);
    let gain = 0;
    let loss = 0;
    for (let i = 1; i < closes.length; i++) {
      const change = closes[i] - closes[i - 1];
      const up = Math.max(change, 0);
      const down = Math.max(-change, 0);
      if (i <= 14) {
        gain += up / 14;
        loss += down / 14;
      } else {
        gain = (gain * 13 + up) / 14;
        loss = (loss * 13 + down) / 14;
      }
      if (i >= 14) out[i] = gain + loss < EPSILON ? 0 : (100 * gain) / (gain + loss);
    }
    return out;
  }

  /* MACD(12, 26, 9): TA-Lib starts the fast EMA where the slow one starts, and gives the line only once the
     signal has its history too. */
  function macd(closes) {
    const slow = ema(closes, 26);
    const fast = ema(closes.map((close, i) => (i < 26 - 12 ? null : close)), 12);
    const line = slow.map((value, i) => (value === null ? null : fast[i] - value));
    const signal = ema(line, 9);
    return {
      macd: line.map((value, i) => (signal[i] === null ? null : value)),
      macd_signal: signal,
      macd_hist: line.map((value, i) => (signal[i] === null ? null : value - signal[i])),
    };
  }

  /* Every output the chart draws, by the names of the indicator history API. */
  function compute(closes) {
    return {
      ema_21: ema(closes, 21),
      ema_50: ema(closes, 50),
      ema_200: ema(closes, 200),
      sma_20: sma(closes, 20),
      sma_50: sma(closes, 50),
      sma_200: sma(closes, 200),
      ...bollinger(closes),
      rsi_14: rsi(closes),
      ...macd(closes),
    };
  }

  return { compute };
})();
