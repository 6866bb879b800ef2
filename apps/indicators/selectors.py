import math
from datetime import datetime

from apps.indicators.engine import STATE_NAMES
from apps.indicators.models import IndicatorHistory, Snapshot
from apps.indicators.registry import State
from apps.market.intervals import INTERVALS, datetime_from_ms, ms_from_datetime


def _numbers(stored: dict) -> State:
    def number(value: float | None) -> float:
        return math.nan if value is None else value

    return {name: [number(item) for item in value] if isinstance(value, list) else number(value)
            for name, value in stored.items()}  # fmt: skip


def snapshot_states(*, timeframe: str, symbol_ids: list[int]) -> dict[int, tuple[int, State]]:
    """The stored state of each symbol on `timeframe`, with the open time (ms) of the candle it is for. A state of
    another shape (stored before an indicator was added) counts as none: the next full computation replaces it."""
    rows = Snapshot.objects.filter(symbol_id__in=symbol_ids, timeframe=timeframe, state__isnull=False).values_list(
        "symbol_id", "state_open_time", "state"
    )
    return {symbol_id: (ms_from_datetime(open_time), _numbers(state)) for symbol_id, open_time, state in rows
            if state.keys() == STATE_NAMES}  # fmt: skip


def indicator_history_list(
    *, symbol_id: int, timeframe: str, start: datetime | None, end: datetime | None, limit: int
) -> list[IndicatorHistory]:
    """The values per closed candle in [start, end], oldest first: the first `limit` from `start`, or without a
    start the last `limit` up to `end`."""
    rows = IndicatorHistory.objects.filter(symbol_id=symbol_id, timeframe=timeframe)
    if start is not None:
        rows = rows.filter(open_time__gte=start)
    if end is not None:
        rows = rows.filter(open_time__lte=end)
    if start is not None:
        return list(rows.order_by("open_time")[:limit])
    return list(reversed(rows.order_by("-open_time")[:limit]))


def symbols_behind(*, symbol_ids: list[int], timeframe: str, end_ms: int) -> list[int]:
    """The symbols without a snapshot of the last `timeframe` candle closed by `end_ms` (a bucket start): none yet,
    or one computed while their history was still filling in, of an older candle."""
    last_closed = datetime_from_ms(INTERVALS[timeframe].bucket_start_ms(end_ms - 1))
    snapshots = Snapshot.objects.filter(symbol_id__in=symbol_ids, timeframe=timeframe, open_time__gte=last_closed)
    current = set(snapshots.values_list("symbol_id", flat=True))
    return [symbol_id for symbol_id in symbol_ids if symbol_id not in current]
