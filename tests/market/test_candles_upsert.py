import threading
from datetime import UTC, datetime
from decimal import Decimal

import psycopg2
import pytest
from django.db import connection, transaction

from apps.market.models import Candle, HourlyCandle
from apps.market.services.candles import candles_upsert
from tests.conftest import wait_until
from tests.market.factories import SymbolFactory

pytestmark = [pytest.mark.django_db, pytest.mark.timescaledb]

START_MS = 1577836800000


def _row(symbol_id: int, minute: int, close: str = "7186.68") -> tuple:
    return (symbol_id, START_MS + minute * 60_000, "7195.24", "7196.25", "7183.14", close, "51.642812", "371233.1",
            493, "19.5", "140000.1")  # fmt: skip


def test_it_stores_every_field_of_a_candle():
    symbol = SymbolFactory()

    candles_upsert(rows=[_row(symbol.id, 0)])

    candle = Candle.objects.get()
    assert candle.open_time == datetime(2020, 1, 1, tzinfo=UTC)
    assert candle.decimals() == {
        "open": Decimal("7195.24"), "high": Decimal("7196.25"), "low": Decimal("7183.14"), "close": Decimal("7186.68"),
        "volume": Decimal("51.642812"), "quote_volume": Decimal("371233.1"), "trades": 493,
        "taker_buy_volume": Decimal("19.5"), "taker_buy_quote_volume": Decimal("140000.1"),
    }  # fmt: skip


def test_values_are_stored_as_integers_on_the_symbols_grid():
    symbol = SymbolFactory(tick_size=Decimal("0.01"), step_size=Decimal("0.00001"))

    candles_upsert(rows=[_row(symbol.id, 0)])

    candle = Candle.objects.get()
    assert (candle.open, candle.close, candle.price_scale) == (719524, 718668, 2)
    # The volume has a place more than the step size: its row gets the finer scale, never a rounding.
    assert (candle.volume, candle.taker_buy_volume, candle.volume_scale) == (51642812, 19500000, 6)
    assert (candle.quote_volume, candle.quote_scale) == (3712331000000, 7)


def test_a_volume_beyond_what_8_places_fit_in_64_bits_is_stored_exactly():
    meme = SymbolFactory(tick_size=Decimal("0.00000001"), step_size=Decimal("1"))
    row = (meme.id, START_MS, "0.00000068", "0.00000070", "0.00000067", "0.00000069", "987654321098.00000000",
           "683012.45678912", 4123, "400000000000.00000000", "276000.12345678")  # fmt: skip

    candles_upsert(rows=[row])

    candle = Candle.objects.get()
    assert candle.decimals()["volume"] == Decimal("987654321098")
    assert candle.decimals()["taker_buy_quote_volume"] == Decimal("276000.12345678")
    assert candle.volume_scale == 0


def test_writing_the_same_candles_twice_changes_nothing():
    symbol = SymbolFactory()
    rows = [_row(symbol.id, minute) for minute in range(100)]
    candles_upsert(rows=rows)

    assert candles_upsert(rows=rows) == 0
    assert Candle.objects.count() == 100


def test_a_corrected_candle_replaces_the_stored_one():
    symbol = SymbolFactory()
    candles_upsert(rows=[_row(symbol.id, 0)])

    assert candles_upsert(rows=[_row(symbol.id, 0, close="7190.00")]) == 1
    assert Candle.objects.get().price("close") == Decimal("7190.00")


def test_the_last_version_of_a_candle_repeated_in_one_batch_wins():
    symbol = SymbolFactory()

    candles_upsert(rows=[_row(symbol.id, 0), _row(symbol.id, 0, close="7190.00")])

    assert Candle.objects.get().price("close") == Decimal("7190.00")


def test_candles_of_different_symbols_at_the_same_minute_are_kept_apart():
    first, second = SymbolFactory(), SymbolFactory()

    candles_upsert(rows=[_row(first.id, 0), _row(second.id, 0)])

    assert Candle.objects.filter(open_time=datetime(2020, 1, 1, tzinfo=UTC)).count() == 2


def test_the_hourly_roll_up_follows_every_batch_that_touches_its_hour():
    symbol = SymbolFactory()
    candles_upsert(rows=[_row(symbol.id, minute) for minute in range(0, 30)])
    candles_upsert(rows=[_row(symbol.id, minute, close="7190.00") for minute in range(30, 60)])

    hour = HourlyCandle.objects.get()
    assert (hour.open_time, hour.open, hour.close) == (
        datetime(2020, 1, 1, tzinfo=UTC),
        Decimal("7195.24"),
        Decimal("7190.00"),
    )
    assert (hour.volume, hour.trades) == (60 * Decimal("51.642812"), 60 * 493)


def test_rewriting_unchanged_candles_leaves_the_roll_up_untouched():
    symbol = SymbolFactory()
    rows = [_row(symbol.id, minute) for minute in range(60)]
    candles_upsert(rows=rows)
    HourlyCandle.objects.update(trades=0)  # a marker a refresh would overwrite

    candles_upsert(rows=rows)

    assert HourlyCandle.objects.get().trades == 0


def _varied_row(symbol_id: int, minute: int, volume: str | None = None) -> tuple:
    return (symbol_id, START_MS + minute * 60_000, f"{7000 + minute}.01", f"{7100 + minute % 7}.5",
            f"{6900 - minute % 5}.25", f"{7001 + minute}.99", volume or f"{minute + 1}.123456", f"{minute * 1000}.5",
            minute + 1, f"{minute}.5", f"{minute * 400}.25")  # fmt: skip


def _roll_up_values(symbol) -> tuple:
    hour = HourlyCandle.objects.get(symbol=symbol)
    return (hour.open, hour.high, hour.low, hour.close, hour.volume, hour.quote_volume, hour.trades,
            hour.taker_buy_volume, hour.taker_buy_quote_volume)  # fmt: skip


def test_minutes_written_one_at_a_time_roll_up_as_one_batch_of_them_does():
    live, batch = SymbolFactory(), SymbolFactory()
    for minute in range(60):
        candles_upsert(rows=[_varied_row(live.id, minute)])

    candles_upsert(rows=[_varied_row(batch.id, minute) for minute in range(60)])

    assert _roll_up_values(live) == _roll_up_values(batch)


def test_a_minute_stored_after_later_ones_of_its_hour_gives_the_hour_its_open():
    symbol = SymbolFactory()
    for minute in range(1, 60):
        candles_upsert(rows=[_varied_row(symbol.id, minute)])

    candles_upsert(rows=[_varied_row(symbol.id, 0)])

    hour = HourlyCandle.objects.get()
    assert (hour.open, hour.close) == (Decimal("7000.01"), Decimal("7060.99"))
    assert hour.trades == sum(range(1, 61))


def test_a_corrected_minute_counts_once_in_the_roll_up():
    symbol = SymbolFactory()
    for minute in range(60):
        candles_upsert(rows=[_varied_row(symbol.id, minute, volume="1")])

    candles_upsert(rows=[_varied_row(symbol.id, 59, volume="2")])

    assert HourlyCandle.objects.get().volume == 61


def _a_writer_waits_on_a_lock() -> bool:
    observer = psycopg2.connect(**connection.get_connection_params())
    try:
        with observer.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
            return cursor.fetchone()[0] > 0
    finally:
        observer.close()


@pytest.mark.django_db(transaction=True)
def test_a_candle_another_writer_stores_in_between_is_overwritten_not_an_error():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's writer: SQLite has one writer at a time")
    symbol = SymbolFactory(tick_size=Decimal("0.01"), step_size=Decimal("0.000001"))
    other = psycopg2.connect(**connection.get_connection_params())
    try:
        with other.cursor() as cursor:  # stored, not yet committed: invisible to the batch's check
            cursor.execute(
                "INSERT INTO market_candle (symbol_id, open_time, open, high, low, close, volume, quote_volume, trades,"
                " taker_buy_volume, taker_buy_quote_volume, price_scale, volume_scale, quote_scale)"
                " VALUES (%s, %s, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0)",
                [symbol.id, datetime(2020, 1, 1, tzinfo=UTC)],
            )
        batch = threading.Thread(target=lambda: (candles_upsert(rows=[_row(symbol.id, 0), _row(symbol.id, 1)]),
                                                 connection.close()))  # fmt: skip
        batch.start()
        assert wait_until(_a_writer_waits_on_a_lock, timeout=30)
        other.commit()
        batch.join(timeout=60)
    finally:
        other.close()

    assert not batch.is_alive()
    assert [candle.decimals()["close"] for candle in Candle.objects.order_by("open_time")] == [Decimal("7186.68")] * 2
    assert HourlyCandle.objects.get().trades == 2 * 493


@pytest.mark.django_db(transaction=True)
def test_two_writers_of_one_hour_at_once_roll_up_both_minutes():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's writer: SQLite has one writer at a time")
    batch, reference = SymbolFactory(), SymbolFactory()
    later_written, release = threading.Event(), threading.Event()

    def later_minute_held_open() -> None:  # a writer whose transaction has not committed yet
        try:
            with transaction.atomic():
                candles_upsert(rows=[_varied_row(batch.id, 6)])
                later_written.set()
                release.wait(timeout=60)
        finally:
            connection.close()

    holder = threading.Thread(target=later_minute_held_open)
    holder.start()
    earlier = threading.Thread(target=lambda: (candles_upsert(rows=[_varied_row(batch.id, 5)]), connection.close()))
    try:
        assert later_written.wait(timeout=60)
        earlier.start()
        assert wait_until(_a_writer_waits_on_a_lock, timeout=30)
    finally:
        release.set()
        holder.join(timeout=60)
        if earlier.ident is not None:  # started
            earlier.join(timeout=60)
    candles_upsert(rows=[_varied_row(reference.id, 5), _varied_row(reference.id, 6)])

    assert _roll_up_values(batch) == _roll_up_values(reference)
