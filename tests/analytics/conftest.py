import time

import numpy as np

from apps.market.klines import klines_parse
from apps.market.models import Symbol
from apps.market.services.candles import candles_upsert
from fakes.derive import minutes_from_candles
from fakes.recorded import rest_klines
from tests.market.factories import SymbolFactory

HOUR_MS = 3_600_000
FIFTEEN_MINUTES_MS = 15 * 60_000
# The recorded 15m candles of every symbol: 2025-01-06 00:00 to 2025-01-19 23:59 UTC, two weeks.
FIRST_MS = 1736121600000
END_MS = FIRST_MS + 14 * 24 * HOUR_MS


def up_to_the_hour_shift() -> int:
    """How far to move the recording so that its last hour is the one that has just closed."""
    return (int(time.time() * 1000) // HOUR_MS) * HOUR_MS - END_MS


def store(name: str, *, shift: int = 0, flat_hours: int = 0, missing_hours: tuple[int, ...] = ()) -> Symbol:
    """The symbol's recorded two weeks as 1m candles (rolling up exactly into Binance's own 15m and 1h candles),
    moved by `shift` ms; its first `flat_hours` hours all at the first open, and hours (counted from the first, 0)
    without any candle, when asked."""
    symbol = SymbolFactory(symbol=name)
    minutes = minutes_from_candles(rest_klines(name, "15m"), FIFTEEN_MINUTES_MS)
    minutes = [row for row in minutes if (row[0] - FIRST_MS) // HOUR_MS not in missing_hours]
    flat = minutes[0][1]
    minutes = [
        [row[0] + shift, *([flat] * 4 if row[0] < FIRST_MS + flat_hours * HOUR_MS else row[1:5]), row[5],
         row[6] + shift, *row[7:]]
        for row in minutes
    ]  # fmt: skip
    parsed = klines_parse(symbol_id=symbol.id, raw_rows=minutes, source="test")
    assert not parsed.rejected
    candles_upsert(rows=parsed.rows)
    return symbol


def recorded_log_closes(name: str, interval: str = "1h") -> np.ndarray:
    """Log closes of Binance's own candles over the recorded two weeks: what the API's numbers are computed from."""
    rows = [row for row in rest_klines(name, interval) if FIRST_MS <= row[0] < END_MS]
    return np.log(np.array([float(row[4]) for row in rows]))


def recorded_open_times(name: str, interval: str = "1h", shift: int = 0) -> list[int]:
    return [row[0] + shift for row in rest_klines(name, interval) if FIRST_MS <= row[0] < END_MS]
