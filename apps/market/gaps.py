from datetime import datetime, timedelta

from django.db.models import F, Max, Min, Window
from django.db.models.functions import Lead

from apps.market.models import Candle, ExchangeGap, Symbol

ONE_MINUTE = timedelta(minutes=1)
TimeRange = tuple[datetime, datetime]  # [start, end)


def _holes_between_candles(symbol: Symbol, start: datetime, end: datetime) -> list[TimeRange]:
    holes = (
        Candle.objects.filter(symbol=symbol, open_time__gte=start, open_time__lt=end)
        .annotate(next_open_time=Window(Lead("open_time"), order_by=F("open_time").asc()))
        .filter(next_open_time__gt=F("open_time") + ONE_MINUTE)
        .values_list("open_time", "next_open_time")
    )
    return [(open_time + ONE_MINUTE, next_open_time) for open_time, next_open_time in holes]


def _subtract(ranges: list[TimeRange], known: list[TimeRange]) -> list[TimeRange]:
    remaining = []
    for start, end in ranges:
        for known_start, known_end in known:
            if known_start <= start < known_end:
                start = known_end
            elif start < known_start < end:
                remaining.append((start, known_start))
                start = min(end, known_end)
        if start < end:
            remaining.append((start, end))
    return remaining


def candle_gaps_list(*, symbol: Symbol, start: datetime, end: datetime) -> list[TimeRange]:
    """Minute ranges in [start, end) with no stored candle, less the exchange's own known gaps.

    `start` should already be the symbol's history start (Symbol.history_start): nothing before a listing is missing.
    """
    bounds = Candle.objects.filter(symbol=symbol, open_time__gte=start, open_time__lt=end).aggregate(
        first=Min("open_time"), last=Max("open_time")
    )
    if bounds["first"] is None:
        missing = [(start, end)]
    else:
        missing = _holes_between_candles(symbol, start, end)
        if bounds["first"] > start:
            missing.insert(0, (start, bounds["first"]))
        if bounds["last"] + ONE_MINUTE < end:
            missing.append((bounds["last"] + ONE_MINUTE, end))
    known = ExchangeGap.objects.filter(symbol=symbol, end__gt=start, start__lt=end).order_by("start")
    return _subtract(missing, list(known.values_list("start", "end")))


def candles_first_open_time(*, symbol: Symbol) -> datetime | None:
    return Candle.objects.filter(symbol=symbol).aggregate(first=Min("open_time"))["first"]
