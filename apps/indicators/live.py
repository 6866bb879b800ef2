"""The incremental path: every timeframe's snapshot brought up to date as each 1m candle closes, in O(1) a symbol.

Per timeframe, it holds what the full computation stored for each symbol's last closed candle (its state) and the
candle forming since, made of the minutes that closed. One step from those gives the values of the forming
candle, for all symbols of a batch at once; on the candle's last minute they are the closed candle's values, the
same the scheduled full computation then stores, with the state for the next one. The state is never advanced
here: it is always one the full computation wrote, so that it corrects whatever a missed minute made wrong.
"""

import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from apps.indicators.engine import outputs_step
from apps.indicators.registry import Candles, State, States
from apps.market.intervals import DAY_MS, INTERVALS, MINUTE_MS

NO_STATE = -1

StoredStates = Callable[[str, list[int]], dict[int, tuple[int, State]]]  # -> symbol id: (state's open ms, state)
StoredCandles = Callable[[str, list[int], int, int], dict[int, tuple[float, ...]]]  # -> id: (o, h, l, c, v)


@dataclass(frozen=True)
class Minutes:
    """Closed 1m candles opened at the same minute, one per symbol."""

    open_ms: int
    symbol_ids: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray


@dataclass(frozen=True)
class LiveValues:
    """The output columns of some symbols on one timeframe, for the candle opened at `open_ms`."""

    timeframe: str
    open_ms: int
    closed: bool
    symbol_ids: np.ndarray
    columns: dict[str, np.ndarray]


def _only(minutes: Minutes, chosen: np.ndarray) -> Minutes:
    return Minutes(
        minutes.open_ms,
        *(
            column[chosen]
            for column in (minutes.symbol_ids, minutes.open, minutes.high, minutes.low, minutes.close, minutes.volume)
        ),
    )


class _Timeframe:
    """One timeframe's states and forming candles, a row per symbol. The states are one table (a column per number,
    a list taking several), so that the rows of a batch are gathered at once."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.interval_ms = INTERVALS[name].ms
        self.candles_per_day = DAY_MS // self.interval_ms
        self.rows: dict[int, int] = {}
        self._last_symbol_ids, self._last_rows = np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        self.state_open_ms = np.empty(0, dtype=np.int64)
        self.layout: dict[str, int | slice] = {}  # state name -> its column(s) in `table`
        self.table = np.empty((0, 0))
        self.forming_open_ms = np.empty(0, dtype=np.int64)
        self.forming_through_ms = np.empty(0, dtype=np.int64)
        self.forming = np.empty((0, 5))  # open, high, low, close, volume

    def rows_of(self, symbol_ids: np.ndarray) -> np.ndarray:
        if np.array_equal(symbol_ids, self._last_symbol_ids):  # the same symbols as the minute before, mostly
            return self._last_rows
        new = [symbol_id for symbol_id in dict.fromkeys(symbol_ids.tolist()) if symbol_id not in self.rows]
        if new:
            self.rows.update({symbol_id: len(self.rows) + offset for offset, symbol_id in enumerate(new)})
            self.state_open_ms = np.concatenate([self.state_open_ms, np.full(len(new), NO_STATE)])
            self.table = np.concatenate([self.table, np.full((len(new), self.table.shape[1]), np.nan)])
            self.forming_open_ms = np.concatenate([self.forming_open_ms, np.full(len(new), NO_STATE)])
            self.forming_through_ms = np.concatenate([self.forming_through_ms, np.full(len(new), NO_STATE)])
            self.forming = np.concatenate([self.forming, np.full((len(new), 5), np.nan)])
        rows = np.array([self.rows[symbol_id] for symbol_id in symbol_ids.tolist()], dtype=np.int64)
        self._last_symbol_ids, self._last_rows = symbol_ids, rows
        return rows

    def set_states(self, rows: np.ndarray, stored: list[tuple[int, State]]) -> None:
        if not self.layout:
            self._lay_out(stored[0][1])
        self.state_open_ms[rows] = [open_ms for open_ms, _ in stored]
        self.table[rows] = [np.hstack([state[name] for name in self.layout]) for _, state in stored]

    def _lay_out(self, state: State) -> None:
        column = 0
        for name, value in state.items():
            width = len(value) if isinstance(value, list) else 1
            self.layout[name] = slice(column, column + width) if isinstance(value, list) else column
            column += width
        self.table = np.full((len(self.state_open_ms), column), np.nan)

    def states_of(self, rows: np.ndarray) -> States:
        block = self.table[rows]
        return {name: block[:, columns] for name, columns in self.layout.items()}


class LiveSnapshots:
    def __init__(self, timeframes: list[str], *, stored_states: StoredStates, stored_candles: StoredCandles) -> None:
        self._timeframes = [_Timeframe(name) for name in timeframes]
        self._stored_states = stored_states
        self._stored_candles = stored_candles
        self._lock = threading.Lock()  # flushes run in worker threads

    def update(self, minutes: Minutes) -> list[LiveValues]:
        """The values of each timeframe's forming candle, for the symbols whose state is that of the candle before;
        the others wait for the full computation to store it."""
        with self._lock:
            return [values for timeframe in self._timeframes if (values := self._update(timeframe, minutes))]

    def _update(self, timeframe: _Timeframe, minutes: Minutes) -> LiveValues | None:
        bucket_ms = minutes.open_ms - minutes.open_ms % timeframe.interval_ms
        rows = timeframe.rows_of(minutes.symbol_ids)
        self._refresh_states(timeframe, rows, minutes.symbol_ids, bucket_ms)
        ready = timeframe.state_open_ms[rows] + timeframe.interval_ms == bucket_ms
        if not ready.any():
            return None
        # The others' forming candles are read from the database once their state is there.
        chosen = np.zeros_like(ready)
        chosen[ready] = self._add_minute(timeframe, rows[ready], _only(minutes, ready), bucket_ms)
        if not chosen.any():
            return None
        rows = rows[chosen]
        forming = timeframe.forming[rows]
        candles = Candles(*forming.T, timeframe.candles_per_day)
        states = timeframe.states_of(rows)
        return LiveValues(
            timeframe=timeframe.name,
            open_ms=bucket_ms,
            closed=minutes.open_ms + MINUTE_MS == bucket_ms + timeframe.interval_ms,
            symbol_ids=minutes.symbol_ids[chosen],
            columns=outputs_step(states, candles),
        )

    def _refresh_states(self, timeframe: _Timeframe, rows: np.ndarray, symbol_ids: np.ndarray, bucket_ms: int) -> None:
        """Read the stored state of the symbols whose state in memory is not that of the candle before this one."""
        stale = timeframe.state_open_ms[rows] + timeframe.interval_ms != bucket_ms
        if not stale.any():
            return
        stored = self._stored_states(timeframe.name, symbol_ids[stale].tolist())
        found = [(row, stored[symbol_id]) for row, symbol_id in zip(rows[stale].tolist(), symbol_ids[stale].tolist(),
                                                                     strict=True) if symbol_id in stored]  # fmt: skip
        if found:
            timeframe.set_states(np.array([row for row, _ in found]), [state for _, state in found])

    def _add_minute(self, timeframe: _Timeframe, rows: np.ndarray, minutes: Minutes, bucket_ms: int) -> np.ndarray:
        """Fold the minutes into their forming candles; False for a minute already in its candle."""
        forming = timeframe.forming
        same = timeframe.forming_open_ms[rows] == bucket_ms
        later = same & (timeframe.forming_through_ms[rows] < minutes.open_ms)
        grown = rows[later]
        forming[grown, 1] = np.maximum(forming[grown, 1], minutes.high[later])
        forming[grown, 2] = np.minimum(forming[grown, 2], minutes.low[later])
        forming[grown, 3] = minutes.close[later]
        forming[grown, 4] += minutes.volume[later]
        fresh = ~same
        if fresh.any():
            forming[rows[fresh]] = self._first_minutes(timeframe, minutes, fresh, bucket_ms)
            timeframe.forming_open_ms[rows[fresh]] = bucket_ms
        timeframe.forming_through_ms[rows[later | fresh]] = minutes.open_ms
        return later | fresh

    def _first_minutes(self, timeframe: _Timeframe, minutes: Minutes, fresh: np.ndarray, bucket_ms: int) -> np.ndarray:
        """The forming candle of symbols met for the first time in this bucket: the minute itself when it opens the
        bucket, or else what is stored of the bucket so far (the streamer started, or missed the first minutes)."""
        candles = np.column_stack([minutes.open, minutes.high, minutes.low, minutes.close, minutes.volume])[fresh]
        if minutes.open_ms == bucket_ms:
            return candles
        symbol_ids = minutes.symbol_ids[fresh].tolist()
        stored = self._stored_candles(timeframe.name, symbol_ids, bucket_ms, minutes.open_ms + MINUTE_MS)
        for index, symbol_id in enumerate(symbol_ids):
            if symbol_id in stored:
                candles[index] = stored[symbol_id]
        return candles
