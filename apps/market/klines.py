"""Validation of kline rows from outside (Binance REST, archive CSV, WebSocket): bad rows are rejected with a reason.

A valid row becomes a `CandleRow`, the writer's input: numbers stay the exchange's decimal text, so that nothing is
lost to binary floating point on the way to the NUMERIC columns.
"""

import logging
import math
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from apps.market import candle_values
from apps.market.intervals import MINUTE_MS

logger = logging.getLogger(__name__)

# (symbol_id, open_ms, open, high, low, close, volume, quote_volume, trades, taker_buy_volume, taker_buy_quote_volume)
CandleRow = tuple[int, int, str, str, str, str, str, str, int, str, str]

DECIMAL_TEXT = re.compile(r"\d{1,20}(\.\d{1,20})?")
# Archive files from 2025 on carry microseconds; no millisecond timestamp reaches 10**14 before the year 5138.
MICROSECONDS_FROM = 10**14
PRICE_FIELDS = ("open", "high", "low", "close")
TRADES_MAX = 2**31 - 1  # Candle.trades is a PostgreSQL integer
# Nothing traded before Bitcoin's genesis block (2009-01-03 UTC): an earlier open time is a null or a unit mistake.
FIRST_MARKET_MS = 1230940800000
# The exchange's clock may run slightly ahead of ours: the first update of its next minute is not from the future.
CLOCK_SKEW_MS = 5_000


@dataclass(frozen=True)
class RejectedRow:
    row: object
    reason: str


@dataclass
class ParsedKlines:
    rows: list[CandleRow] = field(default_factory=list)
    rejected: list[RejectedRow] = field(default_factory=list)


class InvalidKline(ValueError):
    pass


def decimal_text(value: object, name: str) -> str:
    text = value if isinstance(value, str) else None
    if text is not None and DECIMAL_TEXT.fullmatch(text):
        return text
    try:
        number = float(value)  # only to say what is wrong with it
    except (TypeError, ValueError):
        raise InvalidKline(f"{name} is not a number: {value!r}") from None
    if not math.isfinite(number):
        raise InvalidKline(f"{name} is not finite: {value!r}")
    if number < 0:
        raise InvalidKline(f"{name} is negative: {value!r}")
    raise InvalidKline(f"{name} is not plain decimal text: {value!r}")


def _integer(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise InvalidKline(f"{name} is not an integer: {value!r}")
    try:
        return int(value)
    except ValueError:
        raise InvalidKline(f"{name} is not an integer: {value!r}") from None


def open_time_ms(value: object) -> int:
    open_ms = _integer(value, "open time")
    if open_ms >= MICROSECONDS_FROM:
        open_ms //= 1000
    if open_ms % MINUTE_MS:
        raise InvalidKline(f"open time {value!r} is not on a minute boundary")
    if open_ms < FIRST_MARKET_MS:
        raise InvalidKline(f"open time {value!r} is before 2009-01-03, when the first crypto market could open")
    current_minute_ms = (int(time.time() * 1000) + CLOCK_SKEW_MS) // MINUTE_MS * MINUTE_MS
    if open_ms > current_minute_ms:
        raise InvalidKline(f"open time {value!r} is after the current minute: a candle cannot open in the future")
    return open_ms


def candle_row(symbol_id: int, raw: Sequence[object]) -> CandleRow:
    """One Binance 12-column kline (REST array or archive CSV fields) -> a validated CandleRow."""
    if not isinstance(raw, list | tuple) or len(raw) < 11:
        raise InvalidKline(f"expected 12 kline fields, got {raw!r}")
    open_ms = open_time_ms(raw[0])
    open_, high, low, close = (decimal_text(raw[i], name) for i, name in enumerate(PRICE_FIELDS, 1))
    volume = decimal_text(raw[5], "volume")
    quote_volume = decimal_text(raw[7], "quote volume")
    trades = _integer(raw[8], "trade count")
    taker_buy_volume = decimal_text(raw[9], "taker buy volume")
    taker_buy_quote_volume = decimal_text(raw[10], "taker buy quote volume")
    _check_prices(float(open_), float(high), float(low), float(close))
    _check_storable(
        {
            "open, high, low and close": (open_, high, low, close),
            "volume and taker buy volume": (volume, taker_buy_volume),
            "quote volume and taker buy quote volume": (quote_volume, taker_buy_quote_volume),
        }
    )
    if trades < 0:
        raise InvalidKline(f"trade count is negative: {trades}")
    if trades > TRADES_MAX:
        raise InvalidKline(f"trade count {trades} exceeds {TRADES_MAX}")
    if float(taker_buy_volume) > float(volume):
        raise InvalidKline(f"taker buy volume {taker_buy_volume} exceeds volume {volume}")
    return (symbol_id, open_ms, open_, high, low, close, volume, quote_volume, trades, taker_buy_volume,
            taker_buy_quote_volume)  # fmt: skip


def _check_prices(open_: float, high: float, low: float, close: float) -> None:
    if low <= 0:
        raise InvalidKline(f"low {low} is not positive")
    if high < low:
        raise InvalidKline(f"high {high} is below low {low}")
    if not (low <= open_ <= high and low <= close <= high):
        raise InvalidKline(f"open {open_} or close {close} lies outside low {low} .. high {high}")


def _check_storable(groups: dict[str, tuple[str, ...]]) -> None:
    for names, texts in groups.items():
        if not candle_values.fits(texts):
            raise InvalidKline(f"{names} {', '.join(texts)} need more than {candle_values.MAX_DIGITS} digits")


def klines_parse(*, symbol_id: int, raw_rows: Iterable[Sequence[object]], source: str) -> ParsedKlines:
    parsed = ParsedKlines()
    for raw in raw_rows:
        try:
            parsed.rows.append(candle_row(symbol_id, raw))
        except InvalidKline as error:
            parsed.rejected.append(RejectedRow(raw, str(error)))
    for rejected in parsed.rejected:
        logger.warning("rejected kline from %s for symbol %s: %s", source, symbol_id, rejected.reason)
    return parsed
