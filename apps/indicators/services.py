import functools
import logging
import math
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import Max

from apps.indicators.engine import anchored, indicators_compute, snapshot_at, state_at_end
from apps.indicators.live import LiveSnapshots, LiveValues, Minutes
from apps.indicators.models import IndicatorHistory, Snapshot
from apps.indicators.registry import Arrays, Series, State
from apps.indicators.selectors import snapshot_states
from apps.indicators.signals import snapshots_updated
from apps.market.intervals import DAY_MS, INTERVALS, datetime_from_ms, ms_from_datetime
from apps.market.klines import CandleRow
from apps.market.selectors import ClosedCandles, candles_many, closed_candles_many

logger = logging.getLogger(__name__)


def _series(candles: ClosedCandles, candles_per_day: int) -> Series:
    # TA-Lib wants contiguous arrays; columns cut from one table are strided views.
    columns = (candles.open, candles.high, candles.low, candles.close, candles.volume)
    return Series(*(np.ascontiguousarray(column) for column in columns), candles_per_day)


def _history_rows(
    symbol_id: int, timeframe: str, candles: ClosedCandles, columns: Arrays, stored_until: datetime | None
) -> list[IndicatorHistory]:
    """Rows for the candles from the newest stored one on: that one is computed again, as it may have been
    computed before its last minute arrived."""
    first = 0 if stored_until is None else int(np.searchsorted(candles.open_times, ms_from_datetime(stored_until)))
    return [IndicatorHistory(symbol_id=symbol_id, timeframe=timeframe, open_time=datetime_from_ms(open_ms),
                             values=snapshot_at(columns, index))
            for index, open_ms in enumerate(candles.open_times[first:].tolist(), start=first)]  # fmt: skip


def _json_ready(state: State) -> dict:
    """NaN (no value yet) as null, which JSON has."""

    def ready(value: float) -> float | None:
        return value if math.isfinite(value) else None

    return {name: [ready(item) for item in value] if isinstance(value, list) else ready(value)
            for name, value in state.items()}  # fmt: skip


def _anchor_to_stored(columns: Arrays, open_times: np.ndarray, stored: tuple[int, State] | None) -> None:
    if stored is None:
        return
    stored_open_ms, state = stored
    index = int(np.searchsorted(open_times, stored_open_ms))
    if index < len(open_times) and open_times[index] == stored_open_ms:
        anchored(columns, state, index)


# MACD's EMAs and Wilder's averages (RSI, ATR, ADX) forget where a window starts within this many candles, to a
# trillionth; the EMAs and OBV, which never do, go on from the stored state instead (see `anchored`).
ANCHORED_HISTORY_CANDLES = 400


def snapshots_compute(*, symbol_ids: list[int], timeframe: str, end_ms: int) -> int:
    """Indicators of `timeframe` for these symbols over their candles closed by `end_ms`: a query to read (two when
    some symbols have no recent state), one bulk upsert each for the snapshots and for the history rows from the
    newest stored on. Each snapshot keeps the state the incremental path goes on from, and goes on from the state
    stored before (see `anchored`). Returns the snapshots written."""
    interval = INTERVALS[timeframe]
    per_day = DAY_MS // interval.ms
    stored_states = snapshot_states(timeframe=timeframe, symbol_ids=symbol_ids)
    # A symbol whose state is of a recent candle needs only the candles its recursions take to forget where they
    # start; the others read the whole history setting, for the EMA(200) to settle.
    recent_ms = end_ms - (ANCHORED_HISTORY_CANDLES - 1) * interval.ms
    anchored_ids = [symbol_id for symbol_id in symbol_ids if stored_states.get(symbol_id, (0,))[0] >= recent_ms]
    others = sorted(set(symbol_ids) - set(anchored_ids))
    candles = {}
    for ids, count in ((anchored_ids, ANCHORED_HISTORY_CANDLES), (others, settings.INDICATORS_HISTORY_CANDLES)):
        if ids:
            candles |= closed_candles_many(symbol_ids=ids, interval=interval, count=count, end_ms=end_ms)
    stored_until = dict(
        IndicatorHistory.objects.filter(symbol_id__in=list(candles), timeframe=timeframe)
        .values_list("symbol_id")
        .annotate(last=Max("open_time"))
    )
    snapshots, history = [], []
    for symbol_id, symbol_candles in candles.items():
        series = _series(symbol_candles, per_day)
        columns = indicators_compute(series)
        _anchor_to_stored(columns, symbol_candles.open_times, stored_states.get(symbol_id))
        history += _history_rows(symbol_id, timeframe, symbol_candles, columns, stored_until.get(symbol_id))
        open_time = datetime_from_ms(int(symbol_candles.open_times[-1]))
        snapshots.append(Snapshot(symbol_id=symbol_id, timeframe=timeframe, open_time=open_time, candle_closed=True,
                                  values=snapshot_at(columns, -1), state_open_time=open_time,
                                  state=_json_ready(state_at_end(series, columns))))  # fmt: skip
    with transaction.atomic():
        Snapshot.objects.bulk_create(
            snapshots,
            update_conflicts=True,
            unique_fields=["symbol", "timeframe"],
            update_fields=["open_time", "candle_closed", "values", "computed_at", "state_open_time", "state"],
        )
        IndicatorHistory.objects.bulk_create(history, batch_size=5000, update_conflicts=True,
                                             unique_fields=["symbol", "timeframe", "open_time"],
                                             update_fields=["values"])  # fmt: skip
    _announce(snapshots)
    return len(snapshots)


def _announce(snapshots: list[Snapshot]) -> None:
    """Tell the apps built on the snapshots, once they are committed; what a receiver fails at stays its own."""
    if not snapshots:
        return
    symbol_ids = sorted({snapshot.symbol_id for snapshot in snapshots})
    timeframes = sorted({snapshot.timeframe for snapshot in snapshots})

    def send() -> None:
        for receiver, outcome in snapshots_updated.send_robust(Snapshot, symbol_ids=symbol_ids, timeframes=timeframes):
            if isinstance(outcome, Exception):
                logger.error("%s failed on %d updated snapshots: %r", receiver.__qualname__, len(snapshots), outcome)

    transaction.on_commit(send)


def _stored_candles(timeframe: str, symbol_ids: list[int], start_ms: int, end_ms: int) -> dict[int, tuple]:
    candles = candles_many(symbol_ids=symbol_ids, interval=INTERVALS[timeframe], start_ms=start_ms, end_ms=end_ms)
    return {symbol_id: tuple(float(column[-1]) for column in bucket[1:]) for symbol_id, bucket in candles.items()}


@functools.cache
def live_snapshots() -> LiveSnapshots:
    """This process's incremental path (the streamer's): its states and forming candles live as long as it does."""
    return LiveSnapshots(settings.INDICATORS_TIMEFRAMES, stored_states=lambda timeframe, symbol_ids: snapshot_states(
        timeframe=timeframe, symbol_ids=symbol_ids), stored_candles=_stored_candles)  # fmt: skip


def _minutes(rows: Iterable[CandleRow]) -> list[Minutes]:
    by_minute: dict[int, list[CandleRow]] = defaultdict(list)
    for row in rows:
        by_minute[row[1]].append(row)
    minutes = []
    for open_ms, candles in sorted(by_minute.items()):
        candles.sort()  # by symbol: the same symbols come in the same order minute after minute
        numbers = np.array([row[2:7] for row in candles], dtype=np.float64)
        symbol_ids = np.array([row[0] for row in candles], dtype=np.int64)
        minutes.append(Minutes(open_ms, symbol_ids, *numbers.T))
    return minutes


def _live_snapshots(values: LiveValues) -> list[Snapshot]:
    open_time = datetime_from_ms(values.open_ms)
    table = np.column_stack(list(values.columns.values()))
    known = np.isfinite(table)
    names = list(values.columns)
    return [
        Snapshot(symbol_id=symbol_id, timeframe=values.timeframe, open_time=open_time, candle_closed=values.closed,
                 values={name: value if ok else None
                                          for name, value, ok in zip(names, row, row_known, strict=True)})
        for symbol_id, row, row_known in zip(values.symbol_ids.tolist(), table.tolist(), known.tolist(), strict=True)
    ]  # fmt: skip


def snapshots_update_live(*, rows: list[CandleRow]) -> int:
    """Bring the snapshots of every timeframe up to date with these closed 1m candles (just stored by the
    streamer). Returns the snapshots written."""
    snapshots = [snapshot for minutes in _minutes(rows) for values in live_snapshots().update(minutes)
                 for snapshot in _live_snapshots(values)]  # fmt: skip
    Snapshot.objects.bulk_create(snapshots, update_conflicts=True, unique_fields=["symbol", "timeframe"],
                                 update_fields=["open_time", "candle_closed", "values", "computed_at"])  # fmt: skip
    _announce(snapshots)
    return len(snapshots)
