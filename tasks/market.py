"""Market data tasks. Thin: each calls a service. No Celery retries: every backfill works from what is missing in
the database, so the next scheduled run picks up whatever a failed one left (the REST client already retries
transient errors with backoff); a metadata sync that failed keeps the previous values until the next day's run.
"""

from datetime import UTC, datetime, timedelta

from django.conf import settings

from apps.market.binance.rest import BinanceRest
from apps.market.services.backfill import symbols_backfill, tracked_symbol_chunks
from apps.market.services.metadata import coin_metadata_sync
from apps.market.services.operations import operation_run
from apps.market.services.symbols import symbols_rank_by_volume, symbols_sync
from config.celery import app
from tasks.indicators import snapshots_catch_up


@app.task(name="market.sync_symbols")
def sync_symbols() -> None:
    with BinanceRest() as rest:
        symbols_sync(rest=rest)
        symbols_rank_by_volume(rest=rest)


def _fan_out(days: int, *, from_newest: bool, expires: int) -> None:
    until = datetime.now(UTC)
    since = until - timedelta(days=days)
    chunks = tracked_symbol_chunks(
        first_chunk=settings.MARKET_PRIORITY_SYMBOLS, chunk_size=settings.MARKET_BACKFILL_CHUNK_SYMBOLS
    )
    for symbol_ids in chunks:
        backfill_symbols.apply_async((symbol_ids, since.isoformat(), until.isoformat(), from_newest), expires=expires)


@app.task(name="market.catch_up")
def catch_up() -> None:
    """Bring every tracked symbol up to the last closed minute, most liquid first; on the first start, this fills
    the recent window (MARKET_RECENT_WINDOW_DAYS) that the indicators need."""
    _fan_out(settings.MARKET_RECENT_WINDOW_DAYS, from_newest=True, expires=55)


@app.task(name="market.backfill_history")
def backfill_history() -> None:
    """Fill every hole in MARKET_HISTORY_DAYS of history, most liquid symbols first."""
    _fan_out(settings.MARKET_HISTORY_DAYS, from_newest=False, expires=590)


@app.task(name="market.backfill_symbols")
def backfill_symbols(symbol_ids: list[int], since: str, until: str, from_newest: bool = False) -> None:
    symbols_backfill(
        symbol_ids=symbol_ids,
        since=datetime.fromisoformat(since),
        until=datetime.fromisoformat(until),
        from_newest=from_newest,
    )
    snapshots_catch_up(symbol_ids)


@app.task(name="market.sync_metadata")
def sync_metadata() -> None:
    """CoinMarketCap's metadata of the tracked symbols' base assets (daily); off without CMC_API_KEY."""
    coin_metadata_sync()


@app.task(name="market.run_operation")
def run_operation(operation_id: int) -> None:
    """An operation the admin queued (backfill, gap fill, metadata sync); it records its own outcome."""
    operation_run(operation_id=operation_id)
