"""The in-memory market our fake exchange serves: symbols and their 1m candles, with a clock for "now"."""

import bisect
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from fakes.derive import minutes_from_candles
from fakes.recorded import REST_SYMBOLS, rest_klines

MINUTE_MS = 60_000
DAY_MS = 1440 * MINUTE_MS
WEEK_MS = 7 * DAY_MS


def _open_ms(row: list) -> int:
    return int(row[0])


def wall_clock_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True)
class FakeSymbol:
    symbol: str
    base_asset: str
    quote_asset: str
    status: str = "TRADING"
    tick_size: str = "0.01000000"
    step_size: str = "0.00001000"
    derived: bool = False  # ours, never on the wire: the demo marks such symbols as derived


class FakeMarket:
    def __init__(self, clock: Callable[[], int] = wall_clock_ms) -> None:
        self.clock = clock
        self.symbols: dict[str, FakeSymbol] = {}
        self._candles: dict[str, list[list]] = {}

    def add_symbol(self, symbol: FakeSymbol, rows: list[list]) -> None:
        self.symbols[symbol.symbol] = symbol
        self._candles[symbol.symbol] = sorted(rows, key=_open_ms)

    def candles(self, symbol: str) -> list[list]:
        """The ground truth rows, in time order; tests may corrupt one in place."""
        return self._candles[symbol]

    def cut(self, symbol: str, start_ms: int, end_ms: int) -> None:
        """Remove [start, end): minutes the exchange itself has no candle for (maintenance, halts)."""
        self._candles[symbol] = [row for row in self._candles[symbol] if not start_ms <= int(row[0]) < end_ms]

    def visible(self, symbol: str) -> list[list]:
        """Candles opened by now; the last may still be forming (its close time in the future)."""
        rows = self._candles[symbol]
        return rows[: bisect.bisect_right(rows, self.clock(), key=_open_ms)]

    def between(self, symbol: str, start_ms: int, end_ms: int) -> list[list]:
        rows = self.visible(symbol)
        return rows[bisect.bisect_left(rows, start_ms, key=_open_ms) : bisect.bisect_right(rows, end_ms, key=_open_ms)]

    def candle_at(self, symbol: str, open_ms: int) -> list | None:
        rows = self._candles[symbol]
        index = bisect.bisect_left(rows, open_ms, key=_open_ms)
        return rows[index] if index < len(rows) and _open_ms(rows[index]) == open_ms else None

    @property
    def derived_symbols(self) -> list[str]:
        return [name for name, symbol in self.symbols.items() if symbol.derived]


def _shifted(rows: list[list], shift_ms: int) -> list[list]:
    return [[row[0] + shift_ms, *row[1:6], row[6] + shift_ms, *row[7:]] for row in rows]


def _scaled(rows: list[list], power: int) -> list[list]:
    def scale(text: str) -> str:
        return str(Decimal(text).scaleb(power))

    # Prices and quote volumes move together; base volumes and trade counts stay.
    return [[row[0], *map(scale, row[1:5]), row[5], row[6], scale(row[7]), row[8], row[9], scale(row[10]), row[11]]
            for row in rows]  # fmt: skip


def _rotated(rows: list[list], days: int) -> list[list]:
    start, split = int(rows[0][0]), days * 1440
    rotated = rows[split:] + rows[:split]
    return [[start + i * MINUTE_MS, *row[1:6], start + i * MINUTE_MS + MINUTE_MS - 1, *row[7:]]
            for i, row in enumerate(rotated)]  # fmt: skip


DERIVED_COUNT = 40
DEMO_HISTORY_MS = 10 * DAY_MS


def demo_market(clock: Callable[[], int] = wall_clock_ms) -> FakeMarket:
    """The 8 recorded symbols' two 15m weeks (2025-01-06 .. 19) made into 1m, plus 40 derived symbols.

    Every timestamp moves by whole weeks (weekdays stay) so that about ten days lie before now and the rest
    becomes available minute by minute: the demo looks live.
    """
    recorded = {name: minutes_from_candles(rest_klines(name, "15m"), 15 * MINUTE_MS) for name in REST_SYMBOLS}
    first_open = int(recorded["BTCUSDT"][0][0])
    shift = -(-(clock() - DEMO_HISTORY_MS - first_open) // WEEK_MS) * WEEK_MS
    market = FakeMarket(clock)
    for name, rows in recorded.items():
        market.add_symbol(FakeSymbol(name, name.removesuffix("USDT"), "USDT"), _shifted(rows, shift))
    for number in range(1, DERIVED_COUNT + 1):
        source = recorded[REST_SYMBOLS[number % len(REST_SYMBOLS)]]
        rows = _scaled(_rotated(source, number % 13 + 1), number % 5 - 2)
        base = f"DRV{number:02d}"
        market.add_symbol(FakeSymbol(f"{base}USDT", base, "USDT", derived=True), _shifted(rows, shift))
    return market


def recorded_market(clock: Callable[[], int], symbols: tuple[str, ...] = ("BTCUSDT",)) -> FakeMarket:
    """The recorded 15m weeks of `symbols` as derived 1m candles, unshifted (2025-01-06 .. 2025-01-19)."""
    market = FakeMarket(clock)
    for name in symbols:
        rows = minutes_from_candles(rest_klines(name, "15m"), 15 * MINUTE_MS)
        market.add_symbol(FakeSymbol(name, name.removesuffix("USDT"), "USDT", derived=True), rows)
    return market
