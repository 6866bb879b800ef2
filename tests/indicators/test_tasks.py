"""The indicator tasks, run eagerly (what they compute; Celery's delivery is tested with real workers elsewhere)."""

import time
import uuid

import pytest
from celery.exceptions import Retry
from django.core.cache import cache

from apps.indicators.models import Snapshot
from apps.market.intervals import datetime_from_ms
from apps.market.klines import klines_parse
from apps.market.services.candles import candles_upsert
from tasks.indicators import compute_shard, dispatch, snapshots_catch_up
from tests.conftest import eth_minutes_up_to_the_hour
from tests.market.factories import SymbolFactory

pytestmark = [pytest.mark.django_db, pytest.mark.timescaledb]

HOUR_MS = 3_600_000


@pytest.fixture
def tracked(settings) -> list:
    settings.INDICATORS_SHARD_SYMBOLS = 2
    minutes = eth_minutes_up_to_the_hour()
    symbols = [SymbolFactory() for _ in range(3)]
    for symbol in symbols:
        candles_upsert(rows=klines_parse(symbol_id=symbol.id, raw_rows=minutes, source="test").rows)
    return symbols


def test_a_tick_computes_every_tracked_symbol_across_shards(tracked):
    dispatch.delay("1h")

    last_hour = datetime_from_ms((int(time.time() * 1000) // HOUR_MS) * HOUR_MS - HOUR_MS)
    snapshots = Snapshot.objects.filter(timeframe="1h")
    assert sorted(snapshots.values_list("symbol_id", flat=True)) == sorted(symbol.id for symbol in tracked)
    assert {snapshot.open_time for snapshot in snapshots} == {last_hour}
    assert all(snapshot.values["rsi_14"] is not None for snapshot in snapshots)


def test_a_shard_whose_lock_another_run_holds_is_retried_not_run(tracked):
    symbol_ids = [tracked[0].id]
    end_ms = (int(time.time() * 1000) // HOUR_MS) * HOUR_MS
    cache.set(f"indicators:shard:1h:{end_ms}:{symbol_ids[0]}", "another-run", 60)

    with pytest.raises(Retry, match="ShardBusy"):
        compute_shard.apply((symbol_ids, "1h", end_ms), task_id=str(uuid.uuid4()), throw=True)

    assert not Snapshot.objects.exists()


def test_a_redelivered_shard_goes_on_despite_its_own_lock(tracked):
    symbol_ids = [tracked[0].id]
    end_ms = (int(time.time() * 1000) // HOUR_MS) * HOUR_MS
    cache.set(f"indicators:shard:1h:{end_ms}:{symbol_ids[0]}", "task-1", 60)  # its worker died holding it

    compute_shard.apply((symbol_ids, "1h", end_ms), task_id="task-1")

    assert Snapshot.objects.filter(symbol_id=symbol_ids[0]).exists()


def test_symbols_whose_history_just_arrived_are_computed_on_every_timeframe(tracked, settings):
    settings.INDICATORS_TIMEFRAMES = ["1h", "4h"]
    already = tracked[0]
    compute_shard.delay([already.id], "1h", (int(time.time() * 1000) // HOUR_MS) * HOUR_MS)
    computed_at = Snapshot.objects.get(symbol=already).computed_at

    snapshots_catch_up([symbol.id for symbol in tracked])

    for timeframe in ("1h", "4h"):
        assert Snapshot.objects.filter(timeframe=timeframe).count() == len(tracked)
    assert Snapshot.objects.get(symbol=already, timeframe="1h").computed_at == computed_at  # left to the schedule


def test_a_snapshot_computed_while_the_history_was_filling_in_is_computed_again_once_it_is_in(settings):
    settings.INDICATORS_TIMEFRAMES = ["1h"]
    symbol = SymbolFactory()
    minutes = eth_minutes_up_to_the_hour()
    candles_upsert(rows=klines_parse(symbol_id=symbol.id, raw_rows=minutes[:-1440], source="test").rows)
    snapshots_catch_up([symbol.id])
    newest_stored_hour = datetime_from_ms(int(minutes[-1441][0]) // HOUR_MS * HOUR_MS)
    assert Snapshot.objects.get(symbol=symbol).open_time == newest_stored_hour

    candles_upsert(rows=klines_parse(symbol_id=symbol.id, raw_rows=minutes[-1440:], source="test").rows)
    snapshots_catch_up([symbol.id])

    assert Snapshot.objects.get(symbol=symbol).open_time == datetime_from_ms(int(minutes[-60][0]))
