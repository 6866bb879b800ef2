"""Reads for the analytics: closes of many symbols in one query, aligned on their common open times."""

import time
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from apps.analytics.statistics import AnalysisError, PairStatistics, correlation_matrix, pair_statistics
from apps.market.intervals import Interval, datetime_from_ms, ms_from_datetime
from apps.market.models import Candle, Symbol
from apps.market.selectors import ClosedCandles, bucket_steps_ms, candles_many, first_bucket_at_or_after_ms

PAIRS_MIN_CANDLES = 20  # fewer, and ADF's lag selection has nothing to choose from
PAIRS_DEFAULT_LIMIT = 1000


@dataclass(frozen=True)
class PairAnalysis:
    open_times: np.ndarray
    statistics: PairStatistics


@dataclass(frozen=True)
class CorrelationMatrix:
    symbols: list[str]
    open_times: np.ndarray  # of the closes whose returns were correlated
    matrix: np.ndarray


def _now_ms() -> int:
    return int(time.time() * 1000)


def _closed_by_ms(interval: Interval, end_ms: int | None) -> int:
    """When the candles asked for must have closed: by now, and by the end of the bucket holding `end`."""
    bound = _now_ms()
    if end_ms is not None:
        bound = min(bound, interval.next_bucket_ms(interval.bucket_start_ms(end_ms)))
    return bound


def _common_stored_range(
    symbol_ids: list[int], interval: Interval, *, start_ms: int | None, before_ms: int
) -> tuple[int, int] | None:
    """The buckets [from, to) between the latest first stored minute (at or after `start`) and the earliest last one
    (before `before`) of the symbols: only there can they all have candles. Two index probes per symbol."""
    firsts, lasts = [], []
    for symbol_id in symbol_ids:
        candles = Candle.objects.filter(symbol_id=symbol_id, open_time__lt=datetime_from_ms(before_ms))
        if start_ms is not None:
            candles = candles.filter(open_time__gte=datetime_from_ms(start_ms))
        times = candles.order_by("open_time").values_list("open_time", flat=True)
        first, last = times.first(), times.last()
        if first is None:
            return None
        firsts.append(ms_from_datetime(first))
        lasts.append(ms_from_datetime(last))
    first_ms = interval.bucket_start_ms(max(firsts))
    if start_ms is not None:
        first_ms = max(first_ms, first_bucket_at_or_after_ms(interval, start_ms))
    closed_ms = interval.bucket_start_ms(before_ms)  # the bucket holding `before` has not closed by then
    return first_ms, min(interval.next_bucket_ms(interval.bucket_start_ms(min(lasts))), closed_ms)


def _common_candles(
    symbol_ids: list[int], interval: Interval, span: tuple[int, int]
) -> tuple[np.ndarray, dict[int, ClosedCandles]]:
    """The open times of the candles in the buckets [from, to) that every symbol has, and the candles."""
    candles = candles_many(symbol_ids=symbol_ids, interval=interval, start_ms=span[0], end_ms=span[1])
    if len(candles) < len(symbol_ids):
        return np.empty(0, dtype=np.int64), candles
    common = candles[symbol_ids[0]].open_times
    for symbol_id in symbol_ids[1:]:
        common = np.intersect1d(common, candles[symbol_id].open_times, assume_unique=True)
    return common, candles


def _aligned_log_closes(
    symbol_ids: list[int], interval: Interval, *, start_ms: int | None, end_ms: int | None, limit: int
) -> tuple[np.ndarray, np.ndarray]:
    """The open times of the `limit` closed candles every symbol has (with a start, the first from it; otherwise the
    last, ending at their newest common candle), and a row of log closes per symbol (in order).

    Gaps and symbols that stopped (delisted, lagging) take no place in `limit`: the range read starts at `limit`
    buckets and doubles until it holds `limit` common candles or all the symbols share.
    """
    none = np.empty(0, dtype=np.int64), np.empty((len(symbol_ids), 0))
    stored = _common_stored_range(symbol_ids, interval, start_ms=start_ms, before_ms=_closed_by_ms(interval, end_ms))
    if stored is None or stored[0] >= stored[1]:
        return none
    lowest, highest = stored
    forward = start_ms is not None
    buckets = limit
    while True:
        if forward:
            span = lowest, min(highest, bucket_steps_ms(interval, lowest, buckets, forward=True))
        else:
            span = max(lowest, bucket_steps_ms(interval, highest, buckets, forward=False)), highest
        common, candles = _common_candles(symbol_ids, interval, span)
        if len(common) >= limit or span == stored:
            break
        buckets *= 2
    common = common[:limit] if forward else common[-limit:]
    closes = [candles[symbol_id].close[np.isin(candles[symbol_id].open_times, common)] for symbol_id in symbol_ids]
    with np.errstate(divide="ignore", invalid="ignore"):
        return common, np.log(np.array(closes))


def pair_analysis(
    *, a: Symbol, b: Symbol, interval: Interval, window: int, start_ms: int | None, end_ms: int | None, limit: int
) -> PairAnalysis:
    """The pairs statistics of a against b on the closed candles of `interval` both have: with a start, the first
    `limit` from it (up to `end`); otherwise the last `limit` up to `end` (or now). Raises AnalysisError."""
    if a.id == b.id:
        raise AnalysisError("b", "b must be another symbol than a.")
    open_times, (log_a, log_b) = _aligned_log_closes(
        [a.id, b.id], interval, start_ms=start_ms, end_ms=end_ms, limit=limit
    )
    count = len(open_times)
    if count < window:
        raise AnalysisError(
            "window", f"window {window} is longer than the {count} {interval.name} candles {a} and {b} have in common."
        )
    if count < PAIRS_MIN_CANDLES:
        raise AnalysisError(
            "limit", f"{a} and {b} have {count} {interval.name} candles in common in this range: at least "
            f"{PAIRS_MIN_CANDLES} are needed."
        )  # fmt: skip
    return PairAnalysis(open_times, pair_statistics(log_a, log_b, window))


class PairZscores(NamedTuple):
    open_ms: int  # the newest closed candle's
    previous: float | None
    newest: float | None


def pair_zscores_latest(*, a_id: int, b_id: int, interval: Interval, window: int) -> PairZscores | None:
    """The z-scores over `window` of the spread of a against b (hedged by OLS over the last 1000 closed candles) at
    the two newest closed candles, as `GET /analytics/pairs/` gives them by default (None where undefined); None
    without enough candles. For the alerts' "z-score crosses" condition."""
    open_times, (log_a, log_b) = _aligned_log_closes(
        [a_id, b_id], interval, start_ms=None, end_ms=None, limit=PAIRS_DEFAULT_LIMIT
    )
    if a_id == b_id or len(open_times) < max(window + 1, PAIRS_MIN_CANDLES):
        return None
    try:
        zscores = pair_statistics(log_a, log_b, window).zscore[-2:]
    except AnalysisError:
        return None
    previous, newest = (float(z) if np.isfinite(z) else None for z in zscores)
    return PairZscores(int(open_times[-1]), previous, newest)


def correlation_matrix_latest(*, symbols: list[Symbol], interval: Interval, window: int) -> CorrelationMatrix:
    """Correlations of the log returns over the last `window` closed candles' returns (`window` + 1 closes) that all
    the symbols have. Raises AnalysisError."""
    open_times, log_closes = _aligned_log_closes(
        [symbol.id for symbol in symbols], interval, start_ms=None, end_ms=None, limit=window + 1
    )
    if len(open_times) < window + 1:
        raise AnalysisError(
            "window", f"The symbols have {max(len(open_times) - 1, 0)} {interval.name} returns in common, fewer "
            f"than window {window}."
        )  # fmt: skip
    constant = [str(symbol) for symbol, row in zip(symbols, log_closes, strict=True) if not np.ptp(np.diff(row)) > 0]
    if constant:
        raise AnalysisError("symbols", f"Constant returns over the window, no correlation: {', '.join(constant)}.")
    return CorrelationMatrix([str(symbol) for symbol in symbols], open_times, correlation_matrix(log_closes))
