"""Migration 0007 turns the candles stored as NUMERIC into the scaled integers, every value exactly, on PostgreSQL
and on TimescaleDB with compressed chunks."""

import sqlite3

import pytest
from django.conf import settings

from apps.market.candle_values import decoded_sql
from tests.market.databases import manage, query

pytestmark = pytest.mark.timescaledb

VALUES = ("open", "high", "low", "close", "volume", "quote_volume", "trades", "taker_buy_volume",
          "taker_buy_quote_volume")  # fmt: skip
# As migration 0006 left them: the values as NUMERIC(28,8), one meme coin's volume beyond 8 places in 64 bits, and a
# candle of a symbol no longer stored (candles have no foreign key): its own places are its scales.
NUMERIC_CANDLES = """
INSERT INTO market_candle (symbol_id, open_time, open, high, low, close, volume, quote_volume, trades,
                           taker_buy_volume, taker_buy_quote_volume)
SELECT symbol.id, TIMESTAMPTZ '2024-01-01' + i * INTERVAL '1 minute',
       100 + i * 0.01, 100.5 + i * 0.01, 99.99 + i * 0.01, 100.2 + i * 0.01, 12.34567 + i, 1234.5678 + i,
       i, 1.5, 150.25
FROM market_symbol symbol, generate_series(0, 20159) AS i WHERE symbol.symbol = 'BTCUSDT'
UNION ALL
SELECT symbol.id, TIMESTAMPTZ '2024-01-01', 0.00000068, 0.0000007, 0.00000067, 0.00000069, 987654321098,
       683012.45678912, 4123, 400000000000, 276000.12345678
FROM market_symbol symbol WHERE symbol.symbol = 'BTTCUSDT'
UNION ALL
SELECT 424242, TIMESTAMPTZ '2024-01-01', 100.5, 101, 99.25, 100, 12.34567, 1234.5678, 7, 1.5, 150.25
"""
SYMBOLS = """
INSERT INTO market_symbol (symbol, base_asset, quote_asset, status, tick_size, step_size, is_active, is_derived,
                           synced_at)
VALUES ('BTCUSDT', 'BTC', 'USDT', 'TRADING', 0.01, 0.00001, true, false, now()),
       ('BTTCUSDT', 'BTTC', 'USDT', 'TRADING', 0.00000001, 1, true, false, now())
"""
NUMERIC_VALUES = f"SELECT symbol_id, open_time, {', '.join(VALUES)} FROM market_candle ORDER BY 1, 2"
DECODED = (value if value == "trades" else decoded_sql(value, vendor="postgresql") for value in VALUES)
DECODED_VALUES = f"SELECT symbol_id, open_time, {', '.join(DECODED)} FROM market_candle ORDER BY 1, 2"
SCALES = "SELECT DISTINCT symbol_id, price_scale, volume_scale, quote_scale FROM market_candle ORDER BY 1"


def test_candles_stored_as_numeric_come_out_of_the_migration_with_every_value_equal(fresh_database):
    url = fresh_database
    assert manage(url, settings.TIMESCALEDB, "migrate", "market", "0006", "--no-input").returncode == 0
    query(url, SYMBOLS)
    query(url, NUMERIC_CANDLES)
    if settings.TIMESCALEDB:  # the two weeks of minutes lie in three chunks: compress all of them
        query(url, "SELECT compress_chunk(chunk) FROM show_chunks('market_candle') chunk")
    before = query(url, NUMERIC_VALUES)

    migrated = manage(url, settings.TIMESCALEDB, "migrate", "--no-input")

    assert migrated.returncode == 0, migrated.stderr
    assert query(url, DECODED_VALUES) == before
    assert len(before) == 20162
    scales = query(
        url, "SELECT DISTINCT symbol_id, price_scale, volume_scale, quote_scale FROM market_candle ORDER BY 1"
    )
    assert [scale for _, *scale in scales] == [[2, 5, 7], [8, 0, 8], [2, 5, 4]]


SQLITE_SYMBOL = """
INSERT INTO market_symbol (symbol, base_asset, quote_asset, status, tick_size, step_size, is_active, is_derived,
                           synced_at)
VALUES ('BTCUSDT', 'BTC', 'USDT', 'TRADING', '0.01', '0.00001', 1, 0, '2024-01-01')
"""
SQLITE_CANDLE = """
INSERT INTO market_candle (symbol_id, open_time, open, high, low, close, volume, quote_volume, trades, taker_buy_volume,
                           taker_buy_quote_volume)
VALUES (1, ?, '7195.24', '7196.25', '7183.14', ?, '51.642812', '371233.1', ?, '19.5', '140000.1')
"""


def test_on_sqlite_too_every_candle_keeps_its_values(tmp_path):
    url = f"sqlite:///{tmp_path / 'embedded.sqlite3'}"
    assert manage(url, False, "migrate", "market", "0006", "--no-input").returncode == 0
    with sqlite3.connect(tmp_path / "embedded.sqlite3") as database:
        database.execute(SQLITE_SYMBOL)
        database.executemany(SQLITE_CANDLE, [(f"2024-01-01 00:0{i}:00", f"7186.6{i}", 493 + i) for i in range(3)])

    migrated = manage(url, False, "migrate", "--no-input")

    assert migrated.returncode == 0, migrated.stderr
    with sqlite3.connect(tmp_path / "embedded.sqlite3") as database:
        stored = database.execute(
            "SELECT open, close, volume, quote_volume, trades, price_scale, volume_scale, quote_scale"
            " FROM market_candle ORDER BY open_time"
        ).fetchall()
    assert stored == [(719524, 718660 + i, 51642812, 3712331000000, 493 + i, 2, 6, 7) for i in range(3)]
