"""Binance's kline intervals and how their buckets are aligned (UTC; weeks start on Monday; months by calendar)."""

from dataclasses import dataclass
from datetime import UTC, datetime

MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 1440 * MINUTE_MS
# 1970-01-01 was a Thursday; Binance's weekly candles open on Mondays, the first of which was 1970-01-05.
FIRST_MONDAY_MS = 4 * DAY_MS


def datetime_from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def ms_from_datetime(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


@dataclass(frozen=True)
class Interval:
    name: str
    ms: int | None  # None for the calendar month
    origin_ms: int = 0

    @property
    def is_monthly(self) -> bool:
        return self.ms is None

    def bucket_start_ms(self, time_ms: int) -> int:
        if self.ms is None:
            moment = datetime_from_ms(time_ms)
            return ms_from_datetime(datetime(moment.year, moment.month, 1, tzinfo=UTC))
        return time_ms - (time_ms - self.origin_ms) % self.ms

    def next_bucket_ms(self, bucket_start_ms: int) -> int:
        if self.ms is None:
            moment = datetime_from_ms(bucket_start_ms)
            year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
            return ms_from_datetime(datetime(year, month, 1, tzinfo=UTC))
        return bucket_start_ms + self.ms


def _minutes(name: str, count: int) -> Interval:
    return Interval(name, count * MINUTE_MS)


INTERVALS: dict[str, Interval] = {
    interval.name: interval
    for interval in (
        _minutes("1m", 1),
        _minutes("3m", 3),
        _minutes("5m", 5),
        _minutes("15m", 15),
        _minutes("30m", 30),
        _minutes("1h", 60),
        _minutes("2h", 120),
        _minutes("4h", 240),
        _minutes("6h", 360),
        _minutes("8h", 480),
        _minutes("12h", 720),
        _minutes("1d", 1440),
        _minutes("3d", 3 * 1440),
        Interval("1w", 7 * DAY_MS, origin_ms=FIRST_MONDAY_MS),
        Interval("1M", None),
    )
}
