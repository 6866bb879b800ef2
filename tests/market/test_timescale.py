import pytest
from django.conf import settings
from django.db import connection

from apps.market import timescale


def test_the_candle_table_becomes_a_hypertable_on_open_time_keeping_its_primary_key():
    statements = timescale.hypertable_sql(
        table="market_candle", segment_by="symbol_id", chunk_interval="7 days", compress_after="7 days", retention=""
    )

    assert statements[1] == (
        "SELECT create_hypertable('market_candle', by_range('open_time', INTERVAL '7 days'),"
        " migrate_data => true, if_not_exists => true)"
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
@pytest.mark.skipif(not settings.TIMESCALEDB, reason="TIMESCALEDB is not set: the database has no TimescaleDB")
def test_the_migrated_time_series_tables_are_compressed_hypertables():
    assert timescale.extension_installed(connection)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT hypertable_name, compression_enabled FROM timescaledb_information.hypertables"
            " ORDER BY hypertable_name"
        )
        assert cursor.fetchall() == [("indicators_indicatorhistory", True), ("market_candle", True)]


def test_indicator_history_is_compressed_per_symbol_and_timeframe():
    statements = timescale.hypertable_sql(table="indicators_indicatorhistory", segment_by="symbol_id, timeframe",
                                          chunk_interval="7 days", compress_after="7 days", retention="")  # fmt: skip

    assert "timescaledb.compress_segmentby = 'symbol_id, timeframe'" in statements[2]
    assert statements[1].startswith("SELECT create_hypertable('indicators_indicatorhistory', by_range('open_time'")
