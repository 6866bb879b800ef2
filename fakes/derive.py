"""Derived 1m series: minutes built inside recorded higher-interval candles so that they roll back up exactly.

Public recordings hold 1m candles of one symbol only; the demo and some tests need many symbols over one span. Within
each source candle the minutes' closes run O -> L -> H -> C (a rising candle) or O -> H -> L -> C (a falling one),
each minute opening at the previous close, every price on the series' tick. Volumes, quote volumes, taker volumes and
trade counts are split into parts on the series' step that add up to the source to the last digit.

The arithmetic is on integers of each column's last decimal: exact like Decimal, about 2 us a minute. The fake
market derives a source candle's minutes when they are asked for (`Derivation.minutes`): as rows, the demo's 48
symbols x 225 days of minutes would take about 8 GB.
"""

import math
from dataclasses import dataclass
from itertools import pairwise

MINUTE_MS = 60_000
PRICE_COLUMNS = (1, 2, 3, 4)
BASE_COLUMNS = (5, 9)  # volume, taker buy base volume
QUOTE_COLUMNS = (7, 10)  # quote volume, taker buy quote volume
VOLUME_PROFILE = (3, 5, 2, 4, 1, 6, 2, 3, 5, 4)  # uneven, so that derived minutes do not look flat


@dataclass(frozen=True)
class FixedPoint:
    """Decimal strings of one kind (prices, base or quote quantities) as integers of their last decimal, with the
    quantum every value of the series sits on: the tick of prices, the step of quantities."""

    decimals: int
    quantum: int

    @classmethod
    def of(cls, rows: list[list], columns: tuple[int, ...]) -> "FixedPoint":
        texts = [row[column] for row in rows for column in columns]
        decimals = max(len(text.partition(".")[2]) for text in texts)
        values = [_units(text, decimals) for text in texts]
        return cls(decimals, _largest_power_of_ten_dividing(values, limit=10**decimals))

    def units(self, text: str) -> int:
        return _units(text, self.decimals)

    def text(self, units: int) -> str:
        digits = str(units).rjust(self.decimals + 1, "0")
        return f"{digits[: -self.decimals]}.{digits[-self.decimals :]}" if self.decimals else digits

    @property
    def quantum_text(self) -> str:
        return self.text(self.quantum)


def _units(text: str, decimals: int) -> int:
    whole, _, fraction = text.partition(".")
    return int(whole + fraction.ljust(decimals, "0"))


def _largest_power_of_ten_dividing(values: list[int], limit: int) -> int:
    common = math.gcd(*values)
    power = 1
    while power < limit and common % (power * 10) == 0:
        power *= 10
    return power


def price_tick(rows: list[list]) -> str:
    """The finest price step the candles use, as Binance writes a PRICE_FILTER tickSize ("0.01000000")."""
    return FixedPoint.of(rows, PRICE_COLUMNS).quantum_text


def quantity_step(rows: list[list]) -> str:
    """The finest base quantity step the candles use, as Binance writes a LOT_SIZE stepSize."""
    return FixedPoint.of(rows, BASE_COLUMNS).quantum_text


@dataclass(frozen=True)
class Derivation:
    """How the minutes inside one series' candles (all of one interval) are made: the series' fixed points, so
    that a candle's minutes are the same whether derived alone or with the whole series."""

    count: int  # minutes in a candle
    prices: FixedPoint
    base: FixedPoint
    quote: FixedPoint

    @classmethod
    def of(cls, rows: list[list], interval_ms: int) -> "Derivation":
        count = interval_ms // MINUTE_MS
        if count < 3:
            raise ValueError("minutes are derived from candles of 3 minutes or more")
        return cls(count, *(FixedPoint.of(rows, columns) for columns in (PRICE_COLUMNS, BASE_COLUMNS, QUOTE_COLUMNS)))

    def minutes(self, candle: list) -> list[list]:
        """The 1m rows inside `candle`, one of the series, that roll up to it exactly."""
        path = _price_path([self.prices.units(candle[column]) for column in PRICE_COLUMNS], self.count,
                           self.prices.quantum)  # fmt: skip
        texts = [self.prices.text(price) for price in path]  # minute i opens at texts[i] and closes at texts[i + 1]
        volume, taker_base = _maker_taker_parts(self.base, candle[5], candle[9], self.count)
        quote_volume, taker_quote = _maker_taker_parts(self.quote, candle[7], candle[10], self.count)
        trades = _parts(candle[8], self.count, quantum=1)
        minutes = []
        for i in range(self.count):
            open_ms = candle[0] + i * MINUTE_MS
            low, high = (texts[i], texts[i + 1]) if path[i] <= path[i + 1] else (texts[i + 1], texts[i])
            minutes.append([open_ms, texts[i], high, low, texts[i + 1], volume[i], open_ms + MINUTE_MS - 1,
                            quote_volume[i], trades[i], taker_base[i], taker_quote[i], "0"])  # fmt: skip
        return minutes


def minutes_from_candles(rows: list[list], interval_ms: int) -> list[list]:
    """1m rows inside each of `rows` (candles of `interval_ms`, at least 3 minutes) that roll up to them exactly."""
    derivation = Derivation.of(rows, interval_ms)
    return [minute for candle in rows for minute in derivation.minutes(candle)]


def _price_path(ohlc: list[int], count: int, tick: int) -> list[int]:
    """The open, then the close of each of `count` minutes: straight lines through the candle's extremes."""
    open_, high, low, close = ohlc
    first, second = (low, high) if close >= open_ else (high, low)
    positions = (-1, (count - 1) // 3, 2 * (count - 1) // 3, count - 1)
    path = [open_]
    for (left, start), (right, end) in pairwise(zip(positions, (open_, first, second, close), strict=True)):
        steps = right - left
        path += [_on_tick(start + (end - start) * (i - left) // steps, tick) for i in range(left + 1, right + 1)]
    return path


def _on_tick(price: int, tick: int) -> int:
    # Rounding is monotonic and both ends of a line are on the tick, so no minute leaves the candle's range.
    return (price + tick // 2) // tick * tick


def _maker_taker_parts(kind: FixedPoint, total: str, taker: str, count: int) -> tuple[list[str], list[str]]:
    """Per-minute totals and taker parts; the maker parts are split apart so no minute's taker exceeds its total."""
    taker_units = kind.units(taker)
    taker_parts = _parts(taker_units, count, kind.quantum)
    maker_parts = _parts(kind.units(total) - taker_units, count, kind.quantum)
    totals = [kind.text(sum(parts)) for parts in zip(taker_parts, maker_parts, strict=True)]
    return totals, [kind.text(part) for part in taker_parts]


def _parts(total: int, count: int, quantum: int) -> list[int]:
    weights = (VOLUME_PROFILE * (count // len(VOLUME_PROFILE) + 1))[:count]
    whole = sum(weights)
    parts = [total * weight // whole // quantum * quantum for weight in weights[:-1]]
    return [*parts, total - sum(parts)]
