"""Filling a symbol's candle history: from the public archive where whole months or days are published, from REST
for the recent tail and whatever the archive lacks. It always works from what is missing in the database, so an
interrupted run resumes where it stopped, and a run over a complete range sends no request at all.
"""

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.core.cache import cache
from django.db import IntegrityError
from django.db.models import F

from apps.market.binance.archive import ArchiveError, BinanceArchive
from apps.market.binance.rest import KLINES_MAX_LIMIT, Banned, BinanceRest
from apps.market.intervals import INTERVALS, MINUTE_MS, datetime_from_ms, ms_from_datetime
from apps.market.klines import InvalidKline, klines_parse, open_time_ms
from apps.market.models import ExchangeGap, Symbol
from apps.market.selectors import ONE_MINUTE, TimeRange, candle_gaps_list, candles_last_open_time
from apps.market.services.candles import candles_upsert
from apps.market.transport import TransportError

logger = logging.getLogger(__name__)

DAY = timedelta(days=1)
# The archive publishes a day's file some hours after the day ends.
ARCHIVE_LAG = 2 * DAY
# Minutes this close to now may still be on their way into the exchange's REST answers: never call them gaps yet.
SETTLING = timedelta(minutes=2)
LOCK_SECONDS = 15 * 60
MONTH = INTERVALS["1M"]

Progress = Callable[[int], None]  # called with the number of minutes just covered


@dataclass
class BackfillReport:
    symbol: str
    stored: int = 0
    rejected: int = 0
    exchange_gaps: int = 0
    skipped_locked: bool = False

    def __str__(self) -> str:
        if self.skipped_locked:
            return f"{self.symbol}: skipped, a backfill of it is running elsewhere"
        return f"{self.symbol}: {self.stored} stored, {self.rejected} rejected, {self.exchange_gaps} exchange gap(s)"


@dataclass(frozen=True)
class Sources:
    rest: BinanceRest
    archive: BinanceArchive | None = None


def last_settled_minute(now: datetime) -> datetime:
    """The end of the minutes the exchange's REST answers can be trusted to hold by now."""
    return now.replace(second=0, microsecond=0) - SETTLING


def _open_times(raw_rows: Sequence) -> list[int]:
    """Open times of the rows the exchange sent, valid or not: a rejected row is bad data, not an exchange gap."""
    times = []
    for raw in raw_rows:
        try:
            times.append(open_time_ms(raw[0]))
        except (InvalidKline, TypeError, IndexError, KeyError):
            continue
    return sorted(times)


def _record_exchange_gaps(symbol: Symbol, open_times: list[int], start: datetime, end: datetime) -> int:
    """[start, end) has been answered for in full by the exchange: its minutes without a candle are its own gaps."""
    gaps = []
    expected = ms_from_datetime(start)
    for open_ms in [*open_times, ms_from_datetime(end)]:
        if open_ms > expected:
            gaps.append((datetime_from_ms(expected), datetime_from_ms(min(open_ms, ms_from_datetime(end)))))
        expected = max(expected, open_ms + MINUTE_MS)
    for gap_start, gap_end in gaps:
        try:
            ExchangeGap.objects.get_or_create(symbol=symbol, start=gap_start, defaults={"end": gap_end})
        except IntegrityError:
            logger.info("exchange gap of %s at %s was recorded concurrently", symbol, gap_start)
    if gaps:
        logger.info("%s: %d range(s) without exchange candles in %s .. %s", symbol, len(gaps), start, end)
    return len(gaps)


def _store(symbol: Symbol, raw_rows: Sequence, source: str, report: BackfillReport) -> None:
    parsed = klines_parse(symbol_id=symbol.id, raw_rows=raw_rows, source=f"{source} {symbol}")
    report.stored += candles_upsert(rows=parsed.rows)
    report.rejected += len(parsed.rejected)


def _closed(row: object, now_ms: float) -> bool:
    # The candle still forming comes back too, its close time in the future: only closed candles are stored.
    try:
        return int(row[6]) < now_ms
    except (TypeError, ValueError, IndexError, KeyError):
        return True  # validation rejects and reports it


def _listing_note(symbol: Symbol, rest: BinanceRest) -> None:
    """Ask the exchange for the symbol's first candle ever: minutes before a listing are not missing."""
    first = rest.klines(symbol=symbol.symbol, start_ms=0, end_ms=int(time.time() * 1000), limit=1)
    open_times = _open_times(first)
    if open_times:
        symbol.listed_at = datetime_from_ms(open_times[0])
        symbol.save(update_fields=["listed_at"])
        logger.info("%s: first candle at %s; its history starts there", symbol, symbol.listed_at)


def _fill_from_rest(
    symbol: Symbol, gap: TimeRange, rest: BinanceRest, report: BackfillReport, progress: Progress
) -> None:
    cursor, end = gap
    settled_end = min(end, last_settled_minute(datetime.now(UTC)))
    while cursor < end:
        raw_rows = rest.klines(
            symbol=symbol.symbol, start_ms=ms_from_datetime(cursor), end_ms=ms_from_datetime(end) - 1
        )
        now_ms = time.time() * 1000
        _store(symbol, [row for row in raw_rows if _closed(row, now_ms)], "REST klines", report)
        open_times = _open_times(raw_rows)
        full_page = len(raw_rows) >= KLINES_MAX_LIMIT and open_times
        page_end = datetime_from_ms(open_times[-1]) + ONE_MINUTE if full_page else settled_end
        if page_end > cursor:
            report.exchange_gaps += _record_exchange_gaps(symbol, open_times, cursor, page_end)
            progress(int((page_end - cursor) / ONE_MINUTE))
        if not full_page:
            return
        cursor = page_end


def _archive_files(start: datetime, end: datetime, now: datetime) -> Iterator[tuple[datetime, datetime]]:
    """The archive files (whole months where possible, else whole days) inside [start, end), oldest first."""
    published_before = now - ARCHIVE_LAG
    day = start if start == start.replace(hour=0, minute=0) else start.replace(hour=0, minute=0) + DAY
    while day + DAY <= min(end, published_before):
        month_end = datetime_from_ms(MONTH.next_bucket_ms(ms_from_datetime(day)))
        if day.day == 1 and month_end <= min(end, published_before):
            yield day, month_end
            day = month_end
        else:
            yield day, day + DAY
            day += DAY


def _fetch_archive(symbol: Symbol, file_start: datetime, file_end: datetime, archive: BinanceArchive) -> list | None:
    """The archive file's rows, or None when it has none, is unreachable or fails its checksum: REST takes over."""
    try:
        if file_end - file_start == DAY:
            return archive.daily_klines(symbol=symbol.symbol, day=file_start.date())
        return archive.monthly_klines(symbol=symbol.symbol, year=file_start.year, month=file_start.month)
    except ArchiveError as error:
        logger.warning("archive unusable for %s from %s, falling back to REST: %s", symbol, file_start, error)
        return None


def _fill_file(
    symbol: Symbol, file_range: TimeRange, sources: Sources, report: BackfillReport, progress: Progress
) -> None:
    """One archive file's span: from the file; a month not (yet) published from its days; a missing day from REST."""
    file_start, file_end = file_range
    raw_rows = _fetch_archive(symbol, file_start, file_end, sources.archive)
    if raw_rows is not None:
        _store(symbol, raw_rows, f"archive {file_start:%Y-%m-%d}", report)
        report.exchange_gaps += _record_exchange_gaps(symbol, _open_times(raw_rows), file_start, file_end)
        progress(int((file_end - file_start) / ONE_MINUTE))
    elif file_end - file_start > DAY:
        day = file_start
        while day < file_end:
            _fill_file(symbol, (day, day + DAY), sources, report, progress)
            day += DAY
    else:
        _fill_from_rest(symbol, file_range, sources.rest, report, progress)


def _fill_range(symbol: Symbol, gap: TimeRange, sources: Sources, report: BackfillReport, progress: Progress) -> None:
    start, end = gap
    files = _archive_files(start, end, datetime.now(UTC)) if sources.archive else ()
    for file_start, file_end in files:
        if file_start > start:
            _fill_from_rest(symbol, (start, file_start), sources.rest, report, progress)
        _fill_file(symbol, (file_start, file_end), sources, report, progress)
        start = file_end
    if start < end:
        _fill_from_rest(symbol, (start, end), sources.rest, report, progress)


def symbol_backfill(
    *, symbol: Symbol, since: datetime, until: datetime, sources: Sources, progress: Progress = lambda minutes: None
) -> BackfillReport:
    """Fetch every missing 1m candle of `symbol` in [since, until). One run per symbol at a time (a cache lock)."""
    report = BackfillReport(symbol=symbol.symbol)
    # On whole minutes: the archive's files and the exchange's gaps are counted from a range's start.
    since, until = (moment.replace(second=0, microsecond=0) for moment in (since, until))
    lock = f"market:backfill:{symbol.id}"
    if not cache.add(lock, 1, LOCK_SECONDS):
        report.skipped_locked = True
        return report
    try:
        if symbol.listed_at is None:
            _listing_note(symbol, sources.rest)
        for gap in candle_gaps_list(symbol=symbol, start=symbol.history_start(since), end=until):
            _fill_range(symbol, gap, sources, report, progress)
    finally:
        cache.delete(lock)
    return report


def tracked_symbol_chunks(*, first_chunk: int, chunk_size: int) -> list[list[int]]:
    """Tracked symbol ids, most liquid first, in chunks: the first holds the `first_chunk` most liquid symbols."""
    ids = list(
        Symbol.objects.tracked()
        .order_by(F("quote_volume_24h").desc(nulls_last=True), "symbol")
        .values_list("id", flat=True)
    )
    chunks = [ids[:first_chunk]] if first_chunk else []
    chunks += [ids[start : start + chunk_size] for start in range(first_chunk, len(ids), chunk_size)]
    return [chunk for chunk in chunks if chunk]


def _start(symbol: Symbol, since: datetime, until: datetime, *, from_newest: bool) -> datetime:
    newest = candles_last_open_time(symbol=symbol, before=until) if from_newest else None
    return newest if newest is not None and newest > since else since


def symbols_backfill(
    *, symbol_ids: list[int], since: datetime, until: datetime, from_newest: bool = False
) -> list[BackfillReport]:
    """Backfill several symbols, one after the other; a symbol's failure is logged and the others go on.

    `from_newest` (the minute-by-minute catch-up, the streamer after a reconnect) starts each symbol at its newest
    candle stored before `until` when that lies after `since`: a cheap look at the tail, leaving older holes to the
    history backfill. A ban (HTTP 418) stops the whole run: nothing may be sent until it is over.
    """
    reports = []
    rest, archive = BinanceRest(), BinanceArchive()
    try:
        for symbol in Symbol.objects.filter(id__in=symbol_ids):
            start = _start(symbol, since, until, from_newest=from_newest)
            try:
                reports.append(symbol_backfill(symbol=symbol, since=start, until=until, sources=Sources(rest, archive)))
            except Banned:
                raise
            except TransportError as error:
                logger.error("backfill of %s stopped: %s", symbol, error)
    finally:
        rest.close()
        archive.close()
    return reports
