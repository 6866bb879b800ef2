"""Indicator tasks: beat calls `dispatch` when a timeframe's candle closes; it sends one `compute_shard` per shard of
tracked symbols to the `indicators` queue. A shard's results are written in one transaction with idempotent
upserts, so a redelivered shard (its worker died: acks_late, reject_on_worker_lost) finishes without writing twice.
"""

import time

from django.conf import settings
from django.core.cache import cache
from django.db import OperationalError

from apps.indicators.selectors import symbols_behind
from apps.indicators.services import snapshots_compute
from apps.market.intervals import INTERVALS
from apps.market.services.backfill import tracked_symbol_chunks
from config.celery import app

SHARD_SOFT_LIMIT_SECONDS = 60
SHARD_HARD_LIMIT_SECONDS = 90


class ShardBusy(Exception):
    """Another run of the same shard holds its lock: try again shortly."""


@app.task(name="indicators.dispatch")
def dispatch(timeframe: str) -> None:
    interval = INTERVALS[timeframe]
    end_ms = interval.bucket_start_ms(int(time.time() * 1000))  # the candle that just closed ends here
    shards = tracked_symbol_chunks(first_chunk=0, chunk_size=settings.INDICATORS_SHARD_SYMBOLS)
    for symbol_ids in shards:
        compute_shard.apply_async(
            (symbol_ids, timeframe, end_ms), countdown=settings.INDICATORS_SETTLE_SECONDS, expires=interval.ms / 1000
        )


def snapshots_catch_up(symbol_ids: list[int]) -> None:
    """Compute, on every timeframe, the symbols whose snapshot is missing or of an older candle than the last
    closed one (their history just arrived, or was still filling in when it was computed), instead of leaving them
    to the timeframe's next close: on 1d, up to a day."""
    now_ms = int(time.time() * 1000)
    for timeframe in settings.INDICATORS_TIMEFRAMES:
        end_ms = INTERVALS[timeframe].bucket_start_ms(now_ms)
        behind = symbols_behind(symbol_ids=symbol_ids, timeframe=timeframe, end_ms=end_ms)
        if behind:
            compute_shard.delay(behind, timeframe, end_ms)


@app.task(
    name="indicators.compute_shard",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError, ShardBusy),
    retry_backoff=1,
    retry_backoff_max=30,
    max_retries=8,
    soft_time_limit=SHARD_SOFT_LIMIT_SECONDS,
    time_limit=SHARD_HARD_LIMIT_SECONDS,
)
def compute_shard(self, symbol_ids: list[int], timeframe: str, end_ms: int) -> None:
    lock = f"indicators:shard:{timeframe}:{end_ms}:{symbol_ids[0]}"
    # The lock holds the task id: a redelivery of this very task (its worker died) may go on at once.
    if not cache.add(lock, self.request.id, SHARD_HARD_LIMIT_SECONDS) and cache.get(lock) != self.request.id:
        raise ShardBusy(lock)
    try:
        snapshots_compute(symbol_ids=symbol_ids, timeframe=timeframe, end_ms=end_ms)
    finally:
        cache.delete(lock)
