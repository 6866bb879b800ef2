from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection

from apps.market import timescale
from tests.market.databases import manage, query
from tests.market.test_import import binance_csv

pytestmark = pytest.mark.timescaledb

on_timescaledb = pytest.mark.skipif(
    not settings.TIMESCALEDB, reason="TIMESCALEDB is not set: the database has no TimescaleDB"
)


def test_the_candle_table_becomes_a_hypertable_on_open_time_keeping_its_primary_key():
    statements = timescale.hypertable_sql(
        table="market_candle", segment_by="symbol_id", chunk_interval="7 days", compress_after="7 days", retention=""
    )

    assert statements[1] == (
        "SELECT create_hypertable('market_candle', by_range('open_time', INTERVAL '7 days'),"
        " create_default_indexes => false, migrate_data => true, if_not_exists => true)"
    )
    assert not any("DROP CONSTRAINT" in statement for statement in statements)


def test_compression_is_segmented_by_symbol_and_ordered_by_time():
    statements = timescale.hypertable_sql(
        table="market_candle", segment_by="symbol_id", chunk_interval="7 days", compress_after="3 days", retention=""
    )

    assert "timescaledb.compress_segmentby = 'symbol_id'" in statements[2]
    assert "timescaledb.compress_orderby = 'open_time'" in statements[2]
    assert statements[3] == "SELECT add_compression_policy('market_candle', INTERVAL '3 days', if_not_exists => true)"


def test_a_retention_policy_is_added_only_when_configured():
    without = timescale.hypertable_sql(
        table="market_candle", segment_by="symbol_id", chunk_interval="7 days", compress_after="7 days", retention=""
    )
    with_retention = timescale.hypertable_sql(
        table="market_candle",
        segment_by="symbol_id",
        chunk_interval="7 days",
        compress_after="7 days",
        retention="2 years",
    )

    assert not any("add_retention_policy" in statement for statement in without)
    assert with_retention[-1] == (
        "SELECT add_retention_policy('market_candle', INTERVAL '2 years', if_not_exists => true)"
    )


def test_time_buckets_take_an_explicit_origin():
    sql = timescale.time_bucket_sql(
        width="259200000 milliseconds", column="open_time", origin="1970-01-01T00:00:00+00:00"
    )

    assert sql == "time_bucket(INTERVAL '259200000 milliseconds', open_time, TIMESTAMPTZ '1970-01-01T00:00:00+00:00')"


@pytest.mark.django_db
@on_timescaledb
def test_the_migrated_time_series_tables_are_compressed_hypertables():
    assert timescale.extension_installed(connection)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT hypertable_name, compression_enabled FROM timescaledb_information.hypertables"
            " ORDER BY hypertable_name"
        )
        assert cursor.fetchall() == [
            ("indicators_indicatorhistory", True),
            ("market_candle", True),
            ("market_hourlycandle", True),
        ]


@pytest.mark.django_db
@on_timescaledb
def test_the_hypertables_are_indexed_as_on_plain_postgresql_for_reads_by_symbol():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename, indexdef FROM pg_indexes WHERE tablename IN ('market_candle', 'market_hourlycandle')"
            " ORDER BY 1, 2"
        )
        indexes = cursor.fetchall()

    # No time index of TimescaleDB's beside the primary keys: see timescale.hypertable_sql.
    assert [(table, definition.split(" USING ")[1]) for table, definition in indexes] == [
        ("market_candle", "brin (open_time)"),
        ("market_candle", "btree (symbol_id, open_time)"),
        ("market_hourlycandle", "btree (symbol_id, open_time)"),
    ]


def test_indicator_history_is_compressed_per_symbol_and_timeframe():
    statements = timescale.hypertable_sql(table="indicators_indicatorhistory", segment_by="symbol_id, timeframe",
                                          chunk_interval="7 days", compress_after="7 days", retention="")  # fmt: skip

    assert "timescaledb.compress_segmentby = 'symbol_id, timeframe'" in statements[2]
    assert statements[1].startswith("SELECT create_hypertable('indicators_indicatorhistory', by_range('open_time'")


def _stored(database_url: str) -> tuple[list[tuple], list[tuple]]:
    return (
        query(database_url, "SELECT * FROM market_candle ORDER BY symbol_id, open_time"),
        query(database_url, "SELECT * FROM market_hourlycandle ORDER BY symbol_id, open_time"),
    )


HYPERTABLES = "SELECT hypertable_name FROM timescaledb_information.hypertables ORDER BY 1"
POLICIES = """
    SELECT hypertable_name, proc_name, config - 'hypertable_id' FROM timescaledb_information.jobs
    WHERE hypertable_name LIKE 'market_%' ORDER BY 1, 2
"""
CHUNK_INTERVALS = """
    SELECT hypertable_name, time_interval FROM timescaledb_information.dimensions
    WHERE hypertable_name LIKE 'market_%' ORDER BY 1
"""


@on_timescaledb
def test_a_database_first_migrated_without_timescaledb_is_turned_into_hypertables_keeping_every_row(
    fresh_database, tmp_path, btc_truth
):
    url = fresh_database
    assert manage(url, False, "migrate", "--no-input").returncode == 0
    csv = tmp_path / "btc.csv"
    csv.write_text(binance_csv(btc_truth))
    assert manage(url, False, "import_candles", "BTCUSDT", str(csv), "--create").returncode == 0
    candles_before, hours_before = _stored(url)
    assert not query(url, "SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'")

    enabled = manage(url, True, "timescaledb_enable")

    assert enabled.returncode == 0, enabled.stderr
    assert "market_candle: now a compressed hypertable" in enabled.stdout
    assert [name for (name,) in query(url, HYPERTABLES)] == [
        "indicators_indicatorhistory",
        "market_candle",
        "market_hourlycandle",
    ]
    assert _stored(url) == (candles_before, hours_before)
    assert len(candles_before) == len(btc_truth) and len(hours_before) == len(btc_truth) // 60


@on_timescaledb
def test_the_hourly_roll_up_shares_the_candles_chunks_compression_and_retention(
    fresh_database,
):
    url = fresh_database
    assert manage(url, False, "migrate", "--no-input").returncode == 0

    manage(url, True, "timescaledb_enable", TIMESCALEDB_RETENTION="730 days", TIMESCALEDB_CANDLE_CHUNK="3 days")

    policies = query(url, POLICIES)
    assert [(table, procedure) for table, procedure, _ in policies] == [
        ("market_candle", "policy_compression"),
        ("market_candle", "policy_retention"),
        ("market_hourlycandle", "policy_compression"),
        ("market_hourlycandle", "policy_retention"),
    ]
    assert policies[0][2] == policies[2][2] and policies[1][2] == policies[3][2]
    assert policies[1][2]["drop_after"] == "730 days"
    assert [interval for _, interval in query(url, CHUNK_INTERVALS)] == [timedelta(days=3), timedelta(days=3)]


@on_timescaledb
def test_turning_timescaledb_on_twice_changes_nothing(fresh_database):
    url = fresh_database
    assert manage(url, True, "migrate", "--no-input").returncode == 0

    again = manage(url, True, "timescaledb_enable")

    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == "nothing to do: every time-series table is a hypertable already"


def test_turning_timescaledb_on_without_the_setting_is_refused_with_the_reason(settings):
    settings.TIMESCALEDB = False
    with pytest.raises(CommandError, match="set TIMESCALEDB=true"):
        call_command("timescaledb_enable")
