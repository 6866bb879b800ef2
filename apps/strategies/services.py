"""Strategies evaluated after each snapshot update, for a batch of symbols at once, into signals.

Reads: the snapshots in one query, the indicator history of the candles the strategies look back to in one more,
and, only where a strategy asks for them, the candles of the timeframe (a query per candle looked at) and the last
minutes (a query). Writes: one INSERT ... ON CONFLICT DO NOTHING RETURNING per thousand signals, so that a signal
is stored, and announced, once however often (and however concurrently) its candle is evaluated.
"""

import logging
import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from asgiref.sync import async_to_sync
from django.db import connection, transaction
from django.utils import timezone

from apps.indicators.models import IndicatorHistory, Snapshot
from apps.market.intervals import INTERVALS, MINUTE_MS, datetime_from_ms, ms_from_datetime
from apps.market.live import live_publish
from apps.market.selectors import ClosedCandles, candles_many
from apps.strategies.conditions import Need, Outcome, conditions_evaluate, needs
from apps.strategies.events import SIGNALS_STREAM, signals_created
from apps.strategies.models import Signal, Strategy
from apps.strategies.selectors import signals_payload
from apps.strategies.validation import CANDLE_FIELDS

logger = logging.getLogger(__name__)

# Rows per INSERT: 7 parameters each, far under PostgreSQL's 65,535 and SQLite's 32,766.
INSERT_BATCH = 1000


@dataclass
class _Batch:
    """Snapshots of one timeframe that are of the same candle as of the same minute: one set of arrays."""

    timeframe: str
    open_ms: int
    as_of_ms: int  # where the minutes they are made of end: the candle's close, once it closed
    candle_closed: bool
    symbol_ids: list[int] = field(default_factory=list)
    values: list[dict] = field(default_factory=list)

    @property
    def interval_ms(self) -> int:
        return INTERVALS[self.timeframe].ms


def _batches(symbol_ids: list[int], timeframes: list[str]) -> list[_Batch]:
    rows = Snapshot.objects.filter(symbol_id__in=symbol_ids, timeframe__in=timeframes).values_list(
        "symbol_id", "timeframe", "open_time", "candle_closed", "computed_at", "values"
    )
    batches: dict[tuple, _Batch] = {}
    for symbol_id, timeframe, open_time, candle_closed, computed_at, values in rows:
        open_ms = ms_from_datetime(open_time)
        close_ms = INTERVALS[timeframe].next_bucket_ms(open_ms)
        # A forming candle's snapshot is written as a minute closes: it holds the minutes up to that one.
        as_of_ms = close_ms if candle_closed else min(close_ms, ms_from_datetime(computed_at) // MINUTE_MS * MINUTE_MS)
        key = (timeframe, open_ms, as_of_ms, candle_closed)
        batch = batches.setdefault(key, _Batch(*key))
        batch.symbol_ids.append(symbol_id)
        batch.values.append(values)
    return list(batches.values())


HistoryValues = dict[tuple[int, str, int], dict]  # (symbol id, timeframe, open ms) -> values


def _history(batches: list[_Batch], wanted: dict[str, set[Need]]) -> HistoryValues:
    """The indicator values of every earlier candle some strategy looks back to, in one query."""
    times = {
        datetime_from_ms(batch.open_ms - need.back * batch.interval_ms)
        for batch in batches
        for need in wanted[batch.timeframe]
        if need.back and need.field not in CANDLE_FIELDS
    }
    if not times:
        return {}
    rows = IndicatorHistory.objects.filter(
        symbol_id__in={symbol_id for batch in batches for symbol_id in batch.symbol_ids},
        timeframe__in={batch.timeframe for batch in batches},
        open_time__in=times,
    ).values_list("symbol_id", "timeframe", "open_time", "values")
    return {(symbol_id, timeframe, ms_from_datetime(open_time)): values
            for symbol_id, timeframe, open_time, values in rows}  # fmt: skip


def _numbers(values: list) -> np.ndarray:
    return np.array(values, dtype=np.float64)  # None (no value yet) becomes NaN


class _BatchInputs:
    """The values a batch's conditions read, one array entry per symbol, each read once."""

    def __init__(self, batch: _Batch, history: HistoryValues, wanted: set[Need]) -> None:
        self.batch = batch
        self.history = history
        self.longest_minutes = max((need.minutes for need in wanted), default=0)
        self._values: dict[tuple[str, int], np.ndarray] = {}
        self._candles: dict[int, dict[int, ClosedCandles]] = {}
        self._minutes: dict[int, ClosedCandles] | None = None

    def value(self, field: str, back: int) -> np.ndarray:
        if (field, back) not in self._values:
            self._values[field, back] = self._read(field, back)
        return self._values[field, back]

    def _read(self, field: str, back: int) -> np.ndarray:
        batch = self.batch
        if field in CANDLE_FIELDS:
            column = CANDLE_FIELDS.index(field) + 1  # after open_times
            candles = self._candles_back(back)
            return _numbers([candles[symbol_id][column][0] if symbol_id in candles else None
                             for symbol_id in batch.symbol_ids])  # fmt: skip
        if back == 0:
            return _numbers([values.get(field) for values in batch.values])
        open_ms = batch.open_ms - back * batch.interval_ms
        return _numbers([self.history.get((symbol_id, batch.timeframe, open_ms), {}).get(field)
                         for symbol_id in batch.symbol_ids])  # fmt: skip

    def _candles_back(self, back: int) -> dict[int, ClosedCandles]:
        """The candle `back` before the snapshot's, of each symbol: the snapshot's own only up to its minute."""
        if back not in self._candles:
            batch = self.batch
            start_ms = batch.open_ms - back * batch.interval_ms
            end_ms = batch.as_of_ms if back == 0 else start_ms + batch.interval_ms
            self._candles[back] = candles_many(symbol_ids=batch.symbol_ids, interval=INTERVALS[batch.timeframe],
                                               start_ms=start_ms, end_ms=end_ms)  # fmt: skip
        return self._candles[back]

    def price_change(self, minutes: int) -> np.ndarray:
        """Percent from the open of the first of the last `minutes` 1m candles to the close of the last one."""
        if self._minutes is None:
            end_ms = self.batch.as_of_ms
            self._minutes = candles_many(symbol_ids=self.batch.symbol_ids, interval=INTERVALS["1m"],
                                         start_ms=end_ms - self.longest_minutes * MINUTE_MS, end_ms=end_ms)  # fmt: skip
        start_ms = self.batch.as_of_ms - minutes * MINUTE_MS
        return _numbers([_window_change(self._minutes[symbol_id], start_ms) if symbol_id in self._minutes else None
                         for symbol_id in self.batch.symbol_ids])  # fmt: skip


def _window_change(minutes: ClosedCandles, start_ms: int) -> float | None:
    first = int(np.searchsorted(minutes.open_times, start_ms))
    if first == len(minutes.open_times) or minutes.open[first] <= 0:
        return None
    return (minutes.close[-1] / minutes.open[first] - 1) * 100


# symbol id, strategy id, timeframe, open time, candle closed, values, created at
SignalRow = tuple[int, int, str, datetime, bool, dict, datetime]


def _signal_rows(batch: _Batch, strategy_id: int, outcome: Outcome, created_at: datetime) -> list[SignalRow]:
    open_time = datetime_from_ms(batch.open_ms)
    values = {name: array.tolist() for name, array in outcome.values.items()}
    return [
        (batch.symbol_ids[index], strategy_id, batch.timeframe, open_time, batch.candle_closed,
         {name: column[index] if math.isfinite(column[index]) else None for name, column in values.items()}, created_at)
        for index in np.flatnonzero(outcome.matched).tolist()
    ]  # fmt: skip


def _signals_insert(rows: list[SignalRow]) -> list[int]:
    """Store the signals not stored yet, returning their ids (the unique constraint skips the others)."""
    meta, quote = Signal._meta, connection.ops.quote_name
    fields = [meta.get_field(name) for name in
              ("symbol", "strategy", "timeframe", "open_time", "candle_closed", "values", "created_at")]  # fmt: skip
    unique = ", ".join(quote(meta.get_field(name).column) for name in ("symbol", "strategy", "timeframe", "open_time"))
    one_row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    ids = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), INSERT_BATCH):
            chunk = rows[start : start + INSERT_BATCH]
            cursor.execute(
                f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(field.column) for field in fields)}) "
                f"VALUES {', '.join([one_row] * len(chunk))} ON CONFLICT ({unique}) DO NOTHING "
                f"RETURNING {quote(meta.pk.column)}",
                [
                    field.get_db_prep_save(value, connection)
                    for row in chunk
                    for field, value in zip(fields, row, strict=True)
                ],
            )
            ids += [signal_id for (signal_id,) in cursor.fetchall()]
    return ids


def _announce(signal_ids: list[int]) -> None:
    """Tell WebSocket clients and the apps built on the signals; what one of them fails at stays its own."""
    try:
        async_to_sync(live_publish)(SIGNALS_STREAM, signals_payload(signal_ids=signal_ids))
    except Exception as error:  # the channel layer (Redis) failing must not keep the alerts from hearing of them
        logger.error("publishing %d new signals failed: %s", len(signal_ids), error)
    for receiver, outcome in signals_created.send_robust(Signal, signal_ids=signal_ids):
        if isinstance(outcome, Exception):
            logger.error("%s failed on %d new signals: %r", receiver.__qualname__, len(signal_ids), outcome)


def _active_strategies(timeframes: list[str]) -> dict[str, list[tuple[int, dict]]]:
    """Timeframe -> (id, bound conditions) of each active strategy on it."""
    strategies = defaultdict(list)
    for strategy in Strategy.objects.filter(is_active=True, timeframe__in=timeframes).order_by("id"):
        strategies[strategy.timeframe].append((strategy.id, strategy.bound_conditions()))
    return strategies


def signals_evaluate(*, symbol_ids: list[int], timeframes: list[str]) -> list[int]:
    """Evaluate the active strategies of these timeframes on the current snapshots of these symbols. New signals are
    stored, then (after commit) published on the `signals` stream and announced with `signals_created`. Returns
    the ids of the new signals."""
    strategies = _active_strategies(timeframes)
    if not strategies:
        return []
    wanted = {timeframe: set().union(*(needs(conditions) for _, conditions in items))
              for timeframe, items in strategies.items()}  # fmt: skip
    batches = _batches(symbol_ids, list(strategies))
    history = _history(batches, wanted)
    created_at = timezone.now()
    rows = []
    for batch in batches:
        inputs = _BatchInputs(batch, history, wanted[batch.timeframe])
        for strategy_id, conditions in strategies[batch.timeframe]:
            rows += _signal_rows(batch, strategy_id, conditions_evaluate(conditions, inputs), created_at)
    if not rows:
        return []
    with transaction.atomic():
        created = _signals_insert(rows)
        if created:
            transaction.on_commit(lambda: _announce(created))
    return created
