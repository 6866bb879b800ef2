"""The in-memory market the fake exchange serves: symbols and their 1m candles, with a clock for "now".

Also the two markets built from the recorded data: `recorded_market` (a few symbols at their real dates, for tests)
and `demo_market` (48 symbols replayed in shifted real time, for `make demo`).
"""

import bisect
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from fakes.derive import minutes_from_candles, price_tick, quantity_step
from fakes.recorded import REST_SYMBOLS, rest_klines

MINUTE_MS = 60_000
DAY_MS = 1440 * MINUTE_MS
WEEK_MS = 7 * DAY_MS
SOURCE_INTERVAL_MS = 15 * MINUTE_MS  # the recorded series the derived minutes are built in
DEMO_HISTORY_MS = 10 * DAY_MS
DERIVED_SYMBOL_COUNT = 40


def wall_clock_ms() -> int:
    return int(time.time() * 1000)


def _open_ms(row: list) -> int:
    return row[0]


@dataclass(frozen=True)
class FakeSymbol:
    symbol: str
    base_asset: str
    quote_asset: str
    status: str = "TRADING"
    tick_size: str = "0.01000000"
    step_size: str = "0.00001000"
    derived: bool = False  # its candles are synthetic (see fakes/derive.py); never on the wire


class FakeMarket:
    """Symbols and their 1m candles. Clients only see candles opened by `clock()` (epoch ms); the last of them may
    still be forming, its close time in the future."""

    def __init__(self, clock: Callable[[], int] = wall_clock_ms) -> None:
        self.clock = clock
        self.symbols: dict[str, FakeSymbol] = {}
        self._candles: dict[str, list[list]] = {}

    def add_symbol(self, symbol: FakeSymbol, rows: list[list]) -> None:
        self.symbols[symbol.symbol] = symbol
        self._candles[symbol.symbol] = sorted(rows, key=_open_ms)

    def candles(self, symbol: str) -> list[list]:
        """The ground truth rows, oldest first, future ones included; tests may corrupt one in place."""
        return self._candles[symbol]

    def cut(self, symbol: str, start_ms: int, end_ms: int) -> None:
        """Remove [start, end): minutes the exchange itself has no candle for (maintenance, halts)."""
        self._candles[symbol] = [row for row in self._candles[symbol] if not start_ms <= _open_ms(row) < end_ms]

    def between(self, symbol: str, start_ms: int, end_ms: int) -> list[list]:
        """The candles opened by now whose open time is in [start_ms, end_ms], oldest first."""
        rows = self._candles[symbol]
        first = bisect.bisect_left(rows, start_ms, key=_open_ms)
        return rows[first : bisect.bisect_right(rows, min(end_ms, self.clock()), key=_open_ms)]

    def candle_at(self, symbol: str, open_ms: int) -> list | None:
        rows = self._candles[symbol]
        index = bisect.bisect_left(rows, open_ms, key=_open_ms)
        return rows[index] if index < len(rows) and _open_ms(rows[index]) == open_ms else None

    @property
    def derived_symbols(self) -> list[str]:
        return [name for name, symbol in self.symbols.items() if symbol.derived]


def recorded_market(symbols: tuple[str, ...] = ("BTCUSDT",), clock: Callable[[], int] = wall_clock_ms) -> FakeMarket:
    """The recorded 15m weeks of `symbols` (any of REST_SYMBOLS) as derived 1m candles at their real dates,
    2025-01-06 00:00 to 2025-01-19 23:59 UTC."""
    market = FakeMarket(clock)
    for name in symbols:
        _add_derived(market, name, rest_klines(name, "15m"))
    return market


def demo_market(clock: Callable[[], int] = wall_clock_ms) -> FakeMarket:
    """The 8 recorded symbols' two 15m weeks (2025-01-06 .. 19) made into 1m, plus DRV01USDT .. DRV40USDT.

    Every timestamp moves by whole weeks (weekdays stay) so that about ten days lie before `clock()` and the rest
    becomes available minute by minute: against the wall clock the demo looks live.
    """
    sources = {name: rest_klines(name, "15m") for name in REST_SYMBOLS}
    shift_ms = _whole_weeks_to_history(_open_ms(sources["BTCUSDT"][0]), clock())
    market = FakeMarket(clock)
    for name, candles in sources.items():
        _add_derived(market, name, _shifted(candles, shift_ms))
    for number in range(1, DERIVED_SYMBOL_COUNT + 1):
        source = sources[REST_SYMBOLS[number % len(REST_SYMBOLS)]]
        candles = _phase_shifted(source, days=number % 13 + 1, first_price=_demo_first_price(number))
        _add_derived(market, f"DRV{number:02d}USDT", _shifted(candles, shift_ms))
    return market


def _add_derived(market: FakeMarket, name: str, candles: list[list]) -> None:
    tick, step = price_tick(candles), quantity_step(candles)
    symbol = FakeSymbol(name, name.removesuffix("USDT"), "USDT", tick_size=tick, step_size=step, derived=True)
    market.add_symbol(symbol, minutes_from_candles(candles, SOURCE_INTERVAL_MS))


def _whole_weeks_to_history(first_open_ms: int, now_ms: int) -> int:
    return round((now_ms - DEMO_HISTORY_MS - first_open_ms) / WEEK_MS) * WEEK_MS


def _shifted(rows: list[list], shift_ms: int) -> list[list]:
    return [[row[0] + shift_ms, *row[1:6], row[6] + shift_ms, *row[7:]] for row in rows]


def _phase_shifted(source: list[list], *, days: int, first_price: Decimal) -> list[list]:
    """`source` from `days` in, then its beginning moved to the end, on the same times; repriced to open at
    `first_price`. The moved part is rescaled to open where the other part closes: no jump at the seam."""
    split = days * DAY_MS // SOURCE_INTERVAL_MS
    later, moved = source[split:], source[:split]
    factor = first_price / Decimal(later[0][1])
    seam = Decimal(later[-1][4]) / Decimal(moved[0][1])
    tick = Decimal(1).scaleb(max(first_price.adjusted() - 4, -8))  # five significant digits, as Binance lists
    step = Decimal(1).scaleb(min(max(-6 - tick.adjusted(), -8), 0))  # a tick times a step: about 1e-6 USDT
    rows = [_repriced(row, factor, tick, step) for row in later]
    rows += [_repriced(row, factor * seam, tick, step) for row in moved]
    return [[times[0], *row[1:6], times[6], *row[7:]] for times, row in zip(source, rows, strict=True)]


def _repriced(candle: list, factor: Decimal, tick: Decimal, step: Decimal) -> list:
    """Prices times `factor`, base quantities divided by it: the quote volumes (the money traded) stay."""

    def on(value: Decimal, quantum: Decimal) -> str:
        # Rounding is monotonic: high stays the highest price, the taker part stays within the volume.
        return f"{value.quantize(quantum):.8f}"

    open_, high, low, close = (on(Decimal(candle[column]) * factor, tick) for column in (1, 2, 3, 4))
    volume, taker_base = (on(Decimal(candle[column]) / factor, step) for column in (5, 9))
    return [candle[0], open_, high, low, close, volume, candle[6], candle[7], candle[8], taker_base, *candle[10:]]


def _demo_first_price(number: int) -> Decimal:
    # Spread over 0.001 .. 9900 USDT: the screener sees sub-cent coins next to four-digit ones.
    return Decimal(10 + number * 37 % 90).scaleb(number % 7 - 4)
