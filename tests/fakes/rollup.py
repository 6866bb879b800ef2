"""Binance's roll-up of 1m candles into longer ones, in exact decimals: what derived minutes are checked against."""

from decimal import Decimal


def rolled_up(minutes: list[list], interval_ms: int) -> list[list]:
    """Open first, close last, high max, low min, the rest summed; buckets of `interval_ms` from the epoch."""
    buckets: dict[int, list[list]] = {}
    for row in minutes:
        buckets.setdefault(row[0] - row[0] % interval_ms, []).append(row)
    return [_candle(start, rows, interval_ms) for start, rows in sorted(buckets.items())]


def _candle(start: int, rows: list[list], interval_ms: int) -> list:
    def total(column: int) -> str:
        return str(sum(Decimal(row[column]) for row in rows))

    high, low = max(Decimal(row[2]) for row in rows), min(Decimal(row[3]) for row in rows)
    return [start, rows[0][1], str(high), str(low), rows[-1][4], total(5), start + interval_ms - 1, total(7),
            sum(row[8] for row in rows), total(9), total(10), "0"]  # fmt: skip
