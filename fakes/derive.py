"""Derived 1m series: minutes built inside recorded higher-interval candles so that they aggregate back exactly.

Public recordings hold 1m candles of one symbol only; the demo and some tests need many symbols over one span. The
minutes of each source candle run O -> L -> H -> C (a rising candle) or O -> H -> L -> C (a falling one), prices on
the source's decimals, and every volume is split into parts that add up to the source to the last digit.
"""

from decimal import ROUND_DOWN, Decimal

MINUTE_MS = 60_000
WEIGHTS = (3, 5, 2, 4, 1, 6, 2, 3, 5, 4)  # an uneven volume profile, so derived minutes do not look flat


def _exponent(text: str) -> Decimal:
    return Decimal(1).scaleb(Decimal(text).as_tuple().exponent)


def _split(total: str, count: int) -> list[Decimal]:
    amount, quantum = Decimal(total), _exponent(total)
    weights = [WEIGHTS[i % len(WEIGHTS)] for i in range(count)]
    parts = [(amount * weight / sum(weights)).quantize(quantum, ROUND_DOWN) for weight in weights[:-1]]
    return [*parts, amount - sum(parts, Decimal(0))]


def _waypoints(candle: list, count: int) -> dict[int, Decimal]:
    open_, high, low, close = (Decimal(candle[i]) for i in (1, 2, 3, 4))
    first, second = (low, high) if close >= open_ else (high, low)
    return {-1: open_, count // 3: first, max(count // 3 + 1, 2 * count // 3): second, count - 1: close}


def _closes(candle: list, count: int) -> list[Decimal]:
    quantum = _exponent(candle[1])
    points = sorted(_waypoints(candle, count).items())
    closes = []
    for minute in range(count):
        (left, low_value), (right, high_value) = next(
            (points[i], points[i + 1]) for i in range(len(points) - 1) if points[i][0] < minute <= points[i + 1][0]
        )
        share = Decimal(minute - left) / Decimal(right - left)
        closes.append((low_value + (high_value - low_value) * share).quantize(quantum))
    return closes


def _text(value: Decimal, like: str) -> str:
    return str(value.quantize(_exponent(like)))


def minutes_of(candle: list, interval_ms: int) -> list[list]:
    count = interval_ms // MINUTE_MS
    closes = _closes(candle, count)
    opens = [Decimal(candle[1]), *closes[:-1]]
    taker_base, taker_quote = _split(candle[9], count), _split(candle[10], count)
    maker_base = _split(str(Decimal(candle[5]) - Decimal(candle[9])), count)
    maker_quote = _split(str(Decimal(candle[7]) - Decimal(candle[10])), count)
    trades = [int(part) for part in _split(str(candle[8]), count)]
    rows = []
    for i in range(count):
        open_ms = int(candle[0]) + i * MINUTE_MS
        price = candle[1]
        rows.append([open_ms, _text(opens[i], price), _text(max(opens[i], closes[i]), price),
                     _text(min(opens[i], closes[i]), price), _text(closes[i], price),
                     _text(taker_base[i] + maker_base[i], candle[5]), open_ms + MINUTE_MS - 1,
                     _text(taker_quote[i] + maker_quote[i], candle[7]), trades[i], _text(taker_base[i], candle[9]),
                     _text(taker_quote[i], candle[10]), "0"])  # fmt: skip
    return rows


def minutes_from_candles(rows: list[list], interval_ms: int) -> list[list]:
    return [minute for candle in rows for minute in minutes_of(candle, interval_ms)]


def aggregate(minutes: list[list], interval_ms: int) -> list[list]:
    """Roll 1m rows up as Binance does: open first, close last, high max, low min, the rest summed."""
    buckets: dict[int, list[list]] = {}
    for row in minutes:
        buckets.setdefault(int(row[0]) - int(row[0]) % interval_ms, []).append(row)
    return [_rolled_up(start, buckets[start], interval_ms) for start in sorted(buckets)]


def _rolled_up(start: int, rows: list[list], interval_ms: int) -> list:
    def total(index: int) -> str:
        return str(sum((Decimal(row[index]) for row in rows), Decimal(0)))

    return [start, rows[0][1], str(max(Decimal(r[2]) for r in rows)), str(min(Decimal(r[3]) for r in rows)),
            rows[-1][4], total(5), start + interval_ms - 1, total(7), sum(int(r[8]) for r in rows), total(9),
            total(10), "0"]  # fmt: skip
