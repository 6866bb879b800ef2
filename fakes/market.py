"""The in-memory market the fake exchange serves: symbols and their 1m candles, with a clock for "now".

Also the two markets built from the recorded data: `recorded_market` (a few symbols at their real dates, for tests)
and `demo_market` (48 symbols replayed in shifted real time, for `make demo`).
"""

import bisect
import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from fakes.derive import Derivation, price_tick, quantity_step
from fakes.recorded import REST_SYMBOLS, rest_klines

MINUTE_MS = 60_000
QUARTER_MS = 15 * MINUTE_MS
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 1440 * MINUTE_MS
WEEK_MS = 7 * DAY_MS
END_OF_TIME_MS = 2**62
DEMO_RECENT_MS = 10 * DAY_MS  # about this much of the recorded 15m weeks lies before the demo's start
# The first start backfills 210 days (MARKET_RECENT_WINDOW_DAYS); with the 5 hourly days and the 6.5 to 13.5 days
# of 15m weeks before now (whole weeks of shift), a derived symbol's history reaches 221.5 to 228.5 days back. The
# recorded symbols keep all their 366 recorded days (2024): over a year back, for the history backfill and exports.
DERIVED_DAILY_CANDLES = 210
DERIVED_SYMBOL_COUNT = 40
# Source candles whose minutes a derived series keeps: the live minute's, and the one a page of klines ends in.
CACHED_SOURCE_CANDLES = 2


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


@dataclass(frozen=True)
class Stretch:
    """Source candles of one interval, back to back, oldest first."""

    interval_ms: int
    candles: list[list]


def _limited(rows: list[list], limit: int | None, newest: bool) -> list[list]:
    if limit is None:
        return rows
    return rows[-limit:] if newest else rows[:limit]


class _Listed:
    """1m candles held as rows."""

    def __init__(self, rows: list[list]) -> None:
        self.rows = rows

    def between(self, start_ms: int, end_ms: int, limit: int | None, newest: bool) -> list[list]:
        first = bisect.bisect_left(self.rows, start_ms, key=_open_ms)
        return _limited(self.rows[first : bisect.bisect_right(self.rows, end_ms, key=_open_ms)], limit, newest)


class _Derived:
    """1m candles derived from stretches of source candles when asked for: as rows, 225 days of minutes would take
    about 175 MB a symbol."""

    def __init__(self, stretches: list[Stretch]) -> None:
        self._sources: list[tuple[list, Derivation]] = []
        for stretch in stretches:
            derivation = Derivation.of(stretch.candles, stretch.interval_ms)
            self._sources += [(candle, derivation) for candle in stretch.candles]
        self._opens = [_open_ms(candle) for candle, _ in self._sources]
        self._minutes = functools.lru_cache(maxsize=CACHED_SOURCE_CANDLES)(self._derive)

    def _derive(self, index: int) -> list[list]:
        candle, derivation = self._sources[index]
        return derivation.minutes(candle)

    def between(self, start_ms: int, end_ms: int, limit: int | None, newest: bool) -> list[list]:
        first = max(bisect.bisect_right(self._opens, start_ms) - 1, 0)  # the source candle `start_ms` lies in
        indices = range(first, bisect.bisect_right(self._opens, end_ms))
        chunks, count = [], 0
        for index in reversed(indices) if newest else indices:
            minutes = self._minutes(index)
            chunks.append(minutes[bisect.bisect_left(minutes, start_ms, key=_open_ms) :
                                  bisect.bisect_right(minutes, end_ms, key=_open_ms)])  # fmt: skip
            count += len(chunks[-1])
            if limit is not None and count >= limit:
                break
        rows = [row for chunk in (reversed(chunks) if newest else chunks) for row in chunk]
        return _limited(rows, limit, newest)


class FakeMarket:
    """Symbols and their 1m candles. Clients only see candles opened by `clock()` (epoch ms); the last of them may
    still be forming, its close time in the future."""

    def __init__(self, clock: Callable[[], int] = wall_clock_ms) -> None:
        self.clock = clock
        self.symbols: dict[str, FakeSymbol] = {}
        self._series: dict[str, _Listed | _Derived] = {}

    def add_symbol(self, symbol: FakeSymbol, rows: list[list]) -> None:
        self.symbols[symbol.symbol] = symbol
        self._series[symbol.symbol] = _Listed(sorted(rows, key=_open_ms))

    def add_derived(self, symbol: FakeSymbol, stretches: list[Stretch]) -> None:
        """A symbol whose minutes are derived from `stretches` (fakes/derive.py), each when first asked for."""
        self.symbols[symbol.symbol] = symbol
        self._series[symbol.symbol] = _Derived(stretches)

    def candles(self, symbol: str) -> list[list]:
        """The ground truth rows, oldest first, future ones included; tests may corrupt one in place. A derived
        symbol's minutes are all derived and kept as rows from then on: for the small markets of tests."""
        series = self._series[symbol]
        if isinstance(series, _Derived):
            series = self._series[symbol] = _Listed(series.between(0, END_OF_TIME_MS, None, False))
        return series.rows

    def cut(self, symbol: str, start_ms: int, end_ms: int) -> None:
        """Remove [start, end): minutes the exchange itself has no candle for (maintenance, halts)."""
        rows = self.candles(symbol)
        self._series[symbol] = _Listed([row for row in rows if not start_ms <= _open_ms(row) < end_ms])

    def between(
        self, symbol: str, start_ms: int, end_ms: int, *, limit: int | None = None, newest: bool = False
    ) -> list[list]:
        """The candles opened by now whose open time is in [start_ms, end_ms], oldest first; with `limit`, only
        the oldest `limit` of them (the newest with `newest`), as Binance's klines answer."""
        return self._series[symbol].between(start_ms, min(end_ms, self.clock()), limit, newest)

    def candle_at(self, symbol: str, open_ms: int) -> list | None:
        rows = self._series[symbol].between(open_ms, open_ms, None, False)
        return rows[0] if rows else None

    @property
    def derived_symbols(self) -> list[str]:
        return [name for name, symbol in self.symbols.items() if symbol.derived]


def recorded_market(symbols: tuple[str, ...] = ("BTCUSDT",), clock: Callable[[], int] = wall_clock_ms) -> FakeMarket:
    """The recorded 15m weeks of `symbols` (any of REST_SYMBOLS) as derived 1m candles at their real dates,
    2025-01-06 00:00 to 2025-01-19 23:59 UTC."""
    market = FakeMarket(clock)
    for name in symbols:
        _add_derived(market, name, [Stretch(QUARTER_MS, rest_klines(name, "15m"))])
    return market


def demo_market(clock: Callable[[], int] = wall_clock_ms) -> FakeMarket:
    """The 8 recorded symbols as 1m candles, plus DRV01USDT .. DRV40USDT: derived from their daily candles up to
    2025-01-01 (all of 2024 for the recorded symbols, the last 210 days for DRV..), their hourly ones to 2025-01-06
    and their two 15m weeks (2025-01-06 .. 19).

    Every timestamp moves by whole weeks (weekdays stay) so that about ten days of the 15m weeks lie before
    `clock()`, and the rest becomes available minute by minute: against the wall clock the demo looks live. The
    daily candles reach back beyond the first backfill's 210 days, for the 1d EMA and SMA 200; the recorded symbols'
    over a year.
    """
    sources = {name: _recorded_history(name) for name in REST_SYMBOLS}
    shift_ms = _whole_weeks_to_history(_open_ms(sources["BTCUSDT"][-1].candles[0]), clock())
    market = FakeMarket(clock)
    for name, stretches in sources.items():
        _add_derived(market, name, _shifted(stretches, shift_ms))
    for number in range(1, DERIVED_SYMBOL_COUNT + 1):
        days, *later = sources[REST_SYMBOLS[number % len(REST_SYMBOLS)]]
        source = [Stretch(DAY_MS, days.candles[-DERIVED_DAILY_CANDLES:]), *later]
        stretches = _phase_shifted(source, days=number % 13 + 1, first_price=demo_first_price(number))
        _add_derived(market, f"DRV{number:02d}USDT", _shifted(stretches, shift_ms))
    return market


def _recorded_history(name: str) -> list[Stretch]:
    """The 15m weeks, before them the hours of January 2025 up to them, before those the recorded days."""
    quarters = rest_klines(name, "15m")
    hours = [row for row in rest_klines(name, "1h") if _open_ms(row) < _open_ms(quarters[0])]
    days = [row for row in rest_klines(name, "1d") if _open_ms(row) < _open_ms(hours[0])]
    return [Stretch(DAY_MS, days), Stretch(HOUR_MS, hours), Stretch(QUARTER_MS, quarters)]


def _add_derived(market: FakeMarket, name: str, stretches: list[Stretch]) -> None:
    candles = [candle for stretch in stretches for candle in stretch.candles]
    tick, step = price_tick(candles), quantity_step(candles)
    symbol = FakeSymbol(name, name.removesuffix("USDT"), "USDT", tick_size=tick, step_size=step, derived=True)
    market.add_derived(symbol, stretches)


def _whole_weeks_to_history(first_open_ms: int, now_ms: int) -> int:
    return round((now_ms - DEMO_RECENT_MS - first_open_ms) / WEEK_MS) * WEEK_MS


def _shifted(stretches: list[Stretch], shift_ms: int) -> list[Stretch]:
    return [Stretch(stretch.interval_ms, [[row[0] + shift_ms, *row[1:6], row[6] + shift_ms, *row[7:]]
                                          for row in stretch.candles]) for stretch in stretches]  # fmt: skip


def _phase_shifted(stretches: list[Stretch], *, days: int, first_price: Decimal) -> list[Stretch]:
    """Each stretch from `days` in (modulo its length), then its beginning moved to its end, on the same times;
    repriced to open at `first_price`. Each part is rescaled to open where the part before it
    closes: no jump at a seam, inside a stretch or between two."""
    tick = Decimal(1).scaleb(max(first_price.adjusted() - 4, -8))  # five significant digits, as Binance lists
    step = Decimal(1).scaleb(min(max(-6 - tick.adjusted(), -8), 0))  # a tick times a step: about 1e-6 USDT
    level = first_price  # where the next part opens
    shifted = []
    for stretch in stretches:
        rows = []
        for part in _rotated(stretch, days):
            factor = level / Decimal(part[0][1])
            rows += [_repriced(row, factor, tick, step) for row in part]
            level = Decimal(part[-1][4]) * factor
        shifted.append(Stretch(stretch.interval_ms, _retimed(rows, stretch.candles)))
    return shifted


def _rotated(stretch: Stretch, days: int) -> list[list[list]]:
    """The stretch from `days` in, then its beginning: two parts, or one when the offset is a multiple of it."""
    split = days * DAY_MS // stretch.interval_ms % len(stretch.candles)
    return [part for part in (stretch.candles[split:], stretch.candles[:split]) if part]


def _retimed(rows: list[list], times: list[list]) -> list[list]:
    return [[at[0], *row[1:6], at[6], *row[7:]] for row, at in zip(rows, times, strict=True)]


def _repriced(candle: list, factor: Decimal, tick: Decimal, step: Decimal) -> list:
    """Prices times `factor`, base quantities divided by it: the quote volumes (the money traded) stay."""

    def on(value: Decimal, quantum: Decimal) -> str:
        # Rounding is monotonic: high stays the highest price, the taker part stays within the volume.
        return f"{value.quantize(quantum):.8f}"

    open_, high, low, close = (on(Decimal(candle[column]) * factor, tick) for column in (1, 2, 3, 4))
    volume, taker_base = (on(Decimal(candle[column]) / factor, step) for column in (5, 9))
    return [candle[0], open_, high, low, close, volume, candle[6], candle[7], candle[8], taker_base, *candle[10:]]


def demo_first_price(number: int) -> Decimal:
    # Spread over 0.001 .. 9900 USDT: the screener sees sub-cent coins next to four-digit ones.
    return Decimal(10 + number * 37 % 90).scaleb(number % 7 - 4)
