from datetime import datetime

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import Max

from apps.indicators.engine import indicators_compute, snapshot_at
from apps.indicators.models import IndicatorHistory, Snapshot
from apps.indicators.registry import Arrays, Series
from apps.market.intervals import DAY_MS, INTERVALS, datetime_from_ms
from apps.market.selectors import ClosedCandles, closed_candles_many


def _series(candles: ClosedCandles, candles_per_day: int) -> Series:
    # TA-Lib wants contiguous arrays; columns cut from one table are strided views.
    columns = (candles.open, candles.high, candles.low, candles.close, candles.volume)
    return Series(*(np.ascontiguousarray(column) for column in columns), candles_per_day)


def _history_rows(
    symbol_id: int, timeframe: str, candles: ClosedCandles, columns: Arrays, stored_until: datetime | None
) -> list[IndicatorHistory]:
    """Rows for the candles from the newest stored one on: that one is computed again, as it may have been
    computed before its last minute arrived."""
    rows = []
    for index, open_ms in enumerate(candles.open_times.tolist()):
        open_time = datetime_from_ms(open_ms)
        if stored_until is None or open_time >= stored_until:
            rows.append(IndicatorHistory(symbol_id=symbol_id, timeframe=timeframe, open_time=open_time,
                                         values=snapshot_at(columns, index)))  # fmt: skip
    return rows


def snapshots_compute(*, symbol_ids: list[int], timeframe: str, end_ms: int) -> int:
    """Indicators of `timeframe` for these symbols over their candles closed by `end_ms`: one query to read, one
    bulk upsert each for the snapshots and for the history rows from the newest stored on. Returns the snapshots
    written."""
    interval = INTERVALS[timeframe]
    per_day = DAY_MS // interval.ms
    candles = closed_candles_many(
        symbol_ids=symbol_ids, interval=interval, count=settings.INDICATORS_HISTORY_CANDLES, end_ms=end_ms
    )
    stored_until = dict(
        IndicatorHistory.objects.filter(symbol_id__in=list(candles), timeframe=timeframe)
        .values_list("symbol_id")
        .annotate(last=Max("open_time"))
    )
    snapshots, history = [], []
    for symbol_id, symbol_candles in candles.items():
        columns = indicators_compute(_series(symbol_candles, per_day))
        history += _history_rows(symbol_id, timeframe, symbol_candles, columns, stored_until.get(symbol_id))
        snapshots.append(Snapshot(symbol_id=symbol_id, timeframe=timeframe, values=snapshot_at(columns, -1),
                                  open_time=datetime_from_ms(int(symbol_candles.open_times[-1]))))  # fmt: skip
    with transaction.atomic():
        Snapshot.objects.bulk_create(snapshots, update_conflicts=True, unique_fields=["symbol", "timeframe"],
                                     update_fields=["open_time", "values", "computed_at"])  # fmt: skip
        IndicatorHistory.objects.bulk_create(history, batch_size=5000, update_conflicts=True,
                                             unique_fields=["symbol", "timeframe", "open_time"],
                                             update_fields=["values"])  # fmt: skip
    return len(snapshots)
